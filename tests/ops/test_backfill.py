"""Overlapping CLI backfills against one warehouse: every partition exactly once, no lock
errors. Two ``dagster asset materialize --partition-range`` processes start together over
ranges that share two days."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _backfill(home: Path, first: str, last: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "COADV_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DO_NOT_TRACK": "1",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-f",
            str(HERE / "partitioned_defs.py"),
            "--select",
            "daily_tally",
            "--partition-range",
            f"{first}...{last}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_overlapping_backfills_write_every_partition_once(tmp_path: Path) -> None:
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # The instance's storages exist before the runs start, as in any deployment: two
    # processes creating the same SQLite schema at once would race on it (not what is tested).
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        instance.get_runs(limit=1)
        instance.get_latest_materialization_event(dg.AssetKey("daily_tally"))
    runs = [
        _backfill(tmp_path, "2026-01-01", "2026-01-05"),
        _backfill(tmp_path, "2026-01-04", "2026-01-08"),
    ]
    outputs = [p.communicate(timeout=300)[0] for p in runs]
    for p, out in zip(runs, outputs, strict=True):
        assert p.returncode == 0, out[-3000:]
        assert "Could not set lock" not in out
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    rows = con.sql(
        "select strftime(partition_date, '%d'), count(*), count(distinct pid) "
        "from ops_test.tally group by 1 order by 1"
    ).fetchall()
    con.close()
    assert rows == [(f"{d:02d}", 1, 1) for d in range(1, 9)]
