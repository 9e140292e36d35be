"""Operational teams, their agents, base productivity and the AI rollout order.

Each function has ``teams_per_function`` teams spread over three sites with 6–15 agents.
A team's base productivity (PUs per hour) is the function's rate times a lognormal factor
(sd 0.15). Teams are ranked by log base productivity plus noise (sd 0.05), highest first, and
the rollout plan's waves take teams in that order: early adopters are strong teams, so a
naive treated-versus-untreated comparison is biased upward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from coadv_assets.simulation.config import FUNCTIONS, SimulationConfig
from coadv_assets.simulation.timeline import Timeline

TEAM_PREFIX = {
    "payroll_operations": "PO",
    "service_center": "SC",
    "benefits_administration": "BA",
    "onboarding": "ON",
}
ITEM_TYPE = {
    "payroll_operations": "payroll_run_processed",
    "service_center": "contact_resolved",
    "benefits_administration": "enrollment_change",
    "onboarding": "new_hire_onboarded",
}
TOOL_NAME = {
    "payroll_operations": "payroll_copilot",
    "service_center": "service_assist",
    "benefits_administration": "benefits_assist",
    "onboarding": "onboarding_assist",
}
# PUs completed per agent hour before rework, at the function's median team.
BASE_RATE = {
    "payroll_operations": 1.2,
    "service_center": 5.0,
    "benefits_administration": 3.0,
    "onboarding": 0.9,
}
# Loaded hourly cost (wage, taxes, benefits, overhead) at the window start, USD.
BASE_HOURLY_COST = {
    "payroll_operations": 48.0,
    "service_center": 39.0,
    "benefits_administration": 45.0,
    "onboarding": 43.0,
}
SITES = ("Atlanta", "Dallas", "Phoenix")


@dataclass(frozen=True)
class Teams:
    """Teams in a frame with one row per team.

    Columns: team_id, function, site, agents, base_productivity, rework_rate, rank_score,
    rank (0 = first adopter candidate), rollout_month (window month or null), rollout_day
    (days since epoch, null when never treated or after the window), effect, ramp_months.
    """

    frame: pl.DataFrame


def build_teams(config: SimulationConfig, timeline: Timeline, rng: np.random.Generator) -> Teams:
    """Return the teams of every function with their rollout assignment.

    Refuses (ValueError) a rollout plan whose waves need more teams than a function has.
    """
    n = config.teams_per_function
    rows: list[pl.DataFrame] = []
    for function in FUNCTIONS:
        plan = config.rollout.for_function(function)
        base = BASE_RATE[function] * np.exp(rng.normal(0.0, 0.15, n))
        score = np.log(base) + rng.normal(0.0, 0.05, n)
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(-score, kind="stable")] = np.arange(n)
        months_by_rank = plan.wave_months(n)
        rollout_month = [months_by_rank[r] for r in rank]
        rollout_day: list[int | None] = []
        for month in rollout_month:
            if month is None or month >= timeline.months:
                rollout_day.append(None)
                continue
            day = timeline.window_month(month)
            rollout_day.append(day if day <= timeline.last_day else None)
        rows.append(
            pl.DataFrame(
                {
                    "team_id": [f"{TEAM_PREFIX[function]}-{k + 1:02d}" for k in range(n)],
                    "function": [function] * n,
                    "site": [SITES[k % len(SITES)] for k in range(n)],
                    "agents": rng.integers(6, 16, n).astype(np.int32),
                    "base_productivity": base,
                    "rework_rate": rng.uniform(0.03, 0.08, n),
                    "rank_score": score,
                    "rank": rank,
                    "rollout_month": pl.Series(rollout_month, dtype=pl.Int64),
                    "rollout_day": pl.Series(rollout_day, dtype=pl.Int64),
                    "effect": [plan.effect] * n,
                    "ramp_months": [float(plan.ramp_months)] * n,
                },
                strict=False,
            )
        )
    return Teams(pl.concat(rows))
