"""Fixtures of the ingestion tests: a temporary data directory and a landing writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

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
