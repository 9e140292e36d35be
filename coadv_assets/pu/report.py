"""The readout document of one function and month, for a decision maker: Markdown + PNGs.

Written under ``$COADV_HOME/artifacts/readouts/<function>/<month>/``: ``readout.md`` and the
plots it embeds (``c_r_baseline.png``: observed c_r against its baseline band;
``event_study.png``: the DiD effect by months since adoption; ``sc_gap.png``: the synthetic
control's gap). A plot whose method refused is replaced by the refusal's reason.
"""

import datetime as dt
from pathlib import Path

import polars as pl

from coadv_assets import paths
from coadv_assets.pu.estimate import OUTCOMES, Estimate
from coadv_assets.pu.registry import PuDefinition


def readout_dir(function: str, month: dt.date) -> Path:
    """Folder of the readout document of ``function`` as of ``month`` (created)."""
    folder = paths.artifacts_dir() / "readouts" / function / month.strftime("%Y-%m")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    return plt, fig, ax


def plot_baseline(months: pl.DataFrame, path: Path, title: str) -> Path | None:
    """Observed c_r by month with the baseline and its 95% band; None without a baseline."""
    if months.is_empty():
        return None
    plt, fig, ax = _figure()
    x = months["month"].to_list()
    ax.fill_between(x, months["ci_low"], months["ci_high"], alpha=0.3, label="baseline 95%")
    ax.plot(x, months["baseline_c_r"], "--", label="baseline c_r")
    ax.plot(x, months["observed_c_r"], "-o", ms=3, label="observed c_r")
    ax.set_ylabel("USD per PU")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_event_study(table: pl.DataFrame, path: Path, unit: str) -> Path:
    """ATT by months since adoption with 95% intervals (Callaway & Sant'Anna, dynamic).

    The readout's DiD runs on log c_r, so the table holds percent effects (exp(d) - 1)."""
    plt, fig, ax = _figure()
    e = table["event_time"].to_numpy()
    est = table["estimate"].to_numpy()
    ax.errorbar(
        e,
        est,
        yerr=[est - table["ci_low"].to_numpy(), table["ci_high"].to_numpy() - est],
        fmt="o",
        ms=3,
        capsize=2,
    )
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(-0.5, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("months since adoption")
    ax.set_ylabel(f"effect on c_r (% of counterfactual {unit})")
    ax.set_title("Event study (staggered DiD)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_sc_gap(gaps: pl.DataFrame, path: Path, unit: str) -> Path:
    """Treated minus synthetic control (demeaned) by month index; adoption marked."""
    plt, fig, ax = _figure()
    ax.plot(gaps["time"], gaps["gap"], "-o", ms=3)
    first_post = gaps.filter(pl.col("post"))["time"].min()
    ax.axvline(first_post - 0.5, color="grey", ls=":", lw=0.8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("month index")
    ax.set_ylabel(f"gap in c_r ({unit})")
    ax.set_title("Synthetic control: treated minus synthetic")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _interval(r: Estimate) -> str:
    if r.status != "estimated":
        return f"refused: {r.reason}"
    pct = (
        f" ({r.estimate_pct:+.1f}%, 95% CI {r.ci_low_pct:+.1f}% to {r.ci_high_pct:+.1f}%)"
        if r.estimate_pct is not None and r.ci_low_pct is not None
        else ""
    )
    return f"{r.estimate:+.3f} {r.unit}, 95% CI [{r.ci_low:+.3f}, {r.ci_high:+.3f}]{pct}"


def write_document(
    definition: PuDefinition,
    month: dt.date,
    rows: list[Estimate],
    baseline_months: pl.DataFrame,
    *,
    version: str,
    window: str,
) -> tuple[Path, Path | None]:
    """Write the readout document; return (markdown path, baseline plot path or None)."""
    folder = readout_dir(definition.function, month)
    label = month.strftime("%Y-%m")
    base_png = plot_baseline(
        baseline_months.filter(pl.col("month") <= month),
        folder / "c_r_baseline.png",
        f"{definition.function}: c_r against its baseline",
    )
    cr = [r for r in rows if r.outcome == "c_r"]
    did = next((r for r in cr if r.method == "staggered_did"), None)
    sc = next((r for r in cr if r.method == "synthetic_control"), None)
    lines = [
        f"# Effect of AI tooling on {definition.function.replace('_', ' ')}: readout as of {label}",
        "",
        f"Readout version `{version}`; data window {window}. One PU = one {definition.unit} "
        f"({definition.quality_gate}); c_r = timesheet hours x loaded cost / PUs.",
        "",
        "## Question",
        "",
        "By how much did AI tooling change the cost of a PU (c_r, USD per PU) and the PUs per "
        "hour of the teams that received it, over their months since adoption?",
        "",
        "## Answer",
        "",
    ]
    for outcome in OUTCOMES:
        main = next((r for r in rows if r.outcome == outcome and r.role == "primary"), None)
        if main is not None:
            lines.append(f"- **{outcome}** ({main.method}): {_interval(main)}")
    lines += [
        "",
        "## Identification strategy",
        "",
        "Primary: staggered difference-in-differences (Callaway & Sant'Anna) comparing each "
        "adoption cohort with never-treated teams on the log scale (wage inflation and changes "
        "in the work scale every team's c_r in proportion), or synthetic control when a single "
        "team is treated. Secondary checks answer the same question under other assumptions. The "
        "naive before/after comparison is shown only to make its bias visible.",
        "",
        "| outcome | method | role | estimate (95% CI) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r.outcome} | {r.method} | {r.role} | {_interval(r)} |" for r in rows]
    lines += ["", "## Checks", ""]
    lines += [
        f"- {r.outcome} / {r.method}: {r.assumptions or 'refused: ' + str(r.reason)}" for r in rows
    ]
    lines += [
        "",
        "## Caveats",
        "",
        "- Percent figures divide by the counterfactual mean, taken as fixed in the interval.",
        "- The naive figure is the function's monthly c_r since its rollout began against the "
        "months before, as a dashboard shows it: it mixes in wage inflation, the drift in the "
        "work's complexity and the teams not yet treated, so it is no estimate of the effect.",
        "- Early adopters were chosen by their prior productivity: methods that compare levels "
        "across teams (matching, synthetic control without an intercept) may refuse for lack "
        "of overlap; that is a property of the rollout, not a failure of the data.",
        "- The baseline band is an interval for the expected c_r without tooling, not a "
        "prediction band for one month.",
        "",
        "## Plots",
        "",
    ]
    if base_png is not None:
        lines.append(f"![c_r against its baseline]({base_png.name})")
    else:
        lines.append("No baseline for this month (see pu.baselines for the reason).")
    if did is not None and did.status == "estimated" and "event_study" in did.tables:
        es = plot_event_study(did.tables["event_study"], folder / "event_study.png", did.unit)
        lines.append(f"![event study]({es.name})")
    else:
        lines.append(f"Event study: not available ({did.reason if did else 'no DiD'}).")
    if sc is not None and sc.status == "estimated" and "sc_gaps" in sc.tables:
        gap = plot_sc_gap(sc.tables["sc_gaps"], folder / "sc_gap.png", sc.unit)
        lines.append(f"![synthetic control gap]({gap.name})")
    else:
        lines.append(f"Synthetic control gap: not available ({sc.reason if sc else 'no SC'}).")
    doc = folder / "readout.md"
    doc.write_text("\n".join(lines) + "\n")
    return doc, base_png
