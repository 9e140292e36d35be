"""Agent timesheets (weekly hours and loaded hourly cost) and the team-day hours they imply.

Hours per agent-week are about 38 (sd 1.2, clipped to 30–42), less 8 per weekday holiday and
1–5 days of paid time off in about 7% of weeks. The loaded hourly cost is the function's base
(``teams.BASE_HOURLY_COST``) times an agent factor (lognormal sd 0.08) times wage inflation of
4% a year, compounding continuously from the window start: ``c_r`` drifts up over time, so a
naive before/after comparison is biased.

Only weeks whose Monday and Sunday both fall in the window's complete days are exported; a
week is loaded the following Monday at 02:00 UTC. A team's weekly hours and cost are spread
evenly over the working days (weekdays other than holidays) of the week.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from coadv_assets.simulation.teams import BASE_HOURLY_COST, Teams
from coadv_assets.simulation.timeline import (
    Timeline,
    group_sums,
    to_date,
    to_instant,
    weekday,
)

WAGE_INFLATION = 0.04


def week_starts(timeline: Timeline) -> np.ndarray:
    """Mondays of the complete weeks inside the window (days since epoch)."""
    first = timeline.window_start_day + (7 - weekday(np.array([timeline.window_start_day]))[0]) % 7
    last = timeline.last_day - 6
    return np.arange(first, last + 1, 7, dtype=np.int64)


def build_timesheets(teams: Teams, timeline: Timeline, rng: np.random.Generator) -> pl.DataFrame:
    """Return one row per agent and week: agent_id, team_id, week_start, hours,
    loaded_hourly_cost, _loaded_at (plus helper columns week_day, function)."""
    frame = teams.frame
    team_of_agent = np.repeat(np.arange(frame.height), frame["agents"].to_numpy())
    agent_seq = np.concatenate([np.arange(a) for a in frame["agents"].to_numpy()])
    team_ids = frame["team_id"].to_numpy()
    functions = frame["function"].to_numpy()
    agent_ids = np.array(
        [f"{team_ids[t]}-A{s + 1:02d}" for t, s in zip(team_of_agent, agent_seq, strict=True)]
    )
    n_agents = len(agent_ids)
    agent_cost = np.array([BASE_HOURLY_COST[functions[t]] for t in team_of_agent]) * np.exp(
        rng.normal(0.0, 0.08, n_agents)
    )
    weeks = week_starts(timeline)
    holidays = timeline.holidays()
    week_holidays = np.array(
        [np.isin(w + np.arange(5), holidays).sum() for w in weeks], dtype=np.int64
    )
    n_weeks = len(weeks)
    shape = (n_agents, n_weeks)
    hours = np.clip(rng.normal(38.0, 1.2, shape), 30.0, 42.0)
    hours -= 8.0 * week_holidays[None, :]
    pto = rng.random(shape) < 0.07
    pto_days = rng.integers(1, 6, shape)
    hours -= np.where(pto, 8.0 * pto_days, 0.0)
    hours = np.round(np.clip(hours, 0.0, None) * 4.0) / 4.0
    years = (weeks - timeline.window_start_day) / 365.25
    cost = agent_cost[:, None] * np.exp(np.log1p(WAGE_INFLATION) * years)[None, :]
    cost = np.round(cost, 2)
    agent_idx = np.repeat(np.arange(n_agents), n_weeks)
    week_flat = np.tile(weeks, n_agents)
    return pl.DataFrame(
        {
            "agent_id": agent_ids[agent_idx],
            "team_id": team_ids[team_of_agent[agent_idx]],
            "week_start": to_date(week_flat, "week_start"),
            "hours": hours.ravel(),
            "loaded_hourly_cost": cost.ravel(),
            "_loaded_at": to_instant(week_flat + 7, 2 * 3600, "_loaded_at"),
            "week_day": week_flat,
        }
    )


def team_day_hours(timesheets: pl.DataFrame, timeline: Timeline) -> pl.DataFrame:
    """Return team_id, work_day (days since epoch), hours and cost per working day.

    A week's hours and cost are split evenly over its working days; weeks without a working
    day contribute nothing.
    """
    hours = timesheets["hours"].to_numpy()
    weekly = group_sums(
        timesheets,
        ["team_id", "week_day"],
        {"hours": hours, "cost": hours * timesheets["loaded_hourly_cost"].to_numpy()},
    )
    working = timeline.working_days()
    monday = working - weekday(working)
    days = pl.DataFrame({"week_day": monday, "work_day": working})
    n_days = days.group_by("week_day").len("n_days")
    return (
        weekly.join(days, on="week_day")
        .join(n_days, on="week_day")
        .with_columns(
            (pl.col("hours") / pl.col("n_days")).alias("hours"),
            (pl.col("cost") / pl.col("n_days")).alias("cost"),
        )
        .select("team_id", "work_day", "hours", "cost")
        .sort("team_id", "work_day")
    )
