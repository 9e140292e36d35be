"""Short Monte Carlo study: 200 simulated data sets per estimator with a known effect.

Each estimator's 95% interval must cover the truth in 92-98% of replications (Monte Carlo SE
of a coverage rate near 95% with 200 draws: 1.5 points) and its bias must be small relative
to the spread of its estimates (|bias| < 0.25 SD; Monte Carlo SE of the mean: 0.07 SD).
Seeds are fixed, so the figures are reproducible; the full study is
`python -m estimators.studies.coverage --reps 1000`.
"""

from __future__ import annotations

import pytest

from estimators.studies.coverage import SMALL, STUDIES, simulate

REPS = 200


@pytest.mark.parametrize("name", list(STUDIES))
def test_bias_and_coverage(name: str) -> None:
    out = simulate(name, REPS, seed=1, sizes=SMALL)
    assert 0.92 <= out["coverage"] <= 0.98, out
    assert abs(out["bias"]) < 0.25 * out["sd_estimate"], out
    # the standard errors track the actual spread of the estimates (within 25%)
    assert out["mean_se"] == pytest.approx(out["sd_estimate"], rel=0.25), out
