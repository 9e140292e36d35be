"""The methods of a readout beside staggered DiD: synthetic control, matching, ITS.

Each applies to the same question (the effect of AI tooling on the treated teams' c_r or
PUs per hour) the identification it can offer, and refuses when it cannot:

- synthetic control: the treated team (one treated team) or the first cohort's aggregate
  (several treated teams; its estimand is then that cohort's effect) against a weighted
  combination of never-treated teams. Each series is first demeaned by its own pre-period
  mean (synthetic control with an intercept), because the early adopters are the most
  productive teams and lie outside the donors' range in levels.
- matching: first-cohort teams against never-treated teams matched on the propensity
  from pre-period productivity, size and site; the outcome is each team's change from
  before to after the cohort's adoption month.
- interrupted time series: the first cohort's aggregate series, level and slope change at
  adoption with an annual harmonic, Newey-West errors; identified only if nothing else
  changed at that month.
"""

import polars as pl

import estimators
from coadv_assets.pu.estimate import Estimate, estimated, refusal

TREATED = "treated"


def _ratio(outcome: str) -> tuple[str, str]:
    return ("labor_cost", "pu") if outcome == "c_r" else ("pu", "hours")


def _first_cohort(panel: pl.DataFrame) -> tuple[int, list[str]]:
    treated = panel.filter(pl.col("first_treated_idx") > 0)
    if treated.is_empty():
        return 0, []
    g1 = int(treated["first_treated_idx"].min())
    teams = treated.filter(pl.col("first_treated_idx") == g1)["team_id"].unique().sort()
    return g1, teams.to_list()


def team_series(panel: pl.DataFrame, teams: list[str], outcome: str, name: str) -> pl.DataFrame:
    """Monthly ``outcome`` of ``teams`` pooled (a ratio of sums), as unit ``name``."""
    num, den = _ratio(outcome)
    return (
        panel.filter(pl.col("team_id").is_in(teams))
        .group_by("month_idx")
        .agg(y=pl.col(num).sum() / pl.col(den).sum())
        .with_columns(team_id=pl.lit(name))
        .sort("month_idx")
    )


def synthetic_control(panel: pl.DataFrame, function: str, outcome: str, role: str) -> Estimate:
    """Synthetic control (demeaned) of the treated team or first cohort, or a refusal."""
    from estimators import synthetic_control as sc

    method = "synthetic_control"
    g1, cohort = _first_cohort(panel)
    if not cohort:
        return refusal(function, outcome, method, role, "no treated team in the panel")
    donors = panel.filter(pl.col("first_treated_idx") == 0)["team_id"].unique().sort().to_list()
    units = [team_series(panel, cohort, outcome, TREATED)]
    units += [team_series(panel, [d], outcome, d) for d in donors]
    frame = pl.concat(units).with_columns(
        y_dm=pl.col("y") - pl.col("y").filter(pl.col("month_idx") < g1).mean().over("team_id")
    )
    try:
        result = sc.fit(
            frame.to_pandas(),
            unit="team_id",
            time="month_idx",
            outcome="y_dm",
            treated_unit=TREATED,
            treatment_time=g1,
        )
    except (estimators.IdentificationError, estimators.InputError) as err:
        return refusal(function, outcome, method, role, str(err))
    treated_post = frame.filter((pl.col("team_id") == TREATED) & (pl.col("month_idx") >= g1))
    what = "the treated team" if len(cohort) == 1 else f"the first cohort ({len(cohort)} teams)"
    d = result.diagnostics
    assumptions = (
        f"Treated series: {what}; donors: {d['donors']} never-treated team(s), each series "
        "demeaned by its pre-period mean. Pre-period fit: RMSPE "
        f"{d['pre_rmspe']:.4g} over {d['pre_periods']} months. Placebo-in-space: rank "
        f"{d.get('placebo_rank')} of {d['donors'] + 1}, p = {d.get('placebo_p_value', 0):.2f} "
        "(the interval assumes the treated series is exchangeable with the donors)."
    )
    gaps = pl.from_pandas(result.gaps)
    return estimated(
        function,
        outcome,
        method,
        role,
        estimate=result.estimate,
        std_error=result.std_error,
        ci=(result.ci_low, result.ci_high),
        counterfactual=float(treated_post["y"].mean()) - result.estimate,
        n_obs=result.n_obs,
        assumptions=assumptions,
        diagnostics={**d, "weights": pl.from_pandas(result.weights)},
        tables={"sc_gaps": gaps},
    )


