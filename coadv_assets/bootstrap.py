"""Prepare a checkout to run: the Dagster instance under ``$COADV_HOME`` and the dbt manifest.

Run by ``make setup`` (and so by ``make run`` and ``make test``). Safe to repeat.
"""

from __future__ import annotations

import os
from pathlib import Path

from coadv_assets import paths

DAGSTER_YAML = """\
# Written by `make setup`. The pool "warehouse" serialises the assets that write the
# DuckDB file across runs; a file lock in coadv_assets.warehouse does the same within
# and across processes whatever the executor.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 4
"""


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME", paths.coadv_home() / "dagster"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def write_instance_config(home: Path | None = None) -> Path:
    """Write ``dagster.yaml`` into the instance directory unless one is already there."""
    home = home or dagster_home()
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return config


def main() -> None:
    write_instance_config()
    from coadv_assets.transform.dbt_project import ensure_manifest

    ensure_manifest(force=True)


if __name__ == "__main__":
    main()
