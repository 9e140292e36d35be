"""The source contracts as polars schemas, and the check that a frame honours its contract.

Reads ``dbt_project/models/staging/_peo__sources.yml`` (the one declaration of every source
table) and maps its ``data_type``s to polars dtypes. ``conform`` selects and casts a frame to
its contract and refuses it when a rule of the contract's ``meta`` is broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from coadv_assets.paths import DBT_PROJECT_DIR

SOURCES_YAML = DBT_PROJECT_DIR / "models" / "staging" / "_peo__sources.yml"

DTYPES: dict[str, pl.DataType] = {
    "varchar": pl.Utf8(),
    "date": pl.Date(),
    "double": pl.Float64(),
    "integer": pl.Int32(),
    "boolean": pl.Boolean(),
    "timestamp with time zone": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class ColumnContract:
    name: str
    dtype: pl.DataType
    nullable: bool
    accepted_values: tuple[str, ...] | None
    min: float | None


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: tuple[ColumnContract, ...]
    key: tuple[str, ...]

    @property
    def schema(self) -> pl.Schema:
        """Return the polars schema (names, order, dtypes) of the table."""
        return pl.Schema({c.name: c.dtype for c in self.columns})


@cache
def load_contracts(path: Path = SOURCES_YAML) -> dict[str, TableContract]:
    """Return the contract of every source table, keyed by table name, in YAML order.

    Refuses a column whose ``data_type`` has no polars mapping.
    """
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    tables: dict[str, TableContract] = {}
    for source in spec["sources"]:
        for table in source["tables"]:
            columns = []
            for col in table["columns"]:
                dtype_name = col["data_type"]
                if dtype_name not in DTYPES:
                    raise ValueError(
                        f"{table['name']}.{col['name']}: data_type {dtype_name!r} has no mapping"
                    )
                meta = col.get("meta", {})
                accepted = meta.get("accepted_values")
                columns.append(
                    ColumnContract(
                        name=col["name"],
                        dtype=DTYPES[dtype_name],
                        nullable=bool(meta.get("nullable", True)),
                        accepted_values=tuple(accepted) if accepted else None,
                        min=meta.get("min"),
                    )
                )
            key = tuple(table.get("meta", {}).get("key", []))
            tables[table["name"]] = TableContract(table["name"], tuple(columns), key)
    return tables


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with exactly the contract's columns, order and dtypes of ``table``.

    Refuses (ValueError naming table, column, row count and rule) a missing column, a null in
    a non-nullable column, a value outside ``accepted_values``, a value below ``min`` or a
    duplicated key.
    """
    contract = load_contracts()[table]
    missing = [c.name for c in contract.columns if c.name not in frame.columns]
    if missing:
        raise ValueError(f"{table}: columns {missing} missing from the simulated frame")
    out = frame.select([pl.col(c.name).cast(c.dtype, strict=True) for c in contract.columns])
    for col in contract.columns:
        series = out.get_column(col.name)
        nulls = series.null_count()
        if nulls and not col.nullable:
            raise ValueError(f"{table}.{col.name}: {nulls} nulls in a non-nullable column")
        if col.accepted_values is not None:
            bad = (~series.is_in(list(col.accepted_values)) & series.is_not_null()).sum()
            if bad:
                raise ValueError(
                    f"{table}.{col.name}: {bad} rows outside accepted_values "
                    f"{list(col.accepted_values)}"
                )
        if col.min is not None:
            below = (series < col.min).sum()
            if below:
                raise ValueError(f"{table}.{col.name}: {below} rows below min {col.min}")
    if contract.key:
        dupes = out.height - out.select(contract.key).unique().height
        if dupes:
            raise ValueError(f"{table}: {dupes} duplicated keys on {list(contract.key)}")
    return out
