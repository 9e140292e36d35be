"""Metrics on hand-computed examples and on simulated predictions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, logit

from coadv_assets.models.metrics import (
    auc_delong,
    brier_score,
    calibration_fit,
    evaluate,
    expected_calibration_error,
    log_loss,
)
from coadv_assets.models.plots import reliability_plot

# Six rows. Bins of width 0.1: 0.05 -> bin 0, 0.15 -> bin 1, 0.35 and 0.35 -> bin 3,
# 0.85 -> bin 8, 0.95 -> bin 9.
P6 = np.array([0.05, 0.15, 0.35, 0.35, 0.85, 0.95])
Y6 = np.array([0, 0, 1, 0, 1, 1])


def test_ece_six_rows_by_hand() -> None:
    # |0-.05|*1 + |0-.15|*1 + |.5-.35|*2 + |1-.85|*1 + |1-.95|*1 = 0.70, over 6 rows
    assert expected_calibration_error(Y6, P6) == pytest.approx(0.70 / 6, abs=1e-12)


def test_brier_six_rows_by_hand() -> None:
    # .0025 + .0225 + .4225 + .1225 + .0225 + .0025 = 0.595, over 6 rows
    assert brier_score(Y6, P6) == pytest.approx(0.595 / 6, abs=1e-12)


def test_auc_and_log_loss_six_rows_by_hand() -> None:
    # positive 0.35 beats 0.05, 0.15 and ties 0.35 (1/2); 0.85 and 0.95 beat all three
    assert auc_delong(Y6, P6).auc == pytest.approx(8.5 / 9, abs=1e-12)
    expected = -(2 * math.log(0.95) + 2 * math.log(0.85) + math.log(0.35) + math.log(0.65)) / 6
    assert log_loss(Y6, P6) == pytest.approx(expected, abs=1e-12)


def test_delong_interval_covers_and_shrinks() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=4000)
    y = rng.binomial(1, expit(x))
    res = auc_delong(y, expit(x))
    assert res.ci_low < res.auc < res.ci_high
    assert 0.005 < res.std_error < 0.02  # about sqrt(AUC(1-AUC)/n_min) order


def test_calibration_slope_one_when_predictions_are_the_truth() -> None:
    # n = 200 000: the slope's standard error is about 0.006, so a 0.03 tolerance is 5 s.e.
    rng = np.random.default_rng(11)
    p = expit(rng.normal(-0.5, 1.2, size=200_000))
    y = rng.binomial(1, p)
    fit = calibration_fit(y, p)
    assert fit.slope == pytest.approx(1.0, abs=0.03)
    assert fit.intercept == pytest.approx(0.0, abs=0.03)
    assert fit.in_the_large == pytest.approx(0.0, abs=0.03)
    assert fit.slope_ci[0] < 1.0 < fit.slope_ci[1]


def test_calibration_slope_below_one_for_overconfident_predictions() -> None:
    rng = np.random.default_rng(12)
    p = expit(rng.normal(0.0, 1.0, size=50_000))
    y = rng.binomial(1, p)
    overconfident = expit(2.0 * logit(p))  # logits doubled: true slope 0.5
    fit = calibration_fit(y, overconfident)
    assert fit.slope == pytest.approx(0.5, abs=0.05)
    assert fit.slope_ci[1] < 1.0


def test_evaluate_refuses_one_class_and_nan() -> None:
    with pytest.raises(ValueError, match="both classes"):
        auc_delong(np.zeros(5), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="missing"):
        brier_score(np.array([0, 1]), np.array([0.5, np.nan]))


def test_evaluate_and_reliability_plot(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(size=2000)
    y = rng.binomial(1, p)
    m = evaluate(y, p)
    assert m.n == 2000
    assert m.to_dict()["ece_bins"] == 10
    png = reliability_plot(y, p, tmp_path / "rel.png", title="test window")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
