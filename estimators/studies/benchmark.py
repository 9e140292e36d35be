"""Timing and agreement of our estimators against reference packages on the same data.

Run: python -m estimators.studies.benchmark [--prop99 PATH] [--repeat 3]

- Staggered DiD on mpdta (500 counties x 5 years) and on a simulated 5,000-unit panel: ours
  vs moderndid's att_gt + aggte (analytic SEs); largest absolute difference in ATT(g,t), the
  three aggregations and their SEs.
- Synthetic control on Prop 99 (California vs 38 donor states, 1970-2000): ours vs pysyncon
  (if importable), outcome-only weights (V = identity on the 19 pre-period outcomes) for
  California and then placebo-in-space over all 38 donors; plus our nested-V fit with the 19
  lagged outcomes as predictors, placebos included.

The Prop 99 panel is read from --prop99 (default: estimators/data/california_prop99.csv
in this repository) or from `synthdid.load_california_prop99()` when that is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estimators import did, synthetic_control

DEFAULT_PROP99 = Path(__file__).resolve().parents[1] / "data" / "california_prop99.csv"


def _best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _simulated_staggered(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = np.arange(2001, 2011)
    cohort = rng.choice([0, 2004, 2006, 2008], size=n)
    y = rng.normal(size=(n, 1)) + 0.1 * (periods - 2001) + rng.normal(size=(n, len(periods)))
    y = y + np.where((cohort[:, None] > 0) & (periods >= cohort[:, None]), 0.5, 0.0)
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), len(periods)),
            "year": np.tile(periods, n),
            "y": y.ravel(),
            "g": np.repeat(cohort, len(periods)),
        }
    )


def bench_staggered(df: pd.DataFrame, cols: dict[str, str], label: str, repeat: int) -> None:
    t_ours, ours = _best_of(
        lambda: did.staggered(
            df,
            unit=cols["unit"],
            time=cols["time"],
            outcome=cols["outcome"],
            first_treated=cols["first_treated"],
        ),
        repeat,
    )
    print(f"staggered DiD, {label}: ours {t_ours:.3f} s", end="")
    if importlib.util.find_spec("moderndid") is None:
        print("; moderndid not importable, no comparison")
        return
    import moderndid

    def run_md() -> tuple[Any, ...]:
        gt = moderndid.att_gt(
            df,
            yname=cols["outcome"],
            tname=cols["time"],
            idname=cols["unit"],
            gname=cols["first_treated"],
            boot=False,
            cband=False,
            est_method="dr",
        )
        aggs = [
            moderndid.aggte(gt, type=t, boot=False, cband=False)
            for t in ("simple", "dynamic", "group")
        ]
        return gt, aggs

    t_md, (gt, aggs) = _best_of(run_md, repeat)
    diffs = [
        np.max(np.abs(ours.group_time["estimate"].to_numpy() - np.asarray(gt.att_gt))),
        np.max(np.abs(ours.group_time["std_error"].to_numpy() - np.asarray(gt.se_gt))),
        np.max(np.abs(ours.dynamic["estimate"].to_numpy() - np.asarray(aggs[1].att_by_event))),
        np.max(np.abs(ours.by_group["estimate"].to_numpy() - np.asarray(aggs[2].att_by_event))),
    ]
    for key, agg in zip(("simple", "dynamic", "group"), aggs, strict=True):
        diffs.append(abs(ours.aggregations[key]["estimate"] - float(agg.overall_att)))
        diffs.append(abs(ours.aggregations[key]["std_error"] - float(agg.overall_se)))
    print(f"; moderndid {t_md:.3f} s; largest |difference| in estimates and SEs {max(diffs):.2e}")


def load_prop99(path: Path) -> pd.DataFrame:
    if path.exists():
        return pd.read_csv(path, sep=";")
    if importlib.util.find_spec("synthdid") is not None:
        import synthdid

        return synthdid.load_california_prop99()
    raise SystemExit(f"Prop 99 panel not found at {path} and synthdid is not installed")


def _pysyncon_outcome_only(wide: pd.DataFrame, treated: str, pre: np.ndarray) -> np.ndarray:
    from pysyncon import Synth

    donors = [u for u in wide.index if u != treated]
    z0 = wide.loc[donors, pre].T
    z1 = wide.loc[treated, pre]
    synth = Synth()
    synth.fit(X0=z0, X1=z1, Z0=z0, Z1=z1, custom_V=np.ones(len(z1)))
    return np.asarray(synth.W)


def bench_sc(prop99: pd.DataFrame, repeat: int) -> None:
    cols = {"unit": "State", "time": "Year", "outcome": "PacksPerCapita"}
    wide = prop99.pivot(index="State", columns="Year", values="PacksPerCapita")
    pre = wide.columns[wide.columns < 1989].to_numpy()
    post = wide.columns[wide.columns >= 1989].to_numpy()
    t_one, one = _best_of(
        lambda: synthetic_control.fit(
            prop99, **cols, treated_unit="California", treatment_time=1989, placebo=False
        ),
        repeat,
    )
    t_all, full = _best_of(
        lambda: synthetic_control.fit(
            prop99, **cols, treated_unit="California", treatment_time=1989
        ),
        repeat,
    )
    print(
        f"synthetic control, Prop 99 outcome-only: ours {t_one:.3f} s for California, "
        f"{t_all:.3f} s with placebo-in-space over {len(full.placebos)} donors; "
        f"ATT {full.estimate:.3f}, placebo p {full.diagnostics['placebo_p_value']:.3f}"
    )
    t_nest, nested = _best_of(
        lambda: synthetic_control.fit(
            prop99, **cols, treated_unit="California", treatment_time=1989, outcome_lags=list(pre)
        ),
        1,
    )
    print(
        f"synthetic control, Prop 99 nested V on 19 lagged outcomes: ours {t_nest:.3f} s "
        f"with {len(nested.placebos)} placebos; ATT {nested.estimate:.3f}, pre-RMSPE "
        f"{nested.diagnostics['pre_rmspe']:.3f}"
    )
    if importlib.util.find_spec("pysyncon") is None:
        print("pysyncon is absent: no synthetic-control comparison")
        return
    ours_w = one.weights.set_index("unit")["weight"]
    t_ref, w_ref = _best_of(lambda: _pysyncon_outcome_only(wide, "California", pre), repeat)
    donors = [u for u in wide.index if u != "California"]
    ref_gap = wide.loc["California", post] - wide.loc[donors, post].T @ w_ref
    diff_w = np.max(np.abs(ours_w.loc[donors].to_numpy() - w_ref))
    ref_pre = wide.loc["California", pre] - wide.loc[donors, pre].T @ w_ref
    print(
        f"pysyncon outcome-only (custom V = identity): {t_ref:.3f} s for California; "
        f"largest |weight difference| {diff_w:.2e}; ATT {ref_gap.mean():.3f} vs ours "
        f"{one.estimate:.3f} (|difference| {abs(ref_gap.mean() - one.estimate):.2e}); "
        f"pre-RMSPE {np.sqrt((ref_pre**2).mean()):.4f} vs ours "
        f"{one.diagnostics['pre_rmspe']:.4f} (lower is the better optimum)"
    )

    def placebos_ref() -> tuple[list[float], list[float]]:
        effects, rmspe = [], []
        sub = wide.drop(index="California")
        for unit in donors:
            w = _pysyncon_outcome_only(sub, unit, pre)
            others = [u for u in sub.index if u != unit]
            gap = sub.loc[unit] - sub.loc[others].T @ w
            effects.append(float(gap[post].mean()))
            rmspe.append(float(np.sqrt((gap[pre] ** 2).mean())))
        return effects, rmspe

    t_pl, (effects, rmspe) = _best_of(placebos_ref, 1)
    table = full.placebos.set_index("unit").loc[donors]
    ours_eff, ours_rmspe = table["effect"].to_numpy(), table["pre_rmspe"].to_numpy()
    better = int((ours_rmspe <= np.array(rmspe) + 1e-9).sum())
    print(
        f"pysyncon placebo-in-space over {len(donors)} donors: {t_pl:.3f} s "
        f"(ours {t_all:.3f} s); largest |placebo ATT difference| "
        f"{np.max(np.abs(ours_eff - np.array(effects))):.2e}; ours reaches an equal or lower "
        f"pre-RMSPE for {better} of {len(donors)} placebo units"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prop99", type=Path, default=DEFAULT_PROP99)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if importlib.util.find_spec("moderndid") is not None:
        import moderndid

        mpdta = moderndid.load_mpdta().to_pandas()
        cols = {
            "unit": "countyreal",
            "time": "year",
            "outcome": "lemp",
            "first_treated": "first.treat",
        }
        bench_staggered(mpdta, cols, "mpdta 500 x 5", args.repeat)
    sim = _simulated_staggered(5000)
    bench_staggered(
        sim,
        {"unit": "id", "time": "year", "outcome": "y", "first_treated": "g"},
        "simulated 5000 x 10",
        args.repeat,
    )
    bench_sc(load_prop99(args.prop99), args.repeat)


if __name__ == "__main__":
    main()
