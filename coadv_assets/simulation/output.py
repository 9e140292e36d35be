"""Writing landing files and truths deterministically.

Parquet is written by polars with fixed settings (zstd level 3, statistics, fixed row-group
size) from frames whose row order is fixed, so the same frame gives the same bytes. JSON is
written with sorted keys and a fixed indent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

ROW_GROUP_SIZE = 262_144


def write_parquet(frame: pl.DataFrame, path: Path) -> int:
    """Write ``frame`` to ``path`` (parents created) and return the file's size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(
        path,
        compression="zstd",
        compression_level=3,
        statistics=True,
        row_group_size=ROW_GROUP_SIZE,
    )
    return path.stat().st_size


def write_json(payload: dict[str, Any], path: Path) -> int:
    """Write ``payload`` as indented JSON with sorted keys and return the file's size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    return path.stat().st_size


def clear_simulated(table_dir: Path) -> None:
    """Remove earlier simulated loads (``sim-*.parquet``) of one table; other files stay."""
    if table_dir.is_dir():
        for old in sorted(table_dir.glob("sim-*.parquet")):
            old.unlink()
