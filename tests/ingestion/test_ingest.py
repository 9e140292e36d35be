"""Ingestion: valid files load, each broken rule is refused with a precise message."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from coadv_assets.ingestion import IngestReport, ensure_raw_tables, ingest_landing, load_contracts
from coadv_assets.warehouse import connect

Writer = Callable[..., Path]

LOADED_AT = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)

PAYROLL_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "revision": pl.Int32(),
    "client_id": pl.String(),
    "pay_frequency": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "pay_date": pl.Date(),
    "employee_count": pl.Int32(),
    "gross_pay": pl.Float64(),
    "exception_count": pl.Int32(),
    "exception_type": pl.String(),
    "needs_correction": pl.Boolean(),
    "processed_by_team": pl.String(),
    "_loaded_at": pl.Datetime("us", "UTC"),
}

CONTACT_SCHEMA: dict[str, pl.DataType] = {
    "contact_id": pl.String(),
    "client_id": pl.String(),
    "queue": pl.String(),
    "channel": pl.String(),
    "category": pl.String(),
    "caller_email": pl.String(),
    "opened_at": pl.Datetime("us", "UTC"),
    "wait_seconds": pl.Float64(),
    "handle_seconds": pl.Float64(),
    "abandoned": pl.Boolean(),
    "resolved": pl.Boolean(),
    "reopened": pl.Boolean(),
    "team_id": pl.String(),
    "_loaded_at": pl.Datetime("us", "UTC"),
}


def payroll_rows(n: int, revision: int = 1, start: int = 0) -> list[dict[str, object]]:
    """``n`` valid payroll runs R000<start>.. of client C001, all at ``revision``."""
    return [
        {
            "run_id": f"R{start + i:04d}",
            "revision": revision,
            "client_id": "C001",
            "pay_frequency": "biweekly",
            "period_start": date(2025, 2, 1),
            "period_end": date(2025, 2, 14),
            "pay_date": date(2025, 2, 19),
            "employee_count": 12,
            "gross_pay": 25_000.0 + i,
            "exception_count": 0,
            "exception_type": None,
            "needs_correction": False,
            "processed_by_team": "T01",
            "_loaded_at": LOADED_AT,
        }
        for i in range(n)
    ]


def contact_rows(n: int) -> list[dict[str, object]]:
    return [
        {
            "contact_id": f"K{i:04d}",
            "client_id": "C001",
            "queue": "payroll",
            "channel": "phone",
            "category": "pay_question",
            "caller_email": "someone@example.com",
            "opened_at": datetime(2025, 2, 3, 15, i, tzinfo=UTC),
            "wait_seconds": 30.0,
            "handle_seconds": 300.0,
            "abandoned": False,
            "resolved": True,
            "reopened": False,
            "team_id": "T05",
            "_loaded_at": LOADED_AT,
        }
        for i in range(n)
    ]


def _ingest(home: Path) -> IngestReport:
    """Every batch on the day after the rows' export (their months are not yet late)."""
    return ingest_landing(
        home / "landing", db_path=home / "warehouse.duckdb", now=LOADED_AT + timedelta(days=1)
    )


