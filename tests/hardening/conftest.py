"""Fixtures of the hardening tests: a data directory and a landing writer."""

from pathlib import Path

import polars as pl
import pytest

from hardening.helpers import Writer


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "landing").mkdir()
    return tmp_path


@pytest.fixture
def write(home: Path) -> Writer:
    """Write a frame as ``landing/<table>/<name>.parquet``; returns the path."""

    def _write(table: str, name: str, frame: pl.DataFrame) -> Path:
        folder = home / "landing" / table
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.parquet"
        frame.write_parquet(path)
        return path

    return _write
