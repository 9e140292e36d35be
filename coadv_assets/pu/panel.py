"""Team-month panels of one function, read from the PU marts, in the shape estimators take."""

import duckdb
import polars as pl

PANEL_COLUMNS = [
    "team_id",
    "function",
    "month",
    "pu",
    "hours",
    "labor_cost",
    "c_r",
    "pu_per_hour",
    "first_ai_month",
    "site",
    "agents",
    "complete_month",
]


def load_team_month_panel(con: duckdb.DuckDBPyConnection, function: str) -> pl.DataFrame:
    """Return the team-month PU panel of ``function``, sorted by team and month.

    Adds ``month_idx`` (1 = first month of the panel) and ``first_treated_idx`` (the index of
    the first month with AI tooling; 0 for teams never treated), the integer clocks that the
    difference-in-differences estimators take. Raises ValueError naming the table when the
    function has no rows.
    """
    frame = con.sql(
        f"""
        select {", ".join(PANEL_COLUMNS)}
        from marts.fct_team_month_pu
        where function = ?
        order by team_id, month
        """,
        params=[function],
    ).pl()
    if frame.is_empty():
        raise ValueError(
            f"marts.fct_team_month_pu has no rows for function {function!r}; "
            "run the dbt build first or check the function name"
        )
    return add_clocks(frame)


def _month_number(col: pl.Expr) -> pl.Expr:
    return col.dt.year().cast(pl.Int64) * 12 + col.dt.month().cast(pl.Int64)


def add_clocks(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``month_idx`` and ``first_treated_idx`` (0 = never treated) to a team-month panel."""
    origin = _month_number(pl.col("month")).min() - 1
    return frame.with_columns(
        month_idx=_month_number(pl.col("month")) - origin,
        first_treated_idx=(_month_number(pl.col("first_ai_month")) - origin).fill_null(0),
    ).sort(["team_id", "month"])
