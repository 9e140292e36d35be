"""One small simulated warehouse with the three classifiers trained, shared by the model tests.

Built once per test session (and once across xdist workers: a lock file and a marker in the
shared base temp folder) in its own ``COADV_HOME``: the simulator (1,500 clients, 36 months,
seed 11, ending 2026-11-30), ingestion, ``dbt build`` of the marts the models read, then the
model assets materialized in-process. About a minute and a half on 2 cores.
"""

import fcntl
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[2]
SIMULATION = ["--clients", "1500", "--months", "36", "--seed", "11", "--end-date", "2026-11-30"]
DBT_SELECT = [
    "+lbl_renewal",
    "+feat_client_month",
    "+lbl_churn",
    "+feat_client_month_3m",
    "+lbl_payroll_exception",
    "+feat_payroll_run",
    "+feat_payroll_client_history",
]
BUILD = """
import dagster as dg
from coadv_assets.defs import models, models_churn, models_payroll
from coadv_assets.warehouse import WarehouseResource
assets = [*models.defs.assets, *models_churn.defs.assets, *models_payroll.defs.assets]
result = dg.materialize(assets, resources={"warehouse": WarehouseResource()}, raise_on_error=False)
failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
print("FAILED_STEPS", ",".join(failed))
"""


@dataclass(frozen=True)
class ModelsHome:
    home: Path
    build_log: str

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        return con

    def truth(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.home / "truths" / f"{name}.parquet")


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    out = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} failed ({done.returncode}):\n{out[-4000:]}")
    return out


def _build(home: Path) -> str:
    env = {**os.environ, "COADV_HOME": str(home), "DO_NOT_TRACK": "1"}
    bin_dir = Path(sys.executable).parent
    py = str(bin_dir / "python")
    _run(
        [
            py,
            "-m",
            "coadv_assets.simulation",
            *SIMULATION,
            "--landing",
            str(home / "landing"),
            "--truths",
            str(home / "truths"),
            "--quiet",
        ],
        env,
        REPO,
    )
    _run([py, "-m", "coadv_assets.ingestion"], env, REPO)  # loads only files not yet loaded
    _run(
        [
            str(bin_dir / "dbt"),
            "build",
            "--profiles-dir",
            ".",
            "--target-path",
            str(home / "dbt_target"),
            "--log-path",
            str(home / "dbt_logs"),
            "-q",
            "--select",
            *DBT_SELECT,
            "--exclude",
            "tag:governance",
        ],
        env,
        REPO / "dbt_project",
    )
    return _run([py, "-c", BUILD], env, REPO)


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> ModelsHome:
    base = tmp_path_factory.getbasetemp()
    # under xdist every worker has its own base folder inside the session's one
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    home = shared / "models_home"
    marker = shared / "models_home.done"
    with open(shared / "models_home.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not marker.exists():
                home.mkdir(exist_ok=True)
                marker.write_text(_build(home))
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return ModelsHome(home, marker.read_text())
