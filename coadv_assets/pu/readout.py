"""Readouts of `τ`: the realized effect of AI tooling on a function's `c_r` and PUs per hour.

A readout answers one question per function and month: by how much did AI tooling change
the cost per PU (and PUs per hour) of the teams that received it, over their months since
adoption up to that month? Every method whose identification can hold is applied to that
question, side by side (``coadv_assets.pu.alternatives`` holds synthetic control, matching
and interrupted time series), and one is the primary answer:

- staggered difference-in-differences (Callaway & Sant'Anna, never-treated teams as
  controls) when at least two teams are treated;
- synthetic control when a single team is treated (DiD's cohort of one is then too noisy a
  comparison and its interval rests on one unit).

The naive before/after comparison of the treated teams is reported beside them, labelled
naive, never as the answer. Where a method refuses (no comparison teams, too short a
pre-period, no overlap) the readout records the refusal and its reason instead of a number.
"""

import datetime as dt
import math

import polars as pl
from scipy import stats

import estimators
from coadv_assets.pu.estimate import OUTCOMES, Estimate, estimated, refusal


def panel_as_of(panel: pl.DataFrame, month: dt.date) -> pl.DataFrame:
    """The team-month panel as it stood at the end of ``month``: complete months through it.

    Teams whose first AI month lies after ``month`` count as not (yet) treated, so that the
    readout of a month never uses a rollout that had not happened. Returns an empty frame
    when no month of the panel is that early.
    """
    frame = panel.filter(pl.col("month") <= month)
    if "complete_month" in frame.columns:
        frame = frame.filter(pl.col("complete_month"))
    return frame.with_columns(
        first_ai_month=pl.when(pl.col("first_ai_month") <= month).then(pl.col("first_ai_month")),
        first_treated_idx=pl.when(pl.col("first_ai_month") <= month)
        .then(pl.col("first_treated_idx"))
        .otherwise(0),
    )


def treated_team_count(panel: pl.DataFrame) -> int:
    """Teams with a first AI month inside the panel."""
    return panel.filter(pl.col("first_treated_idx") > 0)["team_id"].n_unique()


def staggered_did(panel: pl.DataFrame, function: str, outcome: str, role: str) -> Estimate:
    """Callaway–Sant'Anna ATT of ``outcome`` over treated team-months, or a refusal.

    The percent figures divide by the treated team-months' counterfactual mean (observed mean
    after adoption minus the ATT); their interval treats that mean as fixed.
    """
    from estimators import did

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
        return refusal(function, outcome, "staggered_did", role, str(err))
    treated_post = data.filter(
        (pl.col("first_treated_idx") > 0) & (pl.col("month_idx") >= pl.col("first_treated_idx"))
    )
    counterfactual = float(treated_post[outcome].mean()) - result.estimate
    pre = result.diagnostics.get("pre_trend_test", {})
    p_value = pre.get("p_value")
    verdict = (
        ("not rejected" if p_value is not None and p_value >= 0.05 else "REJECTED at 5%")
        if p_value is not None
        else "not testable (no pre-treatment cells)"
    )
    assumptions = (
        "Parallel trends: joint Wald test that every pre-treatment ATT(g,t) is zero, "
        f"p = {_fmt(p_value)} ({verdict}). Comparison group: "
        f"{result.diagnostics.get('never_treated_units')} never-treated team(s). "
        "No anticipation: assumed (the rollout month counts as treated). Balanced panel: "
        "checked by the estimator."
    )
    dynamic = pl.from_pandas(result.dynamic)
    return estimated(
        function,
        outcome,
        "staggered_did",
        role,
        estimate=result.estimate,
        std_error=result.std_error,
        ci=(result.ci_low, result.ci_high),
        counterfactual=counterfactual,
        n_obs=result.n_obs,
        assumptions=assumptions,
        diagnostics=result.diagnostics,
        tables={"event_study": dynamic},
    )


def naive_before_after(panel: pl.DataFrame, function: str, outcome: str) -> Estimate:
    """Mean of ``outcome`` over treated teams' months after adoption minus before (Welch).

    This is the spreadsheet comparison: it ignores trends, seasonality and the selection of
    early adopters (who weigh more in the months after adoption), so it is reported as naive.
    """
    treated = panel.filter((pl.col("first_treated_idx") > 0) & pl.col(outcome).is_not_null())
    post = treated.filter(pl.col("month_idx") >= pl.col("first_treated_idx"))[outcome]
    pre = treated.filter(pl.col("month_idx") < pl.col("first_treated_idx"))[outcome]
    if post.len() < 2 or pre.len() < 2:
        return refusal(
            function,
            outcome,
            "naive_before_after",
            "naive",
            "fewer than two treated team-months before or after adoption",
        )
    diff = float(post.mean() - pre.mean())
    v_post, v_pre = float(post.var()) / post.len(), float(pre.var()) / pre.len()
    se = math.sqrt(v_post + v_pre)
    dof = (v_post + v_pre) ** 2 / (v_post**2 / (post.len() - 1) + v_pre**2 / (pre.len() - 1))
    half = float(stats.t.ppf(0.975, dof)) * se
    return estimated(
        function,
        outcome,
        "naive_before_after",
        "naive",
        estimate=diff,
        std_error=se,
        ci=(diff - half, diff + half),
        counterfactual=float(pre.mean()),
        n_obs=int(post.len() + pre.len()),
        assumptions="None checked: assumes nothing else changed between before and after.",
        diagnostics={"welch_dof": dof, "pre_months": pre.len(), "post_months": post.len()},
    )


def readout(panel: pl.DataFrame, function: str) -> list[Estimate]:
    """Every estimate of τ for ``function`` on an as-of panel (see ``panel_as_of``).

    Per outcome, in order: the primary method (staggered DiD, or synthetic control when one
    team is treated), the other methods as secondary checks, and the naive comparison.
    """
    from coadv_assets.pu import alternatives

    single = treated_team_count(panel) == 1
    rows: list[Estimate] = []
    for outcome in OUTCOMES:
        did_est = staggered_did(panel, function, outcome, "secondary" if single else "primary")
        sc_est = alternatives.synthetic_control(
            panel, function, outcome, "primary" if single else "secondary"
        )
        ordered = [sc_est, did_est] if single else [did_est, sc_est]
        rows += ordered
        rows.append(alternatives.matching(panel, function, outcome))
        rows.append(alternatives.interrupted_time_series(panel, function, outcome))
        rows.append(naive_before_after(panel, function, outcome))
    return rows


def primary(rows: list[Estimate], outcome: str) -> Estimate:
    """The primary estimate (or refusal) of ``outcome`` among a readout's rows."""
    return next(r for r in rows if r.outcome == outcome and r.role == "primary")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
