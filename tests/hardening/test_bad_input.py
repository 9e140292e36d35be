"""Bad input through the landing path, for the rules tests/ingestion does not cover.

tests/ingestion/test_ingest.py covers renamed and retyped columns, null and duplicate keys
(within the file and against loaded rows), negative amounts, NaN next to NULL, header-only
files and naive timestamps. Here: unknown tenants, instants and dates in the future, local times
across a DST change, negative hours and late rows. Each refusal leaves every raw table as it
was; the ledger gains exactly one ``rejected`` row naming the file.
"""

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest

from coadv_assets.ingestion.arrival import FUTURE_DATE_TOLERANCE, FUTURE_TOLERANCE, LATE_WINDOW
from coadv_assets.warehouse import connect
from hardening.helpers import (
    NOW,
    UTC,
    Writer,
    assert_refused,
    clients_frame,
    ingest,
    payroll_frame,
    raw_fingerprint,
    timesheets_frame,
)


@pytest.fixture
def with_client(home: Path, write: Writer) -> Path:
    """A warehouse whose clients table holds C001, loaded through the landing folder."""
    write("clients", "clients_001", clients_frame(["C001"]))
    report = ingest(home)
    assert report.ok and report.rows_loaded == 1, report.messages
    return home


def _assert_only_ledger_grew(
    before: dict[str, tuple[int, str | None]], home: Path, file: str
) -> None:
    after = raw_fingerprint(home / "warehouse.duckdb")
    assert {t: v for t, v in after.items() if t != "_loads"} == {
        t: v for t, v in before.items() if t != "_loads"
    }
    assert after["_loads"][0] == before["_loads"][0] + 1
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        status = con.sql(
            "select status from raw._loads where file_name = ? order by loaded_at desc limit 1",
            params=[file],
        ).fetchall()
    assert status == [("rejected",)]


def _rows(home: Path, sql: str) -> list[tuple]:
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        return con.sql(sql).fetchall()


def test_unknown_tenant(with_client: Path, write: Writer) -> None:
    before = raw_fingerprint(with_client / "warehouse.duckdb")
    frame = payroll_frame(
        ["C001", "C999", "C001", "C999", "C998"],
        dt.date(2025, 2, 14),
        dt.datetime(2025, 2, 17, 6, tzinfo=UTC),
    )
    write("payroll_runs", "runs_002", frame)
    report = ingest(with_client)
    assert_refused(
        with_client,
        report,
        "payroll_runs",
        "runs_002.parquet",
        "known_tenant",
        ["payroll_runs.client_id: 3 rows belong to 2 tenant(s) not in raw.clients (e.g. 'C998')"],
    )
    _assert_only_ledger_grew(before, with_client, "runs_002.parquet")


def test_tenant_declared_in_the_same_batch(home: Path, write: Writer) -> None:
    # claims/ sorts before clients/; the registry is still taken first.
    write("clients", "clients_001", clients_frame(["C001", "C002"]))
    claims = pl.DataFrame(
        {
            "claim_id": ["M1", "M2", "M3"],
            "client_id": ["C002", "C002", "C001"],
            "member_id": ["E1", "E2", "E3"],
            "service_date": [dt.date(2025, 1, 10)] * 3,
            "paid_date": [dt.date(2025, 2, 3)] * 3,
            "claim_type": ["professional"] * 3,
            "paid_amount": [120.0, 80.5, 42.0],
            "_loaded_at": [dt.datetime(2025, 2, 4, 3, tzinfo=UTC)] * 3,
        }
    )
    write("claims", "claims_001", claims)
    report = ingest(home)
    assert report.ok, report.messages
    assert [(f.table, f.rows) for f in report.loaded] == [("clients", 2), ("claims", 3)]


def test_future_instants_beyond_the_tolerance(with_client: Path, write: Writer) -> None:
    assert dt.timedelta(hours=24) == FUTURE_TOLERANCE
    near = payroll_frame(["C001"], dt.date(2025, 5, 30), NOW + dt.timedelta(hours=23))
    write("payroll_runs", "a_near", near)
    frame = pl.concat(
        [
            payroll_frame(["C001"] * 2, dt.date(2025, 5, 30), NOW, start=10),
            payroll_frame(["C001"] * 3, dt.date(2025, 5, 30), NOW + dt.timedelta(days=2), 20),
        ]
    )
    write("payroll_runs", "b_future", frame)
    report = ingest(with_client)
    assert [f.file for f in report.loaded] == ["a_near.parquet"]
    before = raw_fingerprint(with_client / "warehouse.duckdb")
    assert before["payroll_runs"][0] == 1
    refused = report.rejected
    assert [r.file for r in refused] == ["b_future.parquet"]
    assert refused[0].message == (
        "payroll_runs._loaded_at: 3 rows later than 2025-06-03 12:00 UTC (the ingestion's "
        "clock plus 24 h); check the exporter's clock and time zone (rule: future)"
    )
    assert (with_client / "rejected" / "payroll_runs" / "b_future.parquet").exists()


