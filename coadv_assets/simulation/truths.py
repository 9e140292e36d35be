"""The planted truths, written beside the data for tests alone (the pipeline never reads them).

Files in ``<COADV_HOME>/truths/``:

- ``truths.json``: the config, the window (``window_start``, ``last_day``) and, per function:
  ``full_effect``, ``ramp_months``, ``teams`` (team_id, rank, rank_score, base_productivity,
  rollout_month in window months or null, rollout_date or null) and ``att``: the average
  effect on the treated over treated team-months on or after adoption, from expected values
  with and without the effect at the same hours and cost (``treated_team_months``,
  ``pu_per_hour_units``, ``pu_per_hour_pct``, ``c_r_usd_per_pu``, ``c_r_pct``; ``c_r`` of a
  team-month is its cost over its PUs).
- ``ai_effect_team_month.parquet``: per team-month, hours, cost and expected PUs with and
  without the effect (the inputs of ``att``).
- ``renewal_probabilities.parquet``: per renewal decision reached in the window, contract_id,
  client_id, renewal_date, score_date, the drivers, logit, p_renew_true, renewed.
- ``churn_hazard.parquet``: per client and window month at risk of a mid-term termination,
  the drivers, hazard_true and terminated.
- ``payroll_exception_probabilities.parquet``: per exported run (revision 1), run_id,
  client_id, pay_date, pay_frequency, client_age_days, new_client, january,
  employee_count, new_hires, client_effect, p_exception_true, exception.
- ``claims_cost.parquet``: per client, expected_claims_pmpm and premium_pmpm at the window
  start (both trend +6%/year), expected_mlr.
- ``contact_seasonality.json``: the contact multipliers.

Driver definitions are in the docstrings of ``lifecycle``, ``payroll`` and ``contacts``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from coadv_assets.simulation.config import FUNCTIONS, SimulationConfig
from coadv_assets.simulation.contacts import SEASONALITY
from coadv_assets.simulation.output import write_json, write_parquet
from coadv_assets.simulation.timeline import Timeline, to_date


def write_truths(
    folder: Path,
    *,
    config: SimulationConfig,
    timeline: Timeline,
    teams: pl.DataFrame,
    att: dict[str, dict[str, float]],
    team_months: pl.DataFrame,
    renewal: pl.DataFrame,
    churn: pl.DataFrame,
    runs: pl.DataFrame,
    clients: pl.DataFrame,
    cost_pmpm: np.ndarray,
    premium: np.ndarray,
) -> int:
    """Write every truth file into ``folder`` and return the bytes written."""
    from coadv_assets.simulation.runner import config_as_dict

    functions: dict[str, Any] = {}
    for function in FUNCTIONS:
        rows = teams.filter(pl.col("function") == function).sort("team_id")
        plan = config.rollout.for_function(function)
        functions[function] = {
            "full_effect": plan.effect,
            "ramp_months": plan.ramp_months,
            "teams": [
                {
                    "team_id": r["team_id"],
                    "rank": r["rank"],
                    "rank_score": r["rank_score"],
                    "base_productivity": r["base_productivity"],
                    "rollout_month": r["rollout_month"],
                    "rollout_date": None
                    if r["rollout_day"] is None
                    else str(np.datetime64(r["rollout_day"], "D")),
                }
                for r in rows.iter_rows(named=True)
            ],
            "att": att.get(function, {"treated_team_months": 0}),
        }
    payload = {
        "config": config_as_dict(config),
        "window_start": str(np.datetime64(timeline.window_start_day, "D")),
        "last_day": str(np.datetime64(timeline.last_day, "D")),
        "functions": functions,
    }
    total = write_json(payload, folder / "truths.json")
    total += write_json(SEASONALITY, folder / "contact_seasonality.json")
    total += write_parquet(
        team_months.with_columns(pl.col("month").cast(pl.Int32).cast(pl.Date)).drop("rollout_day"),
        folder / "ai_effect_team_month.parquet",
    )
    total += write_parquet(renewal, folder / "renewal_probabilities.parquet")
    total += write_parquet(churn, folder / "churn_hazard.parquet")
    signup = clients["signup_day"].to_numpy()[runs["client"].to_numpy()]
    total += write_parquet(
        runs.select(
            "run_id",
            "client_id",
            "pay_date",
            "pay_frequency",
            pl.Series("client_age_days", runs["start_day"].to_numpy() - signup),
            "new_client",
            "january",
            pl.col("employee_count").cast(pl.Int64),
            "new_hires",
            "client_effect",
            "p_exception_true",
            "exception",
        ),
        folder / "payroll_exception_probabilities.parquet",
    )
    total += write_parquet(
        pl.DataFrame(
            {
                "client_id": clients["client_id"],
                "signup_date": to_date(clients["signup_day"].to_numpy(), "signup_date"),
                "expected_claims_pmpm": cost_pmpm,
                "premium_pmpm": premium,
                "expected_mlr": cost_pmpm / premium,
            }
        ),
        folder / "claims_cost.parquet",
    )
    return total
