"""Claims (PHI) reach the marts only aggregated (to client-month or a declared pooled cell), small
cells suppressed.

Rules, from the manifest and the data:

1. a published model that reads a staging model holding ``phi`` columns (the raw claims)
   directly must itself be an aggregate (declare ``phi_aggregated`` columns, which rules 2
   and 3 then hold to account); any other reads claims only through such an aggregate;
2. a mart column classified ``phi_aggregated`` lives in a table unique on ``client_id``
   and one month column (the client-month grain), or on the coarser cell its model declares
   in ``meta.phi_cell`` (columns that pool several clients, such as a pricing group and a
   month);
3. in such a table every cell with fewer than ``min_cell_size`` members is suppressed:
   ``members`` is null or at least the minimum, and a ``suppressed`` row has every
   ``phi_aggregated`` column null.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from coadv_assets.features.manifest import quote_ident, quote_table
from coadv_assets.features.spec import node_meta
from coadv_assets.governance.violations import Violation

PUBLISHED_SCHEMAS = ("marts", "features", "ml")
MONTH_COLUMNS = ("month", "service_month", "coverage_month")


def _models(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [n for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model"]


def _relation(node: Mapping[str, Any]) -> str:
    return f"{node.get('schema')}.{node.get('alias') or node['name']}"


def _classes(node: Mapping[str, Any]) -> dict[str, str]:
    return {c: str(node_meta(col).get("classification")) for c, col in node["columns"].items()}


def phi_manifest_violations(manifest: Mapping[str, Any]) -> list[Violation]:
    """Rule 1: published non-aggregate models that read a PHI staging model directly."""
    models = _models(manifest)
    phi_staging = {
        n["unique_id"]
        for n in models
        if n.get("schema") == "staging" and "phi" in _classes(n).values()
    }
    found = []
    for n in models:
        if n.get("schema") not in PUBLISHED_SCHEMAS or "phi_aggregated" in _classes(n).values():
            continue
        direct = sorted(set((n.get("depends_on") or {}).get("nodes", [])) & phi_staging)
        for dep in direct:
            found.append(
                Violation(
                    _relation(n),
                    None,
                    f"reads PHI staging model {dep.split('.')[-1]} directly",
                    None,
                    "read claims only through a client-month aggregate with suppression",
                )
            )
    return found


def phi_data_violations(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    classes: Mapping[str, str],
    min_cell_size: int,
    cell: Sequence[str] | None = None,
) -> list[Violation]:
    """Rules 2 and 3 for one table with ``phi_aggregated`` columns (empty when it has none).

    ``cell`` is the pooled cell the model declares (``meta.phi_cell``); without it the table
    must be at the client-month grain.
    """
    agg = [c for c, cls in classes.items() if cls == "phi_aggregated"]
    if not agg:
        return []
    table = quote_table(relation)
    present = set(con.sql(f"select * from {table} limit 0").columns)
    if cell:
        missing = [c for c in cell if c not in present]
        if missing:
            return [
                Violation(
                    relation,
                    None,
                    f"declares phi_cell columns it lacks: {missing}",
                    None,
                    "declare the columns the table is unique on",
                )
            ]
        key = list(cell)
    else:
        month = next((m for m in MONTH_COLUMNS if m in present), None)
        key = ["client_id", month]
    if not cell and ("client_id" not in present or key[1] is None):
        return [
            Violation(
                relation,
                None,
                "holds phi_aggregated columns without a client-month grain",
                None,
                f"aggregate claims to client_id and one of {list(MONTH_COLUMNS)}",
            )
        ]
    found = []
    cols = ", ".join(quote_ident(c) for c in key)
    dup = con.sql(
        f"select count(*) from (select {cols} from {table} group by all having count(*) > 1)"
    ).fetchall()[0][0]
    if dup:
        found.append(
            Violation(
                relation,
                None,
                f"not unique on ({', '.join(key)})",
                int(dup),
                "PHI leaves staging only at the client-month grain or its declared cell",
            )
        )
    if "members" not in present:
        found.append(
            Violation(
                relation,
                None,
                "no members column to enforce the minimum cell size",
                None,
                "publish the member count (null when suppressed) beside the measures",
            )
        )
        return found
    small = con.sql(
        f"select count(*) from {table} where members is not null and members < ?",
        params=[min_cell_size],
    ).fetchall()[0][0]
    if small:
        found.append(
            Violation(
                relation,
                "members",
                f"cells under the minimum size {min_cell_size} not suppressed",
                int(small),
                "set the measures of such cells to null and flag them suppressed",
            )
        )
    if "suppressed" in present:
        leaked = " or ".join(f"{quote_ident(c)} is not null" for c in agg)
        n = con.sql(f"select count(*) from {table} where suppressed and ({leaked})").fetchall()
        if n[0][0]:
            found.append(
                Violation(
                    relation,
                    None,
                    "suppressed cells still hold phi_aggregated values",
                    int(n[0][0]),
                    "null every phi_aggregated column of a suppressed cell",
                )
            )
    return found


def phi_violations(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], min_cell_size: int = 11
) -> list[Violation]:
    """Every PHI violation of the published schemas; empty when there is none."""
    found = phi_manifest_violations(manifest)
    existing = {
        f"{s}.{t}"
        for s, t in con.sql(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    for n in _models(manifest):
        relation = _relation(n)
        if n.get("schema") in PUBLISHED_SCHEMAS and relation in existing:
            found += phi_data_violations(
                con, relation, _classes(n), min_cell_size, node_meta(n).get("phi_cell")
            )
    return found
