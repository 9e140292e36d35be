"""Measure the readouts of a built warehouse against the simulator's planted truths.

A command-line study, not part of the asset graph (which never reads truths): for each
function, the primary and naive intervals of the latest complete month beside the planted
effect, whether each covers it, and the seconds a baseline fit and a readout take.

    COADV_HOME=/tmp/pu5 python -m coadv_assets.pu.study
"""

import argparse
import datetime as dt
import json
import sys
import time

from coadv_assets import paths
from coadv_assets.pu import baseline, readout
from coadv_assets.pu.panel import load_team_month_panel
from coadv_assets.simulation.config import FUNCTIONS
from coadv_assets.warehouse import connect

TRUTH_KEYS = {"c_r": "c_r_usd_per_pu", "pu_per_hour": "pu_per_hour_units"}


def main(argv: list[str] | None = None) -> int:
    """Print one line per function, outcome and method role; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", help="as-of month YYYY-MM-01 (default: latest complete)")
    args = parser.parse_args(argv)
    truths = json.loads((paths.truths_dir() / "truths.json").read_text())
    with connect(read_only=True) as con:
        latest = con.sql(
            "select max(month) from marts.fct_function_month_pu where complete_month"
        ).fetchall()[0][0]
        panels = {f: load_team_month_panel(con, f) for f in FUNCTIONS}
    month = dt.date.fromisoformat(args.month) if args.month else latest
    print(f"readouts as of {month} against planted effects ({paths.coadv_home()})")
    print(
        f"{'function':<24} {'outcome':<12} {'role':<8} {'method':<19} "
        f"{'estimate':>9} {'95% CI':>22} {'truth':>9} covers"
    )
    for function, full in panels.items():
        panel = readout.panel_as_of(full, month)
        start = time.perf_counter()
        baseline.fit_baseline(panel, function)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        rows = readout.readout(panel, function)
        read_s = time.perf_counter() - start
        att = truths["functions"][function]["att"]
        for r in rows:
            if r.role == "secondary":
                continue
            truth = att[TRUTH_KEYS[r.outcome]]
            ci = f"[{r.ci_low:.3f}, {r.ci_high:.3f}]" if r.status == "estimated" else "refused"
            est = f"{r.estimate:.3f}" if r.estimate is not None else "-"
            print(
                f"{function:<24} {r.outcome:<12} {r.role:<8} {r.method:<19} {est:>9} "
                f"{ci:>22} {truth:>9.3f} {'yes' if r.covers(truth) else 'no'}"
            )
        print(f"{function:<24} baseline fit {fit_s:.2f} s, readout (all methods) {read_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
