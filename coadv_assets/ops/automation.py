"""Jobs and schedules that keep the graph current.

Jobs select assets by group name, and by the tag ``coadv/cadence`` for assets that belong
to a cadence outside their group; a group nobody has defined yet selects nothing, so a job
whose groups are all missing is simply empty (and its schedule requests nothing).

- daily (06:00 UTC): ingestion, staging, intermediate and feature marts, feature sets and
  scoring;
- weekly (Monday 07:00 UTC): forecasts and staffing;
- monthly (the 2nd, 08:00 UTC): retraining and PU baselines and readouts.

A job over partitioned assets runs its latest complete partition (the previous month for a
monthly partitioned readout); backfills of older partitions go through the CLI (README).
Schedules and the landing sensor start stopped unless ``COADV_AUTOMATION=on``: under
``make run`` the simulator owns the landing folder, in production they are switched on.
"""

import os
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

CADENCE_TAG = "coadv/cadence"
AUTOMATION_ENV = "COADV_AUTOMATION"


@dataclass(frozen=True)
class Cadence:
    name: str
    cron: str
    groups: tuple[str, ...]
    description: str


CADENCES = (
    Cadence(
        "daily",
        "0 6 * * *",
        ("ingestion", "staging", "intermediate", "marts", "features", "scoring"),
        "Daily: ingest new files, rebuild staging and marts, feature sets and scores.",
    ),
    Cadence(
        "weekly",
        "0 7 * * 1",
        ("forecast", "staffing"),
        "Weekly: contact-volume forecasts and staffing demand.",
    ),
    Cadence(
        "monthly",
        "0 8 2 * *",
        ("models", "pu"),
        "Monthly: retrain and gate the models; c_r baselines and τ readouts.",
    ),
)


def automation_status() -> dg.DefaultScheduleStatus:
    """RUNNING when ``$COADV_AUTOMATION`` is ``on``, else STOPPED."""
    on = os.environ.get(AUTOMATION_ENV, "").lower() == "on"
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED


def selection(cadence: Cadence) -> dg.AssetSelection:
    """The assets of a cadence: its groups, plus assets tagged with it."""
    return dg.AssetSelection.groups(*cadence.groups) | dg.AssetSelection.tag(
        CADENCE_TAG, cadence.name
    )


def cadence_job(cadence: Cadence) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=f"{cadence.name}_job",
        selection=selection(cadence),
        description=cadence.description,
        tags={CADENCE_TAG: cadence.name},
    )


def cadence_schedule(cadence: Cadence, job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """A schedule requesting one run of ``job``; for a partitioned job, of its latest
    partition. Skips when the job selects no asset."""

    @dg.schedule(
        name=f"{cadence.name}_schedule",
        cron_schedule=cadence.cron,
        execution_timezone="UTC",
        job=job,
        default_status=automation_status(),
        description=cadence.description,
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        resolved = context.repository_def.get_job(job.name)
        if not resolved.asset_layer.executable_asset_keys:
            return dg.SkipReason(f"no asset in groups {', '.join(cadence.groups)} yet")
        stamp = context.scheduled_execution_time
        partitions = resolved.partitions_def
        if partitions is None:
            return dg.RunRequest(run_key=f"{cadence.name}-{stamp:%Y%m%dT%H%M}")
        keys = partitions.get_partition_keys(
            current_time=stamp, dynamic_partitions_store=context.instance
        )
        if not keys:
            return dg.SkipReason("no complete partition yet")
        key = keys[-1]
        return dg.RunRequest(run_key=f"{cadence.name}-{key}", partition_key=key)

    return _schedule


JOBS = {c.name: cadence_job(c) for c in CADENCES}
SCHEDULES = [cadence_schedule(c, JOBS[c.name]) for c in CADENCES]
