"""Online lookup of the latest feature values, straight from the DuckDB warehouse.

``get_online_features`` returns, for each requested entity key, the latest row of the
group known at ``as_of`` (default: now) under the same rule as training sets (latest
``event_ts``, then latest ``available_at``, then the feature values; both timestamps at or
before ``as_of``), so a model scores on exactly what it was trained on. Unlike the training
set, a value older than the group's TTL is returned and flagged ``stale`` rather than
nulled: the caller decides whether to score on it.

Tenancy: a tenant-scoped group (``tenant_key`` declared) is served only for keys that
belong to the requesting tenant; a key of another tenant is refused (PermissionError)
without saying whose it is. An operational aggregate (``tenant_key: null``) is not served
to a tenant at all: request it with ``tenant_id=None``.

CLI::

    python -m coadv_assets.features.serve --tenant C00042 --entity client_month \\
        --keys C00042 --features active_employees mlr_12m [--as-of 2026-06-01T00:00:00Z]
"""

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from coadv_assets.features.groups import default_manifest, feature_ref
from coadv_assets.features.manifest import quote_ident, quote_table
from coadv_assets.features.spec import FeatureGroup, group_by_entity

_TENANT = "__tenant"
_AS_OF = "__as_of"


class CrossTenantRequest(PermissionError):
    """A request for entity keys that belong to another tenant."""


def _key_tuples(group: FeatureGroup, entity_keys: Sequence[Any]) -> list[tuple[str, ...]]:
    out = []
    width = len(group.entity_key)
    for key in entity_keys:
        parts = tuple(str(p) for p in key) if isinstance(key, list | tuple) else (str(key),)
        if len(parts) != width:
            raise ValueError(f"{group.entity}: entity key is {list(group.entity_key)}; got {key!r}")
        out.append(parts)
    if not out:
        raise ValueError(f"{group.entity}: no entity keys requested")
    return list(dict.fromkeys(out))


def _check_tenancy(
    con: duckdb.DuckDBPyConnection,
    group: FeatureGroup,
    tenant_id: str | None,
    keys: list[tuple[str, ...]],
) -> None:
    if group.tenant_key is None:
        if tenant_id is not None:
            raise CrossTenantRequest(
                f"{group.entity} ({group.relation}) is an operational aggregate with no tenant "
                f"({group.tenant_key_reason}); it is not served to tenant {tenant_id!r}. "
                "Request it without a tenant."
            )
        return
    if tenant_id is None:
        raise ValueError(
            f"{group.entity} is tenant-scoped by {group.tenant_key}; pass the tenant_id"
        )
    if group.entity_key == (group.tenant_key,):
        # The entity is the tenant itself: any other key is another tenant's, or nobody's
        # (refused alike, so that a refusal does not tell which tenants exist).
        other = sorted({k[0] for k in keys if k[0] != tenant_id})
        if other:
            raise CrossTenantRequest(
                f"tenant {tenant_id!r} asked {group.entity} for {len(other)} key(s) other "
                f"than its own: {', '.join(other[:10])}; refused. A tenant reads only its "
                "own entities."
            )
        return
    key_cols = ", ".join(quote_ident(c) for c in group.entity_key)
    wanted = pl.DataFrame([list(k) for k in keys], schema=list(group.entity_key), orient="row")
    con.register("__serve_keys", wanted)
    try:
        foreign = con.sql(
            f"select distinct {', '.join('f.' + quote_ident(c) for c in group.entity_key)} "
            f"from {quote_table(group.relation)} as f "
            f"join __serve_keys as k using ({key_cols}) "
            f"where f.{quote_ident(group.tenant_key)} is distinct from ?",
            params=[tenant_id],
        ).fetchall()
    finally:
        con.unregister("__serve_keys")
    if foreign:
        shown = sorted("/".join(str(p) for p in row) for row in foreign)
        raise CrossTenantRequest(
            f"tenant {tenant_id!r} asked {group.entity} for {len(shown)} key(s) that belong to "
            f"another tenant: {', '.join(shown[:10])}; refused. A tenant reads only its own "
            "entities."
        )


def get_online_features(
    tenant_id: str | None,
    entity: str,
    entity_keys: Sequence[Any],
    features: Sequence[str] | None = None,
    as_of: dt.datetime | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Latest values of ``features`` (all of the group's when None) for ``entity_keys``.

    Returns one row per distinct requested key, in request order: the key columns, the
    feature columns, ``event_ts`` of the row used, ``age_days`` (``as_of - event_ts``),
    ``stale`` (age beyond the group's TTL) and ``found`` (a row was known at ``as_of``;
    when false the values are null). Refuses: an unknown entity or feature (KeyError),
    keys of another tenant or a tenant request for an operational aggregate
    (CrossTenantRequest), a tenant-scoped request without tenant (ValueError).
    """
    from coadv_assets.features.pit import build_training_set

    group = group_by_entity(manifest if manifest is not None else default_manifest(), entity)
    ref = feature_ref(group, features, apply_ttl=False)
    keys = _key_tuples(group, entity_keys)
    when = as_of or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    if con is None:
        from coadv_assets.warehouse import connect

        with connect(read_only=True) as own:
            return get_online_features(
                tenant_id, entity, entity_keys, features, as_of, con=own, manifest=manifest
            )
    _check_tenancy(con, group, tenant_id, keys)
    rows = [
        {**dict(zip(group.entity_key, k, strict=True)), _AS_OF: when, "__order": i}
        | ({_TENANT: tenant_id} if group.tenant_key else {})
        for i, k in enumerate(keys)
    ]
    labels = pl.DataFrame(rows).with_columns(pl.col(_AS_OF).dt.convert_time_zone("UTC"))
    ts = build_training_set(
        con,
        labels,
        [ref],
        entity_key=group.entity_key,
        label_ts_col=_AS_OF,
        tenant_key=_TENANT if group.tenant_key else None,
    )
    ttl_days = group.ttl.total_seconds() / 86400.0
    age = pl.col(ref.age_column)
    out = (
        ts.frame.sort("__order")
        .with_columns(
            event_ts=pl.col(_AS_OF)
            - pl.duration(microseconds=(age * 86_400e6).round().cast(pl.Int64)),
            age_days=age,
            stale=age > ttl_days,
            found=age.is_not_null(),
        )
        .select([*group.entity_key, *ref.columns, "event_ts", "age_days", "stale", "found"])
    )
    return out


def _parse_instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; prints the values (table or JSON) and returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m coadv_assets.features.serve",
        description="Latest feature values for a tenant's entities, with TTL staleness flags.",
    )
    parser.add_argument("--tenant", help="tenant id; omit for operational aggregates")
    parser.add_argument("--entity", required=True, help="client_month, payroll_run, ...")
    parser.add_argument("--keys", nargs="+", required=True, help="entity keys")
    parser.add_argument("--features", nargs="*", help="feature names (default: all)")
    parser.add_argument("--as-of", help="ISO instant (default: now)")
    parser.add_argument("--manifest", help="dbt manifest.json (default: the project's)")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    args = parser.parse_args(argv)
    manifest = None
    if args.manifest:
        from coadv_assets.features.spec import load_manifest

        manifest = load_manifest(Path(args.manifest))
    try:
        frame = get_online_features(
            args.tenant,
            args.entity,
            args.keys,
            args.features or None,
            _parse_instant(args.as_of) if args.as_of else None,
            manifest=manifest,
        )
    except (PermissionError, KeyError, ValueError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(frame.to_dicts(), default=str, indent=2))
    else:
        with pl.Config(tbl_cols=-1, tbl_rows=-1, tbl_width_chars=200):
            print(frame)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
