"""Shared fixtures for the estimator tests: real public panels that load offline."""

from __future__ import annotations

import pandas as pd
import pytest

from estimators import datasets


@pytest.fixture(scope="session")
def mpdta() -> pd.DataFrame:
    """Callaway & Sant'Anna (2021) minimum-wage county panel, 500 counties x 2003-2007."""
    moderndid = pytest.importorskip("moderndid")
    df = moderndid.load_mpdta().to_pandas()
    df["d"] = ((df["first.treat"] > 0) & (df["year"] >= df["first.treat"])).astype(int)
    return df


@pytest.fixture(scope="session")
def prop99() -> pd.DataFrame:
    """California Prop 99 cigarette panel, 39 states x 1970-2000 (estimators/data/README.md)."""
    return datasets.load_california_prop99()
