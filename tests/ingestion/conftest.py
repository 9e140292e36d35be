"""Fixtures of the ingestion tests: a temporary data directory and a landing writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from coadv_assets.ingestion import ensure_raw_tables
from coadv_assets.warehouse import connect

Writer = Callable[..., Path]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "landing").mkdir()
    return tmp_path


@pytest.fixture
def write(home: Path) -> Writer:
    """Write rows (or a frame) as ``landing/<table>/<name>.parquet``; returns the path."""

    def _write(
        table: str,
        name: str,
        rows: list[dict[str, object]] | pl.DataFrame,
        schema: dict[str, pl.DataType] | None = None,
    ) -> Path:
        frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows, schema=schema)
        folder = home / "landing" / table
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.parquet"
        frame.write_parquet(path)
        return path

    return _write


@pytest.fixture
def tenants(home: Path) -> Path:
    """``home`` whose tenant registry ``raw.clients`` already holds client C001.

    Inserted directly, as if an earlier clients file had loaded it, so that the ledger and
    the reports of the tests stay about the table under test.
    """
    with connect(home / "warehouse.duckdb") as con:
        ensure_raw_tables(con)
        con.execute(
            "insert into raw.clients (client_id, client_name, industry, state, pay_frequency, "
            "sales_channel, signup_date, _loaded_at) values ('C001', 'Acme Tools', 'retail', "
            "'TX', 'biweekly', 'direct', date '2020-01-06', timestamptz '2020-01-07 05:00:00+00')"
        )
    return home
