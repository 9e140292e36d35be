"""The benchmark's stages and table: the readouts' partition range read from a warehouse's
data window, and the ratios and reasons of the printed table, on hand-built inputs."""

import datetime as dt
import json
import os
import signal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from coadv_assets.bench.measure import Measurement
from coadv_assets.bench.report import NotRun, format_table
from coadv_assets.bench.stages import (
    STAGE_NAMES,
    StageNotRunnable,
    build_stages,
    readout_partitions,
)
from coadv_assets.defs.pu import PU_MONTHS


def _warehouse(path: Path, first_month: dt.date, month_after: dt.date, team_months: int) -> Path:
    """A warehouse holding only the data window and ``team_months`` rows of team-month facts."""
    con = duckdb.connect(str(path))
    con.sql("create schema intermediate")
    con.sql("create schema marts")
    con.sql(
        "create table intermediate.int_data_window as select "
        "?::date as first_month, ?::date as month_after_last_complete",
        params=[first_month, month_after],
    )
    con.sql("create table marts.fct_team_month_pu (team_id varchar, month date)")
    for i in range(team_months):
        con.sql("insert into marts.fct_team_month_pu values (?, ?)", params=[f"T{i}", first_month])
    con.close()
    return path


@pytest.fixture(autouse=True)
def _default_partition_start():
    # the cases below are worked out for the default first PU partition
    assert PU_MONTHS.get_first_partition_key() == "2023-01-01"


def test_a_long_window_reads_out_its_last_twelve_complete_months(tmp_path):
    # data from March 2024; July 2025 is the first incomplete month, so June 2025 is the
    # last complete one and the twelve months before it start in July 2024
    db = _warehouse(tmp_path / "w.duckdb", dt.date(2024, 3, 1), dt.date(2025, 7, 1), 5)
    first, last, team_months = readout_partitions(db)
    assert (first, last, team_months) == ("2024-07-01", "2025-06-01", 5)
    keys = PU_MONTHS.get_partition_keys_in_range(dg.PartitionKeyRange(first, last))
    assert len(keys) == 12


