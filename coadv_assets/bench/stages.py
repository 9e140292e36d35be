"""The stages of the pipeline as commands, in order, for one data directory.

Simulation, ingestion and dbt run through their own command lines; the Python stages run
through ``dagster asset materialize`` on the code location with an asset selection, the
same assets and checks that ``main_job`` runs, in the same order.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from coadv_assets import paths

BIN = Path(sys.executable).parent
SIMULATION_SEED = 11
SIMULATION_END = "2026-11-30"


@dataclass(frozen=True)
class Stage:
    """A named command run from ``cwd`` (the repository unless stated)."""

    name: str
    command: list[str]
    cwd: Path = paths.REPO_ROOT


def _dbt(home: Path, *args: str) -> list[str]:
    return [
        str(BIN / "dbt"),
        *args,
        "--profiles-dir",
        str(paths.DBT_PROJECT_DIR),
        "--target-path",
        str(home / "dbt_target"),
        "--log-path",
        str(home / "dbt_logs"),
    ]


def _materialize(selection: str) -> list[str]:
    return [
        str(BIN / "dagster"),
        "asset",
        "materialize",
        "-m",
        "coadv_assets.definitions",
        "--select",
        selection,
    ]


def build_stages(home: Path, scale: float) -> list[Stage]:
    """Every stage for a simulated PEO of ``scale`` times the default size under ``home``.

    The dbt build stage runs the models only (``--exclude resource_type:test``); the checks
    stage runs every dbt data test, which the Dagster graph runs as asset checks. The
    Python-side checks of training sets and models run inside their own stages.
    """
    return [
        Stage(
            "simulation",
            [
                sys.executable,
                "-m",
                "coadv_assets.simulation",
                "--seed",
                str(SIMULATION_SEED),
                "--end-date",
                SIMULATION_END,
                "--scale",
                f"{scale:g}",
                "--landing",
                str(home / "landing"),
                "--truths",
                str(home / "truths"),
                "--quiet",
            ],
        ),
        Stage("ingestion", [sys.executable, "-m", "coadv_assets.ingestion"]),
        Stage(
            "dbt build",
            _dbt(home, "build", "--exclude", "resource_type:test"),
            paths.DBT_PROJECT_DIR,
        ),
        Stage("training sets", _materialize("group:features")),
        Stage("training", _materialize("group:models")),
        # Known shortcoming: the PU assets are monthly-partitioned, and `dagster asset
        # materialize` refuses a partitioned selection without `--partition-range`; this
        # stage fails until it passes the data window's months (from
        # intermediate.int_data_window) as `--partition-range first...last`.
        Stage("readouts", _materialize("group:pu")),
        Stage("checks", _dbt(home, "test"), paths.DBT_PROJECT_DIR),
    ]


STAGE_NAMES = (
    "simulation",
    "ingestion",
    "dbt build",
    "training sets",
    "training",
    "readouts",
    "checks",
)
