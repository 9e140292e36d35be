"""Helpers of the hardening tests: ingestion at a fixed clock, fingerprints, valid frames."""

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from coadv_assets.ingestion import IngestReport, ingest_landing, load_contracts
from coadv_assets.warehouse import connect

Writer = Callable[..., Path]
UTC = dt.UTC
# The ingestion's clock in these tests, so that the ``future`` rule does not move with time.
NOW = dt.datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def ingest(home: Path, now: dt.datetime = NOW) -> IngestReport:
    return ingest_landing(home / "landing", db_path=home / "warehouse.duckdb", now=now)


def raw_fingerprint(db: Path) -> dict[str, tuple[int, str | None]]:
    """Per ``raw`` table (ledger included): row count and an order-independent md5."""
    tables = [*load_contracts(), "_loads"]
    found: dict[str, tuple[int, str | None]] = {}
    with connect(db, read_only=True) as con:
        for table in tables:
            row = con.sql(
                "select count(*), md5(string_agg(cast(t as varchar), '|' "
                f'order by cast(t as varchar))) from raw."{table}" as t'
            ).fetchall()[0]
            found[table] = (int(row[0]), row[1])
    return found


def assert_refused(
    home: Path, report: IngestReport, table: str, file: str, rule: str, expected: list[str]
) -> None:
    """Exactly ``file`` was refused under ``rule``; its message holds each expected text;
    it sits in ``rejected/<table>/`` with a reason naming the rule, and left the landing."""
    assert not report.loaded, report.loaded
    assert [(r.table, r.file) for r in report.rejected] == [(table, file)]
    message = report.rejected[0].message
    for text in expected:
        assert text in message, message
    assert f"(rule: {rule})" in message, message
    assert (home / "rejected" / table / file).exists()
    assert not (home / "landing" / table / file).exists()
    reason = json.loads((home / "rejected" / table / f"{file}.reason.json").read_text())
    assert rule in {v["rule"] for v in reason["violations"]}, reason


def clients_frame(ids: list[str]) -> pl.DataFrame:
    """Valid clients rows for ``ids``, signed up in 2020."""
    return pl.DataFrame(
        {
            "client_id": ids,
            "client_name": [f"Client {i}" for i in ids],
            "contact_name": [None] * len(ids),
            "contact_email": [None] * len(ids),
            "industry": ["retail"] * len(ids),
            "state": ["TX"] * len(ids),
            "pay_frequency": ["biweekly"] * len(ids),
            "sales_channel": ["direct"] * len(ids),
            "signup_date": [dt.date(2020, 1, 6)] * len(ids),
            "_loaded_at": [dt.datetime(2020, 1, 7, 5, tzinfo=UTC)] * len(ids),
        },
        schema_overrides={"contact_name": pl.String(), "contact_email": pl.String()},
    )


def payroll_frame(
    client_ids: list[str],
    period_end: dt.date,
    loaded_at: dt.datetime,
    start: int = 0,
    revision: int = 1,
) -> pl.DataFrame:
    """One valid biweekly run per client id (run ids R<start>..), ending ``period_end``."""
    n = len(client_ids)
    return pl.DataFrame(
        {
            "run_id": [f"R{start + i:04d}" for i in range(n)],
            "revision": [revision] * n,
            "client_id": client_ids,
            "pay_frequency": ["biweekly"] * n,
            "period_start": [period_end - dt.timedelta(days=13)] * n,
            "period_end": [period_end] * n,
            "pay_date": [period_end + dt.timedelta(days=5)] * n,
            "employee_count": [12] * n,
            "gross_pay": [25_000.0] * n,
            "exception_count": [0] * n,
            "exception_type": [None] * n,
            "needs_correction": [False] * n,
            "processed_by_team": ["T01"] * n,
            "_loaded_at": [loaded_at] * n,
        },
        schema_overrides={
            "revision": pl.Int32(),
            "employee_count": pl.Int32(),
            "exception_count": pl.Int32(),
            "exception_type": pl.String(),
            "_loaded_at": pl.Datetime("us", "UTC"),
        },
    )


def timesheets_frame(hours: list[float], week_start: dt.date) -> pl.DataFrame:
    n = len(hours)
    return pl.DataFrame(
        {
            "agent_id": [f"A{i:03d}" for i in range(n)],
            "team_id": ["T01"] * n,
            "week_start": [week_start] * n,
            "hours": hours,
            "loaded_hourly_cost": [48.5] * n,
            "_loaded_at": [dt.datetime.combine(week_start, dt.time(2), UTC) + dt.timedelta(7)] * n,
        },
        schema_overrides={"_loaded_at": pl.Datetime("us", "UTC")},
    )
