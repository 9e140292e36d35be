"""Landing: the embedded simulator writes source files; ingestion loads them under contract.

``simulated_landing`` writes the embedded default data into the landing folder (it does
nothing when ``COADV_SOURCE=files``, where real exports land there instead). ``peo_sources``
loads every new landed file that keeps its source contract into the warehouse's ``raw``
schema, one asset per source table (the keys dbt's sources map to), and sets aside the files
that break it.
"""

import datetime as dt
import json
import os

import dagster as dg

from coadv_assets import paths
from coadv_assets.ingestion.contracts import load_contracts
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:data-platform"
SOURCE_NAME = "peo"
SIMULATION_MANIFEST = "_simulation.json"
CONTRACTS = load_contracts()
_PERIOD_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7}


def _freshness_windows() -> dict[str, tuple[float, float]]:
    """(warn, error) age limits in days per source table, from the sources YAML's config."""
    import yaml

    doc = yaml.safe_load((paths.DBT_PROJECT_DIR / "models/staging/_peo__sources.yml").read_text())
    source = next(s for s in doc["sources"] if s["name"] == SOURCE_NAME)

    def days(rule: dict) -> float:
        return rule["count"] * _PERIOD_DAYS[rule["period"]]

    default = source.get("config", {}).get("freshness", {})
    windows = {}
    for table in source["tables"]:
        rules = {**default, **table.get("config", {}).get("freshness", {})}
        windows[table["name"]] = (days(rules["warn_after"]), days(rules["error_after"]))
    return windows


FRESHNESS = _freshness_windows()


class SimulationSettings(dg.Config):
    """Size, seed and last day of the embedded default.

    The default is pinned (seed 11, ending 2026-11-30), so that every machine builds the same
    book on any day and ``make run`` gives the figures the end-to-end test checks against the
    planted truths (``tests/e2e``, which runs ``main_job`` with these settings).
    ``end_date: today`` ends the window on today's UTC date at the first run (later runs in
    the same ``COADV_HOME`` keep that date).
    """

    clients: int = 1500
    months: int = 36
    teams_per_function: int = 10
    scale: float = 1.0
    seed: int = 11
    end_date: str = "2026-11-30"


def _settings_key(settings: SimulationSettings, end_date: str) -> dict:
    return {
        "clients": settings.clients,
        "months": settings.months,
        "teams_per_function": settings.teams_per_function,
        "scale": settings.scale,
        "seed": settings.seed,
        "end_date": end_date,
    }


@dg.asset(
    group_name="ingestion",
    kinds={"python", "parquet"},
    owners=[OWNER],
    description=(
        "The embedded default: a seeded simulator of PEO operations writes every source "
        "table as Parquet under $COADV_HOME/landing. Its planted truths go to "
        "$COADV_HOME/truths, which only tests read."
    ),
)
def simulated_landing(
    context: dg.AssetExecutionContext, config: SimulationSettings
) -> dg.MaterializeResult:
    if os.environ.get("COADV_SOURCE", "simulator") != "simulator":
        context.log.info("COADV_SOURCE is not 'simulator': landing is fed by real exports")
        return dg.MaterializeResult(metadata={"source": "files"})
    from coadv_assets.simulation import SimulationConfig, simulate

    landing = paths.landing_dir()
    landing.mkdir(parents=True, exist_ok=True)
    manifest_path = landing / SIMULATION_MANIFEST
    previous = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    end_date = config.end_date
    if end_date == "today":
        end_date = previous["end_date"] if previous else dt.datetime.now(dt.UTC).date().isoformat()
    wanted = _settings_key(config, end_date)
    if previous == wanted:
        context.log.info("landing already holds this simulation; nothing to write")
        files = sorted(p.relative_to(landing).as_posix() for p in landing.glob("*/*.parquet"))
        return dg.MaterializeResult(metadata={**wanted, "files": len(files), "rewritten": False})
    if previous is not None:
        raise dg.Failure(
            description=(
                f"{landing} already holds a simulation with settings {previous}, not {wanted}. "
                "Simulated loads are not mixed: use another COADV_HOME or `make clean`."
            )
        )
    sim_config = SimulationConfig(
        seed=config.seed,
        clients=config.clients,
        months=config.months,
        teams_per_function=config.teams_per_function,
        scale=config.scale,
        end_date=dt.date.fromisoformat(end_date),
    )
    summary = simulate(sim_config, landing=landing, truths=paths.truths_dir(), progress=False)
    manifest_path.write_text(json.dumps(wanted, indent=2, sort_keys=True))
    rows = {table: int(n) for table, n in getattr(summary, "rows", {}).items()}
    return dg.MaterializeResult(
        metadata={
            **wanted,
            "rewritten": True,
            "rows_by_table": dg.MetadataValue.json(rows),
            "landing": dg.MetadataValue.path(str(landing)),
        }
    )


