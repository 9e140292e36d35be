"""Evaluate every registered monitor against the warehouse and print verdicts and timings.

``python -m coadv_assets.monitoring [--model NAME]``: reads ``$COADV_HOME/warehouse.duckdb``,
writes reports under ``$COADV_HOME/artifacts/monitoring/<model>/cli_<stamp>/`` and prints one
line per check with its wall time. Nothing is appended to ``ops.check_history`` and nothing
pages: this is the on-demand view, the asset checks are the record. The exit status is 1 when
a check of ERROR severity fails (what the asset check would page for), 0 otherwise.
"""

import argparse
import datetime as dt
import time

from coadv_assets import paths
from coadv_assets.monitoring.checks import check_names, evaluate_monitor
from coadv_assets.monitoring.specs import MONITORS
from coadv_assets.monitoring.thresholds import load_thresholds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="one model only (default: every monitor)")
    args = parser.parse_args(argv)
    monitors = [m for m in MONITORS if args.model in (None, m.model)]
    if not monitors:
        parser.error(f"no monitor for model {args.model!r}; known: {[m.model for m in MONITORS]}")
    stamp = f"cli_{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    paging = []
    for monitor in monitors:
        out_dir = paths.artifacts_dir() / "monitoring" / monitor.model / stamp
        start = time.perf_counter()
        verdicts = evaluate_monitor(
            monitor, paths.warehouse_path(), out_dir, load_thresholds(monitor.model)
        )
        elapsed = time.perf_counter() - start
        print(
            f"{monitor.model}: {len(verdicts)} checks ({', '.join(check_names(monitor))}) "
            f"in {elapsed:.1f} s; reports in {out_dir}"
        )
        for v in verdicts:
            value = "-" if v.value is None else f"{v.value:.4g}"
            print(
                f"  {v.check_name:<17} {v.status:<17} {v.effective_severity:<5} {value:>8}  "
                f"{v.message[:140]}"
            )
            if v.status == "fail" and v.effective_severity == "ERROR":
                paging.append(f"{monitor.model}/{v.check_name}")
    if paging:
        print(f"failed at ERROR severity (would page): {', '.join(paging)}")
    return 1 if paging else 0


if __name__ == "__main__":
    raise SystemExit(main())