def test_dates_beyond_a_month_ahead_are_refused_unless_scheduled(
    with_client: Path, write: Writer
) -> None:
    assert dt.timedelta(days=31) == FUTURE_DATE_TOLERANCE
    # paid on 2025-06-04, two days after the clock: a pay date scheduled ahead is accepted
    write("payroll_runs", "a_scheduled", payroll_frame(["C001"], dt.date(2025, 5, 30), NOW))
    # a mistyped year: the period ends in 2052, its pay date five days later
    typo = payroll_frame(["C001"] * 2, dt.date(2052, 5, 30), NOW, start=10)
    write("payroll_runs", "b_typo", typo)
    report = ingest(with_client)
    assert [f.file for f in report.loaded] == ["a_scheduled.parquet"]
    (refused,) = report.rejected
    assert refused.file == "b_typo.parquet"
    for column, latest in (("period_start", "2052-05-17"), ("period_end", "2052-05-30")):
        assert (
            f"payroll_runs.{column}: 2 rows dated after 2025-07-03 (the ingestion's date plus "
            f"31 days; latest {latest})"
        ) in refused.message
    assert "payroll_runs.pay_date: 2 rows dated after 2025-07-03" in refused.message
    assert (with_client / "rejected" / "payroll_runs" / "b_typo.parquet").exists()
    assert _rows(with_client, "select run_id from raw.payroll_runs") == [("R0000",)]


def test_a_renewal_date_may_lie_a_year_ahead() -> None:
    from coadv_assets.ingestion.contracts import load_contracts

    contracts = load_contracts()
    allowed = {(t, c.name) for t, k in contracts.items() for c in k.columns if c.future_allowed}
    assert allowed == {("contracts", "renewal_date")}


def _local_times() -> pl.DataFrame:
    """Wall-clock times of a New York exporter around both US DST changes of 2024-25."""
    return pl.DataFrame(
        {
            "local": [
                dt.datetime(2024, 11, 3, 0, 30),
                dt.datetime(2024, 11, 3, 1, 30),  # first 01:30 (EDT, UTC-4)
                dt.datetime(2024, 11, 3, 1, 30),  # the repeated 01:30 (EST, UTC-5)
                dt.datetime(2024, 11, 3, 2, 30),
                dt.datetime(2025, 3, 9, 1, 30),  # EST
                dt.datetime(2025, 3, 9, 3, 30),  # EDT: one hour later, not two
            ],
            "which": ["raise", "earliest", "latest", "raise", "raise", "raise"],
        }
    )


def test_naive_local_times_across_dst_are_refused(with_client: Path, write: Writer) -> None:
    before = raw_fingerprint(with_client / "warehouse.duckdb")
    local = _local_times()["local"]
    frame = payroll_frame(["C001"] * 6, dt.date(2024, 11, 1), NOW).with_columns(_loaded_at=local)
    write("payroll_runs", "naive_local", frame)
    report = ingest(with_client)
    assert_refused(
        with_client,
        report,
        "payroll_runs",
        "naive_local.parquet",
        "timezone",
        ["payroll_runs._loaded_at: all 6 rows typed TIMESTAMP without a time zone"],
    )
    _assert_only_ledger_grew(before, with_client, "naive_local.parquet")


