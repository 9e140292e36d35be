"""The benchmark table: per stage and size, wall time and peak memory, and growth ratios."""

from coadv_assets.bench.measure import Measurement

Results = dict[float, dict[str, Measurement]]


def _size(scale: float) -> str:
    return f"{scale:g}x"


def _ratio(value: float, below: float) -> str:
    return f"{value / below:.1f}" if below > 0 else "-"


def format_table(results: Results, stages: tuple[str, ...]) -> str:
    """A plain-text table: one row per stage, per size ``wall s``, ``peak MiB``, and for
    every size after the first the ratio of both figures to the size below it.

    Returns an empty string when there are no results. A failed stage shows ``FAILED`` with
    its exit code instead of figures, since its cost would not be comparable.
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
    for stage in stages:
        row = [stage]
        for index, scale in enumerate(scales):
            found = results[scale].get(stage)
            if found is None:
                row += ["-", "-"] + (["-", "-"] if index else [])
                continue
            if found.returncode:
                row += [f"FAILED({found.returncode})", "-"] + (["-", "-"] if index else [])
                continue
            row += [f"{found.wall_seconds:.1f}", f"{found.peak_rss_bytes / 2**20:.0f}"]
            if index:
                below = results[scales[index - 1]].get(stage)
                if below is None or below.returncode:
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
    return "\n".join(lines)
