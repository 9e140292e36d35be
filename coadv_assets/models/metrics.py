"""Discrimination and calibration metrics of binary probability forecasts.

Conventions, stated once:

- AUC interval: DeLong's variance (fast midrank form), normal 95% interval, clipped to [0, 1].
- ECE: 10 equal-width bins on [0, 1] (bin ``min(floor(10 p), 9)``), the bin-count weighted
  mean of |observed rate - mean prediction| over the non-empty bins.
- Calibration slope and intercept: the logistic recalibration ``logit P(y=1) = a + b logit(p)``
  fitted by maximum likelihood (statsmodels GLM, binomial); ``b`` is the slope, ``a`` the
  intercept. Calibration-in-the-large is the intercept with ``b`` fixed at 1 (offset).
  Perfect calibration gives b = 1, a = 0; over-confident predictions give b < 1.
- Predictions are clipped to [1e-6, 1 - 1e-6] before a logit or a log loss.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy.special import logit
from scipy.stats import norm, rankdata

EPS = 1e-6
N_BINS = 10


@dataclass(frozen=True)
class AUCResult:
    """AUC with its DeLong standard error and 95% interval."""

    auc: float
    std_error: float
    ci_low: float
    ci_high: float
    method: str = "DeLong"


@dataclass(frozen=True)
class CalibrationFit:
    """Logistic recalibration of the prediction's logit (see module docstring)."""

    slope: float
    slope_ci: tuple[float, float]
    intercept: float
    intercept_ci: tuple[float, float]
    in_the_large: float


@dataclass(frozen=True)
class ClassifierMetrics:
    """All figures of one evaluation window; ``to_dict`` is JSON-safe."""

    n: int
    prevalence: float
    mean_prediction: float
    auc: AUCResult
    brier: float
    log_loss: float
    ece: float
    calibration: CalibrationFit

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["calibration"]["slope_ci"] = list(self.calibration.slope_ci)
        out["calibration"]["intercept_ci"] = list(self.calibration.intercept_ci)
        out["ece_bins"] = N_BINS
        return out


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.size}) and predictions ({p.size}) differ in length")
    if y.size == 0:
        raise ValueError("no rows to evaluate")
    if np.isnan(y).any() or np.isnan(p).any():
        raise ValueError(
            f"{int(np.isnan(y).sum())} labels and {int(np.isnan(p).sum())} predictions are "
            "missing; drop or impute them before evaluating"
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if (p < 0).any() or (p > 1).any():
        raise ValueError("predictions must lie in [0, 1]")
    return y, p


def auc_delong(y: np.ndarray, p: np.ndarray, level: float = 0.95) -> AUCResult:
    """Return the AUC with a DeLong interval. Refuses a window with only one class."""
    y, p = _check(y, p)
    pos, neg = p[y == 1], p[y == 0]
    m, n = pos.size, neg.size
    if m == 0 or n == 0:
        raise ValueError(f"AUC needs both classes; got {m} positives and {n} negatives")
    tz = rankdata(np.concatenate([pos, neg]))
    tx, ty = rankdata(pos), rankdata(neg)
    auc = float((tz[:m].sum() - m * (m + 1) / 2) / (m * n))
    v01 = (tz[:m] - tx) / n
    v10 = 1.0 - (tz[m:] - ty) / m
    var = (np.var(v01, ddof=1) / m if m > 1 else 0.0) + (np.var(v10, ddof=1) / n if n > 1 else 0.0)
    se = float(np.sqrt(var))
    z = float(norm.ppf(0.5 + level / 2))
    return AUCResult(auc, se, max(0.0, auc - z * se), min(1.0, auc + z * se))


def brier_score(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between prediction and outcome."""
    y, p = _check(y, p)
    return float(np.mean((p - y) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood in nats, predictions clipped to [1e-6, 1 - 1e-6]."""
    y, p = _check(y, p)
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def bin_index(p: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Equal-width bin of each prediction on [0, 1]; 1.0 falls in the last bin."""
    return np.minimum(np.floor(np.asarray(p, dtype=float) * n_bins), n_bins - 1).astype(int)


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS) -> list[dict[str, float]]:
    """Per non-empty bin: bounds, count, mean prediction and observed rate."""
    y, p = _check(y, p)
    idx = bin_index(p, n_bins)
    rows = []
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            rows.append(
                {
                    "bin_low": b / n_bins,
                    "bin_high": (b + 1) / n_bins,
                    "n": int(mask.sum()),
                    "mean_prediction": float(p[mask].mean()),
                    "observed_rate": float(y[mask].mean()),
                }
            )
    return rows


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS) -> float:
    """ECE over equal-width bins (10 by default), weighted by bin counts."""
    y, p = _check(y, p)
    table = reliability_table(y, p, n_bins)
    return float(
        sum(r["n"] * abs(r["observed_rate"] - r["mean_prediction"]) for r in table) / y.size
    )


def calibration_fit(y: np.ndarray, p: np.ndarray) -> CalibrationFit:
    """Fit ``logit P(y=1) = a + b logit(p)``; returns slope b, intercept a (95% CIs) and
    calibration-in-the-large. Refuses one-class windows and constant predictions."""
    y, p = _check(y, p)
    if y.min() == y.max():
        raise ValueError("calibration slope needs both classes in the window")
    lp = logit(np.clip(p, EPS, 1 - EPS))
    if np.ptp(lp) == 0:
        raise ValueError("calibration slope is undefined for constant predictions")
    fam = sm.families.Binomial()
    fit = sm.GLM(y, sm.add_constant(lp, has_constant="add"), family=fam).fit()
    ci = np.asarray(fit.conf_int())
    citl = sm.GLM(y, np.ones_like(lp), family=fam, offset=lp).fit()
    params = np.asarray(fit.params)
    return CalibrationFit(
        slope=float(params[1]),
        slope_ci=(float(ci[1, 0]), float(ci[1, 1])),
        intercept=float(params[0]),
        intercept_ci=(float(ci[0, 0]), float(ci[0, 1])),
        in_the_large=float(np.asarray(citl.params)[0]),
    )


def evaluate(y: np.ndarray, p: np.ndarray) -> ClassifierMetrics:
    """Every metric of the module on one window."""
    y, p = _check(y, p)
    return ClassifierMetrics(
        n=int(y.size),
        prevalence=float(y.mean()),
        mean_prediction=float(p.mean()),
        auc=auc_delong(y, p),
        brier=brier_score(y, p),
        log_loss=log_loss(y, p),
        ece=expected_calibration_error(y, p),
        calibration=calibration_fit(y, p),
    )
