"""The coadv code location: one Dagster asset graph from landing files to readouts."""

from __future__ import annotations

import dagster as dg

from coadv_assets.defs import ingestion, pu, transform, validation
from coadv_assets.warehouse import WarehouseResource

main_job = dg.define_asset_job(
    name="main_job",
    selection=dg.AssetSelection.all(),
    description="Everything: land, ingest, build features, train, measure, validate.",
)

defs = dg.Definitions(
    assets=[
        ingestion.simulated_landing,
        ingestion.peo_sources,
        transform.coadv_dbt_models,
        pu.cr_baselines,
        pu.tau_readouts,
        validation.mpdta_staggered_did,
    ],
    asset_checks=[ingestion.source_freshness],
    jobs=[main_job],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": transform.dbt_resource(),
    },
)
