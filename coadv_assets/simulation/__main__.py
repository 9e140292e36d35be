"""Command line: ``python -m coadv_assets.simulation --clients N --months M ...``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from coadv_assets.simulation.config import SimulationConfig
from coadv_assets.simulation.runner import simulate


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the simulation and print what was written; returns 0."""
    defaults = SimulationConfig()
    parser = argparse.ArgumentParser(prog="python -m coadv_assets.simulation")
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--months", type=int, default=defaults.months)
    parser.add_argument("--teams-per-function", type=int, default=defaults.teams_per_function)
    parser.add_argument("--scale", type=float, default=defaults.scale)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=defaults.end_date,
        help="last day of the window (YYYY-MM-DD, default today in UTC)",
    )
    parser.add_argument("--landing", type=Path, default=None)
    parser.add_argument("--truths", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    config = SimulationConfig(
        seed=args.seed,
        clients=args.clients,
        months=args.months,
        teams_per_function=args.teams_per_function,
        scale=args.scale,
        end_date=args.end_date,
    )
    started = time.perf_counter()
    summary = simulate(config, landing=args.landing, truths=args.truths, progress=not args.quiet)
    elapsed = time.perf_counter() - started
    print(f"window {summary.window_start} .. {summary.last_day}; landing {summary.landing}")
    for table, n in summary.rows.items():
        print(f"  {table:<14} {n:>10,} rows")
    print(
        f"{summary.bytes_written / 1e6:.1f} MB written in {elapsed:.1f} s; "
        f"truths in {summary.truths}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
