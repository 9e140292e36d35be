"""No PII past staging: declared classes in the dbt manifest and a scan of the values.

Three ways a PII column is caught in a table of a schema past staging:

1. the manifest classifies one of its columns ``pii`` (or ``phi``: raw claims);
2. its name is the name of a source column classified ``pii`` (an undeclared copy, e.g. a
   table created outside dbt or a column added without YAML);
3. a text value looks like an SSN (``ddd-dd-dddd``) or an e-mail address.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from coadv_assets.features.manifest import quote_ident
from coadv_assets.features.spec import node_meta
from coadv_assets.governance.violations import Violation

PAST_STAGING = ("intermediate", "marts", "features", "ml", "pu")
SSN_PATTERN = r"^\s*[0-9]{3}-[0-9]{2}-[0-9]{4}\s*$"
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_FORBIDDEN = {"pii", "phi"}


def pii_source_columns(manifest: Mapping[str, Any]) -> set[str]:
    """Names of the source columns the contracts classify ``pii``."""
    return {
        name
        for src in manifest.get("sources", {}).values()
        for name, col in src.get("columns", {}).items()
        if node_meta(col).get("classification") == "pii"
    }


def declared_classes(manifest: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{"schema.table": {column: class}}`` of every model in the manifest."""
    out: dict[str, dict[str, str]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed"):
            continue
        relation = f"{node.get('schema')}.{node.get('alias') or node['name']}"
        out[relation] = {
            name: str(node_meta(col).get("classification")) for name, col in node["columns"].items()
        }
    return out


def warehouse_columns(
    con: duckdb.DuckDBPyConnection, schemas: Iterable[str] = PAST_STAGING
) -> dict[str, list[tuple[str, str]]]:
    """``{"schema.table": [(column, data_type), ...]}`` of the base tables in ``schemas``."""
    wanted = list(schemas)
    rows = con.sql(
        "select c.table_schema, c.table_name, c.column_name, c.data_type "
        "from information_schema.columns as c "
        "join information_schema.tables as t using (table_catalog, table_schema, table_name) "
        "where t.table_type = 'BASE TABLE' and list_contains(?, c.table_schema) "
        "order by 1, 2, c.ordinal_position",
        params=[wanted],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        out.setdefault(f"{schema}.{table}", []).append((column, dtype))
    return out


def scan_relation(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[tuple[str, str]],
    declared: Mapping[str, str],
    pii_names: set[str],
) -> list[Violation]:
    """Violations of one table: declared class, PII-named column, SSN/e-mail values."""
    found = []
    for column, cls in sorted(declared.items()):
        if cls in _FORBIDDEN:
            found.append(
                Violation(
                    relation,
                    column,
                    f"classified {cls} past staging",
                    None,
                    "drop the column or key-hash it in staging (and classify the hash none)",
                )
            )
    for column, _ in columns:
        if column in pii_names and declared.get(column) not in _FORBIDDEN:
            found.append(
                Violation(
                    relation,
                    column,
                    "named like a PII source column past staging",
                    None,
                    "PII columns never leave staging; drop or key-hash it in staging",
                )
            )
    text = [c for c, dtype in columns if dtype.upper() in ("VARCHAR", "TEXT", "STRING")]
    if not text:
        return found
    schema, table = relation.split(".", 1)
    parts = []
    for c in text:
        q = quote_ident(c)
        parts.append(
            f"count(*) filter (where regexp_matches({q}, '{SSN_PATTERN}')) "
            f"as {quote_ident(c + ':ssn')}"
        )
        parts.append(
            f"count(*) filter (where regexp_matches({q}, '{EMAIL_PATTERN}')) "
            f"as {quote_ident(c + ':email')}"
        )
    rel = con.sql(f"select {', '.join(parts)} from {quote_ident(schema)}.{quote_ident(table)}")
    counts = dict(zip(rel.columns, rel.fetchall()[0], strict=True))
    for key, n in counts.items():
        if n:
            column, shape = key.rsplit(":", 1)
            label = "SSN" if shape == "ssn" else "e-mail"
            found.append(
                Violation(
                    relation,
                    column,
                    f"holds {label}-shaped values past staging",
                    int(n),
                    "remove the values in staging; PII never leaves it",
                )
            )
    return found


def pii_violations(
    con: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    schemas: Iterable[str] = PAST_STAGING,
) -> list[Violation]:
    """Every PII violation in the warehouse's tables past staging (see the module doc).

    Returns an empty list when there is none. Models of the manifest that are not built
    yet are judged by their declared classes alone.
    """
    wanted = tuple(schemas)
    declared = declared_classes(manifest)
    names = pii_source_columns(manifest)
    tables = warehouse_columns(con, wanted)
    found = []
    for relation in sorted(set(tables) | {r for r in declared if r.split(".")[0] in wanted}):
        found += scan_relation(
            con, relation, tables.get(relation, []), declared.get(relation, {}), names
        )
    return found
