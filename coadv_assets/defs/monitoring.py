"""Model monitoring: the asset checks of every monitor registered in
``coadv_assets.monitoring.specs`` (drift, calibration, reconciliation), thresholds from
``coadv_assets/monitoring/thresholds.yaml``, history in ``ops.check_history``."""

import dagster as dg

from coadv_assets.monitoring.checks import build_monitor_checks

defs = dg.Definitions(asset_checks=build_monitor_checks())
