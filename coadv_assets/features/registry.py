"""The feature registry: one row per feature, built from the dbt manifest and the warehouse.

``features.registry`` holds every declared field of the feature's group (entity, keys,
tenant, timestamps, source contract, SLA, TTL, owner, version, consumers), the column's
own description, type and governance class, its lineage (the dbt nodes the group reads)
and its current freshness: ``max(available_at)`` of the table against the build instant.
"""

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import duckdb
import polars as pl

from coadv_assets.features.manifest import quote_ident, quote_table
from coadv_assets.features.spec import FeatureGroup, feature_groups

REGISTRY_TABLE = "features.registry"
REGISTRY_DDL = """
create schema if not exists features;
create or replace table features.registry (
    feature varchar primary key,
    feature_group varchar not null,
    relation varchar not null,
    column_name varchar not null,
    entity varchar not null,
    entity_key json not null,
    grain json not null,
    tenant_key varchar,
    tenant_key_reason varchar,
    event_timestamp varchar not null,
    available_at_column varchar not null,
    source_contract json not null,
    upstream json not null,
    consumers json not null,
    freshness_sla_hours double not null,
    ttl_hours double not null,
    owner varchar not null,
    group_description varchar not null,
    description varchar not null,
    data_type varchar not null,
    classification varchar not null,
    version varchar not null,
    table_rows bigint,
    non_null_rows bigint,
    max_event_ts timestamptz,
    max_available_at timestamptz,
    lag_hours double,
    fresh boolean,
    checked_at timestamptz not null
);
"""


def _table_stats(
    con: duckdb.DuckDBPyConnection, group: FeatureGroup
) -> tuple[dict[str, Any], dict[str, int]]:
    non_null = ", ".join(
        f"count({quote_ident(c)}) as {quote_ident(c)}" for c in group.feature_names
    )
    try:
        rel = con.sql(
            f"select count(*) as n, max({quote_ident(group.event_timestamp)}) as ev, "
            f"max({quote_ident(group.available_at)}) as av, {non_null} "
            f"from {quote_table(group.relation)}"
        )
    except duckdb.CatalogException:
        return {"n": None, "ev": None, "av": None}, {}
    row = dict(zip(rel.columns, rel.fetchall()[0], strict=True))
    counts = {c: int(row[c]) for c in group.feature_names}
    return {"n": row["n"], "ev": row["ev"], "av": row["av"]}, counts


def build_registry(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], now: dt.datetime
) -> pl.DataFrame:
    """Return the registry frame (one row per feature, sorted by feature name).

    A table that does not exist yet gives null statistics and ``fresh = false``.
    Refuses (ValueError from the manifest reader) a feature block that does not validate.
    """
    rows = []
    for group in feature_groups(manifest).values():
        stats, counts = _table_stats(con, group)
        av = stats["av"]
        lag = None if av is None else (now - av).total_seconds() / 3600.0
        sla_h = group.freshness_sla.total_seconds() / 3600.0
        for col in group.features:
            rows.append(
                {
                    "feature": f"{group.name}.{col.name}",
                    "feature_group": group.name,
                    "relation": group.relation,
                    "column_name": col.name,
                    "entity": group.entity,
                    "entity_key": json.dumps(list(group.entity_key)),
                    "grain": json.dumps(list(group.grain)),
                    "tenant_key": group.tenant_key,
                    "tenant_key_reason": group.tenant_key_reason or None,
                    "event_timestamp": group.event_timestamp,
                    "available_at_column": group.available_at,
                    "source_contract": json.dumps(
                        {k: list(v) for k, v in group.source_contract.items()}
                    ),
                    "upstream": json.dumps(list(group.upstream)),
                    "consumers": json.dumps(list(group.consumers)),
                    "freshness_sla_hours": sla_h,
                    "ttl_hours": group.ttl.total_seconds() / 3600.0,
                    "owner": group.owner,
                    "group_description": group.description,
                    "description": col.description,
                    "data_type": col.data_type,
                    "classification": col.classification,
                    "version": group.version,
                    "table_rows": stats["n"],
                    "non_null_rows": counts.get(col.name),
                    "max_event_ts": stats["ev"],
                    "max_available_at": av,
                    "lag_hours": lag,
                    "fresh": lag is not None and lag <= sla_h,
                    "checked_at": now,
                }
            )
    schema = {
        "max_event_ts": pl.Datetime("us", "UTC"),
        "max_available_at": pl.Datetime("us", "UTC"),
        "checked_at": pl.Datetime("us", "UTC"),
        "table_rows": pl.Int64,
        "non_null_rows": pl.Int64,
        "lag_hours": pl.Float64,
        "tenant_key": pl.String,
        "tenant_key_reason": pl.String,
    }
    frame = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
    return frame.sort("feature")


def write_registry(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Replace ``features.registry`` with ``frame``; returns the rows written."""
    con.execute(REGISTRY_DDL)
    con.register("__registry_rows", frame)
    try:
        con.execute("insert into features.registry by name select * from __registry_rows")
    finally:
        con.unregister("__registry_rows")
    return frame.height
