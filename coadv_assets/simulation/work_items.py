"""Completed and reworked work items per team and working day, and the planted AI effect.

Expected completions per team-day are ``hours × productivity`` where productivity is the
team's base rate × the function's seasonality (±8%, peaking in January, in November for
benefits administration) × a common drift of −3% a year (the work grows more complex, through
new rules and jurisdictions, faster than the teams learn) × a team-month shock (lognormal sd
0.03) × (1 + AI effect). The AI effect is 0 before the team's rollout day and then ramps in
linearly over ``ramp_months`` (of 30.4375 days) to its full size. ``completed`` is Poisson of
that expectation and ``reworked`` is Binomial(completed, team rework rate 3–8%); PUs are
``completed - reworked``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from coadv_assets.simulation.teams import ITEM_TYPE, Teams
from coadv_assets.simulation.timeline import (
    Timeline,
    group_sums,
    month_number,
    month_of_year,
    month_start_days,
    to_date,
    to_instant,
)

SEASON_PEAK = {
    "payroll_operations": 1,
    "service_center": 1,
    "benefits_administration": 11,
    "onboarding": 1,
}
SEASON_AMPLITUDE = 0.08
TREND_PER_YEAR = -0.03
DAYS_PER_MONTH = 30.4375


def expected_team_days(
    teams: Teams, hours: pl.DataFrame, timeline: Timeline, rng: np.random.Generator
) -> pl.DataFrame:
    """Return one row per team and working day with hours, cost, the productivity without
    AI (``prod0``), the AI effect of that day (``effect_now``) and the rework rate."""
    frame = hours.join(
        teams.frame.select(
            "team_id",
            "function",
            "base_productivity",
            "rework_rate",
            "rollout_day",
            "effect",
            "ramp_months",
        ),
        on="team_id",
    )
    day = frame["work_day"].to_numpy()
    moy = month_of_year(day)
    peak = frame["function"].replace_strict(SEASON_PEAK, return_dtype=pl.Int64).to_numpy()
    season = 1.0 + SEASON_AMPLITUDE * np.cos(2.0 * np.pi * (moy - peak) / 12.0)
    trend = 1.0 + TREND_PER_YEAR * (day - timeline.window_start_day) / 365.25
    team_idx = frame["team_id"].rank("dense").cast(pl.Int64).to_numpy() - 1
    month_idx = month_number(day) - month_number(np.array([timeline.window_start_day]))[0]
    shocks = np.exp(rng.normal(0.0, 0.03, (team_idx.max() + 1, month_idx.max() + 1)))
    prod0 = frame["base_productivity"].to_numpy() * season * trend * shocks[team_idx, month_idx]
    rollout = frame["rollout_day"].fill_null(np.iinfo(np.int64).max // 4).to_numpy()
    ramp_days = frame["ramp_months"].to_numpy() * DAYS_PER_MONTH
    share = np.clip((day - rollout) / ramp_days, 0.0, 1.0)
    share = np.where(day >= rollout, share, 0.0)
    effect_now = frame["effect"].to_numpy() * share
    return frame.with_columns(
        pl.Series("prod0", prod0),
        pl.Series("effect_now", effect_now),
        pl.Series("month_day", month_start_days(day)),
    )


def build_work_items(expected: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Return the work_items table: team_id, function, work_date, item_type, completed,
    reworked, _loaded_at (the day after, 03:00 UTC)."""
    lam = (
        expected["hours"].to_numpy()
        * expected["prod0"].to_numpy()
        * (1.0 + expected["effect_now"].to_numpy())
    )
    completed = rng.poisson(lam)
    reworked = rng.binomial(completed, expected["rework_rate"].to_numpy())
    day = expected["work_day"].to_numpy()
    return pl.DataFrame(
        {
            "team_id": expected["team_id"],
            "function": expected["function"],
            "work_date": to_date(day, "work_date"),
            "item_type": expected["function"].replace_strict(ITEM_TYPE, return_dtype=pl.Utf8),
            "completed": completed.astype(np.int32),
            "reworked": reworked.astype(np.int32),
            "_loaded_at": to_instant(day + 1, 3 * 3600, "_loaded_at"),
        }
    )


def ai_effect_team_months(expected: pl.DataFrame) -> pl.DataFrame:
    """Return, per team-month, hours, cost and expected PUs with and without the AI effect.

    Columns: team_id, function, month (first day, days since epoch), hours, cost,
    pu_treated, pu_untreated, pu_per_hour_treated, pu_per_hour_untreated, c_r_treated,
    c_r_untreated, ai_on (any day of the month after the rollout day).
    """
    pu0 = (
        expected["hours"].to_numpy()
        * expected["prod0"].to_numpy()
        * (1.0 - expected["rework_rate"].to_numpy())
    )
    effect = expected["effect_now"].to_numpy()
    sums = group_sums(
        expected,
        ["team_id", "function", "month_day", "rollout_day"],
        {
            "hours": expected["hours"].to_numpy(),
            "cost": expected["cost"].to_numpy(),
            "pu_treated": pu0 * (1.0 + effect),
            "pu_untreated": pu0,
            "ai_days": (effect > 0).astype(np.int64),
        },
    )
    return (
        sums.with_columns((pl.col("ai_days") > 0).alias("ai_on"))
        .drop("ai_days")
        .with_columns(
            (pl.col("pu_treated") / pl.col("hours")).alias("pu_per_hour_treated"),
            (pl.col("pu_untreated") / pl.col("hours")).alias("pu_per_hour_untreated"),
            (pl.col("cost") / pl.col("pu_treated")).alias("c_r_treated"),
            (pl.col("cost") / pl.col("pu_untreated")).alias("c_r_untreated"),
        )
        .rename({"month_day": "month"})
        .sort("team_id", "month")
    )


def att_by_function(team_months: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Return the ATT per function over treated team-months at or after adoption.

    A team-month counts when its first day is on or after the team's rollout day. Each
    effect is the mean over those team-months (equal weights) of treated minus untreated:
    PUs per hour in units and percent, ``c_r`` in USD per PU and percent.
    """
    treated = team_months.filter(
        pl.col("rollout_day").is_not_null() & (pl.col("month") >= pl.col("rollout_day"))
    )
    out: dict[str, dict[str, float]] = {}
    for function in sorted(team_months["function"].unique().to_list()):
        rows = treated.filter(pl.col("function") == function)
        if rows.height == 0:
            out[function] = {"treated_team_months": 0}
            continue
        pph1 = rows["pu_per_hour_treated"].to_numpy()
        pph0 = rows["pu_per_hour_untreated"].to_numpy()
        c1 = rows["c_r_treated"].to_numpy()
        c0 = rows["c_r_untreated"].to_numpy()
        out[function] = {
            "treated_team_months": int(rows.height),
            "pu_per_hour_units": float(np.mean(pph1 - pph0)),
            "pu_per_hour_pct": float(np.mean(pph1 / pph0 - 1.0) * 100.0),
            "c_r_usd_per_pu": float(np.mean(c1 - c0)),
            "c_r_pct": float(np.mean(c1 / c0 - 1.0) * 100.0),
        }
    return out
