"""The PU assets alone, with the warehouse resource: a code location for CLI backfill tests.

The full location (``coadv_assets.definitions``) needs the dbt manifest and every domain;
this one needs only the PU marts in the warehouse, which the tests write directly.
"""

import dagster as dg

from coadv_assets.defs.pu import cr_baselines, tau_readouts
from coadv_assets.warehouse import WarehouseResource

defs = dg.Definitions(
    assets=[cr_baselines, tau_readouts], resources={"warehouse": WarehouseResource()}
)
