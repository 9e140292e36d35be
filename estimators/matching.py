"""Propensity-score matching for the ATT (nearest neighbour, caliper, ratio k).

The propensity is a logit fitted with statsmodels on the given covariates (standardised
internally; fitted probabilities are unchanged). Matching is on the logit of the propensity
by default. The standard error is Abadie & Imbens (2006)'s for matching estimators of the ATT:

    V = (1/N1^2) * [ sum_{treated} (Y_i - Yhat_i(0) - ATT)^2
                     + sum_{controls} K_i (K_i - 1) / M^2 * sigma2_i ]

where K_i counts how often control i is used, M is the ratio and sigma2_i is the conditional
variance, estimated by matching each control to its J=2 nearest controls. Without replacement
K_i is 0 or 1 and V is the matched-pair variance. The first-stage estimation of the propensity
is not accounted for (Abadie & Imbens 2016 show that for the ATT the correction can go either
way); the simulation study in estimators.studies.coverage measures the resulting coverage.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from estimators._errors import IdentificationError, InputError
from estimators._frame import prepare
from estimators._results import EstimateResult, normal_ci

__all__ = ["MatchingResult", "psm"]


@dataclass(frozen=True, eq=False, kw_only=True)
class MatchingResult(EstimateResult):
    """`estimate` is the ATT over matched treated units. `balance`: standardised mean
    differences (SD of the unmatched sample in the denominator) and variance ratios before and
    after matching; `matches`: each matched treated row with its control rows and distance."""

    balance: pd.DataFrame
    matches: pd.DataFrame
    n_treated_matched: int
    n_controls_used: int


def _fit_propensity(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    design = sm.add_constant((x - x.mean(axis=0)) / sd, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model = sm.Logit(d, design).fit(disp=0, method="newton", maxiter=100)
        except (PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
            raise IdentificationError(
                "propensity scores without overlap: the covariates separate treated from "
                f"controls perfectly ({type(exc).__name__}); drop or coarsen covariates"
            ) from exc
    return np.asarray(model.predict(design))


def _nearest_with_replacement(
    dt: np.ndarray, dc: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (n_t x k) and distances of the k nearest controls to each treated score."""
    order = np.argsort(dc, kind="stable")
    sc = dc[order]
    pos = np.searchsorted(sc, dt)
    # candidates: k on each side of the insertion point
    offs = np.arange(-k, k)
    cand = np.clip(pos[:, None] + offs[None, :], 0, len(sc) - 1)
    dist = np.abs(sc[cand] - dt[:, None])
    pick = np.argsort(dist, axis=1, kind="stable")
    uniq_idx = np.empty((len(dt), k), dtype=np.int64)
    uniq_dist = np.empty((len(dt), k))
    for i in range(len(dt)):  # remove duplicated candidates produced by clipping at the ends
        seen: list[int] = []
        ds: list[float] = []
        for j in pick[i]:
            c = int(cand[i, j])
            if c not in seen:
                seen.append(c)
                ds.append(float(dist[i, j]))
            if len(seen) == k:
                break
        uniq_idx[i] = order[seen]
        uniq_dist[i] = ds
    return uniq_idx, uniq_dist


