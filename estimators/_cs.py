"""Callaway & Sant'Anna (2021) group-time ATTs on a balanced panel, with influence functions.

Internal: `estimators.did.staggered` prepares the data and wraps the result. Units are rows of
`y` (n units x T periods); `gpos` is each unit's first treated period as a position on the time
grid (-1 never treated). Base period is "varying": a pre-treatment cell compares period t with
t-1, a post-treatment cell compares t with g-1. Each cell's influence function is scaled to the
whole sample of n units so that Var(att) = mean(IF^2) / n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estimators._errors import IdentificationError


@dataclass(frozen=True)
class GroupTime:
    group: np.ndarray  # cohort position per cell
    period: np.ndarray  # period position per cell
    att: np.ndarray
    inf: np.ndarray  # n units x cells
    n_treated: np.ndarray
    n_control: np.ndarray


def _logit(x: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logit by Newton-Raphson; returns fitted probabilities and the inverse of X'WX / n."""
    n, k = x.shape
    beta = np.zeros(k)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -35, 35)))
        w = p * (1 - p)
        hess = (x * w[:, None]).T @ x
        step = np.linalg.solve(hess, x.T @ (d - p))
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -35, 35)))
    w = p * (1 - p)
    hess_inv = np.linalg.inv((x * w[:, None]).T @ x / n)
    return np.minimum(p, 1 - 1e-16), hess_inv


def _did_2x2(dy: np.ndarray, d: np.ndarray, x: np.ndarray | None, method: str) -> tuple:
    """ATT and subsample influence function of a panel 2x2 DiD (d = 1 treated, 0 control)."""
    n = len(dy)
    if x is None:
        n1, n0 = d.sum(), (1 - d).sum()
        mu1 = dy[d == 1].mean()
        mu0 = dy[d == 0].mean()
        psi = n * (d * (dy - mu1) / n1 - (1 - d) * (dy - mu0) / n0)
        return mu1 - mu0, psi
    c = 1 - d
    xc = x[c == 1]
    if np.linalg.matrix_rank(xc) < x.shape[1]:
        raise IdentificationError(
            "not identified: covariates are collinear among the comparison units of a cell"
        )
    coef = np.linalg.lstsq(xc, dy[c == 1], rcond=None)[0]
    out = x @ coef
    xpx_inv = np.linalg.inv((x * c[:, None]).T @ x / n)
    lin_ols = ((c * (dy - out))[:, None] * x) @ xpx_inv
    if method == "reg":
        att_t = d * dy
        att_c = d * out
        eta_t = att_t.mean() / d.mean()
        eta_c = att_c.mean() / d.mean()
        inf_t = (att_t - d * eta_t) / d.mean()
        m1 = (d[:, None] * x).mean(axis=0)
        inf_c = (att_c - d * eta_c + lin_ols @ m1) / d.mean()
        return eta_t - eta_c, inf_t - inf_c
    ps, hess_inv = _logit(x, d)
    if ps[d == 0].max() > 1 - 1e-6:
        raise IdentificationError(
            "propensity scores without overlap: some comparison unit has a propensity of "
            "being in the cohort of ~1; drop or coarsen covariates"
        )
    w_t = d
    w_c = ps * c / (1 - ps)
    resid = dy - out
    eta_t = (w_t * resid).mean() / w_t.mean()
    eta_c = (w_c * resid).mean() / w_c.mean()
    lin_ps = ((d - ps)[:, None] * x) @ hess_inv
    inf_t = (w_t * resid - w_t * eta_t - lin_ols @ (w_t[:, None] * x).mean(axis=0)) / w_t.mean()
    m2 = ((w_c * (resid - eta_c))[:, None] * x).mean(axis=0)
    m3 = (w_c[:, None] * x).mean(axis=0)
    inf_c = (w_c * resid - w_c * eta_c + lin_ps @ m2 - lin_ols @ m3) / w_c.mean()
    return eta_t - eta_c, inf_t - inf_c


def group_time_att(
    y: np.ndarray,
    gpos: np.ndarray,
    *,
    control: str,
    x: np.ndarray | None,
    method: str,
    labels: np.ndarray,
) -> GroupTime:
    """All ATT(g,t) cells for periods 1..T-1 and each treated cohort g >= 1.

    Refuses (IdentificationError) when a cell has no treated or no comparison units.
    """
    n, n_t = y.shape
    groups = np.unique(gpos[(gpos >= 1) & (gpos < n_t)])
    rows = []
    infs = []
    for g in groups:
        treat = gpos == g
        for t in range(1, n_t):
            base = t - 1 if t < g else g - 1
            comp = gpos == -1 if control == "never" else ((gpos == -1) | (gpos > t)) & ~treat
            if not comp.any():
                raise IdentificationError(
                    f"no comparison units for cohort {labels[g]} at period {labels[t]}: "
                    f"control={control!r} leaves no untreated unit; use another control group "
                    "or restrict the periods"
                )
            keep = treat | comp
            dy = y[keep, t] - y[keep, base]
            d = treat[keep].astype(float)
            att, psi = _did_2x2(dy, d, None if x is None else x[keep], method)
            full = np.zeros(n)
            full[keep] = psi * n / keep.sum()
            rows.append((g, t, att, int(treat.sum()), int(comp.sum())))
            infs.append(full)
    arr = np.array(rows, dtype=float)
    return GroupTime(
        group=arr[:, 0].astype(int),
        period=arr[:, 1].astype(int),
        att=arr[:, 2],
        inf=np.column_stack(infs),
        n_treated=arr[:, 3].astype(int),
        n_control=arr[:, 4].astype(int),
    )


def weighted_aggregate(
    att: np.ndarray,
    inf: np.ndarray,
    keep: np.ndarray,
    cell_group: np.ndarray,
    gpos: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Average of the kept cells weighted by cohort size, with the influence function that
    accounts for the estimated weights (cohort shares are themselves estimated)."""
    idx = np.flatnonzero(keep)
    pg = np.array([np.mean(gpos == cell_group[k]) for k in idx])
    total = pg.sum()
    w = pg / total
    ind = np.column_stack(
        [(gpos == cell_group[k]).astype(float) - pg[j] for j, k in enumerate(idx)]
    )
    wif = ind / total - np.outer(ind.sum(axis=1), pg) / total**2
    est = float(w @ att[idx])
    return est, inf[:, idx] @ w + wif @ att[idx]


def se_from_inf(inf: np.ndarray) -> np.ndarray:
    """Analytic standard error(s) from influence function column(s): sqrt(mean(IF^2) / n)."""
    n = inf.shape[0]
    return np.sqrt((inf**2).mean(axis=0) / n)


def multiplier_bootstrap(
    inf: np.ndarray, draws: int, seed: int | None, alpha: float
) -> tuple[np.ndarray, float]:
    """Rademacher multiplier bootstrap: per-column SEs (scaled IQR) and the uniform critical
    value sup_k |b_k| / se_k at level 1 - alpha."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    n = inf.shape[0]
    out = np.empty((draws, inf.shape[1]))
    chunk = max(1, 2_000_000 // max(n, 1))
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        v = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
        out[start : start + m] = v @ inf / np.sqrt(n)
    q75, q25 = np.quantile(out, [0.75, 0.25], axis=0)
    sigma = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    sigma = np.where(sigma > 0, sigma, np.nan)
    tstat = np.nanmax(np.abs(out) / sigma, axis=1)
    crit = float(np.quantile(tstat, 1 - alpha))
    return sigma / np.sqrt(n), crit
