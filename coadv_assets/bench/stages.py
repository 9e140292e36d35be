"""The stages of the pipeline as commands, in order, for one data directory.

Simulation, ingestion and dbt run through their own command lines; the Python stages run
through ``dagster asset materialize`` on the code location with an asset selection, the
same assets and checks that ``main_job`` runs, in the same order, with the in-process
executor: the multiprocess executor of ``main_job`` loads the code location again in a
subprocess for every step (about 20 s and 450 MiB each on this project), a fixed cost per
step that would hide how the work itself grows with the data.

The readouts stage acts on monthly partitions. Its partition range is read from the
warehouse's data window (``intermediate.int_data_window``) when the stage runs, after the
dbt build of the same size; see ``readout_partitions``.
"""

import datetime as dt
import json
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coadv_assets import paths

BIN = Path(sys.executable).parent
SIMULATION_SEED = 11
SIMULATION_END = "2026-11-30"
READOUT_MONTHS = 12  # the readouts stage reads out this many months, the last complete ones
IN_PROCESS = json.dumps({"execution": {"config": {"in_process": {}}}})


@dataclass(frozen=True)
class Stage:
    """A named command run from ``cwd`` (the repository unless stated).

    ``command`` is either the command or a function that builds it when the stage is about
    to run, from what the earlier stages wrote; it returns the command and a note that the
    benchmark prints under its table, and raises ``StageNotRunnable`` with the reason when
    the stage cannot run.
    """

    name: str
    command: list[str] | Callable[[], tuple[list[str], str]] = field(repr=False)
    cwd: Path = paths.REPO_ROOT

    def resolve(self) -> tuple[list[str], str]:
        """The command to run now and its note (empty for a fixed command)."""
        if callable(self.command):
            return self.command()
        return list(self.command), ""


class StageNotRunnable(Exception):
    """A stage cannot run on what the earlier stages left; the message says why."""


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


def _materialize(selection: str, *extra: str) -> list[str]:
    return [
        str(BIN / "dagster"),
        "asset",
        "materialize",
        "-m",
        "coadv_assets.definitions",
        "--select",
        selection,
        "--config-json",
        IN_PROCESS,
        *extra,
    ]


def _pu_module():
    """``coadv_assets.defs.pu``, imported without the beta warnings of its Dagster API."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from coadv_assets.defs import pu
    return pu


def _add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def readout_partitions(warehouse: Path, months: int = READOUT_MONTHS) -> tuple[str, str, int]:
    """The first and last PU partition keys to read out, and the team-months they read.

    The range is the last ``months`` complete months of the data window in
    ``intermediate.int_data_window`` (fewer when the window is shorter), clipped to the
    partitions that exist (``coadv_assets.defs.pu.PU_MONTHS``), with keys in that
    definition's format. The simulator grows the book, not the window, so every size reads
    out the same months. Raises ``StageNotRunnable`` when the warehouse has no data window
    or no complete month inside the partitions.
    """
    import duckdb

    partitions = _pu_module().PU_MONTHS

    if not warehouse.exists():
        raise StageNotRunnable(f"no warehouse at {warehouse}: the dbt build did not run")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        window = con.sql(
            "select first_month, month_after_last_complete from intermediate.int_data_window"
        ).fetchall()
        team_months = con.sql("select count(*) from marts.fct_team_month_pu").fetchall()[0][0]
    except duckdb.Error as exc:
        raise StageNotRunnable(f"the warehouse has no data window: {exc}") from exc
    finally:
        con.close()
    if not window or window[0][0] is None or window[0][1] is None:
        raise StageNotRunnable("intermediate.int_data_window is empty: no data landed")
    first_month, after_last = window[0]
    last = _add_months(after_last, -1)
    first = max(first_month, _add_months(last, 1 - months))
    existing = set(partitions.get_partition_keys())
    keys = []
    month = first
    while month <= last:
        key = month.strftime(partitions.fmt)
        if key in existing:
            keys.append(key)
        month = _add_months(month, 1)
    if not keys:
        raise StageNotRunnable(
            f"no complete month of the data window ({first_month:%Y-%m} to before "
            f"{after_last:%Y-%m}) is a PU partition"
        )
    return keys[0], keys[-1], int(team_months)


def readouts_command(home: Path, months: int = READOUT_MONTHS) -> tuple[list[str], str]:
    """The readouts stage's command for the warehouse under ``home``, and its note."""
    first, last, team_months = readout_partitions(home / "warehouse.duckdb", months)
    note = (
        f"partitions {first}...{last} (the last {months} complete months of the data window, "
        f"or all when fewer), over {team_months} team-months"
    )
    selection = ",".join(readout_assets())
    return _materialize(selection, "--partition-range", f"{first}...{last}"), note


def readout_assets() -> list[str]:
    """The partitioned assets of the PU layer (``coadv_assets.defs.pu``), in its order.

    Not ``group:pu``: that group also holds the ``pu_registry`` dbt seed, which is not
    partitioned, and the CLI refuses a partition range over a selection that mixes them.
    """
    pu = _pu_module()
    return [
        key.to_user_string()
        for asset in pu.defs.assets or []
        if getattr(asset, "partitions_def", None) is not None
        for key in asset.keys
    ]


def build_stages(home: Path, scale: float) -> list[Stage]:
    """Every stage for a simulated PEO of ``scale`` times the default size under ``home``.

    The dbt build stage runs the models only (``--exclude resource_type:test``); the checks
    stage runs every dbt data test, which the Dagster graph runs as asset checks. The
    Python-side checks of training sets and models run inside their own stages. The
    readouts stage's command is built when it runs (``readouts_command``).
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
        Stage("readouts", lambda: readouts_command(home)),
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
