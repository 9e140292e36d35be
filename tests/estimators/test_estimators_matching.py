"""Propensity-score matching on NSW treated + CPS controls (Dehejia & Wahba 1999).

The experimental benchmark is $1,794 (NSW treated minus NSW experimental controls, re78).
With Dehejia-Wahba's CPS propensity specification, nearest-neighbour matching with replacement
should land within $600 of it and its 95% interval should cover it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimators import IdentificationError, InputError, datasets, matching

EXPERIMENTAL_ATT = 1794.0
TOL = 600.0
COVARIATES = datasets.NSW_CPS_COVARIATES


@pytest.fixture(scope="module")
def nsw_cps() -> pd.DataFrame:
    pytest.importorskip("causaldata")
    assert datasets.nsw_experimental_att() == pytest.approx(EXPERIMENTAL_ATT, abs=1.0)
    return datasets.load_nsw_cps()


@pytest.mark.parametrize("ratio", [1, 3])
def test_nn_matching_recovers_experimental_att(nsw_cps: pd.DataFrame, ratio: int) -> None:
    res = matching.psm(
        nsw_cps,
        treatment="treat",
        outcome="re78",
        covariates=COVARIATES,
        caliper=0.2,
        ratio=ratio,
        replace=True,
    )
    # measured: ratio 1 -> 2,118 (SE 849); ratio 3 -> 1,679 (SE 752)
    assert abs(res.estimate - EXPERIMENTAL_ATT) < TOL
    assert res.ci_low < EXPERIMENTAL_ATT < res.ci_high
    assert res.diagnostics["max_abs_smd_before"] > 1.0
    assert res.diagnostics["max_abs_smd_after"] < 0.15
    assert res.n_treated_matched == 185
    assert 0 <= res.diagnostics["overlap"]["share_treated_off_support"] < 0.1
    assert len(res.balance) == len(COVARIATES)
    assert res.to_dict()["balance"][0]["covariate"] == "age"


def test_without_replacement_runs_and_reports_balance(nsw_cps: pd.DataFrame) -> None:
    res = matching.psm(
        nsw_cps,
        treatment="treat",
        outcome="re78",
        covariates=COVARIATES,
        caliper=0.2,
        ratio=1,
        replace=False,
    )
    assert res.n_controls_used == res.n_treated_matched  # each control used once
    assert np.isfinite(res.std_error) and res.std_error > 0


def test_hand_computed_matching() -> None:
    # one covariate, propensity monotone in it: matches are the nearest x
    df = pd.DataFrame(
        {
            "d": [1, 1, 0, 0, 0, 0],
            "x": [1.0, 3.0, 0.9, 1.2, 2.8, 5.0],
            "y": [10.0, 20.0, 7.0, 8.0, 15.0, 1.0],
        }
    )
    res = matching.psm(df, treatment="d", outcome="y", covariates=["x"], caliper=None, on="pscore")
    # treated x=1 -> control x=0.9 (y 7): 3; treated x=3 -> control x=2.8 (y 15): 5
    assert res.estimate == pytest.approx(4.0)
    # no control reused: V = sum((tau_i - att)^2) / N1^2 = (1 + 1) / 4
    assert res.std_error == pytest.approx(np.sqrt(0.5))


def test_refuses_no_overlap() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 100), rng.normal(3.0, 1, 100)])
    d = np.r_[np.zeros(100), np.ones(100)]
    df = pd.DataFrame({"d": d, "x": x, "y": x + d})
    with pytest.raises(IdentificationError, match="without overlap"):
        matching.psm(df, treatment="d", outcome="y", covariates=["x"], caliper=0.01, replace=False)
    sep = pd.DataFrame({"d": d, "x": np.r_[np.zeros(100), np.ones(100)] + 0.0, "y": d})
    sep["x"] += rng.uniform(0, 0.1, 200)
    with pytest.raises(IdentificationError, match="without overlap"):
        matching.psm(sep, treatment="d", outcome="y", covariates=["x"])


def test_refuses_malformed_input() -> None:
    df = pd.DataFrame({"d": [0, 1, 2], "x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="0/1"):
        matching.psm(df, treatment="d", outcome="y", covariates=["x"])
    with pytest.raises(InputError, match="missing column"):
        matching.psm(df, treatment="d", outcome="y", covariates=["z"])
