"""The landing sensor and the cadence schedules, on small definitions built here."""

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import pytest

from coadv_assets.ops.automation import Cadence, cadence_job, cadence_schedule
from coadv_assets.ops.landing import landing_files


def _land(home: Path, name: str, data: bytes = b"PAR1") -> Path:
    path = home / "landing" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _tick(cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
    context = dg.build_sensor_context(cursor=cursor)
    result = landing_files(context)
    runs = [result] if isinstance(result, dg.RunRequest) else []
    return runs, context.cursor


def test_a_new_landed_file_requests_exactly_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COADV_HOME", str(tmp_path))
    _land(tmp_path, "clients/load_001.parquet")
    runs, cursor = _tick(None)  # first tick: what is there has not been seen
    assert len(runs) == 1
    assert _tick(cursor)[0] == []
    _land(tmp_path, "payroll_runs/load_002.parquet")
    runs, cursor = _tick(cursor)
    assert len(runs) == 1
    assert runs[0].tags["coadv/new_files"] == "1"
    assert runs[0].tags["coadv/first_new_file"] == "payroll_runs/load_002.parquet"
    assert _tick(cursor)[0] == []  # a second tick without changes requests none
    # a rewritten file is a change; other files in the folder are not
    path = _land(tmp_path, "clients/load_001.parquet", b"PAR1 corrected")
    os.utime(path, ns=(1, 2))
    (tmp_path / "landing" / "_simulation.json").write_text("{}")
    runs, cursor = _tick(cursor)
    assert [r.tags["coadv/first_new_file"] for r in runs] == ["clients/load_001.parquet"]
    assert _tick(cursor)[0] == []


def test_run_keys_differ_per_landing_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COADV_HOME", str(tmp_path))
    _land(tmp_path, "clients/a.parquet")
    first, cursor = _tick(None)
    _land(tmp_path, "clients/b.parquet")
    second, _ = _tick(cursor)
    assert first[0].run_key != second[0].run_key


@dg.asset(group_name="ingestion")
def landed() -> int:
    return 1


@dg.asset(
    group_name="pu",
    partitions_def=dg.MonthlyPartitionsDefinition(start_date="2026-01-01"),
)
def readout() -> int:
    return 1


def _evaluate(cadence: Cadence, when: dt.datetime):
    job = cadence_job(cadence)
    schedule = cadence_schedule(cadence, job)
    defs = dg.Definitions(assets=[landed, readout], jobs=[job], schedules=[schedule])
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=when,
            repository_def=defs.get_repository_def(),
        )
        return schedule(context)


def test_schedules_request_latest_partition_and_skip_empty_groups() -> None:
    when = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    monthly = _evaluate(Cadence("monthly", "0 8 2 * *", ("pu",), "m"), when)
    assert isinstance(monthly, dg.RunRequest)
    assert monthly.partition_key == "2026-11-01"
    daily = _evaluate(Cadence("daily", "0 6 * * *", ("ingestion",), "d"), when)
    assert isinstance(daily, dg.RunRequest) and daily.partition_key is None
    assert daily.run_key == "daily-20261202T0800"
    weekly = _evaluate(Cadence("weekly", "0 7 * * 1", ("forecast", "staffing"), "w"), when)
    assert isinstance(weekly, dg.SkipReason)
    assert "forecast, staffing" in weekly.skip_message
