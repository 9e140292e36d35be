"""Each classifier against the simulator's planted probabilities on its own test rows.

The oracle is the AUC of the true probabilities on exactly the rows the model was tested on
(``tests/models/oracles.py`` says which probability, per model); a model that learnt what the
data allow comes within 0.05 of it, and a calibrated one has a calibration slope between 0.8
and 1.2 (``coadv_assets.models.metrics.calibration_fit``).
"""

import json
import re
from datetime import datetime

import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from coadv_assets.models.metrics import calibration_fit

from .oracles import oracle_frame


def test_the_build_trained_and_promoted_every_model(models_home):
    failed = re.search(r"^FAILED_STEPS (.*)$", models_home.build_log, re.MULTILINE)
    assert failed is not None and failed.group(1) == "", models_home.build_log[-3000:]
    with models_home.connect() as con:
        rows = con.sql("select model, promoted from ml.model_registry order by model").fetchall()
    assert rows == [("churn", True), ("payroll_exception", True), ("renewal_propensity", True)]


@pytest.mark.parametrize(
    ("model", "min_rows", "min_events"),
    [("renewal_propensity", 1000, 100), ("churn", 10_000, 50), ("payroll_exception", 10_000, 5000)],
)
def test_auc_within_0_05_of_the_oracle_and_calibration_slope_in_0_8_to_1_2(
    models_home, model, min_rows, min_events
):
    with models_home.connect() as con:
        frame = oracle_frame(con, models_home.home / "truths", model)
    assert frame["oracle"].null_count() == 0  # every test row has its planted probability
    y, p, o = frame["label"].to_numpy(), frame["prediction"].to_numpy(), frame["oracle"].to_numpy()
    assert frame.height >= min_rows and y.sum() >= min_events
    auc_ours, auc_oracle = roc_auc_score(y, p), roc_auc_score(y, o)
    assert abs(auc_ours - auc_oracle) <= 0.05, (auc_ours, auc_oracle)
    assert 0.8 <= calibration_fit(y, p).slope <= 1.2


def test_payroll_label_is_the_planted_event(models_home):
    with models_home.connect() as con:
        frame = oracle_frame(con, models_home.home / "truths", "payroll_exception")
    assert (frame["label"] == frame["exception"].cast(pl.Int32)).all()


@pytest.mark.parametrize(
    ("model", "horizon_days"),
    [("renewal_propensity", 90), ("churn", 92), ("payroll_exception", 21)],
)
def test_windows_are_separated_by_the_label_horizon(models_home, model, horizon_days):
    with models_home.connect() as con:
        window = json.loads(
            con.sql(
                "select data_window from ml.model_registry where model = ? and promoted",
                params=[model],
            ).fetchall()[0][0]
        )
    at = {k: [datetime.fromisoformat(v) if v else None for v in b] for k, b in window.items()}
    assert (at["calibration"][0] - at["train"][1]).days == horizon_days
    assert (at["test"][0] - at["calibration"][1]).days == horizon_days
