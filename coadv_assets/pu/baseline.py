"""The `c_r` baseline of a function: what a unit of its work would cost without the tooling.

Method, in words (this text is stored in every published record):

    On the pre-period (every month before the function's first AI rollout), regress the log of
    each team's monthly c_r on team fixed effects (mix), a linear trend in months (wage
    inflation and drift) and one annual harmonic (seasonality), weighting team-months by
    their PUs, with standard errors clustered by team. For any month, the team-level baseline
    is the model's prediction (retransformed with Duan's smearing factor); the function's
    baseline c_r is the cost-weighted harmonic mean of the team baselines over the teams
    active that month, i.e. its actual labor cost divided by the PUs the baseline c_r would
    have bought, so the team mix of the month is held as observed. The 95% interval is the
    2.5 and 97.5 percentiles of that quantity over 2,000 draws of the coefficients from
    their estimated sampling distribution (seeded), so it is an interval for the expected
    baseline, not a prediction band for one month's realized c_r.

Refuses (raises BaselineError) when the pre-period has fewer than 12 months (seasonality and
trend are then not separately identified), fewer than two teams, or a non-positive c_r.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import statsmodels.api as sm

MIN_PRE_MONTHS = 12
N_DRAWS = 2000
SEED = 20240101

METHOD_TEXT = " ".join(
    line.strip()
    for line in __doc__.split("Method, in words")[1].split("Refuses")[0].splitlines()[2:]
    if line.strip()
)


class BaselineError(ValueError):
    """The baseline cannot be identified from the data given; the message says why."""


@dataclass(frozen=True)
class Baseline:
    """A fitted baseline: per-month observed and baseline c_r (USD per PU) with intervals."""

    function: str
    pre_start: dt.date
    pre_end: dt.date
    months: pl.DataFrame
    n_obs: int
    n_teams: int
    fit: dict[str, float] = field(default_factory=dict)
    method: str = METHOD_TEXT


def _design(frame: pl.DataFrame, teams: list[str]) -> np.ndarray:
    t = frame["month_idx"].to_numpy().astype(float)
    moy = frame["month"].dt.month().to_numpy().astype(float)
    cols = [np.ones(len(frame)), t, np.sin(2 * math.pi * moy / 12), np.cos(2 * math.pi * moy / 12)]
    team = frame["team_id"].to_numpy()
    cols += [(team == name).astype(float) for name in teams[1:]]
    return np.column_stack(cols)


def default_pre_end(panel: pl.DataFrame) -> dt.date:
    """The last pre-period month: before the first rollout, or the panel's last month."""
    rollout = panel["first_ai_month"].drop_nulls()
    if rollout.is_empty():
        return panel["month"].max()
    first = rollout.min()
    return (dt.date(first.year, first.month, 1) - dt.timedelta(days=1)).replace(day=1)


def fit_baseline(panel: pl.DataFrame, function: str, pre_end: dt.date | None = None) -> Baseline:
    """Fit the baseline on a team-month panel (see ``coadv_assets.pu.panel``).

    ``pre_end`` is the last pre-period month; by default the month before the function's
    first rollout. Returns a Baseline whose ``months`` frame has one row per month of the
    panel: month, labor_cost, pu, observed_c_r, baseline_c_r, ci_low, ci_high, in_pre_period.
    """
    if pre_end is None:
        pre_end = default_pre_end(panel)
    usable = panel.filter(pl.col("pu") > 0, pl.col("labor_cost") > 0)
    pre = usable.filter(pl.col("month") <= pre_end).sort(["team_id", "month"])
    n_months = pre["month"].n_unique()
    if n_months < MIN_PRE_MONTHS:
        raise BaselineError(
            f"baseline of {function}: the pre-period (through {pre_end}) has {n_months} months "
            f"of marts.fct_team_month_pu; at least {MIN_PRE_MONTHS} are needed to separate "
            "seasonality from trend"
        )
    teams = sorted(pre["team_id"].unique().to_list())
    if len(teams) < 2:
        raise BaselineError(f"baseline of {function}: the pre-period has {len(teams)} team(s)")

    x = _design(pre, teams)
    y = np.log(pre["c_r"].to_numpy())
    model = sm.WLS(y, x, weights=pre["pu"].to_numpy().astype(float))
    result = model.fit(cov_type="cluster", cov_kwds={"groups": pre["team_id"].to_numpy()})
    resid = y - x @ result.params
    smearing = float(np.average(np.exp(resid), weights=pre["pu"].to_numpy()))

    rng = np.random.default_rng(SEED)
    draws = rng.multivariate_normal(result.params, result.cov_params(), size=N_DRAWS)

    scored = usable.filter(pl.col("team_id").is_in(teams)).sort(["month", "team_id"])
    xs = _design(scored, teams)
    point = np.exp(xs @ result.params) * smearing
    sims = np.exp(xs @ draws.T) * smearing  # rows: team-months, cols: draws
    cost = scored["labor_cost"].to_numpy()
    month_codes = scored["month"].to_physical().to_numpy()
    rows = []
    for code in np.unique(month_codes):
        sel = month_codes == code
        c = cost[sel]
        base = c.sum() / (c / point[sel]).sum()
        sim = c.sum() / (c[:, None] / sims[sel]).sum(axis=0)
        rows.append(
            (int(code), float(base), float(np.quantile(sim, 0.025)), float(np.quantile(sim, 0.975)))
        )
    band = (
        pl.DataFrame(rows, schema=["month_code", "baseline_c_r", "ci_low", "ci_high"], orient="row")
        .with_columns(month=pl.col("month_code").cast(pl.Date))
        .drop("month_code")
    )
    observed = (
        usable.group_by("month")
        .agg(labor_cost=pl.col("labor_cost").sum(), pu=pl.col("pu").sum())
        .with_columns(observed_c_r=pl.col("labor_cost") / pl.col("pu"))
    )
    months = (
        observed.join(band, on="month", how="left")
        .with_columns(in_pre_period=pl.col("month") <= pre_end)
        .sort("month")
        .select(
            "month",
            "labor_cost",
            "pu",
            "observed_c_r",
            "baseline_c_r",
            "ci_low",
            "ci_high",
            "in_pre_period",
        )
    )
    fitted_pre = x @ result.params
    fit = {
        "r_squared": float(result.rsquared),
        "rmse_log_c_r": float(np.sqrt(np.average(resid**2, weights=pre["pu"].to_numpy()))),
        "trend_per_year_pct": float((math.exp(12 * result.params[1]) - 1) * 100),
        "seasonal_amplitude_pct": float(
            (math.exp(math.hypot(result.params[2], result.params[3])) - 1) * 100
        ),
        "smearing": smearing,
        "mean_log_fitted": float(fitted_pre.mean()),
    }
    return Baseline(
        function=function,
        pre_start=pre["month"].min(),
        pre_end=pre_end,
        months=months,
        n_obs=pre.height,
        n_teams=len(teams),
        fit=fit,
    )
