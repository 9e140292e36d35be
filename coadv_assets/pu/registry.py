"""The PU registry: what one productivity unit (PU) of each in-scope function is.

The one declaration is the dbt seed ``dbt_project/seeds/pu/pu_registry.csv``: dbt joins it in
``int_pu_units_team_day`` to count PUs, and this module reads the same file for the readouts,
the documents and the tests, so that the definition of a PU cannot drift between the two.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from coadv_assets import paths

REGISTRY_PATH = paths.DBT_PROJECT_DIR / "seeds" / "pu" / "pu_registry.csv"
COLUMNS = (
    "function",
    "unit",
    "item_type",
    "quality_gate",
    "grain",
    "hours_column",
    "loaded_cost_column",
    "source_columns",
)


@dataclass(frozen=True)
class PuDefinition:
    """One function's PU: its unit, quality gate, grain, denominator and source columns."""

    function: str
    unit: str
    item_type: str
    quality_gate: str
    grain: str
    hours_column: str
    loaded_cost_column: str
    source_columns: tuple[str, ...]


def load_registry(path: Path = REGISTRY_PATH) -> dict[str, PuDefinition]:
    """Return the registry keyed by function.

    Refuses (ValueError naming the file, column, rule and row count) a missing column, an
    empty value, or a function or item_type declared twice.
    """
    frame = pl.read_csv(path, infer_schema=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"PU registry {path}: missing column(s) {missing}")
    for column in COLUMNS:
        empty = frame.filter(pl.col(column).is_null() | (pl.col(column).str.strip_chars() == ""))
        if empty.height:
            raise ValueError(
                f"PU registry {path}: column {column!r} is empty in {empty.height} row(s); "
                "every field of a PU definition is required"
            )
    for column in ("function", "item_type"):
        dupes = frame.filter(pl.col(column).is_duplicated())
        if dupes.height:
            raise ValueError(
                f"PU registry {path}: column {column!r} must be unique; {dupes.height} rows "
                f"share values {sorted(set(dupes[column].to_list()))}"
            )
    return {
        row["function"]: PuDefinition(
            **{k: v for k, v in row.items() if k != "source_columns"},
            source_columns=tuple(s.strip() for s in row["source_columns"].split(";")),
        )
        for row in frame.iter_rows(named=True)
    }
