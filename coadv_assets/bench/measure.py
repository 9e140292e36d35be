"""Wall time and peak memory of one command and every process it starts, and the memory
this machine has.

psutil (in the ``bench`` dependency group, which ``make bench`` installs) is used when it is
installed; without it the same figures are read from Linux's ``/proc``, so that the
benchmark also runs in the default environment.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import psutil
except ImportError:  # the default environment: read /proc
    psutil = None

SAMPLE_SECONDS = 0.1
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Measurement:
    """One stage at one size: seconds of wall time, peak resident bytes, exit code."""

    wall_seconds: float
    peak_rss_bytes: int
    returncode: int
    log_tail: str


def _proc_children() -> dict[int, list[int]]:
    """Parent pid to child pids, from every ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces; the parent pid is the
        # second field after it
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _proc_rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants (0 for those gone)."""
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total
    children = _proc_children()
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _proc_rss(current)
        todo += children.get(current, [])
    return total


def _meminfo(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0]) * 1024
    raise KeyError(f"/proc/meminfo has no {field}")


def available_memory() -> int:
    """Bytes of memory available to new processes without swapping."""
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    return _meminfo("MemAvailable")


def total_memory() -> int:
    """Bytes of physical memory."""
    if psutil is not None:
        return int(psutil.virtual_memory().total)
    return _meminfo("MemTotal")


def run_measured(command: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> Measurement:
    """Run ``command`` to its end, sampling the RSS of its process tree every 0.1 s.

    Returns the wall time, the largest sampled sum of RSS over the tree (a peak shorter
    than the sampling interval can be missed), the exit code (negative: the signal that
    ended it) and the last lines of its output, which is written to ``log_path``. Refuses
    nothing: a failing stage is reported with its exit code.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss(child.pid))
            time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - started
    lines = log_path.read_text(errors="replace").splitlines()
    return Measurement(wall, peak, int(child.returncode or 0), "\n".join(lines[-30:]))
