"""Monte Carlo bias and coverage of every estimator on panels with a known effect.

Run: python -m estimators.studies.coverage --reps 1000 [--size full|small] [--seed 1]
Prints one row per estimator: true effect, mean estimate, bias, SD of estimates, mean SE and
the coverage of the nominal 95% interval. The test suite runs the small version.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from estimators import IdentificationError, did, its, matching, synthetic_control


@dataclass(frozen=True)
class Sizes:
    twfe_units: int
    staggered_units: int
    sc_donors: int
    psm_n: int
    its_n: int


SMALL = Sizes(twfe_units=30, staggered_units=90, sc_donors=14, psm_n=300, its_n=60)
FULL = Sizes(twfe_units=60, staggered_units=300, sc_donors=30, psm_n=1000, its_n=120)


def twfe_panel(rng: np.random.Generator, sizes: Sizes) -> tuple[pd.DataFrame, float]:
    """Common adoption at period 4 of 6 for half the units; AR(1) errors within unit."""
    n, n_t, tau = sizes.twfe_units, 6, 1.0
    unit_fe = rng.normal(size=n)
    time_fe = rng.normal(size=n_t)
    e = np.zeros((n, n_t))
    e[:, 0] = rng.normal(size=n)
    for t in range(1, n_t):
        e[:, t] = 0.5 * e[:, t - 1] + rng.normal(size=n)
    treated = np.arange(n) < n // 2
    d = treated[:, None] & (np.arange(n_t)[None, :] >= 3)
    y = unit_fe[:, None] + time_fe[None, :] + tau * d + e
    uu, tt = np.meshgrid(np.arange(n), np.arange(n_t), indexing="ij")
    df = pd.DataFrame(
        {"unit": uu.ravel(), "time": tt.ravel(), "y": y.ravel(), "d": d.ravel().astype(int)}
    )
    return df, tau


def staggered_panel(rng: np.random.Generator, sizes: Sizes) -> tuple[pd.DataFrame, float]:
    """Cohorts first treated in periods 3 and 5 (of 1..6) plus never-treated, in equal thirds;
    effects grow with exposure and differ by cohort. Returns the true simple ATT."""
    n, n_t = sizes.staggered_units, 6
    cohort = np.array([3, 5, 0])[np.arange(n) % 3]
    unit_fe = rng.normal(size=n) + 0.5 * (cohort == 3)
    time_fe = np.linspace(0, 1, n_t)
    periods = np.arange(1, n_t + 1)
    exposure = np.where(cohort[:, None] > 0, periods[None, :] - cohort[:, None], -1)
    effect = np.where(
        exposure >= 0, (1.0 + 0.5 * exposure) * np.where(cohort == 3, 1.0, 2.0)[:, None], 0.0
    )
    y = unit_fe[:, None] + time_fe[None, :] + effect + rng.normal(size=(n, n_t))
    # true simple ATT: post cells weighted by cohort size (equal cohorts -> equal unit weight)
    post = exposure >= 0
    true = float(effect[post].mean())
    uu, tt = np.meshgrid(np.arange(n), periods, indexing="ij")
    df = pd.DataFrame(
        {"unit": uu.ravel(), "time": tt.ravel(), "y": y.ravel(), "g": np.repeat(cohort, n_t)}
    )
    return df, true


def sc_panel(rng: np.random.Generator, sizes: Sizes) -> tuple[pd.DataFrame, float]:
    """Two-factor model, all units exchangeable; unit 0 treated for the last 5 of 25 periods.
    Factors are random walks with steps of SD 0.3 against unit noise of SD 1, so the treated
    unit is rarely outside the donors' range (such draws are redrawn: the estimator refuses
    them)."""
    n, t0, t1, tau = sizes.sc_donors + 1, 20, 5, 2.0
    n_t = t0 + t1
    f = np.cumsum(rng.normal(scale=0.3, size=(n_t, 2)), axis=0)
    load = rng.uniform(0.5, 1.5, size=(n, 2))
    y = 10 + load @ f.T + rng.normal(scale=1.0, size=(n, n_t))
    y[0, t0:] += tau
    uu, tt = np.meshgrid(np.arange(n), np.arange(n_t), indexing="ij")
    return pd.DataFrame({"unit": uu.ravel(), "time": tt.ravel(), "y": y.ravel()}), tau


def psm_sample(rng: np.random.Generator, sizes: Sizes) -> tuple[pd.DataFrame, float]:
    """Selection on two observables through a logit; constant effect 1."""
    n, tau = sizes.psm_n, 1.0
    x = rng.normal(size=(n, 2))
    p = 1 / (1 + np.exp(-(-0.8 + 0.6 * x[:, 0] + 0.4 * x[:, 1])))
    d = (rng.uniform(size=n) < p).astype(int)
    y = 1 + x[:, 0] + 0.5 * x[:, 1] + tau * d + rng.normal(size=n)
    return pd.DataFrame({"d": d, "x1": x[:, 0], "x2": x[:, 1], "y": y}), tau


def its_series(rng: np.random.Generator, sizes: Sizes) -> tuple[pd.DataFrame, float]:
    """Linear trend, level change 2 and slope change 0.05 at two thirds; AR(1) 0.2 errors."""
    n = sizes.its_n
    t0 = 2 * n // 3
    t = np.arange(n)
    e = np.zeros(n)
    e[0] = rng.normal()
    for i in range(1, n):
        e[i] = 0.2 * e[i - 1] + rng.normal()
    y = 5 + 0.1 * t + 2.0 * (t >= t0) + 0.05 * (t - t0) * (t >= t0) + e
    return pd.DataFrame({"t": t, "y": y}), 2.0


def _fit_twfe(df: pd.DataFrame) -> tuple[float, float, float, float]:
    r = did.twfe(df, unit="unit", time="time", outcome="y", treated="d")
    return r.estimate, r.std_error, r.ci_low, r.ci_high


def _fit_staggered(df: pd.DataFrame) -> tuple[float, float, float, float]:
    r = did.staggered(df, unit="unit", time="time", outcome="y", first_treated="g")
    return r.estimate, r.std_error, r.ci_low, r.ci_high


def _fit_sc(df: pd.DataFrame) -> tuple[float, float, float, float]:
    r = synthetic_control.fit(
        df,
        unit="unit",
        time="time",
        outcome="y",
        treated_unit=0,
        treatment_time=20,
        max_rmspe_ratio=np.inf,
    )
    return r.estimate, r.std_error, r.ci_low, r.ci_high


def _fit_psm(df: pd.DataFrame) -> tuple[float, float, float, float]:
    r = matching.psm(
        df, treatment="d", outcome="y", covariates=["x1", "x2"], caliper=None, ratio=1, replace=True
    )
    return r.estimate, r.std_error, r.ci_low, r.ci_high


def _fit_its(df: pd.DataFrame) -> tuple[float, float, float, float]:
    n = len(df)
    r = its.fit(df, time="t", outcome="y", intervention=2 * n // 3, placebo=False)
    return r.estimate, r.std_error, r.ci_low, r.ci_high


STUDIES: dict[str, tuple[Callable, Callable]] = {
    "twfe (common adoption)": (twfe_panel, _fit_twfe),
    "staggered (CS, never-treated)": (staggered_panel, _fit_staggered),
    "synthetic control": (sc_panel, _fit_sc),
    "psm (1-NN, replacement)": (psm_sample, _fit_psm),
    "its (level change)": (its_series, _fit_its),
}


def simulate(name: str, reps: int, seed: int = 1, sizes: Sizes = SMALL) -> dict[str, float]:
    """Bias, SD, mean SE and 95% coverage of one estimator over `reps` simulated data sets."""
    make, estimate = STUDIES[name]
    rng = np.random.default_rng(seed)
    est, ses, cover, truths = [], [], [], []
    refused = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(reps):
            for _attempt in range(20):
                df, truth = make(rng, sizes)
                try:
                    e, s, lo, hi = estimate(df)
                    break
                except IdentificationError:
                    refused += 1
            else:
                raise RuntimeError(f"{name}: 20 simulated data sets in a row were refused")
            est.append(e)
            ses.append(s)
            cover.append(lo <= truth <= hi)
            truths.append(truth)
    est_arr, truth_arr = np.array(est), np.array(truths)
    return {
        "truth": float(truth_arr.mean()),
        "mean_estimate": float(est_arr.mean()),
        "bias": float((est_arr - truth_arr).mean()),
        "sd_estimate": float(est_arr.std(ddof=1)),
        "mean_se": float(np.mean(ses)),
        "coverage": float(np.mean(cover)),
        "reps": reps,
        "refused": refused,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", choices=["small", "full"], default="full")
    args = parser.parse_args()
    sizes = FULL if args.size == "full" else SMALL
    rows = []
    for name in STUDIES:
        start = time.perf_counter()
        out = simulate(name, args.reps, args.seed, sizes)
        out["seconds"] = time.perf_counter() - start
        rows.append({"estimator": name, **out})
    table = pd.DataFrame(rows)
    print(f"{args.reps} replications, {args.size} panels, seed {args.seed}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
