"""Command line: ``python -m coadv_assets.bench [--scales 1,10,100] [--stages ...]``.

Runs the simulator and the pipeline at each size in its own data directory
(``<workdir>/<scale>x``), stage by stage, and prints the table of wall time and peak memory
with the ratio of each size to the one below. A size larger than the last one measured is
first estimated (peak memory and landing size grown in proportion to the size, from the
size below) and skipped with a printed reason when this machine cannot hold it. A stage
that cannot be built from what the earlier stages left (the readouts stage without a data
window) is reported as not run, with the reason, under the table.
Without the simulation stage, the stages run again on the data directories a previous run
kept (``--keep``). Exits 1 when a stage failed.
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from coadv_assets import paths
from coadv_assets.bench.measure import (
    Measurement,
    available_memory,
    run_measured,
    total_memory,
)
from coadv_assets.bench.report import NotRun, Results, format_table
from coadv_assets.bench.stages import STAGE_NAMES, StageNotRunnable, build_stages

MEMORY_HEADROOM = 0.8  # share of the available memory a size may be expected to use
DISK_HEADROOM = 0.5  # share of the free disk the landing files and warehouse may use


def _env(home: Path) -> dict[str, str]:
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {
        **os.environ,
        "COADV_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "DO_NOT_TRACK": "1",
    }


def _disk_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file())


def _cannot_hold(
    scale: float, below: float, measured: dict[str, Measurement | NotRun], home: Path
) -> str:
    """Why this machine cannot run ``scale`` given the size ``below``; empty when it can."""
    factor = scale / below
    peak = max(
        (m.peak_rss_bytes for m in measured.values() if isinstance(m, Measurement)), default=0
    )
    expected_peak = peak * factor
    available = available_memory() * MEMORY_HEADROOM
    if expected_peak > available:
        return (
            f"expected peak memory {expected_peak / 2**30:.1f} GiB ({factor:g} x the "
            f"{below:g}x peak of {peak / 2**30:.2f} GiB) exceeds {MEMORY_HEADROOM:.0%} of the "
            f"available {available_memory() / 2**30:.1f} GiB"
        )
    expected_disk = _disk_bytes(home) * factor
    free = shutil.disk_usage(home).free * DISK_HEADROOM
    if expected_disk > free:
        return (
            f"expected disk use {expected_disk / 2**30:.1f} GiB exceeds {DISK_HEADROOM:.0%} "
            f"of the free {shutil.disk_usage(home).free / 2**30:.1f} GiB"
        )
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coadv_assets.bench")
    parser.add_argument("--scales", default="1,10,100", help="sizes, comma-separated")
    parser.add_argument(
        "--stages",
        default=",".join(STAGE_NAMES),
        help=f"comma-separated subset of: {', '.join(STAGE_NAMES)} (in pipeline order)",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="default $COADV_HOME/bench")
    parser.add_argument("--keep", action="store_true", help="keep each size's data directory")
    args = parser.parse_args(argv)
    scales = sorted(float(s) for s in args.scales.split(","))
    wanted = [s.strip() for s in args.stages.split(",")]
    unknown = sorted(set(wanted) - set(STAGE_NAMES))
    if unknown:
        parser.error(f"unknown stages {unknown}; known: {', '.join(STAGE_NAMES)}")
    workdir = (args.workdir or paths.coadv_home() / "bench").resolve()
    results: Results = {}
    notes: list[str] = []
    exit_code = 0
    previous: tuple[float, Path] | None = None
    for scale in scales:
        home = workdir / f"{scale:g}x"
        if previous is not None:
            reason = _cannot_hold(scale, previous[0], results[previous[0]], previous[1])
            if reason:
                print(f"skipping {scale:g}x: {reason}", flush=True)
                notes.append(f"{scale:g}x not attempted: {reason}")
                break
            if not args.keep:
                shutil.rmtree(previous[1], ignore_errors=True)
        if "simulation" in wanted:
            shutil.rmtree(home, ignore_errors=True)
        elif not (home / "landing").exists():
            parser.error(f"{home} holds no simulated data; include the simulation stage")
        home.mkdir(parents=True, exist_ok=True)
        env = _env(home)
        results[scale] = {}
        for stage in build_stages(home, scale):
            if stage.name not in wanted:
                continue
            print(f"{scale:g}x {stage.name} ...", flush=True)
            try:
                command, note = stage.resolve()
            except StageNotRunnable as exc:
                results[scale][stage.name] = NotRun(str(exc))
                print(f"{scale:g}x {stage.name}: not run: {exc}", flush=True)
                exit_code = 1
                continue
            if note:
                notes.append(f"{stage.name} at {scale:g}x: {note}")
            found = run_measured(command, env, stage.cwd, home / "logs" / f"{stage.name}.log")
            results[scale][stage.name] = found
            print(
                f"{scale:g}x {stage.name}: {found.wall_seconds:.1f} s, "
                f"{found.peak_rss_bytes / 2**20:.0f} MiB peak, exit {found.returncode}",
                flush=True,
            )
            if found.returncode:
                print(found.log_tail, flush=True)
                exit_code = 1
        (home / f"bench-{'-'.join(w.replace(' ', '_') for w in wanted)}.json").write_text(
            json.dumps(
                {
                    name: {"not_run": m.reason}
                    if isinstance(m, NotRun)
                    else {
                        "wall_seconds": m.wall_seconds,
                        "peak_rss_bytes": m.peak_rss_bytes,
                        "returncode": m.returncode,
                    }
                    for name, m in results[scale].items()
                },
                indent=2,
            )
        )
        previous = (scale, home)
    print()
    print(f"cpus {os.cpu_count()}, memory {total_memory() / 2**30:.1f} GiB")
    print(format_table(results, tuple(s for s in STAGE_NAMES if s in wanted), notes))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
