"""Faults: a process killed while writing, and the machine's time zone.

- Ingestion killed with SIGKILL while it inserts a large file: the warehouse opens, the
  ledger and the raw tables agree, and the next run loads the file exactly once.
- dbt (seeds and models) killed with SIGKILL between models: raw is untouched, and the next run ends
  with every model equal to an uninterrupted run's.
- Ingestion and dbt under TZ=America/New_York and TZ=Asia/Kolkata store the same instants
  and assign the same UTC days.
"""

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from coadv_assets import paths
from coadv_assets.ingestion import ingest_landing
from coadv_assets.simulation import SimulationConfig, simulate
from coadv_assets.warehouse import connect

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
BIG_ROWS = 6_000_000
MODEL_SCHEMAS = ("staging", "intermediate", "marts")
BUILD_MODELS = ("build", "--exclude", "resource_type:test")  # seeds and models


def _env(home: Path, tz: str | None = None) -> dict[str, str]:
    env = dict(os.environ, COADV_HOME=str(home), DO_NOT_TRACK="1")
    env.pop("COADV_HASH_KEY", None)
    if tz is not None:
        env["TZ"] = tz
    return env


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


def _fingerprint(db: Path, schemas: tuple[str, ...]) -> dict[str, tuple[int, str | None]]:
    """Per table of ``schemas``: row count and an order-independent md5 of its rows."""
    found: dict[str, tuple[int, str | None]] = {}
    with connect(db, read_only=True) as con:
        tables = con.sql(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in ({', '.join('?' for _ in schemas)}) order by 1",
            params=list(schemas),
        ).fetchall()
        for (name,) in tables:
            row = con.sql(
                "select count(*), md5(string_agg(cast(t as varchar), '|' "
                f"order by cast(t as varchar))) from {name} as t"
            ).fetchall()[0]
            found[name] = (int(row[0]), row[1])
    return found


def _ledger_agrees(db: Path) -> dict[str, tuple[int, int]]:
    """Per table: (rows the ledger records as loaded, rows in raw)."""
    with connect(db, read_only=True) as con:
        ledger = dict(
            con.sql(
                "select table_name, sum(rows) from raw._loads where status = 'loaded' group by 1"
            ).fetchall()
        )
        return {
            table: (
                int(ledger.get(table, 0)),
                int(con.sql(f"select count(*) from raw.{table}").fetchall()[0][0]),
            )
            for table in ("work_items", "clients", "contacts", "payroll_runs")
        }


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated PEO's landing folder (shared read-only; copy it before use)."""
    root = tmp_path_factory.mktemp("small_peo")
    config = SimulationConfig(
        seed=5, clients=40, months=14, teams_per_function=2, end_date=dt.date(2026, 3, 31)
    )
    simulate(config, landing=root / "landing", truths=root / "truths", progress=False)
    return root / "landing"


def _home_with(landing: Path, home: Path) -> Path:
    shutil.copytree(landing, home / "landing")
    return home