def _nearest_without_replacement(
    dt: np.ndarray, dc: np.ndarray, k: int, caliper: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching, treated units with the largest score first; -1 where none is left."""
    idx = np.full((len(dt), k), -1, dtype=np.int64)
    dist = np.full((len(dt), k), np.inf)
    free = np.ones(len(dc), dtype=bool)
    for _round in range(k):
        for i in np.argsort(-dt, kind="stable"):
            if not free.any():
                break
            gaps = np.where(free, np.abs(dc - dt[i]), np.inf)
            j = int(np.argmin(gaps))
            if caliper is not None and gaps[j] > caliper:
                continue
            idx[i, _round] = j
            dist[i, _round] = gaps[j]
            free[j] = False
    return idx, dist


def _smd(xt: np.ndarray, xc: np.ndarray, wc: np.ndarray, denom: np.ndarray) -> np.ndarray:
    mc = (xc * wc[:, None]).sum(axis=0) / wc.sum()
    return (xt.mean(axis=0) - mc) / denom


def _wvar(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    m = (x * w[:, None]).sum(axis=0) / w.sum()
    return ((x - m) ** 2 * w[:, None]).sum(axis=0) / w.sum()


def psm(
    df: Any,
    *,
    treatment: str,
    outcome: str,
    covariates: list[str],
    caliper: float | None = 0.2,
    ratio: int = 1,
    replace: bool = True,
    on: str = "logit",
    min_matched_share: float = 0.5,
    alpha: float = 0.05,
) -> MatchingResult:
    """ATT by nearest-neighbour matching on the estimated propensity score.

    `caliper` is in SDs of the matching score (logit of the propensity when on="logit",
    the propensity itself when on="pscore"); None disables it. `ratio` controls per treated
    unit; `replace` allows a control to serve several treated units. Returns a MatchingResult
    with the ATT over matched treated units, the Abadie-Imbens (2006) SE and normal interval,
    a balance table before/after, and overlap diagnostics (propensity ranges by arm, share of
    treated outside the controls' range, share dropped by the caliper).

    Refuses: missing columns, a non-0/1 treatment, ratio < 1 (InputError); no treated or no
    control rows, perfectly separating covariates, or fewer than `min_matched_share` of the
    treated matched within the caliper (IdentificationError: propensity scores without
    overlap). Missing values: rows missing any used column are dropped and counted.
    """
    if ratio < 1:
        raise InputError(f"ratio must be >= 1, got {ratio}")
    if on not in ("logit", "pscore"):
        raise InputError(f"on must be 'logit' or 'pscore', got {on!r}")
    frame, dropped = prepare(
        df, [treatment, outcome, *covariates], numeric=[treatment, outcome, *covariates]
    )
    d = frame[treatment].astype(float).to_numpy()
    if not np.isin(d, (0.0, 1.0)).all():
        raise InputError(f"treatment column {treatment!r} must be 0/1 (or boolean)")
    n_t, n_c = int(d.sum()), int((1 - d).sum())
    if n_t == 0 or n_c == 0:
        raise IdentificationError(
            f"need treated and control rows: {n_t} treated, {n_c} controls in {treatment!r}"
        )
    if n_c < ratio:
        raise IdentificationError(f"{n_c} controls cannot supply {ratio} matches per treated")
    x = frame[covariates].to_numpy(float)
    y = frame[outcome].to_numpy(float)
    ps = _fit_propensity(x, d)
    ps_clip = np.clip(ps, 1e-12, 1 - 1e-12)
    score = np.log(ps_clip / (1 - ps_clip)) if on == "logit" else ps
    width = None if caliper is None else caliper * float(score.std(ddof=1))
    t_idx, c_idx = np.flatnonzero(d == 1), np.flatnonzero(d == 0)
    st, scs = score[t_idx], score[c_idx]
    if replace:
        m_idx, m_dist = _nearest_with_replacement(st, scs, ratio)
        ok = np.ones(m_idx.shape, dtype=bool) if width is None else m_dist <= width
    else:
        m_idx, m_dist = _nearest_without_replacement(st, scs, ratio, width)
        ok = m_idx >= 0
    matched = ok.any(axis=1)
    n_matched = int(matched.sum())
    off_support = (ps[t_idx] < ps[c_idx].min()) | (ps[t_idx] > ps[c_idx].max())
    overlap = {
        "pscore_treated_min": float(ps[t_idx].min()),
        "pscore_treated_max": float(ps[t_idx].max()),
        "pscore_control_min": float(ps[c_idx].min()),
        "pscore_control_max": float(ps[c_idx].max()),
        "share_treated_off_support": float(off_support.mean()),
        "share_treated_unmatched_caliper": float(1 - matched.mean()),
        "caliper_width": width,
    }
    if n_matched < max(1, min_matched_share * n_t):
        raise IdentificationError(
            f"propensity scores without overlap: only {n_matched} of {n_t} treated units have "
            f"a control within the caliper ({caliper} SD); "
            f"{overlap['share_treated_off_support']:.0%} lie outside the controls' propensity "
            "range; widen the caliper, change covariates or restrict the treated population"
        )
    # per matched treated: mean of its valid matches
    k_used = np.zeros(n_c)
    weights_c = np.zeros(n_c)
    weights_c2 = np.zeros(n_c)
    y0_hat = np.full(n_t, np.nan)
    for i in np.flatnonzero(matched):
        js = m_idx[i][ok[i]]
        y0_hat[i] = y[c_idx[js]].mean()
        np.add.at(k_used, js, 1.0)
        np.add.at(weights_c, js, 1.0 / len(js))
        np.add.at(weights_c2, js, 1.0 / len(js) ** 2)
    tau_i = y[t_idx] - y0_hat
    att = float(np.nanmean(tau_i))
    # Abadie-Imbens variance: conditional variances of controls by their 2 nearest controls
    term2 = 0.0
    used = np.flatnonzero(k_used > 1)
    if used.size:
        nn = 2
        nbr, _ = _nearest_with_replacement(scs[used], scs, nn + 1)
        sig2 = np.empty(len(used))
        for r, j in enumerate(used):
            others = [c for c in nbr[r] if c != j][:nn]
            sig2[r] = nn / (nn + 1) * (y[c_idx[j]] - y[c_idx[others]].mean()) ** 2
        reuse = weights_c[used] ** 2 - weights_c2[used]
        term2 = float((reuse * sig2).sum())
    term1 = float(np.nansum((tau_i - att) ** 2))
    se = float(np.sqrt(term1 + term2) / n_matched)
    lo, hi = normal_ci(att, se, alpha)
    # balance
    xt_all, xc_all = x[t_idx], x[c_idx]
    denom = np.sqrt((xt_all.var(axis=0, ddof=1) + xc_all.var(axis=0, ddof=1)) / 2)
    denom = np.where(denom > 0, denom, 1.0)
    xt_m = xt_all[matched]
    with np.errstate(divide="ignore", invalid="ignore"):
        balance = pd.DataFrame(
            {
                "covariate": covariates,
                "mean_treated": xt_all.mean(axis=0),
                "mean_control": xc_all.mean(axis=0),
                "smd_before": _smd(xt_all, xc_all, np.ones(n_c), denom),
                "mean_treated_matched": xt_m.mean(axis=0),
                "mean_control_matched": (xc_all * weights_c[:, None]).sum(axis=0) / weights_c.sum(),
                "smd_after": _smd(xt_m, xc_all, weights_c, denom),
                "var_ratio_before": xt_all.var(axis=0) / xc_all.var(axis=0),
                "var_ratio_after": xt_m.var(axis=0) / _wvar(xc_all, weights_c),
            }
        )
    rows = []
    for i in np.flatnonzero(matched):
        for j, dist in zip(m_idx[i][ok[i]], m_dist[i][ok[i]], strict=True):
            rows.append((int(t_idx[i]), int(c_idx[j]), float(dist)))
    matches = pd.DataFrame(rows, columns=["treated_row", "control_row", "distance"])
    diagnostics: dict[str, Any] = {
        "dropped_rows": dropped,
        "n_treated": n_t,
        "n_controls": n_c,
        "overlap": overlap,
        "max_abs_smd_before": float(np.nanmax(np.abs(balance["smd_before"]))),
        "max_abs_smd_after": float(np.nanmax(np.abs(balance["smd_after"]))),
        "inference": "Abadie-Imbens (2006) matching variance, propensity taken as known",
        "matching": f"{ratio}-NN on {on}, caliper {caliper} SD, "
        + ("with" if replace else "without")
        + " replacement",
    }
    return MatchingResult(
        estimate=att,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        n_obs=len(frame),
        method="Propensity-score matching (ATT)",
        diagnostics=diagnostics,
        alpha=alpha,
        balance=balance,
        matches=matches,
        n_treated_matched=n_matched,
        n_controls_used=int((k_used > 0).sum()),
    )
