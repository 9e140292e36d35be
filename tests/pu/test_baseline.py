"""The c_r baseline against panels whose counterfactual is known by construction."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from coadv_assets.pu.baseline import BaselineError, fit_baseline
from coadv_assets.pu.panel import add_clocks


def _months(n: int, start: dt.date = dt.date(2023, 1, 1)) -> list[dt.date]:
    return [
        dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(n)
    ]


def _panel(noise: float, seed: int = 1, n_months: int = 30, first_ai: int | None = 18):
    """Teams with log c_r = team level + 0.3%/month trend + 6% annual harmonic (+ noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    levels = {"t1": math.log(20.0), "t2": math.log(25.0), "t3": math.log(30.0)}
    months = _months(n_months)
    for team, level in levels.items():
        for i, month in enumerate(months):
            log_c = level + 0.003 * (i + 1) + 0.06 * math.sin(2 * math.pi * month.month / 12)
            c_r = math.exp(log_c + rng.normal(0, noise))
            pu = 1000.0
            rows.append(
                {
                    "team_id": team,
                    "function": "f",
                    "month": month,
                    "pu": pu,
                    "hours": 500.0,
                    "labor_cost": c_r * pu,
                    "c_r": c_r,
                    "pu_per_hour": pu / 500.0,
                    "first_ai_month": months[first_ai] if first_ai is not None else None,
                    "true_c_r": math.exp(log_c),
                }
            )
    return add_clocks(pl.DataFrame(rows))


def test_noise_free_panel_recovers_the_counterfactual_exactly():
    panel = _panel(noise=0.0)
    fitted = fit_baseline(panel.drop("true_c_r"), "f")
    assert fitted.pre_end == dt.date(2024, 6, 1)
    assert fitted.n_obs == 3 * 18
    truth = panel.group_by("month").agg(
        truth=pl.col("labor_cost").sum() / (pl.col("labor_cost") / pl.col("true_c_r")).sum()
    )
    joined = fitted.months.join(truth, on="month")
    # Cost-weighted harmonic mean of the team baselines, extrapolated a year past the pre-period.
    np.testing.assert_allclose(joined["baseline_c_r"], joined["truth"], rtol=1e-9)
    assert fitted.fit["trend_per_year_pct"] == pytest.approx((math.exp(0.036) - 1) * 100)
    assert fitted.fit["seasonal_amplitude_pct"] == pytest.approx((math.exp(0.06) - 1) * 100)


def test_interval_covers_the_expected_baseline_in_most_post_months():
    covered = total = 0
    for seed in range(20):
        panel = _panel(noise=0.04, seed=seed)
        fitted = fit_baseline(panel.drop("true_c_r"), "f")
        truth = panel.group_by("month").agg(
            truth=pl.col("labor_cost").sum() / (pl.col("labor_cost") / pl.col("true_c_r")).sum()
        )
        post = fitted.months.filter(~pl.col("in_pre_period")).join(truth, on="month")
        # Smearing makes the baseline a mean, the truth here a median: compare on the mean.
        mean_truth = post["truth"] * math.exp(0.04**2 / 2)
        inside = (post["ci_low"] <= mean_truth) & (mean_truth <= post["ci_high"])
        covered += int(inside.sum())
        total += post.height
    assert 0.8 <= covered / total <= 1.0


def test_refuses_a_pre_period_shorter_than_a_year():
    panel = _panel(noise=0.01, first_ai=8).drop("true_c_r")
    with pytest.raises(BaselineError, match="8 months .* at least 12"):
        fit_baseline(panel, "f")
