"""The dbt project builds, with its tests, on Spark as on DuckDB.

A small simulated PEO lands its Parquet files; ``dbt build --target spark`` runs every
seed, model and test in a local Spark session (dbt-spark's session method, pyspark), with
the ``raw`` tables read from the same landing files. Skipped only when no Java runtime is
found (``.ci/run`` installs one).
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from coadv_assets import paths
from coadv_assets.simulation import SimulationConfig, simulate

pytestmark = pytest.mark.slow

JAVA = shutil.which("java") or (
    str(Path(os.environ["JAVA_HOME"], "bin", "java")) if os.environ.get("JAVA_HOME") else None
)


@pytest.mark.skipif(JAVA is None, reason="no Java runtime (java on PATH or JAVA_HOME) for Spark")
def test_dbt_build_on_spark(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = SimulationConfig(
        seed=5, clients=40, months=14, teams_per_function=2, end_date=dt.date(2026, 3, 31)
    )
    simulate(config, landing=home / "landing", truths=home / "truths", progress=False)
    run_dir = tmp_path / "spark"  # Spark's warehouse and metastore are created here
    run_dir.mkdir()
    env = dict(os.environ, COADV_HOME=str(home), DO_NOT_TRACK="1")
    env.pop("COADV_HASH_KEY", None)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--target",
            "spark",
            "--project-dir",
            str(paths.DBT_PROJECT_DIR),
            "--profiles-dir",
            str(paths.DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-8000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    models = [u for u in statuses if u.startswith("model.")]
    tests = [u for u in statuses if u.startswith("test.")]
    assert len(models) >= 20 and len(tests) >= 100, (len(models), len(tests))
    built = {u: s for u, s in statuses.items() if u.split(".")[0] in {"model", "seed", "test"}}
    assert set(built.values()) == {"success", "pass"}, {
        u: s for u, s in built.items() if s not in {"success", "pass"}
    }
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    enforced = [
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("contract", {}).get("enforced")
    ]
    assert enforced, "no model enforces a contract: the type declarations were not exercised"
    assert all(f"model.coadv.{name}" in statuses for name in enforced)

    # A figure worked out from the landing files: labor cost and hours per team-week.
    by_hand = (
        pl.read_parquet(home / "landing" / "timesheets" / "*.parquet")
        .group_by("team_id", "week_start")
        .agg(
            hours_by_hand=pl.col("hours").sum(),
            cost_by_hand=(pl.col("hours") * pl.col("loaded_hourly_cost")).sum(),
        )
    )
    mart = pl.read_parquet(
        run_dir / "spark-warehouse" / "marts.db" / "fct_team_week_pu" / "*.parquet"
    )
    staffed = mart.filter(pl.col("hours") > 0).join(by_hand, on=["team_id", "week_start"])
    assert staffed.height == mart.filter(pl.col("hours") > 0).height > 50
    assert (staffed["hours"] - staffed["hours_by_hand"]).abs().max() < 1e-9
    assert (staffed["labor_cost"] - staffed["cost_by_hand"]).abs().max() < 1e-6
