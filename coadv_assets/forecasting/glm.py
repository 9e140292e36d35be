"""Negative-binomial log-linear regression of daily counts, with simulated predictive intervals.

The mean of a day's count is ``exp(x'b)`` with calendar regressors ``x``; the count given the
mean is negative binomial with variance ``m + alpha m^2``. ``alpha`` is estimated by the
method of moments from a Poisson fit's Pearson residuals, then ``b`` by the negative-binomial
GLM at that ``alpha``. Prediction intervals are quantiles of simulated counts: coefficients
drawn from their estimated normal law, then a day-to-day deviation around each mean drawn
from the training days' own Pearson residuals (scaled by the negative-binomial standard
deviation at that mean), so that both parameter and day-to-day uncertainty are in them.

Why resampled residuals rather than negative-binomial draws: daily contact counts are close
to Poisson on most days and far from it on a few (the moment estimate of ``alpha`` is driven
by those few), so negative-binomial intervals come out too wide on ordinary days; the
residuals carry the heavy tail as observed.

Errors are autocorrelated when the level wanders (the bank series): the log-scale residual
follows an AR(1) with coefficient ``phi`` (the lag-1 autocorrelation, clipped to [0, 0.95]),
and a forecast ``h`` days after the last training day adds ``phi^h`` times the last
residual to the log mean. Known shortcoming: the intervals do not widen for the
uncertainty of ``phi`` itself; a state-space fit (SARIMAX with these regressors) would.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

LEVELS = (0.80, 0.95)


@dataclass(frozen=True)
class FittedCounts:
    """A fitted count regression: coefficients, their covariance, dispersion, regressors."""

    regressors: tuple[str, ...]
    coef: np.ndarray
    cov: np.ndarray
    alpha: float
    n_obs: int
    residual_acf1: float
    pearson_residuals: np.ndarray
    phi: float
    last_log_residual: float


def _design(frame: pl.DataFrame, regressors: tuple[str, ...]) -> np.ndarray:
    missing = [r for r in regressors if r not in frame.columns]
    if missing:
        raise ValueError(f"forecast input lacks regressor columns {missing}")
    x = frame.select(regressors).to_numpy().astype(float)
    bad = ~np.isfinite(x)
    if bad.any():
        col = regressors[int(np.nonzero(bad.any(axis=0))[0][0])]
        raise ValueError(f"regressor {col} has {int(bad.sum())} missing or infinite values")
    return np.column_stack([np.ones(len(x)), x])


def fit_counts(frame: pl.DataFrame, target: str, regressors: tuple[str, ...]) -> FittedCounts:
    """Fit the negative-binomial regression of ``target`` on ``regressors``; return it.

    Regressors constant over the training rows (a flag never set in the window) are dropped.
    Refuses negative or missing counts and fewer rows than three times the parameters.
    """
    import statsmodels.api as sm

    y = frame[target].cast(pl.Float64).to_numpy()
    if np.isnan(y).any() or (y < 0).any():
        raise ValueError(
            f"{target}: {int(np.isnan(y).sum() + (y < 0).sum())} rows are missing or negative; "
            "counts must be whole numbers >= 0"
        )
    kept = tuple(r for r in regressors if frame[r].n_unique() > 1)
    x = _design(frame, kept)
    if len(y) < 3 * x.shape[1]:
        raise ValueError(f"{len(y)} training days for {x.shape[1]} parameters; need 3 per one")
    poisson = sm.GLM(y, x, family=sm.families.Poisson()).fit()
    mu = poisson.mu
    dof = max(len(y) - x.shape[1], 1)
    alpha = max(float((((y - mu) ** 2 - mu) / mu**2).sum() / dof), 1e-6)
    nb = sm.GLM(y, x, family=sm.families.NegativeBinomial(alpha=alpha)).fit()
    resid = np.asarray(nb.resid_pearson)
    acf1 = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if len(resid) > 2 else float("nan")
    log_resid = np.log((y + 0.5) / (np.asarray(nb.mu) + 0.5))
    phi = float(np.corrcoef(log_resid[:-1], log_resid[1:])[0, 1]) if len(y) > 2 else 0.0
    phi = float(np.clip(np.nan_to_num(phi), 0.0, 0.95))
    return FittedCounts(
        regressors=kept,
        coef=np.asarray(nb.params),
        cov=np.asarray(nb.cov_params()),
        alpha=alpha,
        n_obs=len(y),
        residual_acf1=acf1,
        pearson_residuals=resid,
        phi=phi,
        last_log_residual=float(log_resid[-1]),
    )


def predict_counts(
    fitted: FittedCounts,
    frame: pl.DataFrame,
    *,
    levels: tuple[float, ...] = LEVELS,
    draws: int = 2000,
    seed: int = 0,
) -> pl.DataFrame:
    """Return ``frame``'s ``date`` with ``mean`` and ``lo_<pct>`` / ``hi_<pct>`` per level.

    ``frame``'s rows are the days right after the training window, in order (row ``i`` is
    ``i + 1`` days ahead, for the AR(1) correction). Intervals are central: ``lo_80`` and
    ``hi_80`` are the 10% and 90% quantiles of the simulated counts.
    """
    rng = np.random.default_rng(seed)
    x = _design(frame, fitted.regressors)
    ar = fitted.phi ** np.arange(1, frame.height + 1) * fitted.last_log_residual
    beta = rng.multivariate_normal(fitted.coef, fitted.cov, size=draws, method="cholesky")
    mu = np.exp(np.clip(x @ beta.T + ar[:, None], -50, 50))  # days × draws
    resid = rng.choice(fitted.pearson_residuals, size=mu.shape)
    counts = np.maximum(np.round(mu + np.sqrt(mu + fitted.alpha * mu**2) * resid), 0.0)
    out = {"date": frame["date"], "mean": np.exp(x @ fitted.coef + ar)}
    for level in levels:
        pct = round(level * 100)
        out[f"lo_{pct}"] = np.quantile(counts, (1 - level) / 2, axis=1)
        out[f"hi_{pct}"] = np.quantile(counts, 1 - (1 - level) / 2, axis=1)
    return pl.DataFrame(out)
