"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with placebo-in-space inference.

One treated unit, a balanced panel of donors, a single treatment date. Without predictors
the donor weights fit every pre-period outcome directly; with predictors a diagonal V
(predictor importance) is chosen to minimise the pre-period outcome MSPE of the weights it
implies (nested optimisation: an exact simplex least-squares inner problem, Nelder-Mead over
the log-weights of V outside, from a few starts). Placebos refit every donor as if treated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import minimize

from estimators._errors import IdentificationError, InputError
from estimators._frame import prepare, require_balanced
from estimators._results import EstimateResult
from estimators._simplex import simplex_lstsq

__all__ = ["SyntheticControlResult", "fit"]

MIN_PRE_PERIODS = 5


@dataclass(frozen=True, eq=False, kw_only=True)
class SyntheticControlResult(EstimateResult):
    """`estimate` is the mean post-period gap (treated minus synthetic). `std_error` is the
    standard deviation of the J placebo units' mean post-period gaps times sqrt(1 + 1/J)
    (NaN without placebos), so that estimate +- t(J-1) quantile x std_error is the prediction
    interval of one more draw from the placebo distribution: valid when the treated unit is
    exchangeable with the donors. `weights`: donor weights; `gaps`: treated, synthetic and
    gap by period; `predictor_balance`: predictors of treated, synthetic and donor average
    with V; `placebos`: one row per donor refitted as if treated."""

    weights: pd.DataFrame
    gaps: pd.DataFrame
    predictor_balance: pd.DataFrame
    placebos: pd.DataFrame


@dataclass(frozen=True)
class _Fit:
    w: np.ndarray
    v: np.ndarray | None
    pre_mspe: float


def _standardise(x: np.ndarray) -> np.ndarray:
    """Divide each predictor (row) by its SD across all units (columns)."""
    sd = x.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return x / sd[:, None]


def _weights_given_v(x1: np.ndarray, x0: np.ndarray, v: np.ndarray) -> np.ndarray:
    root = np.sqrt(v)
    return simplex_lstsq(x0 * root[:, None], x1 * root)


def _solve(
    x1: np.ndarray | None,
    x0: np.ndarray | None,
    z1: np.ndarray,
    z0: np.ndarray,
    v_start: np.ndarray | None = None,
    max_iter: int = 400,
) -> _Fit:
    """Donor weights for one treated unit. x: predictors (k x J), z: pre-period outcomes."""
    if x1 is None or x0 is None:
        w = simplex_lstsq(z0, z1)
        return _Fit(w=w, v=None, pre_mspe=float(np.mean((z1 - z0 @ w) ** 2)))
    k = x1.shape[0]

    def v_of(theta: np.ndarray) -> np.ndarray:
        e = np.exp(np.concatenate([[0.0], np.clip(theta, -30, 30)]))
        return e / e.sum()

    def loss(theta: np.ndarray) -> float:
        w = _weights_given_v(x1, x0, v_of(theta))
        return float(np.mean((z1 - z0 @ w) ** 2))

    if k == 1:
        w = simplex_lstsq(x0, x1)
        return _Fit(w=w, v=np.ones(1), pre_mspe=float(np.mean((z1 - z0 @ w) ** 2)))
    starts = [np.zeros(k - 1)]
    if v_start is not None:
        starts.insert(0, np.log(np.maximum(v_start[1:], 1e-12) / max(v_start[0], 1e-12)))
    else:
        # besides equal V, one start leaning on each predictor in turn
        for j in range(1, k):
            th = np.zeros(k - 1)
            th[j - 1] = 2.0
            starts.append(th)
    best: tuple[float, np.ndarray] | None = None
    for th0 in starts:
        res = minimize(
            loss,
            th0,
            method="Nelder-Mead",
            options={"maxiter": max_iter, "xatol": 1e-4, "fatol": 1e-8},
        )
        if best is None or res.fun < best[0]:
            best = (float(res.fun), res.x)
    assert best is not None
    v = v_of(best[1])
    w = _weights_given_v(x1, x0, v)
    return _Fit(w=w, v=v, pre_mspe=float(np.mean((z1 - z0 @ w) ** 2)))


