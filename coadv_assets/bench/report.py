"""The benchmark table: per stage and size, wall time and peak memory, and growth ratios."""

import signal
from dataclasses import dataclass

from coadv_assets.bench.measure import Measurement


@dataclass(frozen=True)
class NotRun:
    """A stage that did not run at a size, and the measured reason why."""

    reason: str


Results = dict[float, dict[str, Measurement | NotRun]]


def _size(scale: float) -> str:
    return f"{scale:g}x"


def _ratio(value: float, below: float) -> str:
    return f"{value / below:.1f}" if below > 0 else "-"


def _measured(found: Measurement | NotRun | None) -> Measurement | None:
    if isinstance(found, Measurement) and not found.returncode:
        return found
    return None


def failure_reason(found: Measurement) -> str:
    """Why a measured stage failed: the signal that ended it or its last error line."""
    peak = f"peak {found.peak_rss_bytes / 2**20:.0f} MiB after {found.wall_seconds:.0f} s"
    if found.returncode < 0:
        try:
            name = signal.Signals(-found.returncode).name
        except ValueError:
            name = f"signal {-found.returncode}"
        cause = " (the kernel's out-of-memory killer?)" if name == "SIGKILL" else ""
        return f"killed by {name}{cause}, {peak}"
    lines = [line.strip() for line in found.log_tail.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "exception" in line.lower()]
    last = (errors or lines or ["no output"])[-1]
    return f"exit {found.returncode}, {peak}: {last[:160]}"


def format_table(results: Results, stages: tuple[str, ...], notes: list[str] | None = None) -> str:
    """A plain-text table: one row per stage, per size ``wall s``, ``peak MiB``, and for
    every size after the first the ratio of both figures to the size below it; then the
    notes: ``notes`` (what a stage measured, a size not attempted), and the reason for
    every stage that failed or did not run at a size.

    Returns an empty string when there are no results. A failed stage shows ``FAILED`` with
    its exit code instead of figures, and one that did not run ``not run``, since neither
    cost would be comparable.
    """
    scales = sorted(results)
    if not scales:
        return ""
    header = ["stage"]
    for index, scale in enumerate(scales):
        header += [f"{_size(scale)} wall s", f"{_size(scale)} peak MiB"]
        if index:
            below = _size(scales[index - 1])
            header += [f"{_size(scale)}/{below} wall", f"{_size(scale)}/{below} mem"]
    rows = [header]
    footnotes = []
    for stage in stages:
        row = [stage]
        for index, scale in enumerate(scales):
            found = results[scale].get(stage)
            ratios = ["-", "-"] if index else []
            if found is None:
                row += ["-", "-", *ratios]
                continue
            if isinstance(found, NotRun):
                row += ["not run", "-", *ratios]
                footnotes.append(f"{stage} at {_size(scale)}: not run: {found.reason}")
                continue
            if found.returncode:
                row += [f"FAILED({found.returncode})", "-", *ratios]
                footnotes.append(f"{stage} at {_size(scale)}: {failure_reason(found)}")
                continue
            row += [f"{found.wall_seconds:.1f}", f"{found.peak_rss_bytes / 2**20:.0f}"]
            if index:
                below = _measured(results[scales[index - 1]].get(stage))
                if below is None:
                    row += ["-", "-"]
                else:
                    row += [
                        _ratio(found.wall_seconds, below.wall_seconds),
                        _ratio(found.peak_rss_bytes, below.peak_rss_bytes),
                    ]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    footnotes = [*(notes or []), *footnotes]
    if footnotes:
        lines += ["", "notes:", *(f"- {text}" for text in footnotes)]
    return "\n".join(lines)
