"""Monitoring verdicts on hand-built windows, thresholds, and the check builder end to end."""

from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest

from coadv_assets.monitoring import evaluate
from coadv_assets.monitoring.checks import build_monitor_check, build_monitor_checks
from coadv_assets.monitoring.specs import ModelMonitor
from coadv_assets.monitoring.thresholds import load_thresholds
from coadv_assets.warehouse import WarehouseResource

RECON = {"min_periods": 1, "relative_error_max": 0.10, "severity": "WARN"}
CALIB = {
    "min_rows": 200,
    "slope": [0.7, 1.3],
    "intercept_abs_max": 0.3,
    "ece_max": 0.05,
    "severity": "ERROR",
}


def test_reconciliation_relative_error_of_totals() -> None:
    frame = pl.DataFrame(
        {"period": ["2026-01", "2026-02"], "predicted": [10.0, 20.0], "realised": [12.0, 20.0]}
    )
    v = evaluate.reconciliation(frame, RECON)
    assert v.status == "ok" and v.value == pytest.approx(2 / 32)
    assert v.details["worst_period_relative_error"] == pytest.approx(2 / 12)
    off = frame.with_columns(realised=pl.Series([20.0, 20.0]))
    v = evaluate.reconciliation(off, RECON)
    assert v.status == "fail" and v.value == pytest.approx(10 / 40)
    assert v.details["incident"] == "under" and v.effective_severity == "WARN"
    assert "predicted 30, realised 40, relative error 25.00%" in v.message


def test_reconciliation_without_realised_values_is_insufficient_data() -> None:
    frame = pl.DataFrame(
        {"period": ["2026-01"], "predicted": [10.0], "realised": [None]},
        schema={"period": pl.String, "predicted": pl.Float64, "realised": pl.Float64},
    )
    v = evaluate.reconciliation(frame, {**RECON, "severity": "ERROR"})
    assert v.status == "insufficient_data" and not v.passed
    assert v.effective_severity == "WARN"  # never pages, whatever is configured


def _calibrated(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, n)
    return p, (rng.uniform(size=n) < p).astype(int)


def test_calibration_passes_calibrated_and_fails_overconfident_predictions() -> None:
    p, y = _calibrated(20_000)
    v = evaluate.calibration(pl.DataFrame({"prediction": p, "label": y}), CALIB)
    assert v.status == "ok"
    assert v.details["slope"] == pytest.approx(1.0, abs=0.08)
    assert abs(v.details["intercept"]) < 0.05 and v.value < 0.02
    # logit doubled: over-confident, the recalibration slope halves
    z = np.log(p / (1 - p))
    sharp = 1 / (1 + np.exp(-2 * z))
    v = evaluate.calibration(pl.DataFrame({"prediction": sharp, "label": y}), CALIB)
    assert v.status == "fail" and v.effective_severity == "ERROR"
    assert v.details["slope"] == pytest.approx(0.5, abs=0.05)
    assert v.details["incident"].startswith("slope")


def test_calibration_judges_the_level_of_rare_event_predictions_in_the_large() -> None:
    # Rare events (about 0.7%) whose predictions are a little too spread (true logit =
    # a + 0.8 x predicted logit) but right on average: the intercept of the joint fit is
    # a, about (1 - 0.8) x the mean predicted logit (near -1), which says nothing about the
    # level; calibration-in-the-large (slope fixed at 1) is near 0 and passes.
    rng = np.random.default_rng(5)
    lp = rng.normal(-5.2, 0.7, 200_000)
    b = 0.8
    a = float(np.log(np.mean(np.exp(lp)) / np.mean(np.exp(b * lp))))  # equal mean odds
    y = (rng.uniform(size=lp.size) < 1 / (1 + np.exp(-(a + b * lp)))).astype(int)
    p = 1 / (1 + np.exp(-lp))
    v = evaluate.calibration(pl.DataFrame({"prediction": p, "label": y}), CALIB)
    assert a == pytest.approx(-1.0, abs=0.1)
    assert v.details["intercept"] == pytest.approx(a, abs=0.4)
    assert abs(v.details["in_the_large"]) < 0.1 and v.status == "ok", v.message
    # the same predictions at double the odds: too high in the large by log 2
    doubled = 1 / (1 + np.exp(-(lp + np.log(2))))
    v = evaluate.calibration(pl.DataFrame({"prediction": doubled, "label": y}), CALIB)
    assert v.details["in_the_large"] == pytest.approx(-np.log(2), abs=0.1)
    assert v.status == "fail" and v.details["incident"] == "intercept", v.message


def test_calibration_on_too_few_rows_is_insufficient_data() -> None:
    p, y = _calibrated(50)
    v = evaluate.calibration(pl.DataFrame({"prediction": p, "label": y}), CALIB)
    assert v.status == "insufficient_data" and v.effective_severity == "WARN"
    assert v.message.startswith("insufficient data: 50 labelled rows (min_rows 200)")