def _rmspe(gap: np.ndarray) -> float:
    return float(np.sqrt(np.mean(gap**2)))


def fit(
    df: Any,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated_unit: Any,
    treatment_time: Any,
    predictors: list[str] | None = None,
    outcome_lags: list[Any] | None = None,
    donors: list[Any] | None = None,
    placebo: bool = True,
    min_pre_periods: int = MIN_PRE_PERIODS,
    max_rmspe_ratio: float = 5.0,
    alpha: float = 0.05,
) -> SyntheticControlResult:
    """Synthetic control for one treated unit.

    `predictors` are columns averaged over the pre-period; `outcome_lags` are pre-period
    dates whose outcome values are predictors too. Both None: weights fit all pre-period
    outcomes (V = identity on them). Returns a SyntheticControlResult with donor weights,
    gaps by period, pre/post RMSPE and, with `placebo=True`, placebo-in-space inference over
    all donors: post/pre RMSPE ratios, the treated unit's rank and the permutation p-value
    rank / (J + 1) in diagnostics.

    Refuses: missing columns or an unknown treated unit (InputError); an unbalanced outcome
    panel, fewer than `min_pre_periods` pre-periods, no post-period, fewer than 2 donors, a
    treated unit outside the donors' range (its pre-period outcome above the donors' maximum
    or below their minimum in more than half the pre-periods, or its pre-period RMSPE more
    than `max_rmspe_ratio` times the median placebo's) (IdentificationError).
    """
    preds = list(predictors or [])
    frame, dropped = prepare(df, [unit, time, outcome, *preds], numeric=[outcome, *preds])
    require_balanced(frame, unit, time)
    wide = frame.pivot(index=unit, columns=time, values=outcome).sort_index()
    units = wide.index.to_numpy()
    times = wide.columns.to_numpy()
    if treated_unit not in set(units.tolist()):
        raise InputError(f"treated unit {treated_unit!r} not found in column {unit!r}")
    pool = [u for u in units if u != treated_unit]
    if donors is not None:
        unknown = set(donors) - set(pool)
        if unknown:
            raise InputError(f"donor(s) {sorted(unknown)[:5]} not found in column {unit!r}")
        pool = [u for u in pool if u in set(donors)]
    if len(pool) < 2:
        raise IdentificationError(f"need at least 2 donor units, got {len(pool)}")
    pre = times < treatment_time
    n_pre, n_post = int(pre.sum()), int((~pre).sum())
    if n_pre < min_pre_periods:
        raise IdentificationError(
            f"too short a pre-period: {n_pre} period(s) before {treatment_time!r}; "
            f"synthetic control needs at least {min_pre_periods}"
        )
    if n_post == 0:
        raise IdentificationError(f"no period at or after treatment time {treatment_time!r}")
    y = wide.loc[[treated_unit, *pool]].to_numpy(float)  # row 0 treated
    z = y[:, pre]
    outside = (z[0] > z[1:].max(axis=0)) | (z[0] < z[1:].min(axis=0))
    if outside.mean() > 0.5:
        raise IdentificationError(
            f"treated unit {treated_unit!r} lies outside the donors' range of {outcome!r} in "
            f"{int(outside.sum())} of {n_pre} pre-periods: no convex combination of donors can "
            "reproduce it; use a different donor pool or a method that allows an intercept"
        )
    # predictors: rows = predictors, columns = units (treated first)
    x: np.ndarray | None = None
    labels: list[str] = []
    if preds or outcome_lags:
        blocks = []
        if preds:
            means = frame[frame[time] < treatment_time].groupby(unit)[preds].mean()
            blocks.append(means.loc[[treated_unit, *pool]].to_numpy(float).T)
            labels += [f"{p} (pre mean)" for p in preds]
        if outcome_lags:
            missing = [lag for lag in outcome_lags if lag not in set(times[pre].tolist())]
            if missing:
                raise InputError(f"outcome_lags {missing} are not pre-treatment periods")
            blocks.append(wide.loc[[treated_unit, *pool], list(outcome_lags)].to_numpy(float).T)
            labels += [f"{outcome} {lag}" for lag in outcome_lags]
        x = _standardise(np.vstack(blocks))
    xt = (x[:, 0], x[:, 1:]) if x is not None else (None, None)
    main = _solve(xt[0], xt[1], z[0], z[1:].T)
    synth = y[1:].T @ main.w
    gap = y[0] - synth
    pre_rmspe, post_rmspe = _rmspe(gap[pre]), _rmspe(gap[~pre])
    estimate = float(gap[~pre].mean())
    rows = []
    if placebo:
        for j in range(1, len(y)):
            others = [i for i in range(1, len(y)) if i != j]
            xp = (x[:, j], x[:, others]) if x is not None else (None, None)
            f = _solve(xp[0], xp[1], z[j], z[others].T, v_start=main.v, max_iter=200)
            g = y[j] - y[others].T @ f.w
            rows.append((pool[j - 1], _rmspe(g[pre]), _rmspe(g[~pre]), float(g[~pre].mean())))
    placebos = pd.DataFrame(rows, columns=["unit", "pre_rmspe", "post_rmspe", "effect"])
    diagnostics: dict[str, Any] = {
        "dropped_rows": dropped,
        "pre_periods": n_pre,
        "post_periods": n_post,
        "donors": len(pool),
        "pre_rmspe": pre_rmspe,
        "post_rmspe": post_rmspe,
        "rmspe_ratio": post_rmspe / pre_rmspe if pre_rmspe > 0 else float("inf"),
        "outside_hull_pre_periods": int(outside.sum()),
    }
    se = float("nan")
    lo = hi = float("nan")
    if placebo:
        placebos["ratio"] = placebos["post_rmspe"] / placebos["pre_rmspe"]
        median_pre = float(placebos["pre_rmspe"].median())
        if pre_rmspe > max_rmspe_ratio * median_pre:
            raise IdentificationError(
                f"treated unit {treated_unit!r} outside the donors' range: pre-period RMSPE "
                f"{pre_rmspe:.3g} is more than {max_rmspe_ratio} times the median placebo's "
                f"({median_pre:.3g}); the synthetic control does not reproduce it"
            )
        ratio = diagnostics["rmspe_ratio"]
        rank = int(1 + (placebos["ratio"] >= ratio).sum())
        diagnostics.update(
            {
                "placebo_rank": rank,
                "placebo_p_value": rank / (len(placebos) + 1),
                "placebo_median_pre_rmspe": median_pre,
                "inference": (
                    "placebo-in-space: SD of donors' mean post-period gaps x sqrt(1 + 1/J), "
                    "t(J-1) prediction interval"
                ),
            }
        )
        n_pl = len(placebos)
        se = float(placebos["effect"].std(ddof=1)) * np.sqrt(1 + 1 / n_pl)
        q = float(stats.t.ppf(1 - alpha / 2, n_pl - 1))
        lo, hi = estimate - q * se, estimate + q * se
    if main.v is not None:
        diagnostics["v_weights"] = dict(zip(labels, main.v.tolist(), strict=True))
    weights = pd.DataFrame({"unit": pool, "weight": main.w}).sort_values(
        "weight", ascending=False, ignore_index=True
    )
    gaps = pd.DataFrame(
        {"time": times, "treated": y[0], "synthetic": synth, "gap": gap, "post": ~pre}
    )
    if x is not None:
        raw = np.vstack(blocks)
        balance = pd.DataFrame(
            {
                "predictor": labels,
                "treated": raw[:, 0],
                "synthetic": raw[:, 1:] @ main.w,
                "donor_mean": raw[:, 1:].mean(axis=1),
                "v": main.v,
            }
        )
    else:
        balance = pd.DataFrame(
            {
                "predictor": [f"{outcome} pre-period mean"],
                "treated": [z[0].mean()],
                "synthetic": [(z[1:].T @ main.w).mean()],
                "donor_mean": [z[1:].mean()],
            }
        )
    return SyntheticControlResult(
        estimate=estimate,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        n_obs=len(frame),
        method="Synthetic control" + (" with predictors (nested V)" if x is not None else ""),
        diagnostics=diagnostics,
        alpha=alpha,
        weights=weights,
        gaps=gaps,
        predictor_balance=balance,
        placebos=placebos,
    )
