"""Where coadv keeps its data: one directory, `COADV_HOME`, default `data/` in the repository.

Everything the pipeline writes lives under it, so that deleting it resets the project:

- ``landing/<table>/<load_id>.parquet``: source files as the operational systems export them.
- ``rejected/<table>/``: landed files that broke their source contract, kept aside with a
  ``.reason.json`` beside each.
- ``truths/``: the simulator's planted truths. Only tests read them; the pipeline never does.
- ``warehouse.duckdb``: the one DuckDB warehouse (dbt and the Python assets share it).
- ``artifacts/``: models, plots, reports, manifests of training sets.
- ``dagster/``: the Dagster instance (``DAGSTER_HOME``) used by ``make run``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
MODEL_CARDS_DIR = REPO_ROOT / "model_cards"


def coadv_home() -> Path:
    """Return the data directory (``$COADV_HOME`` or ``<repo>/data``), created if missing."""
    home = Path(os.environ.get("COADV_HOME", REPO_ROOT / "data")).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def landing_dir() -> Path:
    return coadv_home() / "landing"


def rejected_dir() -> Path:
    return coadv_home() / "rejected"


def truths_dir() -> Path:
    return coadv_home() / "truths"


def artifacts_dir() -> Path:
    path = coadv_home() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_path() -> Path:
    return coadv_home() / "warehouse.duckdb"