def test_zoned_local_times_across_dst_are_stored_as_unambiguous_utc(
    with_client: Path, write: Writer
) -> None:
    times = _local_times().select(
        pl.col("local").dt.replace_time_zone("America/New_York", ambiguous=pl.col("which"))
    )["local"]
    frame = payroll_frame(["C001"] * 6, dt.date(2024, 11, 1), NOW).with_columns(
        run_id=pl.Series([f"D{i}" for i in range(6)]), _loaded_at=times
    )
    write("payroll_runs", "zoned_local", frame)
    report = ingest(with_client)
    assert report.ok, report.messages
    stored = _rows(
        with_client,
        "select run_id, strftime(_loaded_at, '%Y-%m-%d %H:%M') from raw.payroll_runs "
        "order by run_id",
    )
    # Worked out from the offsets: EDT = UTC-4, EST = UTC-5.
    assert stored == [
        ("D0", "2024-11-03 04:30"),
        ("D1", "2024-11-03 05:30"),
        ("D2", "2024-11-03 06:30"),
        ("D3", "2024-11-03 07:30"),
        ("D4", "2025-03-09 06:30"),
        ("D5", "2025-03-09 07:30"),
    ]


def test_negative_hours(home: Path, write: Writer) -> None:
    write("timesheets", "week_01", timesheets_frame([38.0, 40.0], dt.date(2025, 3, 3)))
    assert ingest(home).rows_loaded == 2
    before = raw_fingerprint(home / "warehouse.duckdb")
    write("timesheets", "week_02", timesheets_frame([-2.0, 8.0, -0.5], dt.date(2025, 3, 10)))
    report = ingest(home)
    assert_refused(
        home,
        report,
        "timesheets",
        "week_02.parquet",
        "min",
        ["timesheets.hours: 2 rows below the minimum 0"],
    )
    _assert_only_ledger_grew(before, home, "week_02.parquet")


def test_late_rows_within_the_window_are_loaded_exactly_once(
    with_client: Path, write: Writer
) -> None:
    assert dt.timedelta(days=45) == LATE_WINDOW
    february = payroll_frame(["C001"], dt.date(2025, 2, 14), dt.datetime(2025, 2, 17, tzinfo=UTC))
    write("payroll_runs", "runs_001", february)
    assert ingest(with_client, now=dt.datetime(2025, 2, 17, 12, tzinfo=UTC)).rows_loaded == 1
    # February ends 2025-03-01: rows for it are accepted until 2025-04-15 00:00 UTC, measured
    # at the ingestion's first sight of their file.
    late = payroll_frame(["C001"], dt.date(2025, 2, 28), dt.datetime(2025, 4, 14, tzinfo=UTC), 1)
    write("payroll_runs", "runs_003", late)
    report = ingest(with_client, now=dt.datetime(2025, 4, 14, 23, tzinfo=UTC))
    assert [(f.file, f.rows) for f in report.loaded] == [("runs_003.parquet", 1)]
    # January was never loaded for C001: a backfill months later is not late.
    january = payroll_frame(["C001"], dt.date(2025, 1, 17), dt.datetime(2025, 5, 20, tzinfo=UTC), 9)
    write("payroll_runs", "runs_002", january)
    assert ingest(with_client, now=dt.datetime(2025, 5, 20, 12, tzinfo=UTC)).rows_loaded == 1
    again = ingest(with_client)
    assert not again.loaded and "runs_003.parquet" in [s.file for s in again.skipped]
    write("payroll_runs", "runs_003_copy", late)  # the same bytes under another name
    assert [f.file for f in ingest(with_client).skipped][-1] == "runs_003_copy.parquet"
    resent = late.with_columns(pl.col("_loaded_at") + dt.timedelta(days=1))  # re-exported
    write("payroll_runs", "runs_003_resent", resent)
    resent_report = ingest(with_client)
    assert [r.file for r in resent_report.rejected] == ["runs_003_resent.parquet"]
    assert "(rule: unique_loaded)" in resent_report.rejected[0].message
    assert _rows(
        with_client, "select run_id, count(*) from raw.payroll_runs group by 1 order by 1"
    ) == [("R0000", 1), ("R0001", 1), ("R0009", 1)]


def test_late_rows_beyond_the_window_are_refused(with_client: Path, write: Writer) -> None:
    february = payroll_frame(["C001"], dt.date(2025, 2, 14), dt.datetime(2025, 2, 17, tzinfo=UTC))
    write("payroll_runs", "runs_001", february)
    assert ingest(with_client, now=dt.datetime(2025, 2, 17, 12, tzinfo=UTC)).rows_loaded == 1
    before = raw_fingerprint(with_client / "warehouse.duckdb")
    late = pl.concat(
        [
            payroll_frame(
                ["C001"] * 2, dt.date(2025, 2, 28), dt.datetime(2025, 4, 16, tzinfo=UTC), 1
            ),
            payroll_frame(["C001"], dt.date(2025, 3, 14), dt.datetime(2025, 4, 16, tzinfo=UTC), 5),
        ]
    )
    write("payroll_runs", "runs_004", late)
    report = ingest(with_client, now=dt.datetime(2025, 4, 16, tzinfo=UTC))
    assert_refused(
        with_client,
        report,
        "payroll_runs",
        "runs_004.parquet",
        "late",
        [
            "payroll_runs.period_end: 2 rows arrive (2025-04-16 00:00 UTC, when this file was "
            "first seen) more than 45 days after the end of their month (earliest 2025-02), a "
            "month already loaded for their tenant"
        ],
    )
    _assert_only_ledger_grew(before, with_client, "runs_004.parquet")


