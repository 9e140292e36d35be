"""Rolling-origin backtest of a count forecast against the seasonal naive forecast.

Origins are spaced one horizon apart and end one horizon before the last row, so that the
test windows tile the end of the series without overlap. At each origin the model is fitted
on every earlier row (expanding window) and forecasts the next ``horizon`` rows; the seasonal
naive forecast repeats the last ``season`` observed rows. Accuracy is MASE: mean absolute
error over the test window divided by the in-sample mean absolute error of the one-season
naive forecast on that origin's training rows (Hyndman & Koehler 2006), averaged over the
origins; coverage is the share of test actuals inside each central interval, pooled.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from coadv_assets.forecasting.glm import LEVELS, fit_counts, predict_counts


@dataclass(frozen=True)
class Backtest:
    """Pooled figures and the per-row forecasts of a rolling-origin backtest.

    ``mase`` and ``mase_naive`` are averages over origins; ``coverage`` maps an interval
    level (0.8, 0.95) to the share of test rows inside it; ``rows`` holds origin, date,
    horizon step, actual, mean, interval bounds and the naive forecast.
    """

    mase: float
    mase_naive: float
    coverage: dict[float, float]
    origins: int
    horizon: int
    season: int
    n_test: int
    per_origin: pl.DataFrame
    rows: pl.DataFrame


def seasonal_naive(train: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last ``season`` values of ``train`` over ``horizon`` steps."""
    last = train[-season:]
    return np.array([last[h % season] for h in range(horizon)], dtype=float)


def naive_scale(train: np.ndarray, season: int) -> float:
    """In-sample MAE of the one-season naive forecast; refuses a zero or undefined scale."""
    if len(train) <= season:
        raise ValueError(f"{len(train)} training rows do not cover one season of {season}")
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    if not scale > 0:
        raise ValueError("the series repeats itself exactly each season; MASE is undefined")
    return scale


def rolling_origin(
    frame: pl.DataFrame,
    target: str,
    regressors: tuple[str, ...],
    *,
    origins: int = 6,
    horizon: int = 56,
    season: int = 7,
    min_train: int = 365,
    levels: tuple[float, ...] = LEVELS,
    draws: int = 1000,
    seed: int = 0,
) -> Backtest:
    """Backtest the negative-binomial calendar regression on ``frame`` (sorted by date).

    Refuses a series too short for ``origins`` windows of ``horizon`` rows after
    ``min_train`` training rows.
    """
    n = frame.height
    first = n - origins * horizon
    if first < min_train:
        raise ValueError(
            f"{n} rows leave {first} training rows before the first of {origins} origins of "
            f"{horizon} rows; at least {min_train} are needed"
        )
    y = frame[target].cast(pl.Float64).to_numpy()
    parts, summary = [], []
    for k in range(origins):
        cut = first + k * horizon
        train, test = frame.slice(0, cut), frame.slice(cut, horizon)
        fitted = fit_counts(train, target, regressors)
        pred = predict_counts(fitted, test, levels=levels, draws=draws, seed=seed + k)
        naive = seasonal_naive(y[:cut], horizon, season)
        scale = naive_scale(y[:cut], season)
        actual = y[cut : cut + horizon]
        summary.append(
            {
                "origin": frame["date"][cut],
                "train_rows": cut,
                "mase": float(np.mean(np.abs(actual - pred["mean"].to_numpy())) / scale),
                "mase_naive": float(np.mean(np.abs(actual - naive)) / scale),
                "alpha": fitted.alpha,
                "residual_acf1": fitted.residual_acf1,
            }
        )
        parts.append(
            pred.with_columns(
                origin=pl.lit(frame["date"][cut]),
                step=pl.int_range(1, horizon + 1),
                actual=pl.Series(actual),
                naive=pl.Series(naive),
            )
        )
    rows = pl.concat(parts)
    coverage = {}
    for level in levels:
        pct = round(level * 100)
        inside = (rows["actual"] >= rows[f"lo_{pct}"]) & (rows["actual"] <= rows[f"hi_{pct}"])
        coverage[level] = float(inside.mean())
    per_origin = pl.DataFrame(summary)
    return Backtest(
        mase=float(per_origin["mase"].mean()),
        mase_naive=float(per_origin["mase_naive"].mean()),
        coverage=coverage,
        origins=origins,
        horizon=horizon,
        season=season,
        n_test=rows.height,
        per_origin=per_origin,
        rows=rows,
    )
