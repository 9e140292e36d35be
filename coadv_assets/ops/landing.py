"""A sensor that starts ingestion when new files land under ``$COADV_HOME/landing``.

Its cursor is the fingerprint of the landing folder: every ``<table>/<file>.parquet`` with
its size and modification time. A tick that finds a file absent from the cursor, or changed,
requests one ingestion run (run key = hash of the fingerprint, so the same state never runs
twice) and stores the new fingerprint; a tick without changes requests nothing. Ingestion
itself skips files already loaded, so a run requested for an unchanged file is harmless.

Known shortcoming: the cursor lists every landed file (about 60 bytes each); past some
hundred thousand files, keep only a hash per table and a high-water mark of mtimes.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from coadv_assets import paths
from coadv_assets.ops.automation import automation_status

INGESTION_SELECTION = dg.AssetSelection.groups("ingestion") - dg.AssetSelection.assets(
    "simulated_landing"
)

ingestion_job = dg.define_asset_job(
    name="ingestion_job",
    selection=INGESTION_SELECTION,
    description="Load every new landed file that keeps its source contract into raw.",
)


def fingerprint(landing: Path) -> dict[str, list[int]]:
    """``{"<table>/<file>": [size, mtime_ns]}`` of the landed Parquet files (empty when the
    folder does not exist)."""
    if not landing.is_dir():
        return {}
    out = {}
    for path in sorted(landing.glob("*/*.parquet")):
        stat = path.stat()
        out[path.relative_to(landing).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return out


def changed_files(before: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    """Files in ``now`` that are new or differ from ``before`` (removals are not changes)."""
    return sorted(name for name, state in now.items() if before.get(name) != state)


@dg.sensor(
    name="landing_files",
    job=ingestion_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus(automation_status().value),
    description="Starts ingestion when new or changed files land in the landing folder.",
)
def landing_files(context: dg.SensorEvaluationContext):
    before = json.loads(context.cursor) if context.cursor else {}
    now = fingerprint(paths.landing_dir())
    new = changed_files(before, now)
    if not new:
        return dg.SkipReason(f"no new file among {len(now)} landed")
    context.update_cursor(json.dumps(now, sort_keys=True))
    digest = hashlib.sha256(json.dumps(now, sort_keys=True).encode()).hexdigest()[:16]
    context.log.info(f"{len(new)} new or changed files: {', '.join(new[:20])}")
    return dg.RunRequest(
        run_key=f"landing-{digest}",
        tags={"coadv/new_files": str(len(new)), "coadv/first_new_file": new[0]},
    )
