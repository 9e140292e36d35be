"""The feature store's wiring: the registry and catalog asset and the governance check.

``feature_registry`` reads the dbt manifest and the built feature tables and writes
``features.registry`` (one row per feature) and the Markdown catalog under
``$COADV_HOME/artifacts/feature_catalog/``. The governance check runs in every run of the
main job after the dbt models and blocks what is downstream of an offending table.
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg

from coadv_assets import paths
from coadv_assets.features.spec import feature_nodes
from coadv_assets.governance.checks import build_governance_check
from coadv_assets.transform.dbt_project import ensure_manifest
from coadv_assets.warehouse import WarehouseResource

OWNER = "team:data-science"
MANIFEST = json.loads(Path(ensure_manifest()).read_text())
FEATURE_KEYS = [
    dg.AssetKey([str(node["schema"]), name]) for name, node in feature_nodes(MANIFEST).items()
]


def _current_manifest() -> dict:
    return json.loads(Path(ensure_manifest()).read_text())


def catalog_dir() -> Path:
    return paths.artifacts_dir() / "feature_catalog"


@dg.asset(
    group_name="features",
    kinds={"python", "duckdb", "markdown"},
    owners=[OWNER],
    deps=FEATURE_KEYS,
    pool="warehouse",
    description=(
        "Feature registry built from the dbt manifest: one row per feature in "
        "features.registry with its declaration, lineage, consumers and current freshness "
        "(max(available_at) against now), and a Markdown catalog of every feature group."
    ),
)
def feature_registry(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.features.catalog import write_catalog
    from coadv_assets.features.registry import build_registry, write_registry
    from coadv_assets.warehouse import connect

    now = dt.datetime.now(dt.UTC)
    with connect(warehouse.db_path) as con:
        frame = build_registry(con, _current_manifest(), now)
        write_registry(con, frame)
    index = write_catalog(frame, catalog_dir())
    groups = frame.unique("feature_group", maintain_order=True)
    stale = groups.filter(~groups["fresh"])
    for row in stale.iter_rows(named=True):
        context.log.warning(
            f"{row['feature_group']}: latest available_at {row['max_available_at']} is "
            f"{row['lag_hours']} h old, SLA {row['freshness_sla_hours']:.0f} h"
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "feature_groups": groups.height,
            "stale_groups": dg.MetadataValue.json(stale["feature_group"].to_list()),
            "catalog": dg.MetadataValue.path(str(index)),
            "catalog_url": dg.MetadataValue.url(index.as_uri()),
            "catalog_index": dg.MetadataValue.md(index.read_text()),
            "checked_at": now.isoformat(),
        }
    )


governance = build_governance_check(_current_manifest, MANIFEST)

feature_store_job = dg.define_asset_job(
    name="feature_store_job",
    selection=dg.AssetSelection.assets(*FEATURE_KEYS, feature_registry),
    description=(
        "Rebuild the feature tables (dbt), run their governance checks and refresh the "
        "registry and catalog, without the rest of the graph."
    ),
)

defs = dg.Definitions(
    assets=[feature_registry], asset_checks=[governance], jobs=[feature_store_job]
)
