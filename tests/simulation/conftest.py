"""Shared simulations: a small one twice with one seed, once with another, and the default."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from coadv_assets.simulation import SimulationConfig, SimulationSummary, simulate

END = dt.date(2025, 6, 15)
SMALL = SimulationConfig(seed=11, clients=300, months=24, end_date=END)


def run(config: SimulationConfig, root: Path) -> SimulationSummary:
    return simulate(config, landing=root / "landing", truths=root / "truths", progress=False)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> SimulationSummary:
    return run(SMALL, tmp_path_factory.mktemp("small_a"))


@pytest.fixture(scope="session")
def small_again(tmp_path_factory: pytest.TempPathFactory) -> SimulationSummary:
    return run(SMALL, tmp_path_factory.mktemp("small_b"))


@pytest.fixture(scope="session")
def small_other_seed(tmp_path_factory: pytest.TempPathFactory) -> SimulationSummary:
    config = SimulationConfig(seed=12, clients=300, months=24, end_date=END)
    return run(config, tmp_path_factory.mktemp("small_c"))


@pytest.fixture(scope="session")
def default(tmp_path_factory: pytest.TempPathFactory) -> SimulationSummary:
    return run(SimulationConfig(end_date=END), tmp_path_factory.mktemp("default"))


def table(summary: SimulationSummary, name: str) -> pl.DataFrame:
    """All loads of one landed table, in load order."""
    return pl.concat([pl.read_parquet(p) for p in summary.files[name]])