def _work_items(n: int, team_prefix: str, first_day: dt.date = dt.date(2019, 1, 1)) -> pl.DataFrame:
    """``n`` valid work-item rows with unique keys: 3,000 teams by consecutive days."""
    index = pl.int_range(0, n, eager=True)
    work_date = pl.lit(first_day) + pl.duration(days=index // 3000)
    return pl.DataFrame({"i": index}).select(
        team_id=pl.lit(team_prefix) + (pl.col("i") % 3000).cast(pl.String),
        function=pl.lit("service_center"),
        work_date=work_date,
        item_type=pl.lit("contact"),
        completed=(pl.col("i") % 17).cast(pl.Int32),
        reworked=pl.lit(0, pl.Int32),
        _loaded_at=(work_date + pl.duration(days=1, hours=3)).cast(pl.Datetime("us", "UTC")),
    )


def test_ingestion_killed_while_writing_is_finished_once(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    db = tmp_path / "warehouse.duckdb"
    (landing / "work_items").mkdir(parents=True)
    _work_items(10, "S").write_parquet(landing / "work_items" / "a_small.parquet")
    assert ingest_landing(landing, db_path=db).rows_loaded == 10
    # months the first load does not hold (rows for a loaded month would now be late)
    big = _work_items(BIG_ROWS, "T", dt.date(2019, 2, 1))
    big.write_parquet(landing / "work_items" / "b_big.parquet")
    wal = db.with_name(db.name + ".wal")
    size_before = db.stat().st_size

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coadv_assets.ingestion",
            "--landing",
            str(landing),
            "--db",
            str(db),
        ],
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    writing = False
    while process.poll() is None and time.monotonic() < deadline:
        grown = db.stat().st_size - size_before
        logged = wal.stat().st_size if wal.exists() else 0
        if grown > 1 << 20 or logged > 1 << 20:
            writing = True
            break
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert writing, "the ingestion ended before it was seen writing; enlarge BIG_ROWS"

    # The file is neither loaded nor rejected: it waits in the landing folder.
    assert (landing / "work_items" / "b_big.parquet").exists()
    assert not (tmp_path / "rejected").exists()
    assert _ledger_agrees(db)["work_items"] == (10, 10)

    report = ingest_landing(landing, db_path=db)
    assert [(f.file, f.rows) for f in report.loaded] == [("b_big.parquet", BIG_ROWS)]
    assert _ledger_agrees(db)["work_items"] == (10 + BIG_ROWS, 10 + BIG_ROWS)
    with connect(db, read_only=True) as con:
        distinct = con.sql(
            "select count(*) from (select distinct team_id, work_date, item_type "
            "from raw.work_items)"
        ).fetchall()
    assert distinct == [(10 + BIG_ROWS,)]


def test_dbt_killed_between_models_is_finished_by_the_next_run(
    small_landing: Path, tmp_path: Path
) -> None:
    killed = _home_with(small_landing, tmp_path / "killed")
    assert ingest_landing(killed / "landing", db_path=killed / "warehouse.duckdb").ok
    reference = tmp_path / "reference"
    shutil.copytree(killed, reference)
    raw_before = _fingerprint(killed / "warehouse.duckdb", ("raw",))

    log = killed / "dbt_run.out"
    with open(log, "w") as out:
        process = subprocess.Popen(
            _dbt(killed, *BUILD_MODELS),
            cwd=paths.DBT_PROJECT_DIR,
            env=_env(killed),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        done = re.compile(r"\d+ of \d+ OK (?:created|loaded)")
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            if len(done.findall(log.read_text(errors="replace"))) >= 6:
                break
            time.sleep(0.05)
        finished_early = process.poll() is not None
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert not finished_early, "dbt ended before it could be killed"
    built_before_kill = len(done.findall(log.read_text(errors="replace")))
    assert built_before_kill >= 6

    assert _fingerprint(killed / "warehouse.duckdb", ("raw",)) == raw_before
    for home in (killed, reference):
        result = subprocess.run(
            _dbt(home, *BUILD_MODELS),
            cwd=paths.DBT_PROJECT_DIR,
            env=_env(home),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-4000:]
    after_kill = _fingerprint(killed / "warehouse.duckdb", MODEL_SCHEMAS)
    assert after_kill == _fingerprint(reference / "warehouse.duckdb", MODEL_SCHEMAS)
    assert not [name for name in after_kill if "__dbt" in name]
    assert _fingerprint(killed / "warehouse.duckdb", ("raw",)) == raw_before


def test_time_zone_of_the_machine_changes_nothing(small_landing: Path, tmp_path: Path) -> None:
    fingerprints = []
    for tz in ("America/New_York", "Asia/Kolkata"):
        home = _home_with(small_landing, tmp_path / tz.replace("/", "_"))
        for command, cwd in (
            ([sys.executable, "-m", "coadv_assets.ingestion"], paths.REPO_ROOT),
            (
                _dbt(
                    home,
                    "build",
                    "--select",
                    "+feat_contact_queue_day",
                    "--exclude",
                    "resource_type:test",
                ),
                paths.DBT_PROJECT_DIR,
            ),
        ):
            result = subprocess.run(
                command, cwd=cwd, env=_env(home, tz), capture_output=True, text=True, check=False
            )
            assert result.returncode == 0, (tz, result.stdout[-3000:], result.stderr[-3000:])
        db = home / "warehouse.duckdb"
        found = _fingerprint(db, ("raw", *MODEL_SCHEMAS))
        for clocked in ("raw._loads", "raw._arrivals", "raw._load_months"):
            found.pop(clocked)  # they hold the clock of each run
        with connect(db, read_only=True) as con:
            ledger = con.sql(
                "select table_name, file_name, sha256, rows, status from raw._loads order by 1, 2"
            ).fetchall()
        fingerprints.append((found, ledger))
        # Days are UTC days: the mart's count for each queue-day equals a count of raw
        # contacts between two explicit UTC midnights.
        with connect(db, read_only=True) as con:
            mismatched = con.sql(
                """
                select count(*) from marts.feat_contact_queue_day as m
                where m.contacts <> (
                    select count(*) from raw.contacts as c
                    where c.queue = m.queue
                        and c.opened_at >= make_timestamptz(
                            year(m.date), month(m.date), day(m.date), 0, 0, 0, 'UTC')
                        and c.opened_at < make_timestamptz(
                            year(m.date + 1), month(m.date + 1), day(m.date + 1), 0, 0, 0, 'UTC')
                )
                """
            ).fetchall()
            days = con.sql("select count(*) from marts.feat_contact_queue_day").fetchall()
        assert mismatched == [(0,)] and days[0][0] > 100
    (new_york, ny_ledger), (kolkata, kolkata_ledger) = fingerprints
    assert new_york["raw.contacts"][0] > 0 and len(ny_ledger) >= 11
    assert new_york == kolkata
    assert ny_ledger == kolkata_ledger
