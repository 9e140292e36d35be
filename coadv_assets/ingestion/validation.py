"""Checks of one landed Parquet file against its source contract, in DuckDB SQL.

The file is first read into a temporary table (``read_parquet``), then every rule runs as
one aggregate query over it. Each broken rule becomes a `Violation` that names the table,
the column, the rule and the number of rows that break it.

Types: the file's column must have the declared DuckDB type or one that converts to it
without loss: any integer type for ``integer``/``bigint`` (values must fit), float or
integer types for ``double``. Anything else (a date sent as text, an amount sent as text, a
count sent as a float) is refused. A naive ``TIMESTAMP`` where the contract declares
``timestamp with time zone`` is refused under its own rule, ``timezone``: a local wall-clock
time is ambiguous in the hour a DST change repeats, so no zone is guessed for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from coadv_assets.ingestion.contracts import TableContract

INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
    }
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})
NAIVE_TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"})

COMPATIBLE_TYPES: dict[str, frozenset[str]] = {
    "VARCHAR": frozenset({"VARCHAR"}),
    "DATE": frozenset({"DATE"}),
    "BOOLEAN": frozenset({"BOOLEAN"}),
    "INTEGER": INTEGER_TYPES,
    "BIGINT": INTEGER_TYPES,
    "DOUBLE": FLOAT_TYPES | INTEGER_TYPES,
    "TIMESTAMP WITH TIME ZONE": frozenset({"TIMESTAMP WITH TIME ZONE"}),
}

INCOMING = "_coadv_incoming"


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


@dataclass(frozen=True)
class Violation:
    """One broken rule of a file: which table and column, which rule, how many rows."""

    table: str
    column: str | None
    rule: str
    rows: int
    detail: str

    @property
    def message(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: {self.detail} (rule: {self.rule})"

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "column": self.column,
            "rule": self.rule,
            "rows": self.rows,
            "message": self.message,
        }


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0] or 0) if row else 0


def stage_file(con: duckdb.DuckDBPyConnection, path: str) -> dict[str, str]:
    """Read ``path`` into the temporary table ``_coadv_incoming``; returns column -> type.

    Raises duckdb.Error when the file is not readable Parquet.
    """
    con.execute(f"create or replace temp table {INCOMING} as select * from read_parquet(?)", [path])
    described = con.execute(f"describe {INCOMING}").fetchall()
    return {str(name): str(dtype) for name, dtype, *_ in described}


def check_schema(
    contract: TableContract, file_types: dict[str, str], n_rows: int
) -> list[Violation]:
    """Column presence (in any order), no undeclared column, and compatible types.

    A schema violation concerns every row of the file, so each counts ``n_rows``.
    """
    every = f"all {_rows(n_rows)}"
    violations: list[Violation] = []
    for column in contract.columns:
        if column.name not in file_types:
            violations.append(
                Violation(
                    contract.name,
                    column.name,
                    "columns",
                    n_rows,
                    f"declared column missing from the file ({every} lack it)",
                )
            )
            continue
        found = file_types[column.name]
        if column.duckdb_type == "TIMESTAMP WITH TIME ZONE" and found in NAIVE_TIMESTAMP_TYPES:
            violations.append(
                Violation(
                    contract.name,
                    column.name,
                    "timezone",
                    n_rows,
                    f"{every} typed {found} without a time zone, the contract declares "
                    f"{column.data_type}; export instants in UTC or with their offset (a "
                    "local time is ambiguous across a DST change, so none is assumed)",
                )
            )
            continue
        if found not in COMPATIBLE_TYPES[column.duckdb_type]:
            violations.append(
                Violation(
                    contract.name,
                    column.name,
                    "data_type",
                    n_rows,
                    f"{every} typed {found}, the contract declares {column.data_type}",
                )
            )
    for name in file_types:
        if name not in contract.column_names:
            violations.append(
                Violation(
                    contract.name,
                    name,
                    "columns",
                    n_rows,
                    f"column not declared in the contract ({every}; renamed or extra); "
                    "add it to _peo__sources.yml or drop it from the export",
                )
            )
    return violations


def check_rows(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    file_types: dict[str, str],
    raw_table: str,
) -> list[Violation]:
    """Row-level rules over the staged file, and key uniqueness against ``raw_table``.

    Assumes `check_schema` passed. ``raw_table`` is the qualified table already loaded.
    """
    table = contract.name
    violations: list[Violation] = []
    for column in contract.columns:
        col = _quote(column.name)
        found = file_types[column.name]
        if column.duckdb_type in {"INTEGER", "BIGINT"} and found != column.duckdb_type:
            bad = _scalar(
                con,
                f"select count(*) from {INCOMING} where {col} is not null "
                f"and try_cast({col} as {column.duckdb_type}) is null",
            )
            if bad:
                violations.append(
                    Violation(
                        table,
                        column.name,
                        "data_type",
                        bad,
                        f"{_rows(bad)} do not fit {column.data_type}",
                    )
                )
        if not column.nullable:
            bad = _scalar(con, f"select count(*) from {INCOMING} where {col} is null")
            if bad:
                violations.append(
                    Violation(
                        table,
                        column.name,
                        "not_null",
                        bad,
                        f"{_rows(bad)} null in a column declared not nullable",
                    )
                )
        if found in FLOAT_TYPES:
            bad = _scalar(
                con,
                f"select count(*) from {INCOMING} where isnan({col}) or isinf({col})",
            )
            if bad:
                violations.append(
                    Violation(
                        table,
                        column.name,
                        "nan",
                        bad,
                        f"{_rows(bad)} hold NaN or infinity; send a missing value as null",
                    )
                )
        if column.accepted_values is not None:
            values = ", ".join(_literal(v) for v in column.accepted_values)
            bad = _scalar(
                con,
                f"select count(*) from {INCOMING} where {col} is not null "
                f"and cast({col} as varchar) not in ({values})",
            )
            if bad:
                violations.append(
                    Violation(
                        table,
                        column.name,
                        "accepted_values",
                        bad,
                        f"{_rows(bad)} outside the accepted values {list(column.accepted_values)}",
                    )
                )
        if column.min is not None:
            bad = _scalar(con, f"select count(*) from {INCOMING} where {col} < {column.min!r}")
            if bad:
                bound = int(column.min) if column.min.is_integer() else column.min
                violations.append(
                    Violation(
                        table,
                        column.name,
                        "min",
                        bad,
                        f"{_rows(bad)} below the minimum {bound}",
                    )
                )
    if contract.key:
        violations.extend(_check_key(con, contract, raw_table))
    return violations


def _check_key(
    con: duckdb.DuckDBPyConnection, contract: TableContract, raw_table: str
) -> list[Violation]:
    keys = ", ".join(_quote(k) for k in contract.key)
    key_label = "+".join(contract.key)
    violations: list[Violation] = []
    duplicated = _scalar(
        con,
        f"select sum(n) from (select count(*) as n from {INCOMING} "
        f"group by {keys} having count(*) > 1)",
    )
    if duplicated:
        violations.append(
            Violation(
                contract.name,
                key_label,
                "unique",
                duplicated,
                f"{_rows(duplicated)} share their key with another row of the file",
            )
        )
    match = " and ".join(f"r.{_quote(k)} = i.{_quote(k)}" for k in contract.key)
    already = _scalar(
        con,
        f"select count(*) from {INCOMING} as i "
        f"where exists (select 1 from {raw_table} as r where {match})",
    )
    if already:
        violations.append(
            Violation(
                contract.name,
                key_label,
                "unique_loaded",
                already,
                f"{_rows(already)} repeat a key already loaded in {raw_table}; "
                "a correction needs a new key (for payroll runs, a higher revision)",
            )
        )
    return violations
