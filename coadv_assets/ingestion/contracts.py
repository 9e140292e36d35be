"""Source contracts as the ingestion reads them from ``_peo__sources.yml``.

The YAML file is the one declaration of every source table (see docs/conventions.md); this
module turns it into typed objects and never restates a column by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from coadv_assets import paths

SOURCES_YML = paths.DBT_PROJECT_DIR / "models" / "staging" / "_peo__sources.yml"

# Contract data_type -> the DuckDB type name that DESCRIBE reports for it.
DUCKDB_TYPES: dict[str, str] = {
    "varchar": "VARCHAR",
    "date": "DATE",
    "double": "DOUBLE",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "boolean": "BOOLEAN",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
}


@dataclass(frozen=True)
class ColumnContract:
    """One declared column: name, DuckDB type and the rules of its ``meta``."""

    name: str
    data_type: str
    nullable: bool
    classification: str
    accepted_values: tuple[str, ...] | None = None
    min: float | None = None
    future_allowed: bool = False  # a date that may lie ahead (meta.future: allowed)

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.data_type.lower()]

    @property
    def is_numeric(self) -> bool:
        return self.duckdb_type in {"DOUBLE", "INTEGER", "BIGINT"}


@dataclass(frozen=True)
class TableContract:
    """One source table: its columns in declared order, its key columns, its tenant key and
    its period column (the date or instant that places a row in its month, for the late-row
    rule of `coadv_assets.ingestion.arrival`)."""

    name: str
    columns: tuple[ColumnContract, ...]
    key: tuple[str, ...]
    tenant_key: str | None = None
    period: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> ColumnContract:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def create_table_sql(self, schema: str = "raw") -> str:
        """``create table if not exists`` statement with the declared column types."""
        columns = ",\n    ".join(f'"{c.name}" {c.duckdb_type}' for c in self.columns)
        return f'create table if not exists {schema}."{self.name}" (\n    {columns}\n)'


def _column(raw: dict) -> ColumnContract:
    meta = raw.get("meta") or {}
    data_type = str(raw["data_type"]).lower()
    if data_type not in DUCKDB_TYPES:
        raise ValueError(
            f"column {raw['name']!r} declares data_type {data_type!r}; the ingestion knows "
            f"{sorted(DUCKDB_TYPES)}"
        )
    accepted = meta.get("accepted_values")
    lower = meta.get("min")
    return ColumnContract(
        name=str(raw["name"]),
        data_type=data_type,
        nullable=bool(meta.get("nullable", True)),
        classification=str(meta.get("classification", "none")),
        accepted_values=tuple(str(v) for v in accepted) if accepted is not None else None,
        min=float(lower) if lower is not None else None,
        future_allowed=meta.get("future") == "allowed",
    )


def parse_contracts(path: Path) -> dict[str, TableContract]:
    """Read every table of every source in ``path``; returns them by table name."""
    document = yaml.safe_load(path.read_text())
    contracts: dict[str, TableContract] = {}
    for source in document.get("sources", []):
        for table in source.get("tables", []):
            meta = table.get("meta") or {}
            columns = tuple(_column(column) for column in table.get("columns", []))
            contracts[table["name"]] = TableContract(
                name=table["name"],
                columns=columns,
                key=tuple(meta.get("key") or ()),
                tenant_key=meta.get("tenant_key"),
                period=meta.get("period"),
            )
    return contracts


@cache
def load_contracts(path: Path = SOURCES_YML) -> dict[str, TableContract]:
    """The contracts of ``_peo__sources.yml`` (cached per path for the process)."""
    return parse_contracts(path)
