"""Verdicts of the monitoring checks, computed from frames alone (no Dagster, no warehouse).

Each function returns a ``Verdict``: ``status`` is ``ok``, ``fail`` or ``insufficient_data``.
Routing, decided here once: ``ok`` passes; ``fail`` fails with the severity configured for
the check kind (ERROR pages on-call); ``insufficient_data`` fails with WARN severity, which
is recorded and shown but never pages and never blocks.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from coadv_assets.monitoring.drift import detect_drift

VerdictStatus = Literal["ok", "fail", "insufficient_data"]


@dataclass(frozen=True)
class Verdict:
    """One check's outcome; ``value`` is its headline figure (drift share, ECE, error)."""

    check_name: str
    status: VerdictStatus
    message: str
    severity: str
    value: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    report_path: Path | None = None
    plot_path: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status == "ok"

    @property
    def effective_severity(self) -> str:
        """WARN for insufficient data whatever is configured, else the configured one."""
        return "WARN" if self.status == "insufficient_data" else self.severity


def feature_drift(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    numerical: list[str],
    categorical: list[str],
    cfg: dict[str, Any],
    *,
    check_name: str = "feature_drift",
    html_path: Path | None = None,
    plot_path: Path | None = None,
) -> Verdict:
    """Drift of the listed columns (see ``drift.detect_drift``); fails on drift or alert.

    ``cfg`` holds ``min_rows``, ``drift_share``, ``threshold`` and ``severity``.
    """
    from coadv_assets.monitoring.plots import drift_summary_plot

    res = detect_drift(
        reference,
        current,
        numerical,
        categorical,
        min_rows=int(cfg.get("min_rows", 100)),
        threshold=cfg.get("threshold"),
        drift_share=float(cfg.get("drift_share", 0.5)),
        html_path=html_path,
    )
    status: VerdictStatus = (
        "insufficient_data"
        if res.status == "insufficient_data"
        else ("fail" if res.pages else "ok")
    )
    plot = None
    if plot_path is not None and res.columns:
        plot = drift_summary_plot(
            [c.column for c in res.columns],
            [c.score for c in res.columns],
            [c.drifted for c in res.columns],
            plot_path,
            title=f"{check_name}: {res.status}",
        )
    details = {
        "drift_status": res.status,
        "reference_rows": res.reference_rows,
        "current_rows": res.current_rows,
        "drifted_columns": [c.column for c in res.columns if c.drifted],
        "alerts": list(res.alerts),
        "scores": {c.column: c.score for c in res.columns},
        "incident": ",".join(
            sorted(c.column for c in res.columns if c.drifted or c.status.startswith("empty"))
            + sorted(f"{c.column}:new" for c in res.columns if c.new_categories)
        ),
    }
    return Verdict(
        check_name,
        status,
        res.message,
        str(cfg.get("severity", "ERROR")),
        res.drift_share,
        details,
        res.html_path,
        plot,
    )


def calibration(
    frame: pl.DataFrame, cfg: dict[str, Any], *, plot_path: Path | None = None
) -> Verdict:
    """Calibration slope, calibration-in-the-large and ECE of ``prediction`` against ``label``.

    ``cfg`` holds ``min_rows``, ``slope`` [low, high], ``intercept_abs_max``, ``ece_max`` and
    ``severity``. Too few rows, or a window with one class only, is insufficient data.
    Refuses (ValueError) a frame without ``prediction`` and ``label`` columns.
    """
    from coadv_assets.models import metrics

    missing = {"prediction", "label"} - set(frame.columns)
    if missing:
        raise ValueError(f"labelled window lacks columns {sorted(missing)}")
    severity = str(cfg.get("severity", "ERROR"))
    frame = frame.drop_nulls(["prediction", "label"])
    n, min_rows = frame.height, int(cfg.get("min_rows", 200))
    y = frame["label"].cast(pl.Float64).to_numpy()
    p = frame["prediction"].cast(pl.Float64).to_numpy()
    if n < min_rows or y.min(initial=0) == y.max(initial=0):
        msg = (
            f"insufficient data: {n} labelled rows (min_rows {min_rows}), "
            f"{int(y.sum()) if n else 0} positives; calibration not assessed"
        )
        return Verdict("calibration", "insufficient_data", msg, severity, None, {"rows": n})
    fit = metrics.calibration_fit(y, p)
    ece = metrics.expected_calibration_error(y, p)
    lo, hi = cfg.get("slope", [0.7, 1.3])
    misses = []
    if not lo <= fit.slope <= hi:
        misses.append(f"calibration slope {fit.slope:.3f} outside [{lo}, {hi}]")
    # The intercept judged is calibration-in-the-large (slope fixed at 1): with rare events
    # the intercept of the joint fit moves by (1 - slope) x the mean logit, so it says little
    # about the level of the predictions once the slope is off 1.
    if abs(fit.in_the_large) > float(cfg.get("intercept_abs_max", 0.3)):
        misses.append(
            f"calibration intercept {fit.in_the_large:.3f} (in the large) beyond "
            f"±{cfg['intercept_abs_max']}"
        )
    if ece > float(cfg.get("ece_max", 0.05)):
        misses.append(f"ECE {ece:.4f} above {cfg['ece_max']}")
    summary = (
        f"{n} labelled rows: slope {fit.slope:.3f}, calibration-in-the-large "
        f"{fit.in_the_large:.3f}, ECE {ece:.4f} (10 bins)"
    )
    plot = None
    if plot_path is not None:
        from coadv_assets.models.plots import reliability_plot

        plot = reliability_plot(y, p, plot_path, title="latest labelled window")
    details = {
        "rows": n,
        "slope": fit.slope,
        "slope_ci": list(fit.slope_ci),
        "intercept": fit.intercept,
        "intercept_ci": list(fit.intercept_ci),
        "in_the_large": fit.in_the_large,
        "ece": ece,
        "incident": ",".join(
            m.split(" ")[1] if m.startswith("calibration") else "ece" for m in misses
        ),
    }
    status: VerdictStatus = "fail" if misses else "ok"
    message = "; ".join([*misses, summary])
    return Verdict("calibration", status, message, severity, ece, details, None, plot)