def _table_state(home: Path, table: str) -> tuple[int, str | None]:
    """Row count and an order-independent fingerprint of ``raw.<table>``."""
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        row = con.execute(
            "select count(*), md5(string_agg(cast(t as varchar), '|' "
            f"order by cast(t as varchar))) from raw.{table} as t"
        ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def _payroll(n: int, **overrides: object) -> pl.DataFrame:
    return pl.DataFrame(payroll_rows(n), schema=PAYROLL_SCHEMA).with_columns(
        **{k: pl.lit(v) for k, v in overrides.items()}
    )


@pytest.fixture
def loaded_home(tenants: Path, write: Writer) -> Path:
    """A warehouse holding client C001 and one valid payroll file of 5 runs of it."""
    home = tenants
    write("payroll_runs", "load_001", payroll_rows(5), PAYROLL_SCHEMA)
    report = _ingest(home)
    assert report.ok and report.rows_loaded == 5
    return home


def _assert_rejected(
    home: Path, report: IngestReport, table: str, file: str, expected: list[str]
) -> None:
    assert not report.loaded
    assert len(report.rejected) == 1
    rejected = report.rejected[0]
    assert rejected.table == table and rejected.file == file
    for text in expected:
        assert text in rejected.message, rejected.message
    moved = home / "rejected" / table / file
    assert moved.exists()
    assert not (home / "landing" / table / file).exists()
    reason = json.loads((home / "rejected" / table / f"{file}.reason.json").read_text())
    assert reason["table"] == table
    assert reason["violations"], reason


def test_tables_exist_before_the_first_file(home: Path) -> None:
    report = _ingest(home)
    assert report == IngestReport()
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'payroll_runs'"
            ).fetchall()
        )
    assert tables == set(load_contracts()) | {"_loads", "_arrivals", "_load_months"}
    assert types["_loaded_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["revision"] == "INTEGER"


def test_valid_file_loads(tenants: Path, write: Writer) -> None:
    home = tenants
    write("payroll_runs", "load_001", payroll_rows(5), PAYROLL_SCHEMA)
    report = _ingest(home)
    assert [(f.table, f.file, f.rows) for f in report.loaded] == [
        ("payroll_runs", "load_001.parquet", 5)
    ]
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        total = con.execute("select sum(gross_pay) from raw.payroll_runs").fetchone()
        ledger = con.execute("select table_name, rows, status from raw._loads").fetchall()
        instant = con.execute(
            "select min(_loaded_at) = timestamptz '2025-03-01 06:00:00+00' from raw.payroll_runs"
        ).fetchone()
    assert total == (25_000.0 * 5 + 10,)
    assert ledger == [("payroll_runs", 5, "loaded")]
    assert instant == (True,)


def test_naive_timestamps_are_refused(tenants: Path, write: Writer) -> None:
    frame = pl.DataFrame(payroll_rows(2), schema=PAYROLL_SCHEMA).with_columns(
        pl.col("_loaded_at").dt.replace_time_zone(None)
    )
    write("payroll_runs", "naive", frame)
    report = _ingest(tenants)
    _assert_rejected(
        tenants,
        report,
        "payroll_runs",
        "naive.parquet",
        [
            "payroll_runs._loaded_at: all 2 rows typed TIMESTAMP without a time zone, the "
            "contract declares timestamp with time zone",
            "(rule: timezone)",
        ],
    )
    assert _table_state(tenants, "payroll_runs") == (0, None)


def test_reingest_is_a_noop(loaded_home: Path) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    report = _ingest(loaded_home)
    assert not report.loaded and not report.rejected
    assert [s.file for s in report.skipped] == ["load_001.parquet"]
    assert _table_state(loaded_home, "payroll_runs") == before


def test_correction_revision_appends(loaded_home: Path, write: Writer) -> None:
    write("payroll_runs", "load_002", payroll_rows(2, revision=2), PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    assert report.rows_loaded == 2
    with connect(loaded_home / "warehouse.duckdb", read_only=True) as con:
        rows = con.execute(
            "select run_id, max(revision), count(*) from raw.payroll_runs "
            "group by run_id order by run_id"
        ).fetchall()
    assert rows == [
        ("R0000", 2, 2),
        ("R0001", 2, 2),
        ("R0002", 1, 1),
        ("R0003", 1, 1),
        ("R0004", 1, 1),
    ]


def test_renamed_column(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    write("payroll_runs", "bad", _payroll(4, revision=3).rename({"gross_pay": "gross_wages"}))
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "bad.parquet",
        [
            "payroll_runs.gross_pay: declared column missing from the file (all 4 rows",
            "(rule: columns)",
            "payroll_runs.gross_wages: column not declared in the contract (all 4 rows",
        ],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_retyped_column(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    frame = _payroll(3, revision=3).with_columns(pl.col("gross_pay").cast(pl.String))
    write("payroll_runs", "bad", frame)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "bad.parquet",
        [
            "payroll_runs.gross_pay: all 3 rows typed VARCHAR, the contract declares double "
            "(rule: data_type)"
        ],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_wider_integer_type_is_accepted(tenants: Path, write: Writer) -> None:
    home = tenants
    frame = pl.DataFrame(payroll_rows(2), schema=PAYROLL_SCHEMA).with_columns(
        pl.col("revision", "employee_count", "exception_count").cast(pl.Int64)
    )
    write("payroll_runs", "int64", frame)
    assert _ingest(home).rows_loaded == 2


def test_null_key(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    rows = payroll_rows(4, revision=3)
    rows[1]["run_id"] = None
    rows[3]["run_id"] = None
    write("payroll_runs", "bad", rows, PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "bad.parquet",
        ["payroll_runs.run_id: 2 rows null in a column declared not nullable (rule: not_null)"],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_duplicate_key_within_file(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    rows = payroll_rows(3, revision=3) + payroll_rows(1, revision=3)
    write("payroll_runs", "bad", rows, PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "bad.parquet",
        [
            "payroll_runs.run_id+revision: 2 rows share their key with another row of the file "
            "(rule: unique)"
        ],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_duplicate_key_against_loaded_rows(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    rows = payroll_rows(3, revision=1, start=3)  # R0003, R0004 already loaded; R0005 new
    write("payroll_runs", "bad", rows, PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "bad.parquet",
        [
            "payroll_runs.run_id+revision: 2 rows repeat a key already loaded in "
            'raw."payroll_runs"',
            "(rule: unique_loaded)",
        ],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_accepted_values(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    rows = payroll_rows(4, revision=3)
    for row in rows[:3]:
        row["pay_frequency"] = "daily"
    write("payroll_runs", "bad", rows, PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "bad.parquet",
        [
            "payroll_runs.pay_frequency: 3 rows outside the accepted values",
            "(rule: accepted_values)",
        ],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_negative_amount(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    rows = payroll_rows(5, revision=3)
    for row in rows[:3]:
        row["gross_pay"] = -1.0
    write("payroll_runs", "bad", rows, PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "bad.parquet",
        ["payroll_runs.gross_pay: 3 rows below the minimum 0 (rule: min)"],
    )
    assert report.messages == [
        "bad.parquet: payroll_runs.gross_pay: 3 rows below the minimum 0 (rule: min)"
    ]
    assert _table_state(loaded_home, "payroll_runs") == before


def test_nan_next_to_null(tenants: Path, write: Writer) -> None:
    home = tenants
    rows = contact_rows(3)
    rows[0]["handle_seconds"] = None  # nullable column: a null is fine
    write("contacts", "ok", rows, CONTACT_SCHEMA)
    assert _ingest(home).rows_loaded == 3
    before = _table_state(home, "contacts")

    rows = contact_rows(4)
    for row in rows:
        row["contact_id"] = "N" + str(row["contact_id"])
    rows[0]["handle_seconds"] = None
    rows[1]["handle_seconds"] = float("nan")
    write("contacts", "bad", rows, CONTACT_SCHEMA)
    report = _ingest(home)
    _assert_rejected(
        home,
        report,
        "contacts",
        "bad.parquet",
        ["contacts.handle_seconds: 1 row hold NaN or infinity", "(rule: nan)"],
    )
    assert "not_null" not in report.rejected[0].message
    assert _table_state(home, "contacts") == before


def test_header_only_file(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    write("payroll_runs", "empty", [], PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payroll_runs",
        "empty.parquet",
        ["payroll_runs: 0 rows: the file has a header and no rows (rule: empty_file)"],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_unknown_table(loaded_home: Path, write: Writer) -> None:
    before = _table_state(loaded_home, "payroll_runs")
    write("payrolls", "load_001", payroll_rows(2), PAYROLL_SCHEMA)
    report = _ingest(loaded_home)
    _assert_rejected(
        loaded_home,
        report,
        "payrolls",
        "load_001.parquet",
        ["payrolls: folder landing/payrolls/ matches no source contract", "(rule: unknown_table)"],
    )
    assert _table_state(loaded_home, "payroll_runs") == before


def test_a_bad_file_does_not_stop_the_good_ones(tenants: Path, write: Writer) -> None:
    home = tenants
    rows = payroll_rows(2)
    rows[0]["gross_pay"] = -5.0
    write("payroll_runs", "a_bad", rows, PAYROLL_SCHEMA)
    write("payroll_runs", "b_good", payroll_rows(3, start=10), PAYROLL_SCHEMA)
    write("contacts", "c_good", contact_rows(2), CONTACT_SCHEMA)
    report = _ingest(home)
    assert sorted(f.file for f in report.loaded) == ["b_good.parquet", "c_good.parquet"]
    assert [r.file for r in report.rejected] == ["a_bad.parquet"]
    assert _table_state(home, "payroll_runs")[0] == 3
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        statuses = con.execute(
            "select file_name, status from raw._loads order by file_name"
        ).fetchall()
    assert statuses == [
        ("a_bad.parquet", "rejected"),
        ("b_good.parquet", "loaded"),
        ("c_good.parquet", "loaded"),
    ]


def test_a_column_added_to_a_contract_is_added_to_raw(home: Path) -> None:
    db = home / "warehouse.duckdb"
    with connect(db) as con:
        con.execute("create schema raw")
        con.execute("create table raw.premiums (client_id varchar, coverage_month date)")
        ensure_raw_tables(con)
        columns = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'premiums' order by ordinal_position"
            ).fetchall()
        ]
    assert columns == list(load_contracts()["premiums"].column_names)


def test_a_raw_column_the_contract_dropped_is_refused(home: Path) -> None:
    db = home / "warehouse.duckdb"
    with connect(db) as con:
        ensure_raw_tables(con)
        con.execute("alter table raw.premiums add column legacy_code varchar")
        with pytest.raises(RuntimeError, match=r"raw.premiums .*legacy_code.*rule: columns"):
            ensure_raw_tables(con)
