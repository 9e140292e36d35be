"""Difference-in-differences: two-way fixed effects, event study, and Callaway-Sant'Anna.

All three take a long panel (one row per unit and period) as pandas or polars, drop rows with a
missing value in any used column (counted in diagnostics['dropped_rows']), and return frozen
result objects (see `estimators._results.EstimateResult`). Time may be integers or dates: event
time and cohorts are measured in positions on the sorted grid of distinct periods.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from estimators._cs import (
    group_time_att,
    multiplier_bootstrap,
    se_from_inf,
    weighted_aggregate,
)
from estimators._errors import IdentificationError, InputError
from estimators._frame import (
    cohort_positions,
    constant_within,
    prepare,
    require_balanced,
    time_positions,
)
from estimators._ols import demean_by, nested, ols_cluster
from estimators._results import EstimateResult, normal_ci, t_ci

__all__ = [
    "EventStudyResult",
    "StaggeredResult",
    "FewTreatedClustersWarning",
    "StaggeredAdoptionWarning",
    "TwfeResult",
    "event_study",
    "staggered",
    "twfe",
]


class StaggeredAdoptionWarning(UserWarning):
    """TWFE under staggered adoption uses already-treated units as controls."""


class FewTreatedClustersWarning(UserWarning):
    """Cluster-robust inference with very few treated clusters over-rejects."""


# Below this many clusters holding a treated cell, CR1 t-intervals are far too narrow
# (MacKinnon & Webb 2017, "Wild bootstrap inference for wildly different cluster sizes").
FEW_TREATED_CLUSTERS = 5


@dataclass(frozen=True, eq=False, kw_only=True)
class TwfeResult(EstimateResult):
    """TWFE coefficient on the treatment dummy; `weights` holds the de Chaisemartin-
    D'Haultfoeuille weight of each treated (unit, period) cell."""

    n_units: int
    n_clusters: int
    weights: pd.DataFrame


@dataclass(frozen=True, eq=False, kw_only=True)
class EventStudyResult(EstimateResult):
    """`estimate` is the equal-weight mean of the post-treatment coefficients (event times
    0..lags); `table` has one row per event time (reference -1 fixed at 0)."""

    table: pd.DataFrame
    n_units: int
    n_clusters: int


@dataclass(frozen=True, eq=False, kw_only=True)
class StaggeredResult(EstimateResult):
    """`estimate` is the simple overall ATT (post cells weighted by cohort size); tables hold
    ATT(g,t) (`group_time`), the dynamic aggregation (`dynamic`) and the cohort aggregation
    (`by_group`); `aggregations` holds the overall dynamic and cohort ATTs with SEs."""

    group_time: pd.DataFrame
    dynamic: pd.DataFrame
    by_group: pd.DataFrame
    aggregations: dict[str, dict[str, float]]
    n_units: int


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniq = pd.factorize(values, sort=True)
    return codes.astype(np.int64), len(uniq)