def _source_spec(table: str) -> dg.AssetSpec:
    contract = CONTRACTS[table]
    return dg.AssetSpec(
        key=dg.AssetKey([SOURCE_NAME, table]),
        deps=[simulated_landing],
        group_name="ingestion",
        kinds={"duckdb"},
        owners=[OWNER],
        description=(
            f"Source table {table} as landed under its contract, in raw.{table}; "
            f"key ({', '.join(contract.key)})."
        ),
        metadata={
            "dagster/table_name": f"raw.{table}",
            "contract_columns": len(contract.columns),
        },
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(days=FRESHNESS[table][1]),
            warn_window=dt.timedelta(days=FRESHNESS[table][0]),
        ),
    )


def _contract_check(table: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name="landed_files_keep_contract",
        asset=dg.AssetKey([SOURCE_NAME, table]),
        description=(
            f"Every file landed for {table} in this run kept its source contract; a file that "
            "broke it was set aside under rejected/ with its reason."
        ),
    )


@dg.multi_asset(
    specs=[_source_spec(t) for t in CONTRACTS],
    check_specs=[_contract_check(t) for t in CONTRACTS],
    pool="warehouse",
    can_subset=False,
)
def peo_sources(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.ingestion import ingest_landing

    report = ingest_landing(paths.landing_dir(), db_path=warehouse.db_path)
    with connect(warehouse.db_path, read_only=True) as con:
        counts = {
            t: int(con.execute(f"select count(*) from raw.{t}").fetchone()[0]) for t in CONTRACTS
        }
        latest = {
            t: con.execute(f"select max(_loaded_at) from raw.{t}").fetchone()[0] for t in CONTRACTS
        }
    for table in CONTRACTS:
        loaded = [f for f in report.loaded if f.table == table]
        rejected = [f for f in report.rejected if f.table == table]
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([SOURCE_NAME, table]),
            metadata={
                "dagster/row_count": counts[table],
                "files_loaded_this_run": len(loaded),
                "rows_loaded_this_run": sum(f.rows for f in loaded),
                "files_rejected_this_run": len(rejected),
                "latest_loaded_at": str(latest[table]),
            },
        )
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey([SOURCE_NAME, table]),
            check_name="landed_files_keep_contract",
            passed=not rejected,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rejected": dg.MetadataValue.json(
                    [{"file": f.file, "message": f.message} for f in rejected]
                ),
            },
        )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            name="source_freshness",
            asset=dg.AssetKey([SOURCE_NAME, t]),
            description=(
                f"The newest row of {t} was loaded within its SLA "
                f"({FRESHNESS[t][1]:g} days, warning after {FRESHNESS[t][0]:g})."
            ),
        )
        for t in CONTRACTS
    ],
)
def source_freshness(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    now = dt.datetime.now(dt.UTC)
    with connect(warehouse.db_path, read_only=True) as con:
        for table in CONTRACTS:
            latest = con.execute(f"select max(_loaded_at) from raw.{table}").fetchone()[0]
            age_days = None if latest is None else (now - latest).total_seconds() / 86400
            warn_days, error_days = FRESHNESS[table]
            stale = age_days is None or age_days > error_days
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey([SOURCE_NAME, table]),
                check_name="source_freshness",
                passed=age_days is not None and age_days <= warn_days,
                severity=dg.AssetCheckSeverity.ERROR if stale else dg.AssetCheckSeverity.WARN,
                metadata={
                    "age_days": age_days if age_days is not None else -1.0,
                    "latest_loaded_at": str(latest),
                },
            )


defs = dg.Definitions(
    assets=[simulated_landing, peo_sources],
    asset_checks=[source_freshness],
)