def matching(panel: pl.DataFrame, function: str, outcome: str) -> Estimate:
    """Propensity matching of first-cohort teams to never-treated teams, or a refusal."""
    from estimators import matching as psm

    method = "matching"
    g1, cohort = _first_cohort(panel)
    if not cohort:
        return refusal(function, outcome, method, "secondary", "no treated team in the panel")
    sample = panel.filter(
        pl.col("team_id").is_in(cohort) | (pl.col("first_treated_idx") == 0)
    ).with_columns(post=pl.col("month_idx") >= g1)
    teams = (
        sample.group_by("team_id", "site")
        .agg(
            change=pl.col(outcome).filter(pl.col("post")).mean()
            - pl.col(outcome).filter(~pl.col("post")).mean(),
            pre_pu_per_hour=pl.col("pu_per_hour").filter(~pl.col("post")).mean(),
            size=pl.col("agents").filter(~pl.col("post")).mean().cast(pl.Float64),
            post_level=pl.col(outcome).filter(pl.col("post")).mean(),
        )
        .with_columns(treated=pl.col("team_id").is_in(cohort).cast(pl.Int64))
        .sort("team_id")
    )
    covariates = ["pre_pu_per_hour", "size"]
    for site in sorted(teams["site"].unique().to_list())[1:]:
        teams = teams.with_columns((pl.col("site") == site).cast(pl.Float64).alias(f"site_{site}"))
        covariates.append(f"site_{site}")
    try:
        result = psm.psm(
            teams.to_pandas(), treatment="treated", outcome="change", covariates=covariates
        )
    except (estimators.IdentificationError, estimators.InputError) as err:
        return refusal(function, outcome, method, "secondary", str(err))
    d = result.diagnostics
    assumptions = (
        "Selection on observables (pre-period productivity, size, site): balance after "
        f"matching, max |SMD| {d['max_abs_smd_after']:.2f} (before {d['max_abs_smd_before']:.2f})"
        f"; overlap: {d['overlap']}. Outcome: each team's change across the first cohort's "
        "adoption month, so level differences cancel."
    )
    post_level = float(teams.filter(pl.col("treated") == 1)["post_level"].mean())
    return estimated(
        function,
        outcome,
        method,
        "secondary",
        estimate=result.estimate,
        std_error=result.std_error,
        ci=(result.ci_low, result.ci_high),
        counterfactual=post_level - result.estimate,
        n_obs=result.n_obs,
        assumptions=assumptions,
        diagnostics=d,
    )


def interrupted_time_series(panel: pl.DataFrame, function: str, outcome: str) -> Estimate:
    """ITS on the first cohort's aggregate series (mean post-period effect), or a refusal."""
    from estimators import its

    method = "interrupted_time_series"
    g1, cohort = _first_cohort(panel)
    if not cohort:
        return refusal(function, outcome, method, "secondary", "no treated team in the panel")
    series = team_series(panel, cohort, outcome, TREATED)
    try:
        result = its.fit(
            series.to_pandas(),
            time="month_idx",
            outcome="y",
            intervention=g1,
            seasonal_period=12,
            fourier=1,
        )
    except (estimators.IdentificationError, estimators.InputError) as err:
        return refusal(function, outcome, method, "secondary", str(err))
    row = result.segments.set_index("term").loc["mean_post_effect"]
    d = result.diagnostics
    assumptions = (
        "No other change at the adoption month and a pre-period trend and season that "
        f"extrapolate: R² {d['r_squared']:.2f}, Durbin-Watson {d['durbin_watson']:.2f}, "
        f"placebo-date p = {_p(d.get('placebo_p_value'))}. Not checked: concurrent shocks."
    )
    post_mean = float(series.filter(pl.col("month_idx") >= g1)["y"].mean())
    return estimated(
        function,
        outcome,
        method,
        "secondary",
        estimate=float(row["estimate"]),
        std_error=float(row["std_error"]),
        ci=(float(row["ci_low"]), float(row["ci_high"])),
        counterfactual=post_mean - float(row["estimate"]),
        n_obs=result.n_obs,
        assumptions=assumptions,
        diagnostics=d,
        tables={"its_fitted": pl.from_pandas(result.fitted)},
    )


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