def test_a_backdated_arrival_does_not_reopen_a_closed_month(
    with_client: Path, write: Writer
) -> None:
    february = payroll_frame(["C001"], dt.date(2025, 2, 14), dt.datetime(2025, 2, 17, tzinfo=UTC))
    write("payroll_runs", "runs_001", february)
    assert ingest(with_client, now=dt.datetime(2025, 2, 17, 12, tzinfo=UTC)).rows_loaded == 1
    before = raw_fingerprint(with_client / "warehouse.duckdb")
    # exported in June, but its rows claim to have arrived on 1 March
    march_first = dt.datetime(2025, 3, 1, tzinfo=UTC)
    backdated = payroll_frame(["C001"], dt.date(2025, 2, 28), march_first, 1)
    write("payroll_runs", "runs_005", backdated)
    report = ingest(with_client, now=NOW)
    assert_refused(
        with_client,
        report,
        "payroll_runs",
        "runs_005.parquet",
        "late",
        ["payroll_runs.period_end: 1 row arrive (2025-06-02 12:00 UTC, when this file was first"],
    )
    _assert_only_ledger_grew(before, with_client, "runs_005.parquet")


def test_files_seen_in_one_landing_are_not_late_for_each_other(
    with_client: Path, write: Writer
) -> None:
    """A run that stopped after loading the first of two files landed together: the second,
    loaded months later, still counts as arriving with the first."""
    first_sight = dt.datetime(2025, 2, 17, 12, tzinfo=UTC)
    february = payroll_frame(["C001"], dt.date(2025, 2, 14), dt.datetime(2025, 2, 17, tzinfo=UTC))
    revision = payroll_frame(
        ["C001"], dt.date(2025, 2, 14), dt.datetime(2025, 2, 17, tzinfo=UTC), revision=2
    )
    write("payroll_runs", "runs_001", february)
    assert ingest(with_client, now=first_sight).rows_loaded == 1
    write("payroll_runs", "runs_001_rev", revision)
    landed = with_client / "landing" / "payroll_runs" / "runs_001_rev.parquet"
    with connect(with_client / "warehouse.duckdb") as con:  # seen by the run that stopped
        con.execute(
            "insert into raw._arrivals select 'payroll_runs', 'runs_001_rev.parquet', ?, ?",
            [hashlib.sha256(landed.read_bytes()).hexdigest(), first_sight],
        )
    report = ingest(with_client, now=NOW)
    assert [(f.file, f.rows) for f in report.loaded] == [("runs_001_rev.parquet", 1)]


def test_a_warehouse_loaded_before_months_were_recorded_keeps_its_months_closed(
    with_client: Path, write: Writer
) -> None:
    february = payroll_frame(["C001"], dt.date(2025, 2, 14), dt.datetime(2025, 2, 17, tzinfo=UTC))
    write("payroll_runs", "runs_001", february)
    assert ingest(with_client, now=dt.datetime(2025, 2, 17, 12, tzinfo=UTC)).rows_loaded == 1
    with connect(with_client / "warehouse.duckdb") as con:  # as an older ingestion left it
        con.execute("drop table raw._load_months")
    late = payroll_frame(["C001"], dt.date(2025, 2, 28), dt.datetime(2025, 4, 16, tzinfo=UTC), 1)
    write("payroll_runs", "runs_006", late)
    report = ingest(with_client, now=dt.datetime(2025, 4, 16, tzinfo=UTC))
    assert [r.file for r in report.rejected] == ["runs_006.parquet"]
    assert "(earliest 2025-02), a month already loaded for their tenant" in (
        report.rejected[0].message
    )
    assert _rows(with_client, "select table_name, tenant, period_month from raw._load_months") == [
        ("payroll_runs", "C001", dt.date(2025, 2, 1))
    ]
