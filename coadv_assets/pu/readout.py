"""Readouts of `τ`: the realized effect of AI tooling on a function's `c_r` and PUs per hour.

For each outcome the readout holds the staggered difference-in-differences estimate
(Callaway & Sant'Anna, never-treated teams as controls, team-month panel) and, beside it,
the naive before/after comparison of the treated teams that a spreadsheet would give. The
naive figure is reported so that the difference is visible, never as the answer. Where the
estimator refuses (no comparison teams, too short a pre-period) the readout records the
refusal and its reason instead of a number.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy import stats

import estimators
from estimators import did

OUTCOMES = {"c_r": "USD per PU", "pu_per_hour": "PUs per hour"}


@dataclass(frozen=True)
class Estimate:
    """One estimate of τ (or a refusal) for one function, outcome and method."""

    function: str
    outcome: str
    unit: str
    method: str
    status: str  # "estimated" or "refused"
    estimate: float | None = None
    std_error: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    estimate_pct: float | None = None
    ci_low_pct: float | None = None
    ci_high_pct: float | None = None
    n_obs: int | None = None
    reason: str | None = None
    diagnostics: str | None = None

    def to_row(self) -> dict:
        return asdict(self)


def _pct(value: float, counterfactual: float) -> float:
    return 100.0 * value / counterfactual


def staggered_did(panel: pl.DataFrame, function: str, outcome: str) -> Estimate:
    """Callaway–Sant'Anna ATT of ``outcome`` over treated team-months, or a refusal.

    The percent figures divide by the treated team-months' counterfactual mean (observed mean
    after adoption minus the ATT); their interval treats that mean as fixed.
    """
    unit = OUTCOMES[outcome]
    data = panel.filter(pl.col(outcome).is_not_null())
    try:
        result = did.staggered(
            data,
            unit="team_id",
            time="month_idx",
            outcome=outcome,
            first_treated="first_treated_idx",
            control="never",
        )
    except (estimators.IdentificationError, estimators.InputError) as err:
        return Estimate(function, outcome, unit, "staggered_did", "refused", reason=str(err))
    treated_post = data.filter(
        (pl.col("first_treated_idx") > 0) & (pl.col("month_idx") >= pl.col("first_treated_idx"))
    )
    counterfactual = float(treated_post[outcome].mean()) - result.estimate
    return Estimate(
        function,
        outcome,
        unit,
        "staggered_did",
        "estimated",
        estimate=result.estimate,
        std_error=result.std_error,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        estimate_pct=_pct(result.estimate, counterfactual),
        ci_low_pct=_pct(result.ci_low, counterfactual),
        ci_high_pct=_pct(result.ci_high, counterfactual),
        n_obs=result.n_obs,
        diagnostics=_json(result.diagnostics),
    )


def naive_before_after(panel: pl.DataFrame, function: str, outcome: str) -> Estimate:
    """Mean of ``outcome`` over treated teams' months after adoption minus before (Welch)."""
    unit = OUTCOMES[outcome]
    treated = panel.filter((pl.col("first_treated_idx") > 0) & pl.col(outcome).is_not_null())
    post = treated.filter(pl.col("month_idx") >= pl.col("first_treated_idx"))[outcome]
    pre = treated.filter(pl.col("month_idx") < pl.col("first_treated_idx"))[outcome]
    if post.len() < 2 or pre.len() < 2:
        return Estimate(
            function,
            outcome,
            unit,
            "naive_before_after",
            "refused",
            reason="fewer than two treated team-months before or after adoption",
        )
    diff = float(post.mean() - pre.mean())
    var_post, var_pre = float(post.var()), float(pre.var())
    se = math.sqrt(var_post / post.len() + var_pre / pre.len())
    dof = (var_post / post.len() + var_pre / pre.len()) ** 2 / (
        (var_post / post.len()) ** 2 / (post.len() - 1)
        + (var_pre / pre.len()) ** 2 / (pre.len() - 1)
    )
    half = float(stats.t.ppf(0.975, dof)) * se
    base = float(pre.mean())
    return Estimate(
        function,
        outcome,
        unit,
        "naive_before_after",
        "estimated",
        estimate=diff,
        std_error=se,
        ci_low=diff - half,
        ci_high=diff + half,
        estimate_pct=_pct(diff, base),
        ci_low_pct=_pct(diff - half, base),
        ci_high_pct=_pct(diff + half, base),
        n_obs=int(post.len() + pre.len()),
    )


def readout(panel: pl.DataFrame, function: str) -> list[Estimate]:
    """All estimates of τ for ``function``: staggered DiD and the naive comparison, per outcome."""
    rows: list[Estimate] = []
    for outcome in OUTCOMES:
        rows.append(staggered_did(panel, function, outcome))
        rows.append(naive_before_after(panel, function, outcome))
    return rows


def _json(value: object) -> str:
    import json

    def default(obj: object) -> object:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, pl.DataFrame):
            return obj.to_dicts()
        return str(obj)

    return json.dumps(value, default=default, sort_keys=True)
