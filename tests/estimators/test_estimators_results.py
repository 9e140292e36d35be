"""The common result shape: frozen, JSON-exportable, readable, same core fields everywhere."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from estimators import EstimateResult, did, its, matching, synthetic_control

CORE = {"estimate", "std_error", "ci_low", "ci_high", "n_obs", "method", "diagnostics"}


def _results(mpdta: pd.DataFrame, prop99: pd.DataFrame) -> list[EstimateResult]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    d = (rng.uniform(size=300) < 1 / (1 + np.exp(-x))).astype(int)
    psm_df = pd.DataFrame({"d": d, "x": x, "y": x + d + rng.normal(size=300)})
    series = pd.DataFrame({"t": np.arange(40), "y": np.arange(40.0) + (np.arange(40) >= 30)})
    series["y"] += rng.normal(scale=0.1, size=40)
    cols = {"unit": "countyreal", "time": "year", "outcome": "lemp"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            did.twfe(mpdta, **cols, treated="d"),
            did.event_study(mpdta, **cols, first_treated="first.treat"),
            did.staggered(mpdta, **cols, first_treated="first.treat"),
            synthetic_control.fit(
                prop99,
                unit="State",
                time="Year",
                outcome="PacksPerCapita",
                treated_unit="California",
                treatment_time=1989,
            ),
            matching.psm(psm_df, treatment="d", outcome="y", covariates=["x"]),
            its.fit(series, time="t", outcome="y", intervention=30),
        ]


def test_common_shape(mpdta: pd.DataFrame, prop99: pd.DataFrame) -> None:
    for res in _results(mpdta, prop99):
        names = {f.name for f in dataclasses.fields(res)}
        assert names >= CORE
        assert res.ci_low <= res.estimate <= res.ci_high
        assert "dropped_rows" in res.diagnostics
        payload = json.loads(json.dumps(res.to_dict()))
        assert payload["method"] == res.method
        assert str(res) == res.summary() and res.method in str(res)
        with pytest.raises(dataclasses.FrozenInstanceError):
            res.estimate = 1.0  # type: ignore[misc]


def test_twfe_cluster_on_coarser_groups(mpdta: pd.DataFrame) -> None:
    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = did.twfe(
            df, unit="countyreal", time="year", outcome="lemp", treated="d", cluster="state"
        )
    assert res.n_clusters == df["state"].nunique()
    assert res.diagnostics["inference"].endswith(f"{res.n_clusters - 1} df")
