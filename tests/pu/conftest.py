"""Small simulated PEOs built through the real pipeline (simulator, ingestion, dbt) for PU tests.

Only the models and seeds upstream of the PU marts are built (no dbt tests), into a private target
folder so that concurrent dbt invocations on the shared project do not collide.
"""

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from coadv_assets import paths
from coadv_assets.ingestion.loader import ingest_landing
from coadv_assets.simulation.config import RolloutPlan, SimulationConfig
from coadv_assets.simulation.runner import simulate
from coadv_assets.warehouse import connect

END_DATE = dt.date(2026, 11, 30)
PU_MARTS = "+fct_team_month_pu +fct_function_month_pu"


@dataclass(frozen=True)
class SimulatedPeo:
    home: Path

    @property
    def db(self) -> Path:
        return self.home / "warehouse.duckdb"

    def truths(self) -> dict:
        return json.loads((self.home / "truths" / "truths.json").read_text())

    def panel(self, function: str) -> pl.DataFrame:
        from coadv_assets.pu.panel import load_team_month_panel

        with connect(self.db, read_only=True) as con:
            return load_team_month_panel(con, function)


def build(home: Path, rollout: RolloutPlan | None = None, seed: int = 11) -> SimulatedPeo:
    """Simulate a small PEO into ``home``, ingest it and build the PU marts; return it."""
    config = SimulationConfig(
        seed=seed,
        clients=300,
        months=36,
        teams_per_function=10,
        end_date=END_DATE,
        rollout=rollout or RolloutPlan(),
    )
    simulate(config, landing=home / "landing", truths=home / "truths", progress=False)
    ingest_landing(
        home / "landing",
        db_path=home / "warehouse.duckdb",
        now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    env = {**os.environ, "COADV_HOME": str(home), "DO_NOT_TRACK": "1"}
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [
            str(dbt),
            "build",
            "--quiet",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            "--profiles-dir",
            str(paths.DBT_PROJECT_DIR),
            "--select",
            *PU_MARTS.split(),
            "--target-path",
            str(home / "dbt_target"),
            "--log-path",
            str(home / "dbt_logs"),
        ],
        cwd=paths.DBT_PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return SimulatedPeo(home)


def _mixed_plan() -> RolloutPlan:
    """Two functions with one treated team, two with every team treated at once."""
    single, everyone = RolloutPlan.single_team(), RolloutPlan.all_at_once()
    return RolloutPlan(
        payroll_operations=single.payroll_operations,
        service_center=single.service_center,
        benefits_administration=everyone.benefits_administration,
        onboarding=everyone.onboarding,
    )


SINGLE_TEAM = ("payroll_operations", "service_center")
ALL_AT_ONCE = ("benefits_administration", "onboarding")


@pytest.fixture(scope="session")
def staggered_peo(tmp_path_factory: pytest.TempPathFactory) -> SimulatedPeo:
    """The default staggered rollout (30/30/20% of teams in months 12/18/24)."""
    return build(tmp_path_factory.mktemp("pu_staggered"))


@pytest.fixture(scope="session")
def mixed_peo(tmp_path_factory: pytest.TempPathFactory) -> SimulatedPeo:
    """Single-team rollouts (payroll, service center) and all-at-once (benefits, onboarding)."""
    return build(tmp_path_factory.mktemp("pu_mixed"), _mixed_plan())


def synthetic_marts(first: dt.date, n_months: int, seed: int = 3) -> pl.DataFrame:
    """A hand-made team-month PU mart: 6 teams per function, 2 adopting in window month 12.

    log c_r = team level + 0.3%/month + 5% annual harmonic + noise; the adopters' c_r falls
    by 10% from their rollout month. Columns as marts.fct_team_month_pu.
    """
    import math

    import numpy as np

    from coadv_assets.simulation.config import FUNCTIONS

    rng = np.random.default_rng(seed)
    rows = []
    for function in FUNCTIONS:
        for t in range(6):
            team = f"{function[:3]}-{t}"
            adopt = first.replace(year=first.year + 1) if t < 2 else None
            for i in range(n_months):
                month = dt.date(
                    first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1
                )
                log_c = math.log(30 + 3 * t) + 0.003 * i + 0.05 * math.sin(month.month / 1.9)
                treated = adopt is not None and month >= adopt
                c_r = math.exp(log_c + rng.normal(0, 0.02)) * (0.9 if treated else 1.0)
                pu = int(900 + 20 * t + rng.integers(0, 40))
                hours = 450.0 + 5 * t
                rows.append(
                    {
                        "team_id": team,
                        "function": function,
                        "site": "east" if t % 2 else "west",
                        "month": month,
                        "pu": pu,
                        "hours": hours,
                        "labor_cost": c_r * pu,
                        "c_r": c_r,
                        "pu_per_hour": pu / hours,
                        "agents": 5 + t,
                        "first_ai_month": adopt,
                        "complete_month": True,
                    }
                )
    return pl.DataFrame(rows)


def write_marts(db: Path, marts: pl.DataFrame) -> None:
    """Write ``marts`` as marts.fct_team_month_pu and its function-month sums."""
    with connect(db) as con:
        con.execute("create schema if not exists marts")
        con.register("incoming", marts.to_arrow())
        con.execute("create or replace table marts.fct_team_month_pu as select * from incoming")
        con.execute(
            "create or replace table marts.fct_function_month_pu as "
            "select function, month, sum(pu) as pu, sum(labor_cost) as labor_cost, "
            "bool_and(complete_month) as complete_month from incoming group by all"
        )
        con.unregister("incoming")
