"""Reliability plots as PNG files (matplotlib's Agg canvas; no display, no global state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coadv_assets.models.metrics import N_BINS, expected_calibration_error, reliability_table


def reliability_plot(
    y: np.ndarray,
    p: np.ndarray,
    path: str | Path,
    *,
    n_bins: int = N_BINS,
    title: str = "Reliability",
) -> Path:
    """Draw observed rate against mean prediction per equal-width bin, with the diagonal and
    a histogram of predictions; write a PNG to ``path`` and return it."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    table = reliability_table(y, p, n_bins)
    ece = expected_calibration_error(y, p, n_bins)
    fig = Figure(figsize=(5, 6), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
    top.plot(
        [r["mean_prediction"] for r in table],
        [r["observed_rate"] for r in table],
        marker="o",
        label=f"model (ECE {ece:.3f}, {n_bins} bins)",
    )
    top.set_ylabel("observed rate")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_title(f"{title} (n = {y.size})")
    top.legend(loc="upper left")
    bottom.hist(p, bins=np.linspace(0, 1, n_bins + 1), color="steelblue")
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("rows")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
