"""Point-in-time training sets: each label row gets the feature values known at its time.

For a label event (tenant, entity, ``label_ts``) and a ``FeatureRef``, the row used is the
feature row of the same tenant and entity with ``event_ts <= label_ts`` AND
``available_at <= label_ts`` (both inclusive) that ranks first under the **tie rule**:

1. latest ``event_ts``;
2. then latest ``available_at`` (the most recent correction known at ``label_ts``);
3. then the feature columns in their declared order, ascending, NULLs last.

Rows still tied after step 3 are identical in every column the set takes, so the result is
the same whichever is picked. The rule uses only the row's values, never storage order.

TTL: the row used must satisfy ``label_ts - event_ts <= ttl`` (inclusive); otherwise the
feature columns are NULL, ``<name>__age_days`` still gives the age of the stale row, and the
manifest counts it as stale. Label rows with a NULL entity, tenant or timestamp never match.

The join is an equi-join on (tenant, entity) with both inequalities, ranked by a window
(QUALIFY) in DuckDB: its cost grows with the number of history rows per entity, not with
the product of the two tables. The session must run in UTC (``coadv_assets.warehouse``
connections do), because DATE and TIMESTAMP values are compared with TIMESTAMPTZ ones.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from coadv_assets.features.manifest import (
    BUILDER_VERSION,
    PARQUET_SETTINGS,
    TRAINING_SET_FILE,
    FeatureRef,
    TrainingSet,
    fingerprint_sql,
    parquet_bytes,
    quote_ident,
    quote_table,
    read_manifest,
    write,
)

__all__ = [
    "FeatureRef",
    "TrainingSet",
    "build_training_set",
    "rebuild_from_manifest",
    "write",
]

_ROW = "__pit_row"
_UTC_NAMES = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Etc/Universal", "Universal", "Zulu"}


def _columns_of(con: duckdb.DuckDBPyConnection, relation: str, what: str) -> list[str]:
    try:
        names = con.sql(f"SELECT * FROM {relation} LIMIT 0").columns
    except duckdb.CatalogException as exc:
        raise ValueError(f"{what} {relation} does not exist in the warehouse: {exc}") from exc
    return list(names)


def _require(columns: Sequence[str], present: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in present]
    if missing:
        raise ValueError(
            f"{what} has no column {', '.join(repr(c) for c in missing)} "
            f"(it has: {', '.join(present)}); fix the FeatureRef or the table"
        )


def _check_utc(con: duckdb.DuckDBPyConnection) -> None:
    tz = con.sql("SELECT current_setting('TimeZone')").fetchall()[0][0]
    if tz not in _UTC_NAMES:
        raise ValueError(
            f"DuckDB session time zone is {tz!r}; point-in-time joins need UTC. Open the "
            "connection with coadv_assets.warehouse.connect() or run SET TimeZone = 'UTC'"
        )


def _epoch(expr: str) -> str:
    return f"epoch(CAST({expr} AS TIMESTAMPTZ))"


def _validate(
    con: duckdb.DuckDBPyConnection,
    labels_rel: str,
    label_cols: list[str],
    features: Sequence[FeatureRef],
    entity_key: tuple[str, ...],
    label_ts_col: str,
    tenant_key: str | None,
) -> None:
    need = [*entity_key, label_ts_col] + ([tenant_key] if tenant_key else [])
    _require(need, label_cols, "labels")
    out_names = set(label_cols)
    for ref in features:
        if len(ref.entity_key) != len(entity_key):
            raise ValueError(
                f"{ref.table}: entity key {list(ref.entity_key)} does not pair with the "
                f"labels' entity key {list(entity_key)}"
            )
        if tenant_key is not None and ref.tenant_key is None:
            raise ValueError(
                f"{ref.table}: labels carry tenant column {tenant_key!r} but the FeatureRef "
                "declares no tenant_key; every feature join must be filtered by tenant"
            )
        if tenant_key is None and ref.tenant_key is not None:
            raise ValueError(
                f"{ref.table}: the FeatureRef has tenant_key {ref.tenant_key!r}; pass the "
                "labels' tenant column as tenant_key"
            )
        present = _columns_of(con, quote_table(ref.table), "feature table")
        declared = [*ref.entity_key, ref.event_ts, ref.available_at, *ref.columns]
        if ref.tenant_key:
            declared.append(ref.tenant_key)
        _require(declared, present, f"feature table {ref.table}")
        for col in [*ref.output_columns(), ref.age_column]:
            if col in out_names:
                raise ValueError(
                    f"{ref.table}: output column {col!r} collides with another column; "
                    "set a prefix (or a name) on the FeatureRef"
                )
            out_names.add(col)


def _join_condition(
    ref: FeatureRef, entity_key: tuple[str, ...], label_ts: str, tenant_key: str | None
) -> str:
    conds = [
        f"l.{quote_ident(le)} = f.{quote_ident(fe)}"
        for le, fe in zip(entity_key, ref.entity_key, strict=True)
    ]
    if tenant_key is not None and ref.tenant_key is not None:
        conds.append(f"l.{quote_ident(tenant_key)} = f.{quote_ident(ref.tenant_key)}")
    conds.append(f"f.{quote_ident(ref.event_ts)} <= l.{quote_ident(label_ts)}")
    conds.append(f"f.{quote_ident(ref.available_at)} <= l.{quote_ident(label_ts)}")
    return " AND ".join(conds)


def _build_sql(
    labels_rel: str,
    label_cols: list[str],
    features: Sequence[FeatureRef],
    entity_key: tuple[str, ...],
    label_ts: str,
    tenant_key: str | None,
) -> str:
    order_first = [label_ts] + ([tenant_key] if tenant_key else []) + list(entity_key)
    order = order_first + [c for c in label_cols if c not in order_first]
    order_sql = ", ".join(f"{quote_ident(c)} ASC NULLS LAST" for c in order)
    ctes = [
        f"lbl AS (SELECT row_number() OVER (ORDER BY {order_sql}) AS {_ROW}, * FROM {labels_rel})"
    ]
    selects = [f"lbl.{quote_ident(c)}" for c in label_cols]
    joins = []
    lts = f"lbl.{quote_ident(label_ts)}"
    for i, ref in enumerate(features):
        alias = f"f{i}"
        ev = quote_ident(ref.event_ts)
        av = quote_ident(ref.available_at)
        tie = ", ".join(f"f.{quote_ident(c)} ASC NULLS LAST" for c in ref.columns)
        cols = ", ".join(
            f"f.{quote_ident(c)} AS {quote_ident(f'__c{j}')}" for j, c in enumerate(ref.columns)
        )
        ctes.append(
            f"{alias} AS (SELECT l.{_ROW}, {cols}, f.{ev} AS __ev "
            f"FROM lbl AS l JOIN {quote_table(ref.table)} AS f "
            f"ON {_join_condition(ref, entity_key, label_ts, tenant_key)} "
            f"QUALIFY row_number() OVER (PARTITION BY l.{_ROW} "
            f"ORDER BY f.{ev} DESC, f.{av} DESC, {tie}) = 1)"
        )
        age_s = f"({_epoch(lts)} - {_epoch(f'{alias}.__ev')})"
        fresh = "TRUE" if ref.ttl is None else f"{age_s} <= {ref.ttl_seconds!r}"
        for j, out in enumerate(ref.output_columns()):
            selects.append(
                f"CASE WHEN {fresh} THEN {alias}.{quote_ident(f'__c{j}')} END AS {quote_ident(out)}"
            )
        selects.append(f"{age_s} / 86400.0 AS {quote_ident(ref.age_column)}")
        joins.append(f"LEFT JOIN {alias} ON {alias}.{_ROW} = lbl.{_ROW}")
    return (
        "WITH "
        + ",\n".join(ctes)
        + "\nSELECT "
        + ", ".join(selects)
        + "\nFROM lbl "
        + " ".join(joins)
        + f"\nORDER BY lbl.{_ROW}"
    )


def _relevant_rows_sql(
    ref: FeatureRef,
    labels_rel: str,
    entity_key: tuple[str, ...],
    label_ts: str,
    tenant_key: str | None,
) -> str:
    """Rows of ``ref.table`` that some label could use (entity/tenant present, within window)."""
    lts = quote_ident(label_ts)
    keys = [(le, fe) for le, fe in zip(entity_key, ref.entity_key, strict=True)]
    if tenant_key is not None and ref.tenant_key is not None:
        keys.append((tenant_key, ref.tenant_key))
    match = " AND ".join(f"l.{quote_ident(a)} = f.{quote_ident(b)}" for a, b in keys)
    lower = ""
    if ref.ttl is not None:
        lower = (
            f" AND {_epoch('f.' + quote_ident(ref.event_ts))} >= "
            f"(SELECT min({_epoch(lts)}) FROM {labels_rel}) - {ref.ttl_seconds!r}"
        )
    return (
        f"SELECT f.* FROM {quote_table(ref.table)} AS f "
        f"WHERE f.{quote_ident(ref.event_ts)} <= (SELECT max({lts}) FROM {labels_rel}) "
        f"AND f.{quote_ident(ref.available_at)} <= (SELECT max({lts}) FROM {labels_rel})"
        f"{lower} AND EXISTS (SELECT 1 FROM {labels_rel} AS l WHERE {match})"
    )


def _fingerprints(
    con: duckdb.DuckDBPyConnection,
    labels_rel: str,
    label_cols: list[str],
    features: Sequence[FeatureRef],
    entity_key: tuple[str, ...],
    label_ts: str,
    tenant_key: str | None,
) -> dict[str, str]:
    out = {"labels": fingerprint_sql(con, f"SELECT * FROM {labels_rel}", label_cols)}
    for ref in features:
        cols = [*ref.entity_key, ref.event_ts, ref.available_at, *ref.columns]
        if ref.tenant_key and ref.tenant_key not in cols:
            cols.append(ref.tenant_key)
        cols = list(dict.fromkeys(cols))
        rel = _relevant_rows_sql(ref, labels_rel, entity_key, label_ts, tenant_key)
        out[ref.table] = fingerprint_sql(con, rel, cols)
    return out


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def build_training_set(
    con: duckdb.DuckDBPyConnection,
    labels: pl.DataFrame | str,
    features: Sequence[FeatureRef],
    *,
    entity_key: str | Sequence[str],
    label_ts_col: str,
    tenant_key: str | None = None,
) -> TrainingSet:
    """Join every feature reference to every label row as of the label's timestamp.

    ``labels`` is a polars frame (registered in DuckDB for the duration of the call) or the
    name of a warehouse table. Returns a ``TrainingSet`` whose frame holds the label columns,
    then for each reference its output columns and ``<name>__age_days``, one row per label
    row, sorted by (label_ts, tenant, entity key, other label columns). The manifest is
    described in ``coadv_assets.features.manifest``.

    Refuses (ValueError): a table or column that does not exist (named), a tenant key on one
    side only, clashing output names, an empty feature list, a non-UTC session.
    """
    if not features:
        raise ValueError("build_training_set needs at least one FeatureRef")
    _check_utc(con)
    ekey = (entity_key,) if isinstance(entity_key, str) else tuple(entity_key)
    registered: str | None = None
    if isinstance(labels, pl.DataFrame):
        registered = f"__pit_labels_{uuid.uuid4().hex}"
        con.register(registered, labels)
        labels_rel = quote_ident(registered)
        labels_source: dict[str, Any] = {"kind": "training_set"}
    else:
        labels_rel = quote_table(labels)
        labels_source = {"kind": "table", "table": labels}
    try:
        label_cols = _columns_of(con, labels_rel, "labels table")
        _validate(con, labels_rel, label_cols, features, ekey, label_ts_col, tenant_key)
        sql = _build_sql(labels_rel, label_cols, features, ekey, label_ts_col, tenant_key)
        frame = con.sql(sql).pl()
        fingerprints = _fingerprints(
            con, labels_rel, label_cols, features, ekey, label_ts_col, tenant_key
        )
    finally:
        if registered is not None:
            con.unregister(registered)

    lts = frame.get_column(label_ts_col)
    per_feature = []
    for ref in features:
        age = frame.get_column(ref.age_column)
        matched = int(age.is_not_null().sum())
        stale = 0
        if ref.ttl is not None:
            stale = int((age > ref.ttl.total_seconds() / 86400.0).sum())
        per_feature.append(
            {
                **ref.to_json(),
                "rows_matched": matched,
                "rows_stale": stale,
                "rows_missing": frame.height - matched,
            }
        )
    data = parquet_bytes(frame)
    manifest: dict[str, Any] = {
        "builder_version": BUILDER_VERSION,
        "labels": {
            **labels_source,
            "columns": label_cols,
            "entity_key": list(ekey),
            "label_ts_col": label_ts_col,
            "tenant_key": tenant_key,
        },
        "label_window": {
            "min": _iso(lts.min()) if frame.height else None,
            "max": _iso(lts.max()) if frame.height else None,
        },
        "features": per_feature,
        "row_counts": {"labels": frame.height, "output": frame.height},
        "input_fingerprints": fingerprints,
        "parquet_settings": PARQUET_SETTINGS,
        "library_versions": {"duckdb": duckdb.__version__, "polars": pl.__version__},
        "output_sha256": hashlib.sha256(data).hexdigest(),
    }
    return TrainingSet(frame=frame, manifest=manifest)


def rebuild_from_manifest(con: duckdb.DuckDBPyConnection, manifest_path: str | Path) -> TrainingSet:
    """Rebuild a written training set from its manifest and prove it is byte-identical.

    Labels come from the manifest's labels table, or (when they were a frame) from the label
    columns of the ``training_set.parquet`` beside the manifest. Returns the rebuilt set.
    Raises ValueError naming the input whose fingerprint changed (the warehouse no longer
    holds the rows the set was built from), or when the rebuilt Parquet bytes differ.
    """
    manifest_path = Path(manifest_path)
    manifest = read_manifest(manifest_path)
    spec = manifest["labels"]
    features = [FeatureRef.from_json(f) for f in manifest["features"]]
    labels: pl.DataFrame | str
    if spec["kind"] == "table":
        labels = spec["table"]
    else:
        stored = pl.read_parquet(manifest_path.parent / TRAINING_SET_FILE)
        labels = stored.select(spec["columns"])
    rebuilt = build_training_set(
        con,
        labels,
        features,
        entity_key=spec["entity_key"],
        label_ts_col=spec["label_ts_col"],
        tenant_key=spec["tenant_key"],
    )
    old_fp = manifest["input_fingerprints"]
    new_fp = rebuilt.manifest["input_fingerprints"]
    changed = [k for k in old_fp if old_fp.get(k) != new_fp.get(k)]
    if changed:
        raise ValueError(
            f"cannot rebuild {manifest_path}: the inputs changed since it was built "
            f"({', '.join(changed)}: fingerprint {old_fp[changed[0]][:12]}… is now "
            f"{str(new_fp.get(changed[0]))[:12]}…); restore those rows or build a new set"
        )
    if rebuilt.manifest["output_sha256"] != manifest["output_sha256"]:
        raise ValueError(
            f"rebuild of {manifest_path} is not byte-identical: sha256 "
            f"{rebuilt.manifest['output_sha256']} != {manifest['output_sha256']} although the "
            f"inputs match; library versions then {manifest['library_versions']}, now "
            f"{rebuilt.manifest['library_versions']}"
        )
    return rebuilt
