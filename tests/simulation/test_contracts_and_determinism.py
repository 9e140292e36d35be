"""Every landed file honours its source contract; the seed alone decides the bytes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from coadv_assets.paths import DBT_PROJECT_DIR

TYPES = {
    "varchar": pl.Utf8(),
    "date": pl.Date(),
    "double": pl.Float64(),
    "integer": pl.Int32(),
    "boolean": pl.Boolean(),
    "timestamp with time zone": pl.Datetime("us", "UTC"),
}


def _contracts() -> dict[str, dict]:
    spec = yaml.safe_load(
        (DBT_PROJECT_DIR / "models" / "staging" / "_peo__sources.yml").read_text()
    )
    return {t["name"]: t for s in spec["sources"] for t in s["tables"]}


def test_every_contract_table_is_written(small) -> None:
    assert set(small.files) == set(_contracts())
    for name, files in small.files.items():
        assert files[0].name == "sim-11-0001.parquet", name
        assert files[0].parent == small.landing / name
    assert [p.name for p in small.files["payroll_runs"]] == [
        "sim-11-0001.parquet",
        "sim-11-0002.parquet",
    ]


@pytest.mark.parametrize("name", sorted(_contracts()))
def test_file_matches_contract(small, name: str) -> None:
    contract = _contracts()[name]
    for path in small.files[name]:
        frame = pl.read_parquet(path)
        assert frame.height > 0, path
        expected = [(c["name"], TYPES[c["data_type"]]) for c in contract["columns"]]
        assert list(frame.schema.items()) == expected
        for col in contract["columns"]:
            meta = col.get("meta", {})
            series = frame[col["name"]]
            if meta.get("nullable") is False:
                assert series.null_count() == 0, col["name"]
            if "accepted_values" in meta:
                assert set(series.drop_nulls().unique()) <= set(meta["accepted_values"])
            if "min" in meta:
                assert series.min() >= meta["min"], col["name"]
    key = contract.get("meta", {}).get("key")
    if key:
        frame = table(small, name)
        assert frame.select(key).is_duplicated().sum() == 0


def _bytes(paths: list[Path]) -> list[bytes]:
    return [p.read_bytes() for p in paths]


def test_same_seed_same_bytes(small, small_again) -> None:
    for name in small.files:
        assert _bytes(small.files[name]) == _bytes(small_again.files[name]), name
    for truth in sorted(small.truths.iterdir()):
        assert truth.read_bytes() == (small_again.truths / truth.name).read_bytes(), truth.name


def test_other_seed_other_bytes(small, small_other_seed) -> None:
    for name in ("clients", "employees", "payroll_runs", "contacts", "claims", "work_items"):
        assert _bytes(small.files[name]) != _bytes(small_other_seed.files[name]), name


def test_loaded_at_not_after_end_of_load(small) -> None:
    end = pl.datetime(2025, 6, 15, 6, time_zone="UTC")
    for name in small.files:
        frame = table(small, name)
        assert frame.select((pl.col("_loaded_at") <= end).all()).item(), name


def table(summary, name: str) -> pl.DataFrame:
    """All loads of one landed table, in load order."""
    return pl.concat([pl.read_parquet(p) for p in summary.files[name]])
