"""PNG plots of the forecast against actuals and of the staffing plan."""

from pathlib import Path

import polars as pl


def forecast_plot(
    history: pl.DataFrame, backtest_rows: pl.DataFrame, future: pl.DataFrame, path: Path, title: str
) -> Path:
    """Actual contacts, the last backtest window's forecast with its 80% band, and the
    forecast after the data, one panel per ``queue``; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    queues = sorted(history["queue"].unique().to_list())
    fig, axes = plt.subplots(len(queues), 1, figsize=(10, 2.4 * len(queues)), squeeze=False)
    for ax, q in zip(axes[:, 0], queues, strict=True):
        h = history.filter(pl.col("queue") == q).tail(140)
        b = backtest_rows.filter(pl.col("queue") == q)
        b = b.filter(pl.col("origin") == b["origin"].max())
        f = future.filter(pl.col("queue") == q)
        ax.plot(h["date"].to_list(), h["contacts"].to_list(), color="black", lw=0.8, label="actual")
        for part, colour, label in ((b, "tab:blue", "backtest"), (f, "tab:orange", "forecast")):
            ax.plot(part["date"].to_list(), part["mean"].to_list(), color=colour, label=label)
            ax.fill_between(
                part["date"].to_list(),
                part["lo_80"].to_list(),
                part["hi_80"].to_list(),
                color=colour,
                alpha=0.25,
            )
        ax.set_title(q, fontsize=9)
        ax.set_ylabel("contacts / day")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def staffing_plot(plan: pl.DataFrame, path: Path, title: str) -> Path:
    """Peak agents per day (Erlang C and A) and scheduled agents, per queue; returns path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    queues = sorted(plan["queue"].unique().to_list())
    fig, axes = plt.subplots(len(queues), 1, figsize=(10, 2.2 * len(queues)), squeeze=False)
    for ax, q in zip(axes[:, 0], queues, strict=True):
        p = plan.filter(pl.col("queue") == q).sort("date")
        d = p["date"].to_list()
        ax.step(d, p["peak_agents_erlang_c"].to_list(), where="mid", label="Erlang C, peak hour")
        ax.step(d, p["peak_agents_erlang_a"].to_list(), where="mid", label="Erlang A, peak hour")
        ax.step(d, p["scheduled_agents_peak"].to_list(), where="mid", label="scheduled (shrinkage)")
        ax.set_title(q, fontsize=9)
        ax.set_ylabel("agents")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
