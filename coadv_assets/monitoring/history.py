"""The history of monitoring results in the warehouse: ``ops.check_history``, one row per
check evaluation, appended and never updated."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb

DDL = """
create schema if not exists ops;
create table if not exists ops.check_history (
    checked_at timestamptz not null,
    model varchar not null,
    asset_key varchar not null,
    check_name varchar not null,
    status varchar not null,
    passed boolean not null,
    severity varchar not null,
    value double,
    message varchar,
    report_path varchar,
    run_id varchar,
    details json
);
"""


@dataclass(frozen=True)
class HistoryRow:
    """One evaluation of one monitoring check."""

    model: str
    asset_key: str
    check_name: str
    status: str
    passed: bool
    severity: str
    value: float | None
    message: str
    report_path: str | None
    run_id: str | None
    details: dict[str, Any]


def append(
    con: duckdb.DuckDBPyConnection, rows: list[HistoryRow], at: dt.datetime | None = None
) -> int:
    """Append ``rows`` stamped ``at`` (now, UTC, by default); return the number written.

    Refuses (ValueError) a naive ``at``: instants are stored in UTC.
    """
    at = at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise ValueError("checked_at must carry a time zone")
    con.execute(DDL)
    for r in rows:
        con.execute(
            "insert into ops.check_history values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                at,
                r.model,
                r.asset_key,
                r.check_name,
                r.status,
                r.passed,
                r.severity,
                r.value,
                r.message,
                r.report_path,
                r.run_id,
                json.dumps(r.details, default=str),
            ],
        )
    return len(rows)
