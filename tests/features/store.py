"""A tiny feature store for tests: a hand-written manifest and planted tables.

Tenants A and B. Payroll runs (entity ``payroll_run``, TTL 30 days):

- R1 of A: revision 1 (pay date 2024-01-05, known 2024-01-05, gross 100), and its
  correction, revision 2 (same pay date, known 2024-01-20, gross 120);
- R2 of A: 2024-01-10, gross 50; R3 of B: 2024-01-08, gross 70;
- RC of A, the canary: 2024-01-09, gross 987654 (a value no other row holds).

Client-months (entity ``client_month``, the client is the tenant, TTL 45 days): A's January
(event 2024-02-01, known 2024-02-03, x 1.0) and its canary February (event 2024-03-01,
known 2024-03-02, x -424242.0); B's January (event 2024-02-01, known 2024-02-02, x 5.0).

Queue-days (entity ``queue_day``, no tenant, TTL 2 days): q1 on 2024-01-01 (contacts 7).
"""

import datetime as dt
from typing import Any

import duckdb

CANARY_GROSS = 987654.0
CANARY_X = -424242.0


def t(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def _col(name: str, data_type: str, cls: str = "none") -> dict[str, Any]:
    return {
        "name": name,
        "data_type": data_type,
        "description": f"The {name}.",
        "meta": {"classification": cls},
    }


def _model(
    name: str, columns: list[dict[str, Any]], feature: dict[str, Any] | None, deps: list[str]
) -> dict[str, Any]:
    meta = {"feature": feature} if feature else {}
    return {
        "resource_type": "model",
        "name": name,
        "unique_id": f"model.t.{name}",
        "schema": "marts",
        "alias": name,
        "columns": {c["name"]: c for c in columns},
        "config": {"meta": meta},
        "meta": {},
        "depends_on": {"nodes": deps},
    }


def _feature(
    entity: str,
    key: list[str],
    grain: list[str],
    tenant: str | None,
    ttl: str,
    features: list[str],
) -> dict[str, Any]:
    block = {
        "entity": entity,
        "entity_key": key,
        "grain": grain,
        "tenant_key": tenant,
        "event_timestamp": "event_ts",
        "available_at": "available_at",
        "source_contract": {"peo.runs": ["run_id"]},
        "freshness_sla": "3 days",
        "ttl": ttl,
        "owner": "data-science",
        "description": f"{entity} test features.",
        "version": 2,
        "features": features,
    }
    if tenant is None:
        block["tenant_key_reason"] = "An aggregate over every tenant."
    return block


def mini_manifest() -> dict[str, Any]:
    """The manifest of the three planted feature tables and one source with a PII column."""
    ts = [_col("event_ts", "timestamptz"), _col("available_at", "timestamptz")]
    nodes = {
        "model.t.feat_run": _model(
            "feat_run",
            [
                _col("run_id", "varchar"),
                _col("revision", "integer"),
                _col("client_id", "varchar"),
                *ts,
                _col("gross_pay", "double"),
            ],
            _feature(
                "payroll_run",
                ["run_id"],
                ["run_id", "revision"],
                "client_id",
                "30 days",
                ["gross_pay"],
            ),
            ["model.t.stg_runs"],
        ),
        "model.t.feat_cm": _model(
            "feat_cm",
            [_col("client_id", "varchar"), _col("month", "date"), *ts, _col("x", "double")],
            _feature(
                "client_month", ["client_id"], ["client_id", "month"], "client_id", "45 days", ["x"]
            ),
            [],
        ),
        "model.t.feat_queue": _model(
            "feat_queue",
            [_col("queue", "varchar"), _col("date", "date"), *ts, _col("contacts", "bigint")],
            _feature("queue_day", ["queue"], ["queue", "date"], None, "2 days", ["contacts"]),
            [],
        ),
    }
    sources = {
        "source.t.peo.runs": {
            "source_name": "peo",
            "name": "runs",
            "columns": {
                "run_id": {"name": "run_id", "meta": {"classification": "none"}},
                "email": {"name": "email", "meta": {"classification": "pii"}},
            },
        }
    }
    exposures = {
        "exposure.t.m": {
            "name": "m",
            "depends_on": {"nodes": ["model.t.feat_run", "model.t.feat_cm", "model.t.feat_queue"]},
        }
    }
    return {"nodes": nodes, "sources": sources, "exposures": exposures}


RUN_ROWS = [
    ("R1", 1, "A", t("2024-01-05"), t("2024-01-05"), 100.0),
    ("R1", 2, "A", t("2024-01-05"), t("2024-01-20"), 120.0),
    ("R2", 1, "A", t("2024-01-10"), t("2024-01-10"), 50.0),
    ("R3", 1, "B", t("2024-01-08"), t("2024-01-08"), 70.0),
    ("RC", 1, "A", t("2024-01-09"), t("2024-01-09"), CANARY_GROSS),
]
CM_ROWS = [
    ("A", dt.date(2024, 1, 1), t("2024-02-01"), t("2024-02-03"), 1.0),
    ("A", dt.date(2024, 2, 1), t("2024-03-01"), t("2024-03-02"), CANARY_X),
    ("B", dt.date(2024, 1, 1), t("2024-02-01"), t("2024-02-02"), 5.0),
]


def plant(con: duckdb.DuckDBPyConnection) -> None:
    """Create the three feature tables of ``mini_manifest`` in ``marts``."""
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.feat_run (run_id varchar, revision integer, "
        "client_id varchar, event_ts timestamptz, available_at timestamptz, gross_pay double)"
    )
    con.executemany("insert into marts.feat_run values (?, ?, ?, ?, ?, ?)", RUN_ROWS)
    con.execute(
        "create or replace table marts.feat_cm (client_id varchar, month date, "
        "event_ts timestamptz, available_at timestamptz, x double)"
    )
    con.executemany("insert into marts.feat_cm values (?, ?, ?, ?, ?)", CM_ROWS)
    con.execute(
        "create or replace table marts.feat_queue as select 'q1' as queue, "
        "date '2024-01-01' as date, timestamptz '2024-01-02 00:00:00+00' as event_ts, "
        "timestamptz '2024-01-02 06:00:00+00' as available_at, 7::bigint as contacts"
    )