def _two_way_design(
    frame: pd.DataFrame, unit: str, time: str, extra: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Unit-demeaned [extra | time dummies]: exact two-way FE by Frisch-Waugh-Lovell."""
    ucode, n_units = _codes(frame[unit])
    tcode, n_times = _codes(frame[time])
    dummies = np.zeros((len(frame), n_times - 1))
    rows = np.flatnonzero(tcode > 0)
    dummies[rows, tcode[rows] - 1] = 1.0
    x = demean_by(np.column_stack([extra, dummies]), ucode, n_units)
    return x, ucode, n_units


def _cluster_setup(frame: pd.DataFrame, unit: str, cluster: str | None) -> tuple[np.ndarray, int]:
    """Cluster ids and the count of unit effects to charge in the small-sample factor."""
    if cluster is None:
        return frame[unit].to_numpy(), 0
    clus = frame[cluster].to_numpy()
    charged = 0 if nested(frame[unit].to_numpy(), clus) else frame[unit].nunique()
    return clus, charged


def _dcdh_weights(
    frame: pd.DataFrame, unit: str, time: str, d: np.ndarray, beta: float
) -> tuple[pd.DataFrame, dict[str, float]]:
    """De Chaisemartin & D'Haultfoeuille (2020) weights of the treated cells in the TWFE
    coefficient: residual of D on unit and period effects, normalised to sum to 1 over the
    treated cells. Also returns the share of negative weights and sigma_fe (the smallest
    standard deviation of cell effects that could make the true ATT zero or opposite)."""
    x, ucode, n_units = _two_way_design(frame, unit, time, np.zeros((len(frame), 0)), [])
    dd = demean_by(d, ucode, n_units)
    eps = dd - x @ np.linalg.lstsq(x, dd, rcond=None)[0] if x.shape[1] else dd
    treated = d == 1
    n1 = treated.sum()
    w = eps[treated] / eps[treated].sum() * n1
    sd = float(np.sqrt(((w - 1) ** 2).sum() / n1))
    table = pd.DataFrame(
        {unit: frame[unit].to_numpy()[treated], time: frame[time].to_numpy()[treated], "weight": w}
    )
    info = {
        "share_negative": float((w < 0).mean()),
        "sum_negative": float(w[w < 0].sum() / n1),
        "sigma_fe": float(abs(beta) / sd) if sd > 0 else float("inf"),
    }
    return table, info


def twfe(
    df: Any,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated: str,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> TwfeResult:
    """Two-way fixed-effects DiD: outcome on a 0/1 treatment dummy with unit and period effects.

    Returns a TwfeResult: the coefficient, CR1 cluster-robust SE (clustered on `unit` unless
    `cluster` is given; t inference with clusters-1 df), and diagnostics with the adoption
    pattern and the de Chaisemartin-D'Haultfoeuille weights (share of negative weights,
    sigma_fe). Warns (StaggeredAdoptionWarning) when adoption is staggered, because then
    already-treated units serve as controls and heterogeneous effects bias the coefficient.
    Refuses: missing columns or a non-0/1 treatment (InputError); no treated or no untreated
    cells, or a treatment collinear with the fixed effects (IdentificationError).
    """
    frame, dropped = prepare(
        df, [unit, time, outcome, treated, cluster], numeric=[outcome, treated]
    )
    d = frame[treated].astype(float).to_numpy()
    if not np.isin(d, (0.0, 1.0)).all():
        raise InputError(f"treatment column {treated!r} must be 0/1 (or boolean)")
    if d.min() == d.max():
        raise IdentificationError(
            f"not identified: {treated!r} is {int(d[0])} in all {len(d)} rows; "
            "need both treated and untreated cells"
        )
    x, ucode, n_units = _two_way_design(frame, unit, time, d[:, None], [treated])
    y = demean_by(frame[outcome].to_numpy(float), ucode, n_units)
    clus, charged = _cluster_setup(frame, unit, cluster)
    names = [treated] + [f"period_{j}" for j in range(1, x.shape[1])]
    fit = ols_cluster(y, x, clus, absorbed_params=charged, names=names)
    beta, se = float(fit.beta[0]), float(np.sqrt(fit.vcov[0, 0]))
    lo, hi = t_ci(beta, se, alpha, fit.dof)
    # adoption pattern
    tcode, _ = _codes(frame[time])
    first = pd.Series(np.where(d == 1, tcode, np.iinfo(np.int64).max)).groupby(ucode).min()
    ever = first[first < np.iinfo(np.int64).max]
    n_cohorts = int(ever.nunique())
    switches_off = bool((pd.Series(d).groupby(ucode).diff().fillna(0) < 0).any())
    weights, info = _dcdh_weights(frame, unit, time, d, beta)
    staggered_adoption = n_cohorts > 1
    treated_clusters = int(pd.Series(clus)[d == 1].nunique())
    diagnostics: dict[str, Any] = {
        "dropped_rows": dropped,
        "n_units": n_units,
        "n_clusters": fit.n_clusters,
        "treated_clusters": treated_clusters,
        "adoption_cohorts": n_cohorts,
        "staggered_adoption": staggered_adoption,
        "treatment_switches_off": switches_off,
        "never_treated_units": int(n_units - len(ever)),
        "negative_weights": info,
        "inference": f"CR1 cluster-robust, t with {fit.dof} df",
    }
    if staggered_adoption:
        msg = (
            f"staggered adoption ({n_cohorts} cohorts): TWFE compares later-treated with "
            f"already-treated units; {info['share_negative']:.1%} of treated cells get negative "
            f"weight (sum {info['sum_negative']:.3f}); effects heterogeneous over time bias the "
            "estimate; prefer estimators.did.staggered"
        )
        diagnostics["warning"] = msg
        warnings.warn(msg, StaggeredAdoptionWarning, stacklevel=2)
    if treated_clusters < FEW_TREATED_CLUSTERS:
        few = (
            f"{treated_clusters} cluster(s) hold treated cells (fewer than "
            f"{FEW_TREATED_CLUSTERS}): the CR1 interval rests on that many clusters and is "
            "too narrow; read the estimate with a permutation or synthetic-control inference"
        )
        diagnostics["few_treated_clusters"] = few
        warnings.warn(few, FewTreatedClustersWarning, stacklevel=2)
    return TwfeResult(
        estimate=beta,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        n_obs=len(frame),
        method="TWFE DiD (unit and period fixed effects)",
        diagnostics=diagnostics,
        alpha=alpha,
        n_units=n_units,
        n_clusters=fit.n_clusters,
        weights=weights,
    )


def _event_bins(rel: np.ndarray, leads: int, lags: int) -> np.ndarray:
    return np.clip(rel, -leads, lags)


def event_study(
    df: Any,
    *,
    unit: str,
    time: str,
    outcome: str,
    first_treated: str,
    leads: int = 4,
    lags: int = 4,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> EventStudyResult:
    """Dynamic TWFE: event-time dummies for -leads..-2 and 0..lags (reference -1; endpoints
    bin everything beyond them), plus unit and period effects, CR1 cluster-robust SEs.

    `first_treated` is the period of first treatment (0 or null: never treated; a period after
    the panel's end counts as never treated within it). Returns an EventStudyResult whose
    `table` lists each event time with estimate, SE and interval, and whose diagnostics carry
    the joint Wald pre-trend test of all lead coefficients (F with clusters-1 denominator df
    and chi2). Refuses: leads < 1 or lags < 0 (InputError); no treated units, no treated unit
    observed in the reference period -1, or a rank-deficient design (IdentificationError).
    """
    if leads < 1 or lags < 0:
        raise InputError("leads must be >= 1 (reference period -1) and lags >= 0")
    frame, dropped = prepare(
        df,
        [unit, time, outcome, first_treated, cluster],
        null_means_never=[first_treated],
        numeric=[outcome],
    )
    tvals, tpos = time_positions(frame[time])
    gpos = cohort_positions(frame[first_treated], tvals)
    constant_within(frame.assign(_g=gpos), unit, "_g")
    treated_unit = gpos >= 0
    if not treated_unit.any():
        raise IdentificationError(
            f"no treated units: {first_treated!r} is never/after-window for every unit"
        )
    rel = np.where(treated_unit, tpos - gpos, 10**9)
    if not (rel == -1).any():
        raise IdentificationError(
            "too short a pre-period: no treated unit is observed in the period before its "
            "treatment (event time -1, the reference)"
        )
    binned = np.where(treated_unit, _event_bins(rel, leads, lags), 10**9)
    event_times = [k for k in range(-leads, lags + 1) if k != -1]
    dummies = np.column_stack([(binned == k).astype(float) for k in event_times])
    present = dummies.sum(axis=0) > 0
    event_times = [k for k, p in zip(event_times, present, strict=True) if p]
    dummies = dummies[:, present]
    names = [f"e{k}" for k in event_times]
    x, ucode, n_units = _two_way_design(frame, unit, time, dummies, names)
    y = demean_by(frame[outcome].to_numpy(float), ucode, n_units)
    clus, charged = _cluster_setup(frame, unit, cluster)
    names = names + [f"period_{j}" for j in range(1, x.shape[1] - len(names) + 1)]
    fit = ols_cluster(y, x, clus, absorbed_params=charged, names=names)
    k = len(event_times)
    beta, vcov = fit.beta[:k], fit.vcov[:k, :k]
    se = np.sqrt(np.diag(vcov))
    q = float(stats.t.ppf(1 - alpha / 2, fit.dof))
    rows = []
    for j, e in enumerate(event_times):
        label = f"<={e}" if e == -leads else (f">={e}" if e == lags else str(e))
        rows.append(
            (
                e,
                label,
                beta[j],
                se[j],
                beta[j] - q * se[j],
                beta[j] + q * se[j],
                int(dummies[:, j].sum()),
            )
        )
    rows.append((-1, "-1 (ref)", 0.0, np.nan, np.nan, np.nan, int((binned == -1).sum())))
    table = pd.DataFrame(
        rows,
        columns=["event_time", "label", "estimate", "std_error", "ci_low", "ci_high", "n_obs"],
    ).sort_values("event_time", ignore_index=True)
    pre = [j for j, e in enumerate(event_times) if e < -1]
    post = [j for j, e in enumerate(event_times) if e >= 0]
    pretrend: dict[str, Any]
    if pre:
        b = beta[pre]
        wald = float(b @ np.linalg.solve(vcov[np.ix_(pre, pre)], b))
        qn = len(pre)
        pretrend = {
            "wald_chi2": wald,
            "f_stat": wald / qn,
            "df_num": qn,
            "df_den": fit.dof,
            "p_value_f": float(stats.f.sf(wald / qn, qn, fit.dof)),
            "p_value_chi2": float(stats.chi2.sf(wald, qn)),
        }
    else:
        pretrend = {"note": "no lead besides the reference; pre-trend test not available"}
    if not post:
        raise IdentificationError("no post-treatment observations: nothing to estimate")
    a = np.zeros(k)
    a[post] = 1.0 / len(post)
    est = float(a @ beta)
    est_se = float(np.sqrt(a @ vcov @ a))
    lo, hi = t_ci(est, est_se, alpha, fit.dof)
    diagnostics = {
        "dropped_rows": dropped,
        "pre_trend_test": pretrend,
        "n_units": n_units,
        "n_clusters": fit.n_clusters,
        "treated_units": int(pd.Series(treated_unit).groupby(ucode).first().sum()),
        "inference": f"CR1 cluster-robust, t with {fit.dof} df",
        "headline": "equal-weight mean of event-time coefficients 0..lags",
    }
    return EventStudyResult(
        estimate=est,
        std_error=est_se,
        ci_low=lo,
        ci_high=hi,
        n_obs=len(frame),
        method="Event-study TWFE (reference period -1, binned endpoints)",
        diagnostics=diagnostics,
        alpha=alpha,
        table=table,
        n_units=n_units,
        n_clusters=fit.n_clusters,
    )


def _pretrend_wald(att: np.ndarray, inf: np.ndarray, pre: np.ndarray) -> dict[str, Any]:
    """Joint Wald test that all pre-treatment ATT(g,t) are zero (IF-based covariance)."""
    if not pre.any():
        return {"note": "no pre-treatment cells; pre-trend test not available"}
    n = inf.shape[0]
    v = inf[:, pre].T @ inf[:, pre] / n**2
    b = att[pre]
    wald = float(b @ np.linalg.pinv(v) @ b)
    rank = int(np.linalg.matrix_rank(v))
    return {"wald_chi2": wald, "df": rank, "p_value": float(stats.chi2.sf(wald, rank))}


def staggered(
    df: Any,
    *,
    unit: str,
    time: str,
    outcome: str,
    first_treated: str,
    control: Literal["never", "not_yet"] = "never",
    covariates: list[str] | None = None,
    est_method: Literal["dr", "reg"] = "dr",
    bootstrap: int | None = None,
    alpha: float = 0.05,
    seed: int | None = None,
) -> StaggeredResult:
    """Callaway & Sant'Anna (2021) staggered DiD on a balanced panel.

    Group-time ATT(g,t) by 2x2 DiD of each cohort against never-treated (`control="never"`) or
    not-yet-treated units (`"not_yet"`; without never-treated units the last cohort serves
    only as a comparison and the periods from its start are dropped, as R `did` does). With
    `covariates` (taken at the first period, i.e. pre-treatment), each cell is doubly robust
    (Sant'Anna & Zhao 2020, logit propensity + linear outcome regression) or outcome regression
    only (`est_method="reg"`). Base period varies (pre-cells compare t with t-1).

    Returns a StaggeredResult: `estimate` is the simple overall ATT (post cells weighted by
    cohort size, as R `did::aggte(type="simple")`); tables `group_time`, `dynamic` (by event
    time) and `by_group`; `aggregations` with the overall dynamic and group ATTs. SEs come from
    the influence functions (analytic, normal intervals); with `bootstrap=B` a Rademacher
    multiplier bootstrap replaces them and the table intervals become uniform bands.
    Diagnostics: Wald pre-trend test on the pre-treatment cells, cohort sizes, dropped rows
    and units. Units treated in the first period are dropped (no pre-period), units treated
    after the last period count as never treated.

    Refuses: missing columns, a first-treatment varying within unit (InputError); an unbalanced
    panel, no never-treated units with control="never", a cohort-period with no comparison
    units, no cohort with a pre-period, or covariates without overlap (IdentificationError).
    """
    if control not in ("never", "not_yet"):
        raise InputError(f"control must be 'never' or 'not_yet', got {control!r}")
    covs = list(covariates or [])
    frame, dropped = prepare(
        df,
        [unit, time, outcome, first_treated, *covs],
        null_means_never=[first_treated],
        numeric=[outcome, *covs],
    )
    require_balanced(frame, unit, time)
    tvals, tpos = time_positions(frame[time])
    if len(tvals) < 2:
        raise IdentificationError(f"too short a panel: {len(tvals)} period(s); need at least 2")
    frame = frame.assign(_t=tpos, _g=cohort_positions(frame[first_treated], tvals))
    gunit = constant_within(frame, unit, "_g").sort_index()
    wide = frame.pivot(index=unit, columns="_t", values=outcome).sort_index()
    y = wide.to_numpy(float)
    gpos = gunit.loc[wide.index].to_numpy()
    in_first = gpos == 0
    n_dropped_units = int(in_first.sum())
    x = None
    if covs:
        first_rows = frame[frame["_t"] == 0].set_index(unit).loc[wide.index, covs]
        x = np.column_stack([np.ones(len(wide)), first_rows.to_numpy(float)])
        x = x[~in_first]
    y, gpos = y[~in_first], gpos[~in_first]
    n_periods_used = y.shape[1]
    notes: list[str] = []
    if not (gpos >= 1).any():
        raise IdentificationError(
            "too short a pre-period: no cohort is first treated after the first period "
            f"({n_dropped_units} units treated from the start were dropped)"
        )
    has_never = (gpos == -1).any()
    if control == "never" and not has_never:
        raise IdentificationError(
            "no untreated comparison units: control='never' but every unit is eventually "
            "treated within the panel; use control='not_yet'"
        )
    if control == "not_yet" and not has_never:
        last = int(gpos.max())
        y = y[:, :last]
        n_periods_used = last
        notes.append(
            f"no never-treated units: periods from {tvals[last]} on dropped; the cohort "
            f"first treated then serves only as comparison"
        )
        if not ((gpos >= 1) & (gpos < last)).any():
            raise IdentificationError(
                "no untreated comparison units: a single cohort and no never-treated units"
            )
    gt = group_time_att(y, gpos, control=control, x=x, method=est_method, labels=tvals)
    n = y.shape[0]
    post = gt.period >= gt.group
    simple, simple_if = weighted_aggregate(gt.att, gt.inf, post, gt.group, gpos)
    # dynamic
    e = gt.period - gt.group
    e_vals = np.unique(e)
    dyn_att, dyn_if = [], []
    for ev in e_vals:
        a, f = weighted_aggregate(gt.att, gt.inf, e == ev, gt.group, gpos)
        dyn_att.append(a)
        dyn_if.append(f)
    dyn_att_arr, dyn_if_arr = np.array(dyn_att), np.column_stack(dyn_if)
    post_e = e_vals >= 0
    dyn_overall = float(dyn_att_arr[post_e].mean())
    dyn_overall_if = dyn_if_arr[:, post_e].mean(axis=1)
    # by cohort
    groups = np.unique(gt.group)
    grp_att, grp_if = [], []
    for g in groups:
        sel = (gt.group == g) & post
        grp_att.append(float(gt.att[sel].mean()))
        grp_if.append(gt.inf[:, sel].mean(axis=1))
    grp_att_arr, grp_if_arr = np.array(grp_att), np.column_stack(grp_if)
    grp_overall, grp_overall_if = weighted_aggregate(
        grp_att_arr, grp_if_arr, np.ones(len(groups), bool), groups, gpos
    )
    all_if = np.column_stack(
        [gt.inf, dyn_if_arr, grp_if_arr, simple_if, dyn_overall_if, grp_overall_if]
    )
    k_gt, k_dyn, k_grp = gt.inf.shape[1], len(e_vals), len(groups)
    z = float(stats.norm.ppf(1 - alpha / 2))
    crit_gt = crit_dyn = crit_grp = z
    if bootstrap:
        se_all, _ = multiplier_bootstrap(all_if, bootstrap, seed, alpha)
        # uniform bands: critical values per table from their own bootstrap maxima
        _, crit_gt = multiplier_bootstrap(gt.inf, bootstrap, seed, alpha)
        _, crit_dyn = multiplier_bootstrap(dyn_if_arr, bootstrap, seed, alpha)
        _, crit_grp = multiplier_bootstrap(grp_if_arr, bootstrap, seed, alpha)
        inference = f"Rademacher multiplier bootstrap, {bootstrap} draws, uniform bands"
    else:
        se_all = se_from_inf(all_if)
        inference = "analytic influence-function SEs, pointwise normal intervals"
    se_gt = se_all[:k_gt]
    se_dyn = se_all[k_gt : k_gt + k_dyn]
    se_grp = se_all[k_gt + k_dyn : k_gt + k_dyn + k_grp]
    se_simple, se_dyn_overall, se_grp_overall = (float(v) for v in se_all[-3:])

    def _table(key: dict[str, Any], att: np.ndarray, se: np.ndarray, crit: float) -> pd.DataFrame:
        out = pd.DataFrame(key)
        out["estimate"] = att
        out["std_error"] = se
        out["ci_low"] = att - crit * se
        out["ci_high"] = att + crit * se
        return out

    group_time = _table(
        {
            "group": tvals[gt.group],
            "period": tvals[gt.period],
            "event_time": e,
            "post": post,
            "n_treated": gt.n_treated,
            "n_control": gt.n_control,
        },
        gt.att,
        se_gt,
        crit_gt,
    )
    dynamic = _table({"event_time": e_vals}, dyn_att_arr, se_dyn, crit_dyn)
    by_group = _table(
        {"group": tvals[groups], "n_units": [int((gpos == g).sum()) for g in groups]},
        grp_att_arr,
        se_grp,
        crit_grp,
    )
    lo, hi = normal_ci(simple, se_simple, alpha)
    aggregations = {
        "simple": {"estimate": simple, "std_error": se_simple},
        "dynamic": {"estimate": dyn_overall, "std_error": se_dyn_overall},
        "group": {"estimate": grp_overall, "std_error": se_grp_overall},
    }
    diagnostics: dict[str, Any] = {
        "dropped_rows": dropped,
        "dropped_units_treated_in_first_period": n_dropped_units,
        "pre_trend_test": _pretrend_wald(gt.att, gt.inf, ~post),
        "n_units": n,
        "never_treated_units": int((gpos == -1).sum()),
        "cohorts": {str(tvals[g]): int((gpos == g).sum()) for g in groups},
        "periods_used": n_periods_used,
        "control": control,
        "covariates": covs,
        "estimation": "unconditional 2x2 DiD" if x is None else est_method,
        "inference": inference,
    }
    if notes:
        diagnostics["notes"] = notes
    return StaggeredResult(
        estimate=simple,
        std_error=se_simple,
        ci_low=lo,
        ci_high=hi,
        n_obs=n * n_periods_used,
        method=f"Callaway-Sant'Anna staggered DiD ({control}-treated controls)",
        diagnostics=diagnostics,
        alpha=alpha,
        group_time=group_time,
        dynamic=dynamic,
        by_group=by_group,
        aggregations=aggregations,
        n_units=n,
    )
