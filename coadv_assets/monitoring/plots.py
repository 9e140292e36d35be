"""Figures for monitoring metadata: PNG files drawn on matplotlib's Agg canvas, and the
markdown that embeds a PNG in Dagster metadata so that it shows on the materialization or
check page without a file server."""

import base64
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MAX_EMBED_BYTES = 2_000_000


def png_markdown(path: str | Path, alt: str = "plot") -> str:
    """Return markdown embedding the PNG at ``path`` as a base64 data URI.

    Refuses (ValueError) a file that is not a PNG or is larger than 2 MB, which the UI would
    load with every page view; link such a file with ``MetadataValue.path`` instead.
    """
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"{path} is not a PNG file")
    if len(data) > MAX_EMBED_BYTES:
        raise ValueError(f"{path} is {len(data)} bytes, above {MAX_EMBED_BYTES}; link it")
    return f"![{alt}](data:image/png;base64,{base64.b64encode(data).decode()})"


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, format="png")
    return out


def drift_summary_plot(
    columns: Sequence[str],
    scores: Sequence[float | None],
    drifted: Sequence[bool],
    path: str | Path,
    *,
    title: str = "Feature drift",
) -> Path:
    """Draw one horizontal bar per column (its drift score; none for columns decided without
    a score), red when drifted; write a PNG to ``path`` and return it."""
    fig = Figure(figsize=(6, 0.35 * max(len(columns), 3) + 1.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    values = [0.0 if s is None else float(s) for s in scores]
    colours = ["firebrick" if d else "steelblue" for d in drifted]
    ax.barh(list(columns), values, color=colours)
    for i, s in enumerate(scores):
        if s is None:
            ax.text(0, i, " not scored", va="center", fontsize=8, color="grey")
    ax.invert_yaxis()
    ax.set_xlabel("drift score (evidently; red: drifted)")
    ax.set_title(title)
    return _save(fig, path)


def predicted_vs_realised_plot(
    periods: Sequence[str],
    predicted: Sequence[float],
    realised: Sequence[float | None],
    path: str | Path,
    *,
    title: str = "Predicted against realised",
    unit: str = "",
) -> Path:
    """Draw the predicted and the realised series per period (forecast against actuals);
    write a PNG to ``path`` and return it. Missing realised values leave gaps."""
    fig = Figure(figsize=(7, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    x = list(range(len(periods)))
    ax.plot(x, list(predicted), marker="o", label="predicted")
    ax.plot(x, [float("nan") if v is None else v for v in realised], marker="s", label="realised")
    step = max(1, len(periods) // 12)
    ax.set_xticks(x[::step], [str(p) for p in periods][::step], rotation=45, ha="right")
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)
