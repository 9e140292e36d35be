"""The PU measurement layer: monthly `c_r` baselines and readouts of `τ` per function.

Both assets are partitioned by month (``PU_MONTHS``): a partition is the baseline or the
readout as it stood at the end of that month, from the complete months of data through it.
Partitions start at ``$COADV_PU_PARTITION_START`` (default 2023-01-01, before the
simulator's default window); a month before the data window records an explicit "no data"
entry instead of failing. Backfill a range from the CLI (one run for the whole range):

    dagster asset materialize -m coadv_assets.definitions --select cr_baselines,tau_readouts \
        --partition-range 2025-01-01...2025-03-01

Run without a partition (``main_job``, ``make run``), each asset acts on the latest complete
month of data, so the unpartitioned main job stays materializable. Records are immutable and
versioned (``coadv_assets.pu.store``): rerunning a month finds its versions and writes
nothing.
"""

import base64
import datetime as dt
import os
from pathlib import Path

import dagster as dg

from coadv_assets.pu.panel import load_team_month_panel
from coadv_assets.simulation.config import FUNCTIONS
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:pu-measurement"
TEAM_MONTH = dg.AssetKey(["marts", "fct_team_month_pu"])
PARTITION_START = os.environ.get("COADV_PU_PARTITION_START", "2023-01-01")
PU_MONTHS = dg.MonthlyPartitionsDefinition(start_date=PARTITION_START)


def _months(context: dg.AssetExecutionContext, con) -> list[dt.date]:
    """The months a run covers: its partition range, or the latest complete month."""
    if context.has_partition_key or context.has_partition_key_range:
        start, end = context.partition_time_window
        months, current = [], start.date()
        while current < end.date():
            months.append(current)
            current = (current + dt.timedelta(days=32)).replace(day=1)
        return months
    latest = con.sql(
        "select max(month) from marts.fct_function_month_pu where complete_month"
    ).fetchall()[0][0]
    if latest is None:
        raise dg.Failure(
            description=(
                "marts.fct_function_month_pu has no complete month: nothing to measure; "
                "land and build data first, or run a partition"
            )
        )
    return [latest]


def _image_md(path: Path | None, alt: str) -> str:
    if path is None:
        return f"({alt}: no plot)"
    data = base64.b64encode(path.read_bytes()).decode()
    return f"![{alt}](data:image/png;base64,{data})"


def _doc_metadata(function: str, doc: Path, png: Path | None) -> dict[str, object]:
    """Dagster metadata linking a readout document, with its c_r plot embedded."""
    png = png if png is not None and png.exists() else None
    return {
        f"{function}/document": dg.MetadataValue.path(str(doc)),
        f"{function}/c_r_vs_baseline": dg.MetadataValue.md(
            f"[readout]({doc})\n\n" + _image_md(png, "c_r against its baseline")
        ),
    }


@dg.asset(
    group_name="pu",
    kinds={"python", "statsmodels", "duckdb"},
    owners=[OWNER],
    deps=[TEAM_MONTH],
    pool="warehouse",
    partitions_def=PU_MONTHS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "c_r baseline per function as of each month: what a PU would cost without AI "
        "tooling, from the pre-period, adjusted for team mix and seasonality, with a 95% "
        "interval, published as an immutable versioned record with its audit trail "
        "(pu.baselines, pu.baseline_months, pu.baseline_inputs)."
    ),
)
def cr_baselines(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.pu import monthly, store

    with connect(warehouse.db_path) as con:
        store.ensure_tables(con)
        months = _months(context, con)
        panels = {f: load_team_month_panel(con, f) for f in FUNCTIONS}
        summary, new_versions = monthly.publish_baselines(con, panels, months)
    return dg.MaterializeResult(
        metadata={
            "months": f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}",
            "new_versions": new_versions,
            "baselines": dg.MetadataValue.json(summary),
        }
    )


@dg.asset(
    group_name="pu",
    kinds={"python", "duckdb"},
    owners=[OWNER],
    deps=[TEAM_MONTH],
    pool="warehouse",
    partitions_def=PU_MONTHS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "Readouts of τ per function and month: staggered DiD (primary; synthetic control when "
        "one team is treated), synthetic control, matching and interrupted time series side "
        "by side with their checks or refusals, and the naive before/after comparison, on "
        "c_r and PUs per hour in units and percent with 95% intervals (pu.tau_readouts), "
        "plus a readout document per function and month under artifacts/readouts/. It "
        "publishes the month's baselines first if cr_baselines has not (same versions)."
    ),
)
def tau_readouts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.pu import monthly, report, store
    from coadv_assets.pu import readout as readout_mod
    from coadv_assets.pu.registry import load_registry

    registry = load_registry()
    table = ["| month | function | outcome | method | role | estimate | 95% CI |", "|" + "---|" * 7]
    metadata: dict[str, object] = {}
    new_versions = 0
    with connect(warehouse.db_path) as con:
        store.ensure_tables(con)
        months = _months(context, con)
        panels = {f: load_team_month_panel(con, f) for f in FUNCTIONS}
        monthly.publish_baselines(con, panels, months)
        for month in months:
            for function in FUNCTIONS:
                panel = readout_mod.panel_as_of(panels[function], month)
                version, fingerprint, code = store.readout_version(function, month, panel)
                doc_path = report.readout_dir(function, month) / "readout.md"
                if store.readout_exists(con, version) and doc_path.exists():
                    if month == months[-1]:
                        png = doc_path.parent / "c_r_baseline.png"
                        metadata.update(_doc_metadata(function, doc_path, png))
                    continue
                if panel.is_empty():
                    rows = [
                        readout_mod.refusal(
                            function, o, "all", "primary", "no data: no complete month yet"
                        )
                        for o in ("c_r", "pu_per_hour")
                    ]
                else:
                    rows = readout_mod.readout(panel, function)
                base = con.sql(
                    "select m.* from pu.baseline_months m where m.version = ("
                    "select version from pu.baselines where function = ? and as_of_month = ? "
                    "and status = 'published' order by published_at desc limit 1) "
                    "order by month",
                    params=[function, month],
                ).pl()
                window = (
                    f"{panel['month'].min()}..{panel['month'].max()}" if panel.height else "none"
                )
                doc, png = report.write_document(
                    registry[function], month, rows, base, version=version, window=window
                )
                new = store.publish_readout(
                    con,
                    rows,
                    version=version,
                    as_of=month,
                    fingerprint=fingerprint,
                    code=code,
                    document=str(doc),
                )
                new_versions += int(new)
                for r in rows:
                    ci = (
                        f"[{r.ci_low:.3f}, {r.ci_high:.3f}]"
                        if r.status == "estimated"
                        else f"refused: {(r.reason or '')[:80]}"
                    )
                    est = f"{r.estimate:.3f}" if r.estimate is not None else ""
                    table.append(
                        f"| {month:%Y-%m} | {function} | {r.outcome} ({r.unit}) | {r.method} | "
                        f"{r.role} | {est} | {ci} |"
                    )
                if month == months[-1]:
                    metadata.update(_doc_metadata(function, doc, png))
    metadata["months"] = f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}"
    metadata["new_versions"] = new_versions
    metadata["readouts"] = dg.MetadataValue.md("\n".join(table))
    return dg.MaterializeResult(metadata=metadata)


defs = dg.Definitions(assets=[cr_baselines, tau_readouts])
