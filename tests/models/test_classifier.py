"""Time splits, calibrated xgboost on a simulated logistic process, persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.special import expit

from coadv_assets.models.classifier import (
    load_model,
    save_model,
    time_split,
    train_calibrated_classifier,
)
from coadv_assets.models.metrics import auc_delong, evaluate

START = datetime(2022, 1, 1, tzinfo=UTC)
SEGMENT_EFFECT = {"broker": 0.4, "direct": -0.3, "referral": 0.0}


def simulate(n: int = 24_000, seed: int = 7) -> pl.DataFrame:
    """Logistic DGP: logit p = -0.7 + 0.9 x1 - 0.6 x2 + 0.4 x3^2 - 0.4 + segment effect."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n))
    segment = rng.choice(list(SEGMENT_EFFECT), size=n)
    eta = -0.7 + 0.9 * x1 - 0.6 * x2 + 0.4 * (x3**2 - 1.0)
    eta += np.array([SEGMENT_EFFECT[s] for s in segment])
    p = expit(eta)
    days = np.sort(rng.integers(0, 730, size=n))
    return pl.DataFrame(
        {
            "ts": [START + timedelta(days=int(d)) for d in days],
            "x1": x1,
            "x2": x2,
            "x3": x3,
            "segment": segment,
            "p_true": p,
            "y": rng.binomial(1, p),
        }
    )


FEATURES = ["x1", "x2", "x3", "segment"]


def split(df: pl.DataFrame):
    return time_split(
        df,
        "ts",
        train_end=START + timedelta(days=450),
        gap=timedelta(days=90),
        calib_end=START + timedelta(days=600),
        test_end=START + timedelta(days=730),
        gap2=timedelta(days=30),
        horizon=timedelta(days=30),
    )


def test_time_split_windows_and_refusals() -> None:
    df = simulate(3000)
    s = split(df)
    assert s.train.get_column("ts").max() < START + timedelta(days=450)
    assert s.calib.get_column("ts").min() >= START + timedelta(days=540)
    assert s.test.get_column("ts").min() >= START + timedelta(days=630)
    assert s.windows["calibration"] == (
        (START + timedelta(days=540)).isoformat(),
        (START + timedelta(days=600)).isoformat(),
    )
    with pytest.raises(ValueError, match="shorter than the label horizon"):
        time_split(
            df,
            "ts",
            train_end=START + timedelta(days=450),
            gap=timedelta(days=10),
            calib_end=START + timedelta(days=600),
            test_end=START + timedelta(days=730),
            horizon=timedelta(days=30),
        )
    with pytest.raises(ValueError, match=r"test window .* holds 0 rows"):
        time_split(
            df,
            "ts",
            train_end=START + timedelta(days=450),
            gap=timedelta(days=30),
            calib_end=START + timedelta(days=600),
            test_end=START + timedelta(days=900),
            gap2=timedelta(days=200),
        )


@pytest.fixture(scope="module")
def fitted():
    df = simulate()
    s = split(df)
    model = train_calibrated_classifier(
        s.train, s.calib, FEATURES, "y", categorical=["segment"], seed=3
    )
    return s, model


def test_calibrated_xgboost_close_to_oracle_auc_on_later_window(fitted) -> None:
    s, model = fitted
    p, report = model.predict_proba(s.test)
    y = s.test.get_column("y").to_numpy()
    oracle = auc_delong(y, s.test.get_column("p_true").to_numpy()).auc
    got = evaluate(y, p)
    assert got.auc.auc > oracle - 0.02, (got.auc.auc, oracle)
    assert abs(got.calibration.in_the_large) < 0.1
    assert report.missing_columns == ()
    assert set(report.extra_columns) == {"ts", "p_true", "y"}
    assert report.unseen_categories == {}


def test_sigmoid_calibration_slope_near_one_on_later_window(fitted) -> None:
    # isotonic steps fitted on ~2 000 rows give slope ~0.75 here; Platt scaling ~0.9
    s, _ = fitted
    model = train_calibrated_classifier(
        s.train, s.calib, FEATURES, "y", categorical=["segment"], seed=3, method="sigmoid"
    )
    y = s.test.get_column("y").to_numpy()
    got = evaluate(y, model.predict_proba(s.test)[0])
    assert 0.8 < got.calibration.slope < 1.2
    assert abs(got.calibration.intercept) < 0.1


def test_training_is_deterministic_with_a_seed(fitted) -> None:
    s, model = fitted
    again = train_calibrated_classifier(
        s.train, s.calib, FEATURES, "y", categorical=["segment"], seed=3
    )
    head = s.test.head(500)
    assert np.array_equal(model.predict_proba(head)[0], again.predict_proba(head)[0])


def test_unseen_category_and_missing_column_are_counted(fitted) -> None:
    _, model = fitted
    batch = pl.DataFrame(
        {
            "x1": [0.1, 0.2, None],
            "x3": [0.0, 1.0, 2.0],
            "segment": ["broker", "partner", "partner"],
            "noise": [1, 2, 3],
        }
    )
    p, report = model.predict_proba(batch)
    assert p.shape == (3,)
    assert np.all((p >= 0) & (p <= 1))
    assert report.missing_columns == ("x2",)
    assert report.extra_columns == ("noise",)
    assert report.unseen_categories == {"segment": 2}
    assert report.null_values == {"x1": 1}


def test_save_load_reproduces_golden_batch(fitted, tmp_path: Path) -> None:
    s, model = fitted
    paths = save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert np.array_equal(loaded.predict_proba(s.test)[0], model.predict_proba(s.test)[0])
    import json

    meta = json.loads(paths["metadata"].read_text())
    assert meta["features"] == FEATURES
    assert len(meta["golden_predictions"]) == 256
    assert {"xgboost", "scikit-learn", "numpy"} <= set(meta["library_versions"])
    paths["model"].write_bytes(paths["model"].read_bytes() + b"\0")
    with pytest.raises(ValueError, match="refusing to load"):
        load_model(tmp_path / "m")


def test_single_class_calibration_window_is_refused(fitted) -> None:
    s, _ = fitted
    with pytest.raises(ValueError, match="single class in the calibration window"):
        train_calibrated_classifier(
            s.train, s.calib.filter(pl.col("y") == 1), FEATURES, "y", categorical=["segment"]
        )
