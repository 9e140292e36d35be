"""The coadv code location: one Dagster asset graph from landing files to readouts.

Each module of ``coadv_assets.defs`` wires one domain and exposes a ``defs`` object; this
module merges them, adds the shared resources and the main job. A new domain is a new module
there, nothing to register here.
"""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import coadv_assets.defs as defs_package
from coadv_assets.defs.transform import dbt_resource
from coadv_assets.warehouse import WarehouseResource


def _domain_defs() -> list[dg.Definitions]:
    found = []
    for info in sorted(pkgutil.iter_modules(defs_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{defs_package.__name__}.{info.name}")
        if isinstance(getattr(module, "defs", None), dg.Definitions):
            found.append(module.defs)
    return found


main_job = dg.define_asset_job(
    name="main_job",
    selection=dg.AssetSelection.all(),
    description="Everything: land, ingest, build features, train, measure, validate.",
)

defs = dg.Definitions.merge(
    *_domain_defs(),
    dg.Definitions(
        jobs=[main_job],
        resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
    ),
)
