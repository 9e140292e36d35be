"""One run of the whole graph on a small simulated PEO, shared by the end-to-end tests.

The run goes through the same command as ``make run`` (``dagster job execute`` with the
multiprocess executor) in a fresh ``COADV_HOME``, so it also proves that the code location
loads, that writers to the one DuckDB file do not collide, and that the job ends green. It
passes no configuration, so it simulates the embedded default that ``make run`` simulates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from coadv_assets.transform.dbt_project import ensure_manifest

REPO = Path(__file__).resolve().parents[2]


class GraphRun:
    def __init__(self, home: Path, completed: subprocess.CompletedProcess) -> None:
        self.home = home
        self.completed = completed

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.home / "warehouse.duckdb"), read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        return con

    def truths(self) -> dict:
        return json.loads((self.home / "truths" / "truths.json").read_text())


@pytest.fixture(scope="session")
def graph_run(tmp_path_factory: pytest.TempPathFactory) -> GraphRun:
    home = tmp_path_factory.mktemp("coadv_home")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "COADV_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DO_NOT_TRACK": "1",
    }
    bin_dir = Path(sys.executable).parent
    # The code location is built from the manifest: make it reflect the models as they are.
    ensure_manifest(force=True)
    completed = subprocess.run(
        [
            str(bin_dir / "dagster"),
            "job",
            "execute",
            "-m",
            "coadv_assets.definitions",
            "-j",
            "main_job",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-80:])
        pytest.fail(f"main_job failed (exit {completed.returncode}):\n{tail}")
    summary = subprocess.run(
        [sys.executable, "-m", "coadv_assets.cli", "summary"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    run = GraphRun(home, completed)
    run.summary = summary.stdout
    return run
