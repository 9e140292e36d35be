"""The PU measurement layer: `c_r` baselines and readouts of `τ` per function."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg
import polars as pl

from coadv_assets import lineage
from coadv_assets.pu.panel import load_team_month_panel
from coadv_assets.simulation.config import FUNCTIONS
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:pu-measurement"
TEAM_MONTH = dg.AssetKey(["marts", "fct_team_month_pu"])
PU_DIR = Path(__file__).resolve().parent.parent / "pu"
BASELINE_CODE = [PU_DIR / "baseline.py", PU_DIR / "panel.py"]
READOUT_CODE = [PU_DIR / "readout.py", PU_DIR / "panel.py"]

BASELINES_DDL = """
create schema if not exists pu;
create table if not exists pu.baselines (
    version varchar primary key, function varchar, pre_start date, pre_end date,
    n_obs integer, n_teams integer, input_fingerprint varchar, code_version varchar,
    git_commit varchar, record json, published_at timestamptz
);
create table if not exists pu.baseline_months (
    version varchar, function varchar, month date, labor_cost double, pu double,
    observed_c_r double, baseline_c_r double, ci_low double, ci_high double,
    in_pre_period boolean
);
create table if not exists pu.tau_readouts (
    function varchar, outcome varchar, unit varchar, method varchar, status varchar,
    estimate double, std_error double, ci_low double, ci_high double,
    estimate_pct double, ci_low_pct double, ci_high_pct double, n_obs integer,
    reason varchar, diagnostics varchar, input_fingerprint varchar, code_version varchar,
    computed_at timestamptz
);
"""


def publish_baseline(con, fitted: "Baseline", panel: pl.DataFrame) -> tuple[str, bool]:  # noqa: F821
    """Store ``fitted`` as an immutable record; return (version, newly_published).

    The version is the hash of the input fingerprint, the code version and the method, so
    republishing unchanged inputs finds the existing record and writes nothing.
    """
    fingerprint = lineage.frame_fingerprint(panel)
    code = lineage.code_version(*BASELINE_CODE)
    version = hashlib.sha256(
        f"{fitted.function}|{fingerprint}|{code}|{fitted.pre_end}".encode()
    ).hexdigest()[:16]
    con.execute(BASELINES_DDL)
    if con.execute("select 1 from pu.baselines where version = ?", [version]).fetchone():
        return version, False
    record = {
        "function": fitted.function,
        "version": version,
        "data_window": {
            "first_month": str(panel["month"].min()),
            "last_month": str(panel["month"].max()),
        },
        "pre_period": {"start": str(fitted.pre_start), "end": str(fitted.pre_end)},
        "row_counts": {"marts.fct_team_month_pu": panel.height, "pre_period_rows": fitted.n_obs},
        "input_fingerprints": {"marts.fct_team_month_pu": fingerprint},
        "code_version": code,
        "git_commit": lineage.git_commit(),
        "compiled_sql": {"fct_team_month_pu": lineage.compiled_sql("fct_team_month_pu")},
        "method": fitted.method,
        "fit": fitted.fit,
    }
    con.execute(
        "insert into pu.baselines values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            version,
            fitted.function,
            fitted.pre_start,
            fitted.pre_end,
            fitted.n_obs,
            fitted.n_teams,
            fingerprint,
            code,
            record["git_commit"],
            json.dumps(record),
            dt.datetime.now(dt.UTC),
        ],
    )
    months = fitted.months.with_columns(
        version=pl.lit(version), function=pl.lit(fitted.function)
    ).select(
        "version",
        "function",
        "month",
        "labor_cost",
        "pu",
        "observed_c_r",
        "baseline_c_r",
        "ci_low",
        "ci_high",
        "in_pre_period",
    )
    con.register("incoming_months", months.to_arrow())
    con.execute("insert into pu.baseline_months select * from incoming_months")
    con.unregister("incoming_months")
    return version, True


@dg.asset(
    group_name="pu",
    kinds={"python", "statsmodels", "duckdb"},
    owners=[OWNER],
    deps=[TEAM_MONTH],
    pool="warehouse",
    description=(
        "c_r baseline per function: what a PU would cost without AI tooling, from the "
        "pre-period, adjusted for team mix and seasonality, with a 95% interval, published "
        "as an immutable versioned record with its audit trail (pu.baselines)."
    ),
)
def cr_baselines(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.pu import baseline as baseline_mod

    summary: dict[str, dict] = {}
    with connect(warehouse.db_path) as con:
        for function in FUNCTIONS:
            panel = load_team_month_panel(con, function)
            try:
                fitted = baseline_mod.fit_baseline(panel, function)
            except baseline_mod.BaselineError as err:
                context.log.warning(str(err))
                summary[function] = {"status": "refused", "reason": str(err)}
                continue
            version, new = publish_baseline(con, fitted, panel)
            post = fitted.months.filter(~pl.col("in_pre_period"))
            last = fitted.months.tail(1).row(0, named=True)
            summary[function] = {
                "status": "published" if new else "unchanged",
                "version": version,
                "pre_period": f"{fitted.pre_start}..{fitted.pre_end}",
                "last_month": str(last["month"]),
                "observed_c_r_usd_per_pu": round(last["observed_c_r"], 2),
                "baseline_c_r_usd_per_pu": round(last["baseline_c_r"], 2),
                "baseline_ci_usd_per_pu": [round(last["ci_low"], 2), round(last["ci_high"], 2)],
                "post_months": post.height,
            }
    metadata: dict[str, object] = {"baselines": dg.MetadataValue.json(summary)}
    for function, info in summary.items():
        if info["status"] != "refused":
            metadata[f"{function}/baseline_c_r"] = info["baseline_c_r_usd_per_pu"]
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="pu",
    kinds={"python", "duckdb"},
    owners=[OWNER],
    deps=[TEAM_MONTH],
    pool="warehouse",
    description=(
        "Readouts of τ per function: staggered difference-in-differences (Callaway & "
        "Sant'Anna, never-treated teams as controls) on c_r and PUs per hour, in units and "
        "percent with 95% intervals, beside the naive before/after comparison; a refusal "
        "with its reason where identification fails (pu.tau_readouts)."
    ),
)
def tau_readouts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.pu import readout as readout_mod

    code = lineage.code_version(*READOUT_CODE)
    rows: list[dict] = []
    with connect(warehouse.db_path) as con:
        con.execute(BASELINES_DDL)
        now = dt.datetime.now(dt.UTC)
        for function in FUNCTIONS:
            panel = load_team_month_panel(con, function)
            fingerprint = lineage.frame_fingerprint(panel)
            for est in readout_mod.readout(panel, function):
                rows.append(
                    {
                        **est.to_row(),
                        "input_fingerprint": fingerprint,
                        "code_version": code,
                        "computed_at": now,
                    }
                )
        frame = pl.DataFrame(rows, infer_schema_length=None)
        con.register("incoming", frame.to_arrow())
        con.execute("delete from pu.tau_readouts")
        con.execute("insert into pu.tau_readouts by name select * from incoming")
        con.unregister("incoming")
    table_lines = [
        "| function | outcome | method | estimate | 95% CI | % |",
        "|---|---|---|---|---|---|",
    ]
    metadata: dict[str, object] = {}
    for row in rows:
        if row["status"] == "estimated":
            table_lines.append(
                f"| {row['function']} | {row['outcome']} ({row['unit']}) | {row['method']} | "
                f"{row['estimate']:.3f} | [{row['ci_low']:.3f}, {row['ci_high']:.3f}] | "
                f"{row['estimate_pct']:.1f}% |"
            )
            if row["method"] == "staggered_did":
                metadata[f"{row['function']}/{row['outcome']}/tau"] = row["estimate"]
        else:
            table_lines.append(
                f"| {row['function']} | {row['outcome']} | {row['method']} | refused | "
                f"{row['reason']} | |"
            )
    metadata["readouts"] = dg.MetadataValue.md("\n".join(table_lines))
    return dg.MaterializeResult(metadata=metadata)


defs = dg.Definitions(assets=[cr_baselines, tau_readouts])
