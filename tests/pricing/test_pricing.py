"""Bühlmann–Straub credibility and the rate optimiser, against hand-computed and planted values."""

import numpy as np
import polars as pl
import pytest

from coadv_assets.pricing import credibility, optimiser


def test_buhlmann_straub_matches_a_hand_computed_case() -> None:
    # Group A: 10 at 100 and 10 at 120 (mean 110); group B: 20 at 200 and 20 at 180 (190).
    # s2 = (10*100 + 10*100 + 20*100 + 20*100) / (1 + 1) = 3000; book mean (20*110 +
    # 40*190)/60 = 163.33; between: (20*53.33^2 + 40*26.67^2 - 3000)/(60 - 2000/60) = 3087.5;
    # k = 3000/3087.5 = 0.972; Z_A = 20/20.972, Z_B = 40/40.972.
    cells = pl.DataFrame(
        {
            "group": ["A", "A", "B", "B"],
            "pmpm": [100.0, 120.0, 200.0, 180.0],
            "member_months": [10.0, 10.0, 20.0, 20.0],
        }
    )
    cred = credibility.buhlmann_straub(cells, all_groups=["A", "B", "C"])
    assert cred.within_variance == pytest.approx(3000.0)
    assert cred.between_variance == pytest.approx(3087.5)
    z_a, z_b = 20 / (20 + 3000 / 3087.5), 40 / (40 + 3000 / 3087.5)
    mu = (z_a * 110 + z_b * 190) / (z_a + z_b)
    rows = {r["group"]: r for r in cred.groups.iter_rows(named=True)}
    assert rows["A"]["z"] == pytest.approx(z_a)
    assert rows["A"]["credible_pmpm"] == pytest.approx(z_a * 110 + (1 - z_a) * mu)
    assert rows["B"]["credible_pmpm"] == pytest.approx(z_b * 190 + (1 - z_b) * mu)
    assert rows["C"]["z"] == 0.0 and rows["C"]["credible_pmpm"] == pytest.approx(mu)


def test_credibility_moves_toward_the_planted_means_as_exposure_grows() -> None:
    # Planted: 12 groups with true claims per member-month drawn around 500; each month a
    # group's observed pmpm is its truth plus noise with variance 400^2 / member-months.
    rng = np.random.default_rng(7)
    truth = rng.normal(500, 60, 12)
    errors, zs = [], []
    for months in (2, 6, 24):
        rows = []
        for g, t in enumerate(truth):
            mm = rng.integers(20, 200, months).astype(float)
            obs = t + rng.normal(0, 400 / np.sqrt(mm))
            rows += [
                {"group": str(g), "pmpm": o, "member_months": m}
                for o, m in zip(obs, mm, strict=True)
            ]
        cred = credibility.buhlmann_straub(pl.DataFrame(rows))
        est = cred.groups.sort(pl.col("group").cast(pl.Int64))["credible_pmpm"].to_numpy()
        errors.append(float(np.mean(np.abs(est - truth))))
        zs.append(float(cred.groups["z"].mean()))
    assert errors[0] > errors[1] > errors[2]
    assert zs[0] < zs[1] < zs[2]
    assert errors[2] < 15.0  # about 400/sqrt(24 * 110) = 8 per group at full exposure


def test_credibility_refuses_bad_cells() -> None:
    cells = pl.DataFrame({"group": ["A", "B"], "pmpm": [1.0, None], "member_months": [1.0, 2.0]})
    with pytest.raises(ValueError, match="1 rows have a missing or negative 'pmpm'"):
        credibility.buhlmann_straub(cells)


PREMIUM = np.array([100.0, 200.0, 150.0, 50.0, 80.0])
CLAIMS = np.array([95.0, 160.0, 140.0, 35.0, 70.0])


def _recompute(r: np.ndarray, cfg: optimiser.PricingConfig) -> dict[str, bool]:
    e = cfg.retention_elasticity
    keep = 1 - e * r
    revenue = (PREMIUM * (1 + r) * keep).sum() / PREMIUM.sum() - 1
    mlr = (CLAIMS * keep).sum() / (PREMIUM * (1 + r) * keep).sum()
    return {
        "revenue_neutrality": abs(revenue) <= cfg.revenue_tolerance + 1e-6,
        "mlr_band": cfg.mlr_band[0] - 1e-6 <= mlr <= cfg.mlr_band[1] + 1e-6,
        "caps": bool(((r >= cfg.cap_low - 1e-6) & (r <= cfg.cap_high + 1e-6)).all()),
    }


@pytest.mark.parametrize(
    "cfg",
    [
        optimiser.PricingConfig(),
        optimiser.PricingConfig(mlr_band=(0.85, 0.86), retention_elasticity=0.5),
        optimiser.PricingConfig(mlr_band=(0.85, 0.87), retention_elasticity=0.0),
    ],
)
def test_the_result_satisfies_every_constraint_it_reports_satisfied(
    cfg: optimiser.PricingConfig,
) -> None:
    action = optimiser.optimise(PREMIUM, CLAIMS, cfg)
    ours = _recompute(action.changes, cfg)
    for name, check in action.constraints.items():
        if check["satisfied"]:
            assert ours[name], name
    assert action.feasible == all(ours.values())
    assert action.feasible  # these configurations admit a solution


def test_an_infeasible_configuration_names_what_binds_and_what_relaxing_gives() -> None:
    # Without a membership response, revenue neutrality pins the book MLR at
    # sum(E)/sum(P) = 500/580 = 0.862, outside [0.80, 0.82]: the band and revenue
    # neutrality conflict, and no widening of the caps can help.
    cfg = optimiser.PricingConfig(mlr_band=(0.80, 0.82), retention_elasticity=0.0)
    action = optimiser.optimise(PREMIUM, CLAIMS, cfg)
    assert not action.feasible
    assert set(action.binding) == {"mlr_band", "revenue_neutrality"}
    assert "caps" not in action.binding
    band = action.relaxations["mlr_band"]
    assert band["book_mlr"] == pytest.approx(500 / 580, abs=1e-3)
    revenue = action.relaxations["revenue_neutrality"]
    # Reaching MLR 0.82 at fixed membership needs premium 500/0.82 = 609.8, +5.1% on 580.
    assert revenue["revenue_change"] == pytest.approx(500 / 0.82 / 580 - 1, abs=1e-3)
    assert revenue["book_mlr"] == pytest.approx(0.82, abs=1e-4)
    assert "mlr_band" in action.message and "revenue_neutrality" in action.message
