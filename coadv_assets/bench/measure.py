"""Wall time and peak memory of one command and every process it starts."""

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Measurement:
    """One stage at one size: seconds of wall time, peak resident bytes, exit code."""

    wall_seconds: float
    peak_rss_bytes: int
    returncode: int
    log_tail: str


def _tree_rss(root: psutil.Process) -> int:
    """Resident bytes of ``root`` and all its descendants (0 for those already gone)."""
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def run_measured(command: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> Measurement:
    """Run ``command`` to its end, sampling the RSS of its process tree every 0.1 s.

    Returns the wall time, the largest sampled sum of RSS over the tree (a peak shorter
    than the sampling interval can be missed), the exit code and the last lines of its
    output, which is written to ``log_path``. Refuses nothing: a failing stage is reported
    with its exit code.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        root = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            peak = max(peak, _tree_rss(root))
            time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    lines = log_path.read_text(errors="replace").splitlines()
    return Measurement(wall, peak, int(child.returncode or 0), "\n".join(lines[-30:]))
