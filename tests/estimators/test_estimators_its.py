"""Interrupted time series: a hand-computed series, a simulated one, HAC against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from estimators import IdentificationError, InputError, its


def test_hand_computed_series() -> None:
    # pre: y = 1 + t (t = 0..7); post from t = 8: level +5 and slope 3 instead of 1
    t = np.arange(14)
    y = np.where(t < 8, 1.0 + t, 1.0 + t + 5.0 + 2.0 * (t - 8))
    df = pd.DataFrame({"month": t + 100, "y": y})
    res = its.fit(df, time="month", outcome="y", intervention=108)
    assert res.estimate == pytest.approx(5.0, abs=1e-9)
    assert res.slope_change == pytest.approx(2.0, abs=1e-9)
    seg = res.segments.set_index("term")["estimate"]
    assert seg["intercept"] == pytest.approx(1.0)
    assert seg["pre_slope"] == pytest.approx(1.0)
    # mean post effect: 5 + 2 * mean(0..5) = 10
    assert seg["mean_post_effect"] == pytest.approx(10.0)
    assert res.diagnostics["hac_lags"] == 2  # floor(4 * 0.14^(2/9)) = floor(2.57)
    assert res.fitted["counterfactual"].iloc[-1] == pytest.approx(14.0)


def test_hac_matches_statsmodels_and_recovers_simulated_change() -> None:
    rng = np.random.default_rng(11)
    n, t0 = 120, 80
    t = np.arange(n)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = 0.3 * e[i - 1] + rng.normal()
    season = 2.0 * np.sin(2 * np.pi * t / 12)
    y = 10 + 0.05 * t + 3.0 * (t >= t0) + 0.1 * (t - t0) * (t >= t0) + season + e
    dates = pd.date_range("2015-01-01", periods=n, freq="MS")
    df = pd.DataFrame({"date": dates, "y": y})
    res = its.fit(
        df, time="date", outcome="y", intervention=dates[t0], seasonal_period=12, fourier=2
    )
    assert res.ci_low < 3.0 < res.ci_high
    assert res.slope_change == pytest.approx(0.1, abs=0.06)
    lags = its.newey_west_lags(n)
    assert lags == 4
    post = (t >= t0).astype(float)
    x = np.column_stack(
        [np.ones(n), t, post, (t - t0) * post]
        + [f(2 * np.pi * k * t / 12) for k in (1, 2) for f in (np.sin, np.cos)]
    )
    oracle = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": lags}, use_t=True)
    assert res.estimate == pytest.approx(oracle.params[2], abs=1e-9)
    # our SE = plain Newey-West x the white-noise bias factor (> 1 for this design)
    factor = res.diagnostics["hac_bias_factor_level"]
    assert factor > 1.0
    assert res.std_error == pytest.approx(oracle.bse[2] * np.sqrt(factor), rel=1e-9)
    assert res.diagnostics["critical_value"] == pytest.approx(1.96 + 2.9694 * 4 / 120, abs=1e-3)
    assert 0 < res.diagnostics["placebo_p_value"] <= 1
    assert res.diagnostics["n_placebos"] == len(res.placebos) > 50


def test_seasonal_dummies() -> None:
    t = np.arange(48)
    y = 5 + (t % 4 == 1) * 2.0 + (t >= 30) * 4.0
    res = its.fit(
        pd.DataFrame({"t": t, "y": y}), time="t", outcome="y", intervention=30, seasonal_period=4
    )
    assert res.estimate == pytest.approx(4.0, abs=1e-9)


def test_refuses_short_pre_period_and_no_post() -> None:
    df = pd.DataFrame({"t": np.arange(20), "y": np.arange(20.0)})
    with pytest.raises(IdentificationError, match="too short a pre-period"):
        its.fit(df, time="t", outcome="y", intervention=5)
    with pytest.raises(IdentificationError, match="no period at or after"):
        its.fit(df, time="t", outcome="y", intervention=50)


def test_refuses_rank_deficient_and_duplicates() -> None:
    df = pd.DataFrame({"t": np.arange(12), "y": np.arange(12.0)})
    with pytest.raises(IdentificationError, match="not identified"):
        its.fit(df, time="t", outcome="y", intervention=9, seasonal_period=12)
    dup = pd.DataFrame({"t": [1, 1, 2], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="duplicated"):
        its.fit(dup, time="t", outcome="y", intervention=2)
