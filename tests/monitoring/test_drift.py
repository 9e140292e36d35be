"""Drift checks on small frames built to trigger each case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from coadv_assets.monitoring.drift import detect_drift, to_pandas

N = 400


def window(seed: int, shift: float = 0.0, n: int = N, levels=("a", "b", "c")) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "amount": rng.normal(10.0 + shift, 1.0, size=n),
            "flag": np.ones(n, dtype=np.int64),
            "channel": rng.choice(list(levels), size=n),
        }
    )


def test_identical_windows_do_not_drift_and_constant_column_is_not_drift() -> None:
    ref = window(1)
    res = detect_drift(ref, ref.clone(), ["amount", "flag"], ["channel"])
    assert res.status == "ok"
    assert not res.pages
    assert res.drift_share == 0.0
    flag = res.column("flag")
    assert flag.status == "constant" and flag.score is None and not flag.drifted
    assert flag.message == "column flag: constant, no drift (1.0 in both windows)"
    amount = res.column("amount")
    assert amount.status == "scored" and not amount.drifted
    assert amount.score is not None and not np.isnan(amount.score)


def test_shifted_numeric_column_is_detected(tmp_path: Path) -> None:
    res = detect_drift(
        window(1),
        window(2, shift=1.0),
        ["amount", "flag"],
        ["channel"],
        html_path=tmp_path / "drift.html",
    )
    amount = res.column("amount")
    assert amount.drifted
    assert amount.method is not None and "p_value" in amount.method  # < 1 000 reference rows
    assert not res.column("channel").drifted
    # scored or decided by rule: amount drifted, channel not (flag is constant, not assessed)
    assert res.drift_share == pytest.approx(0.5)
    assert res.status == "drift" and res.pages
    assert "amount" in res.message
    assert res.html_path is not None and res.html_path.stat().st_size > 1000


def test_distance_scores_above_1000_reference_rows() -> None:
    res = detect_drift(window(1, n=1500), window(2, shift=1.0, n=1500), ["amount"], [])
    amount = res.column("amount")
    assert amount.drifted and amount.score is not None and amount.score >= 0.1
    same = detect_drift(window(1, n=1500), window(3, n=1500), ["amount"], [])
    assert not same.column("amount").drifted and same.status == "ok"


def test_column_empty_in_current_window_is_an_alert() -> None:
    cur = window(2).with_columns(pl.lit(None, dtype=pl.Float64).alias("amount"))
    res = detect_drift(window(1), cur, ["amount", "flag"], ["channel"])
    assert res.status == "alert" and res.pages
    assert "column amount empty in current window" in res.message
    assert res.column("amount").status == "empty_current"


def test_nan_counts_as_missing_like_null() -> None:
    cur = window(2).with_columns(pl.lit(float("nan")).alias("amount"))
    res = detect_drift(window(1), cur, ["amount"], ["channel"])
    assert res.column("amount").status == "empty_current"
    converted = to_pandas(
        pl.DataFrame({"x": [1.0, None, float("nan")], "c": ["a", None, "b"]}), ["x"], ["c"]
    )
    assert converted["x"].isna().tolist() == [False, True, True]
    assert converted["c"].tolist() == ["a", None, "b"]


def test_column_missing_from_current_frame_is_an_alert() -> None:
    res = detect_drift(window(1), window(2).drop("amount"), ["amount"], ["channel"])
    assert res.status == "alert"
    assert "column amount empty in current window" in res.alerts[0]


def test_new_category_is_named_in_the_alert() -> None:
    cur = window(2, levels=("a", "b", "c", "partner_portal"))
    res = detect_drift(window(1), cur, ["amount"], ["channel"])
    assert res.status == "alert"
    channel = res.column("channel")
    assert set(channel.new_categories) == {"partner_portal"}
    assert "new category in column channel" in res.message
    assert "'partner_portal'" in res.message


def test_constant_columns_with_different_values_are_drift() -> None:
    cur = window(1).with_columns(pl.lit(2, dtype=pl.Int64).alias("flag"))
    res = detect_drift(window(1), cur, ["amount", "flag"], [])
    assert res.column("flag").status == "constant_shift" and res.column("flag").drifted
    assert res.status == "drift"


def test_small_window_is_insufficient_data_and_does_not_page() -> None:
    res = detect_drift(window(1), window(2, n=30), ["amount"], ["channel"], min_rows=100)
    assert res.status == "insufficient_data"
    assert not res.pages
    assert res.message.startswith("insufficient data")
    assert "current 30 rows" in res.message


def test_bad_column_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        detect_drift(window(1), window(2), ["amount"], ["amount"])
    with pytest.raises(ValueError, match="no column"):
        detect_drift(window(1), window(2), ["revenue"], [])
