"""Every feature row belongs to one tenant, and no tenant's rows reach another's.

On the warehouse: in each tenant-scoped feature table the tenant key is never null and
each entity belongs to exactly one tenant (a run id seen under two tenants means rows were
mixed). On a frame (a training set or a served result): ``canary_leaks`` finds values
planted in one tenant's rows in the rows of another tenant.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from coadv_assets.features.manifest import quote_ident, quote_table
from coadv_assets.features.spec import FeatureGroup, feature_groups
from coadv_assets.governance.violations import Violation


def group_tenancy_violations(
    con: duckdb.DuckDBPyConnection, group: FeatureGroup
) -> list[Violation]:
    """Null tenants and entities shared between tenants in one feature table."""
    if group.tenant_key is None:
        return []
    table = quote_table(group.relation)
    tenant = quote_ident(group.tenant_key)
    found = []
    nulls = con.sql(f"select count(*) from {table} where {tenant} is null").fetchall()[0][0]
    if nulls:
        found.append(
            Violation(
                group.relation,
                group.tenant_key,
                "tenant key is null",
                int(nulls),
                "every feature row is computed from one tenant's rows and carries its key",
            )
        )
    keys = [k for k in group.entity_key if k != group.tenant_key]
    if keys:
        cols = ", ".join(quote_ident(k) for k in keys)
        shared = con.sql(
            f"select count(*) from (select {cols} from {table} where {tenant} is not null "
            f"group by {cols} having count(distinct {tenant}) > 1)"
        ).fetchall()[0][0]
        if shared:
            found.append(
                Violation(
                    group.relation,
                    ", ".join(keys),
                    "entities appear under more than one tenant",
                    int(shared),
                    "rows of different tenants were mixed; rebuild the feature from one "
                    "tenant's rows",
                )
            )
    return found


def tenancy_violations(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]
) -> list[Violation]:
    """Tenancy violations of every built tenant-scoped feature group."""
    existing = {
        f"{s}.{t}"
        for s, t in con.sql(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    found = []
    for group in feature_groups(manifest).values():
        if group.relation in existing:
            found += group_tenancy_violations(con, group)
    return found


def canary_leaks(
    frame: pl.DataFrame,
    tenant_col: str,
    canary_tenant: str,
    canary_values: Mapping[str, Sequence[Any]],
) -> list[Violation]:
    """Rows of other tenants holding a value planted only in ``canary_tenant``'s rows.

    ``canary_values`` maps a column of ``frame`` to the planted values. Returns one
    violation per column with leaks (empty when none).
    """
    others = frame.filter(pl.col(tenant_col) != canary_tenant)
    found = []
    for column, values in canary_values.items():
        n = others.filter(pl.col(column).is_in(list(values))).height
        if n:
            found.append(
                Violation(
                    "frame",
                    column,
                    f"canary of tenant {canary_tenant} in another tenant's rows",
                    n,
                    "a join is missing its tenant condition",
                )
            )
    return found