def reconciliation(
    frame: pl.DataFrame, cfg: dict[str, Any], *, plot_path: Path | None = None, unit: str = ""
) -> Verdict:
    """Predicted against realised business metric per period; fails when the relative error
    of the totals, ``|Σ predicted - Σ realised| / |Σ realised|``, exceeds
    ``relative_error_max``. Periods without a realised value are left out of the totals.
    Fewer than ``min_periods`` periods, or realised totals of zero, are insufficient data.
    Refuses (ValueError) a frame without ``period``, ``predicted`` and ``realised``.
    """
    missing = {"period", "predicted", "realised"} - set(frame.columns)
    if missing:
        raise ValueError(f"reconciliation window lacks columns {sorted(missing)}")
    severity = str(cfg.get("severity", "WARN"))
    frame = frame.sort("period")
    judged = frame.drop_nulls(["predicted", "realised"])
    k, min_periods = judged.height, int(cfg.get("min_periods", 1))
    pred_total = float(judged["predicted"].sum()) if k else 0.0
    real_total = float(judged["realised"].sum()) if k else 0.0
    plot = None
    if plot_path is not None and frame.height:
        from coadv_assets.monitoring.plots import predicted_vs_realised_plot

        plot = predicted_vs_realised_plot(
            [str(p) for p in frame["period"].to_list()],
            frame["predicted"].cast(pl.Float64).to_list(),
            frame["realised"].cast(pl.Float64).to_list(),
            plot_path,
            title="predicted against realised",
            unit=unit,
        )
    if k < min_periods or real_total == 0:
        msg = (
            f"insufficient data: {k} periods with a realised value (min_periods "
            f"{min_periods}), realised total {real_total:g}; reconciliation not assessed"
        )
        return Verdict(
            "reconciliation", "insufficient_data", msg, severity, None, {"periods": k}, None, plot
        )
    rel = abs(pred_total - real_total) / abs(real_total)
    per_period = [
        {
            "period": str(r["period"]),
            "predicted": float(r["predicted"]),
            "realised": float(r["realised"]),
            "relative_error": (
                abs(r["predicted"] - r["realised"]) / abs(r["realised"]) if r["realised"] else None
            ),
        }
        for r in judged.iter_rows(named=True)
    ]
    limit = float(cfg.get("relative_error_max", 0.1))
    status: VerdictStatus = "fail" if rel > limit or math.isnan(rel) else "ok"
    message = (
        f"{k} periods: predicted {pred_total:.6g}, realised {real_total:.6g}, relative error "
        f"{rel:.2%} (limit {limit:.0%})"
    )
    worst = max(
        (r["relative_error"] for r in per_period if r["relative_error"] is not None),
        default=np.nan,
    )
    details = {
        "periods": k,
        "predicted_total": pred_total,
        "realised_total": real_total,
        "worst_period_relative_error": float(worst),
        "per_period": per_period,
        "incident": "over" if pred_total > real_total else "under",
    }
    return Verdict("reconciliation", status, message, severity, rel, details, None, plot)