def test_thresholds_merge_overrides_and_refuse_unknown_keys(tmp_path: Path) -> None:
    renewal = load_thresholds("renewal_propensity")
    assert renewal["calibration"]["ece_max"] == 0.06
    assert renewal["calibration"]["slope"] == [0.7, 1.3]
    assert load_thresholds("other")["calibration"]["ece_max"] == 0.05
    bad = tmp_path / "t.yaml"
    bad.write_text("defaults:\n  drift: {min_rows: 10}\nmodels:\n  m:\n    drift: {min_row: 5}\n")
    with pytest.raises(ValueError, match=r"models\.m\.drift sets \['min_row'\]"):
        load_thresholds("m", bad)


def _warehouse(db: Path, shift: float, n_cur: int = 400) -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 400)  # one sample in both windows: no prediction drift
    con = duckdb.connect(str(db))
    ref = pl.DataFrame(
        {
            "amount": rng.normal(10, 1, 400),
            "channel": rng.choice(["a", "b"], 400),
            "score": scores,
        }
    )
    cur = pl.DataFrame(
        {
            "amount": rng.normal(10 + shift, 1, n_cur),
            "channel": rng.choice(["a", "b"], n_cur),
            "score": scores[:n_cur],
        }
    )
    p, y = _calibrated(1000)
    con.register("r", ref.to_arrow())
    con.register("c", cur.to_arrow())
    con.register("l", pl.DataFrame({"prediction": p, "label": y}).to_arrow())
    con.execute("create table ref as select * from r; create table cur as select * from c")
    con.execute("create table lab as select * from l")
    con.close()


MONITOR = ModelMonitor(
    model="toy",
    asset_key=dg.AssetKey("toy_model"),
    reference_sql="select amount, channel, score from ref",
    current_sql="select amount, channel, score from cur",
    numerical=("amount",),
    categorical=("channel",),
    prediction_column="score",
    labelled_sql="select prediction, label from lab",
    reconciliation_sql=(
        "select 1 as period, sum(prediction) as predicted, sum(label)::double as realised from lab"
    ),
    blocking=True,
)


@dg.asset
def toy_model() -> int:
    return 1


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shift: float, n_cur: int = 400):
    monkeypatch.setenv("COADV_HOME", str(tmp_path))
    db = tmp_path / "warehouse.duckdb"
    _warehouse(db, shift, n_cur)
    result = dg.materialize(
        [toy_model, build_monitor_check(MONITOR)],
        resources={"warehouse": WarehouseResource(path=str(db))},
        raise_on_error=False,
    )
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    con = duckdb.connect(str(db), read_only=True)
    history = con.sql(
        "select check_name, status, passed, severity from ops.check_history order by check_name"
    ).fetchall()
    con.close()
    return evals, history


def test_builder_routes_drift_to_error_and_records_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evals, history = _run(tmp_path, monkeypatch, shift=3.0)
    assert set(evals) == {"feature_drift", "prediction_drift", "calibration", "reconciliation"}
    drift = evals["feature_drift"]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.ERROR
    assert drift.metadata["incident"].value == "amount"
    report = Path(drift.metadata["report"].value)
    assert report.exists() and report.suffix == ".html"
    assert drift.metadata["plot"].value.startswith("![feature_drift](data:image/png;base64,")
    assert evals["prediction_drift"].passed and evals["calibration"].passed
    assert "plot" in evals["calibration"].metadata
    assert history == [
        ("calibration", "ok", True, "ERROR"),
        ("feature_drift", "fail", False, "ERROR"),
        ("prediction_drift", "ok", True, "ERROR"),
        ("reconciliation", "ok", True, "WARN"),
    ]


def test_builder_routes_small_window_to_a_non_paging_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evals, history = _run(tmp_path, monkeypatch, shift=3.0, n_cur=20)
    drift = evals["feature_drift"]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.WARN
    assert drift.metadata["status"].value == "insufficient_data"
    assert drift.description.startswith("insufficient data: reference 400 rows, current 20")
    assert ("feature_drift", "insufficient_data", False, "WARN") in history


def test_builder_refuses_two_monitors_of_one_model() -> None:
    with pytest.raises(ValueError, match="registered twice for model"):
        build_monitor_checks([MONITOR, MONITOR])


def test_cli_exits_1_when_an_error_check_fails_and_0_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coadv_assets.monitoring import __main__ as cli

    monkeypatch.setenv("COADV_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "MONITORS", [MONITOR])
    _warehouse(tmp_path / "warehouse.duckdb", shift=3.0)  # the amount drifts by 3 SD
    assert cli.main([]) == 1
    assert "failed at ERROR severity (would page): toy/feature_drift" in capsys.readouterr().out
    (tmp_path / "warehouse.duckdb").unlink()
    _warehouse(tmp_path / "warehouse.duckdb", shift=0.0)
    assert cli.main([]) == 0
    assert "would page" not in capsys.readouterr().out
