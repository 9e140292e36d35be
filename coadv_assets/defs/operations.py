"""Operations: on-call sensors and notifier, cadence jobs and schedules, the landing sensor."""

import dagster as dg

from coadv_assets.ops.alerts import (
    oncall_check_failures,
    oncall_run_failures,
    oncall_run_recoveries,
)
from coadv_assets.ops.automation import JOBS, SCHEDULES
from coadv_assets.ops.landing import ingestion_job, landing_files
from coadv_assets.ops.notifier import OnCallNotifier

defs = dg.Definitions(
    jobs=[*JOBS.values(), ingestion_job],
    schedules=SCHEDULES,
    sensors=[oncall_check_failures, oncall_run_failures, oncall_run_recoveries, landing_files],
    resources={"oncall": OnCallNotifier()},
)
