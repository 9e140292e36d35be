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

The naive before/after comparison (the function's monthly figure since its rollout began
against the months before, as a dashboard shows it) is reported beside them, labelled naive,
never as the answer. Where a method refuses (no comparison teams, too short a
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

    Both outcomes are ratios whose drivers act multiplicatively (wage inflation scales every
    team's cost, a change in the work's complexity scales every team's PUs per hour), so
    trends are parallel in logs, not in levels, when teams differ in level. The estimator
    runs on ``log(outcome)``; its ATT ``d`` (a mean log ratio) is reported in units as
    ``m × (1 − exp(−d))``, where ``m`` is the observed mean of the treated team-months after
    adoption, and in percent as ``exp(d) − 1``. The unit interval maps the log interval's
    ends the same way (``m`` taken as fixed).
    """
    from estimators import did

    data = panel.filter(pl.col(outcome).is_not_null())
    if (data[outcome] <= 0).any():
        return refusal(
            function,
            outcome,
            "staggered_did",
            role,
            f"{outcome} is not positive in {(data[outcome] <= 0).sum()} team-month(s); "
            "the log-scale comparison needs positive values",
        )
    data = data.with_columns(log_outcome=pl.col(outcome).log())
    try:
        result = did.staggered(
            data,
            unit="team_id",
            time="month_idx",
            outcome="log_outcome",
            first_treated="first_treated_idx",
            control="never",
        )
    except (estimators.IdentificationError, estimators.InputError) as err:
        return refusal(function, outcome, "staggered_did", role, str(err))
    treated_post = data.filter(
        (pl.col("first_treated_idx") > 0) & (pl.col("month_idx") >= pl.col("first_treated_idx"))
    )
    observed = float(treated_post[outcome].mean())

    def units(log_effect: float) -> float:
        return observed * (1.0 - math.exp(-log_effect))

    estimate = units(result.estimate)
    counterfactual = observed * math.exp(-result.estimate)
    pre = result.diagnostics.get("pre_trend_test", {})
    p_value = pre.get("p_value")
    verdict = (
        ("not rejected" if p_value is not None and p_value >= 0.05 else "REJECTED at 5%")
        if p_value is not None
        else "not testable (no pre-treatment cells)"
    )
    assumptions = (
        "Parallel trends in logs: joint Wald test that every pre-treatment ATT(g,t) is zero, "
        f"p = {_fmt(p_value)} ({verdict}). Comparison group: "
        f"{result.diagnostics.get('never_treated_units')} never-treated team(s). "
        "No anticipation: assumed (the rollout month counts as treated). Balanced panel: "
        "checked by the estimator."
    )
    dynamic = pl.from_pandas(result.dynamic).with_columns(
        (100.0 * (pl.col(c).exp() - 1.0)).alias(c) for c in ("estimate", "ci_low", "ci_high")
    )
    return estimated(
        function,
        outcome,
        "staggered_did",
        role,
        estimate=estimate,
        std_error=observed * math.exp(-result.estimate) * result.std_error,
        ci=(units(result.ci_low), units(result.ci_high)),
        counterfactual=counterfactual,
        n_obs=result.n_obs,
        assumptions=assumptions,
        diagnostics={
            **result.diagnostics,
            "scale": "log",
            "log_att": result.estimate,
            "log_att_std_error": result.std_error,
            "log_att_ci": [result.ci_low, result.ci_high],
            "treated_post_mean": observed,
        },
        tables={"event_study": dynamic},
    )


def naive_before_after(panel: pl.DataFrame, function: str, outcome: str) -> Estimate:
    """The function's monthly ``outcome`` since its rollout began minus before (Welch, months).

    This is the comparison a dashboard of the function invites: its cost per PU (or PUs per
    hour) in the months since the first team received AI tooling, against the months before.
    It ignores everything else that moved between the two periods (wage inflation, seasonal
    mix, volume), the teams not (yet) treated that dilute the after-period, and the selection
    of early adopters; the readout reports it, labelled naive, to show how far it is from the
    causal estimate, never as the answer. Months are the observations (one per month).
    """
    treated_idx = panel.filter(pl.col("first_treated_idx") > 0)["first_treated_idx"]
    if treated_idx.is_empty():
        return refusal(
            function, outcome, "naive_before_after", "naive", "no team is treated by this month"
        )
    from coadv_assets.pu.alternatives import team_series

    start = int(treated_idx.min())
    teams = panel["team_id"].unique().to_list()
    series = team_series(panel, teams, outcome, function).filter(pl.col("y").is_finite())
    post = series.filter(pl.col("month_idx") >= start)["y"]
    pre = series.filter(pl.col("month_idx") < start)["y"]
    if post.len() < 2 or pre.len() < 2:
        return refusal(
            function,
            outcome,
            "naive_before_after",
            "naive",
            "fewer than two months of the function before or since its rollout began",
        )
    welch = stats.ttest_ind(post.to_numpy(), pre.to_numpy(), equal_var=False)
    interval = welch.confidence_interval(0.95)
    diff = float(post.mean() - pre.mean())
    se = math.sqrt(float(post.var()) / post.len() + float(pre.var()) / pre.len())
    dof = float(welch.df)
    return estimated(
        function,
        outcome,
        "naive_before_after",
        "naive",
        estimate=diff,
        std_error=se,
        ci=(float(interval.low), float(interval.high)),
        counterfactual=float(pre.mean()),
        n_obs=int(post.len() + pre.len()),
        assumptions=(
            "None checked: assumes nothing but AI tooling changed between the months before "
            "the function's first rollout and the months since, and that every team was "
            "treated from the first rollout on."
        ),
        diagnostics={
            "welch_dof": dof,
            "pre_months": pre.len(),
            "post_months": post.len(),
            "rollout_start_idx": start,
        },
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