def test_a_short_window_reads_out_all_its_complete_months(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", dt.date(2025, 3, 1), dt.date(2025, 7, 1), 2)
    assert readout_partitions(db) == ("2025-03-01", "2025-06-01", 2)
    assert readout_partitions(db, months=2) == ("2025-05-01", "2025-06-01", 2)


def test_months_before_the_first_partition_are_left_out(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", dt.date(2022, 10, 1), dt.date(2023, 4, 1), 1)
    assert readout_partitions(db)[:2] == ("2023-01-01", "2023-03-01")


def test_no_partition_or_no_warehouse_is_a_reason_not_to_run(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb", dt.date(2022, 1, 1), dt.date(2022, 7, 1), 1)
    with pytest.raises(StageNotRunnable, match="no complete month"):
        readout_partitions(db)
    with pytest.raises(StageNotRunnable, match="the dbt build did not run"):
        readout_partitions(tmp_path / "missing.duckdb")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(StageNotRunnable, match="no data window"):
        readout_partitions(empty)


def test_the_readouts_command_is_built_when_the_stage_runs(tmp_path):
    home = tmp_path / "1x"
    home.mkdir()
    stages = build_stages(home, 1.0)  # before any warehouse exists
    assert tuple(s.name for s in stages) == STAGE_NAMES
    readouts = stages[STAGE_NAMES.index("readouts")]
    with pytest.raises(StageNotRunnable):
        readouts.resolve()
    _warehouse(home / "warehouse.duckdb", dt.date(2023, 12, 1), dt.date(2026, 11, 1), 1440)
    command, note = readouts.resolve()
    assert command[command.index("--select") + 1] == "cr_baselines,tau_readouts"
    assert command[command.index("--partition-range") + 1] == "2025-11-01...2026-10-01"
    config = json.loads(command[command.index("--config-json") + 1])
    assert config == {"execution": {"config": {"in_process": {}}}}
    assert "2025-11-01...2026-10-01" in note and "1440 team-months" in note
    simulation, note = stages[0].resolve()
    assert simulation[simulation.index("--scale") + 1] == "1" and note == ""


def _m(seconds: float, mib: int, returncode: int = 0, tail: str = "") -> Measurement:
    return Measurement(seconds, mib * 2**20, returncode, tail)


def test_the_table_shows_ratios_to_the_size_below_and_every_reason():
    results = {
        1.0: {"simulation": _m(20.0, 500), "training": _m(40.0, 800), "readouts": _m(8.0, 400)},
        10.0: {
            "simulation": _m(250.0, 4000),
            "training": _m(30.0, 0, -signal.SIGKILL),
            "readouts": NotRun("the warehouse has no data window"),
        },
    }
    table = format_table(
        results, ("simulation", "training", "readouts"), ["100x not attempted: too big"]
    )
    lines = table.splitlines()
    assert lines[0].split() == [
        "stage", "1x", "wall", "s", "1x", "peak", "MiB",
        "10x", "wall", "s", "10x", "peak", "MiB",
        "10x/1x", "wall", "10x/1x", "mem",
    ]  # fmt: skip
    # 250 / 20 = 12.5 and 4000 / 500 = 8.0
    assert lines[2].split() == ["simulation", "20.0", "500", "250.0", "4000", "12.5", "8.0"]
    assert lines[3].split() == ["training", "40.0", "800", f"FAILED({-signal.SIGKILL})"] + ["-"] * 3
    assert lines[4].split() == ["readouts", "8.0", "400", "not", "run", "-", "-", "-"]
    notes = lines[lines.index("notes:") + 1 :]
    assert notes == [
        "- 100x not attempted: too big",
        "- training at 10x: killed by SIGKILL (the kernel's out-of-memory killer?), "
        "peak 0 MiB after 30 s",
        "- readouts at 10x: not run: the warehouse has no data window",
    ]


def test_peak_memory_sums_the_whole_process_tree(tmp_path):
    import sys

    from coadv_assets.bench import measure

    # a parent holding 200 MiB starts a child holding 100 MiB and waits for it: the tree
    # peaks at 300 MiB plus two interpreters
    child = "import time; b = b'x' * (100 * 2**20); time.sleep(1.5)"
    parent = (
        "import subprocess, sys; b = b'x' * (200 * 2**20); "
        f"subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    )
    found = measure.run_measured(
        [sys.executable, "-c", parent], dict(os.environ), tmp_path, tmp_path / "log"
    )
    assert found.returncode == 0
    assert 300 * 2**20 <= found.peak_rss_bytes <= 400 * 2**20
    assert 0 < measure.available_memory() <= measure.total_memory()


def test_a_size_is_attempted_only_when_its_estimated_peak_fits(tmp_path, monkeypatch):
    from coadv_assets.bench import __main__ as bench

    monkeypatch.setattr(bench, "available_memory", lambda: 20 * 2**30)
    home = tmp_path / "10x"
    home.mkdir()
    (home / "warehouse.duckdb").write_bytes(b"x" * 1000)
    measured = {"simulation": _m(300.0, 2048), "readouts": NotRun("no data window")}
    # 10 x 2 GiB = 20 GiB against 80% of 20 GiB = 16 GiB: not attempted
    assert bench._cannot_hold(100.0, 10.0, measured, home) == (
        "expected peak memory 20.0 GiB (10 x the 10x peak of 2.00 GiB) exceeds 80% of the "
        "available 20.0 GiB"
    )
    # 10 x 1.5 GiB = 15 GiB fits, and 10 x 1000 bytes of disk too
    measured["simulation"] = _m(300.0, 1536)
    assert bench._cannot_hold(100.0, 10.0, measured, home) == ""
