"""Load landed Parquet files into the warehouse's ``raw`` schema, one transaction a file.

``landing/<table>/*.parquet`` files are taken in name order, the tenant registry's folder
(clients) first. A file whose sha256 the ledger ``raw._loads`` already records as loaded is
skipped, so re-running loads nothing twice. A file that breaks its contract is moved to
``rejected/<table>/`` with a ``.reason.json`` beside it and recorded in the ledger as
rejected; it never stops the other files, and since nothing is written to ``raw.<table>``
before all checks pass, nothing already loaded changes. ``raw._arrivals`` records when each
landed file was first seen (at the start of the run, so that a run that stops keeps it) and
``raw._load_months`` the months each loaded file holds: the ``late`` rule reads both.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from coadv_assets import warehouse
from coadv_assets.ingestion.arrival import (
    ARRIVAL_DDL,
    ARRIVALS,
    LOAD_MONTHS_DDL,
    check_future,
    check_late,
    check_tenants,
    record_months,
    tenant_registry,
)
from coadv_assets.ingestion.contracts import TableContract, load_contracts
from coadv_assets.ingestion.validation import (
    INCOMING,
    Violation,
    check_rows,
    check_schema,
    stage_file,
)

RAW_SCHEMA = "raw"
LEDGER = f"{RAW_SCHEMA}._loads"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEDGER_DDL = f"""
create table if not exists {LEDGER} (
    table_name varchar not null,
    file_name varchar not null,
    sha256 varchar not null,
    rows bigint not null,
    loaded_at timestamp with time zone not null,
    status varchar not null,
    message varchar
)
"""


@dataclass(frozen=True)
class LoadedFile:
    table: str
    file: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class SkippedFile:
    table: str
    file: str
    sha256: str
    reason: str = "already loaded (same sha256)"


@dataclass(frozen=True)
class RejectedFile:
    table: str
    file: str
    violations: tuple[Violation, ...]
    moved_to: Path

    @property
    def message(self) -> str:
        """All broken rules of the file, each naming table, column, rule and row count."""
        return "; ".join(v.message for v in self.violations)


@dataclass(frozen=True)
class IngestReport:
    """What one `ingest_landing` call did with every file it saw."""

    loaded: tuple[LoadedFile, ...] = field(default_factory=tuple)
    skipped: tuple[SkippedFile, ...] = field(default_factory=tuple)
    rejected: tuple[RejectedFile, ...] = field(default_factory=tuple)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows for f in self.loaded)

    @property
    def messages(self) -> list[str]:
        """One message per rejected file, prefixed with the file name."""
        return [f"{r.file}: {r.message}" for r in self.rejected]

    @property
    def ok(self) -> bool:
        return not self.rejected


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_raw_tables(
    con: duckdb.DuckDBPyConnection, contracts: dict[str, TableContract] | None = None
) -> None:
    """Create the ``raw`` schema, the ledger and every contract's empty table if missing.

    A column added to a contract is added to its existing raw table (null in the rows
    already loaded). Raises RuntimeError when a raw table holds a column the contract no
    longer declares or declares with another type: that change needs a migration by hand.
    """
    contracts = contracts if contracts is not None else load_contracts()
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(LEDGER_DDL)
    con.execute(ARRIVAL_DDL)
    had_months = _table_exists(con, "_load_months")
    con.execute(LOAD_MONTHS_DDL)
    for contract in contracts.values():
        con.execute(contract.create_table_sql(RAW_SCHEMA))
        existing = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [RAW_SCHEMA, contract.name],
            ).fetchall()
        )
        for column in contract.columns:
            if column.name not in existing:
                con.execute(
                    f'alter table {RAW_SCHEMA}."{contract.name}" '
                    f'add column "{column.name}" {column.duckdb_type}'
                )
            elif existing[column.name] != column.duckdb_type:
                raise RuntimeError(
                    f"raw.{contract.name}.{column.name} is {existing[column.name]} but the "
                    f"contract declares {column.data_type}; migrate the raw table by hand "
                    "(rule: data_type)"
                )
        undeclared = sorted(set(existing) - set(contract.column_names))
        if undeclared:
            raise RuntimeError(
                f"raw.{contract.name} holds columns the contract no longer declares: "
                f"{undeclared}; migrate the raw table by hand (rule: columns)"
            )
        if not had_months:
            # A warehouse loaded before months were recorded: its months count as loaded
            # since the beginning of time.
            record_months(con, contract, "", EPOCH, source=f'{RAW_SCHEMA}."{contract.name}"')


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [RAW_SCHEMA, name],
    ).fetchone()
    return bool(row and row[0])


def _first_seen(
    con: duckdb.DuckDBPyConnection, files: list[tuple[str, Path, str]], now: datetime
) -> dict[str, datetime]:
    """Record when the ingestion first saw each landed file (kept across crashed runs) and
    return every file's first sight by sha256."""
    con.execute("begin transaction")
    for table, path, sha in files:
        con.execute(
            f"insert into {ARRIVALS} select ?, ?, ?, ? where not exists "
            f"(select 1 from {ARRIVALS} where table_name = ? and sha256 = ?)",
            [table, path.name, sha, now, table, sha],
        )
    con.execute("commit")
    shas = [sha for _, _, sha in files]
    rows = con.execute(
        f"select sha256, min(first_seen) from {ARRIVALS} where list_contains(?, sha256) "
        "group by sha256",
        [shas],
    ).fetchall()
    return dict(rows)


def _landed_files(landing: Path, first: str | None = None) -> Iterator[tuple[str, Path]]:
    """Landed files by folder then name; the folder ``first`` (the tenant registry) leads."""
    if not landing.exists():
        return
    folders = sorted(p for p in landing.iterdir() if p.is_dir())
    for folder in sorted(folders, key=lambda p: p.name != first):
        for path in sorted(folder.glob("*.parquet")):
            yield folder.name, path


def _already_loaded(con: duckdb.DuckDBPyConnection, table: str, sha: str) -> bool:
    row = con.execute(
        f"select count(*) from {LEDGER} where table_name = ? and sha256 = ? and status = 'loaded'",
        [table, sha],
    ).fetchone()
    return bool(row and row[0])


def _record(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    sha: str,
    rows: int,
    status: str,
    message: str | None,
) -> None:
    con.execute(
        f"insert into {LEDGER} values (?, ?, ?, ?, ?, ?, ?)",
        [table, path.name, sha, rows, datetime.now(UTC), status, message],
    )


def _insert_sql(contract: TableContract) -> str:
    names = ", ".join(f'"{c.name}"' for c in contract.columns)
    casts = ", ".join(f'cast("{c.name}" as {c.duckdb_type})' for c in contract.columns)
    return f'insert into {RAW_SCHEMA}."{contract.name}" ({names}) select {casts} from {INCOMING}'


def _reject(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    sha: str,
    rows: int,
    violations: list[Violation],
    rejected_root: Path,
) -> RejectedFile:
    target_dir = rejected_root / table
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    reason = {
        "table": table,
        "file": path.name,
        "sha256": sha,
        "rows": rows,
        "rejected_at": datetime.now(UTC).isoformat(),
        "violations": [v.as_dict() for v in violations],
        "action": "fix the export so that it matches dbt_project/models/staging/"
        "_peo__sources.yml and land it again",
    }
    target.with_name(target.name + ".reason.json").write_text(json.dumps(reason, indent=2))
    shutil.move(str(path), str(target))
    rejected = RejectedFile(table, path.name, tuple(violations), target)
    _record(con, table, path, sha, rows, "rejected", rejected.message)
    return rejected


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    path: Path,
    sha: str,
    registry: TableContract | None,
    now: datetime,
    arrived: datetime,
) -> tuple[int, list[Violation]]:
    """Validate and, when valid, load one file; returns (rows, violations). ``arrived`` is
    when the ingestion first saw the file (the clock of the ``late`` rule)."""
    try:
        file_types = stage_file(con, str(path))
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        return 0, [
            Violation(contract.name, None, "readable", 0, f"not readable Parquet: {first_line}")
        ]
    row = con.execute(f"select count(*) from {INCOMING}").fetchone()
    n_rows = int(row[0]) if row else 0
    if n_rows == 0:
        return 0, [
            Violation(
                contract.name, None, "empty_file", 0, "0 rows: the file has a header and no rows"
            )
        ]
    violations = check_schema(contract, file_types, n_rows)
    if violations:
        return n_rows, violations
    raw_table = f'{RAW_SCHEMA}."{contract.name}"'
    violations = check_rows(con, contract, file_types, raw_table)
    violations += check_tenants(con, contract, registry)
    violations += check_future(con, contract, file_types, now)
    violations += check_late(con, contract, arrived)
    if violations:
        return n_rows, violations
    con.execute("begin transaction")
    try:
        con.execute(_insert_sql(contract))
        record_months(con, contract, sha, now)
        _record(con, contract.name, path, sha, n_rows, "loaded", None)
        con.execute("commit")
    except duckdb.Error as error:
        con.execute("rollback")
        first_line = str(error).splitlines()[0]
        return n_rows, [
            Violation(
                contract.name, None, "load", n_rows, f"{n_rows} rows not loaded: {first_line}"
            )
        ]
    return n_rows, []


def ingest_into(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    rejected: Path | None = None,
    contracts: dict[str, TableContract] | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """`ingest_landing` over an open connection (whose caller holds the warehouse lock).

    ``now`` is the ingestion's clock (default: the current UTC time): the ``future`` rule's,
    the first sight of each landed file and the load time of the months it holds, which the
    ``late`` rule compares.
    """
    contracts = contracts if contracts is not None else load_contracts()
    now = now if now is not None else datetime.now(UTC)
    registry = tenant_registry(contracts)
    rejected_root = rejected if rejected is not None else landing.parent / "rejected"
    con.execute("set TimeZone = 'UTC'")
    ensure_raw_tables(con, contracts)
    loaded: list[LoadedFile] = []
    skipped: list[SkippedFile] = []
    refused: list[RejectedFile] = []
    files = [
        (table, path, _sha256(path))
        for table, path in _landed_files(landing, registry.name if registry else None)
    ]
    seen = _first_seen(con, files, now)
    for table, path, sha in files:
        contract = contracts.get(table)
        if contract is None:
            violation = Violation(
                table,
                None,
                "unknown_table",
                0,
                f"folder landing/{table}/ matches no source contract "
                f"(known: {', '.join(sorted(contracts))})",
            )
            refused.append(_reject(con, table, path, sha, 0, [violation], rejected_root))
            continue
        if _already_loaded(con, table, sha):
            skipped.append(SkippedFile(table, path.name, sha))
            continue
        n_rows, violations = _ingest_file(con, contract, path, sha, registry, now, seen[sha])
        if violations:
            refused.append(_reject(con, table, path, sha, n_rows, violations, rejected_root))
        else:
            loaded.append(LoadedFile(table, path.name, n_rows, sha))
    con.execute(f"drop table if exists {INCOMING}")
    return IngestReport(tuple(loaded), tuple(skipped), tuple(refused))


def ingest_landing(
    landing: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    db_path: Path | None = None,
    rejected: Path | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Load every new, valid file under ``landing/<table>/`` into ``raw.<table>``.

    Returns an `IngestReport` of the files loaded, skipped (already loaded, by sha256) and
    rejected (moved to ``rejected/<table>/`` with a reason; default ``rejected`` is the
    sibling of ``landing``). Raises nothing for a broken file; raises TimeoutError when the
    warehouse lock is not free. With ``con``, the caller holds the lock; otherwise the
    warehouse at ``db_path`` (default ``$COADV_HOME/warehouse.duckdb``) is opened through
    `coadv_assets.warehouse.connect`. ``now`` is the ingestion's clock (default: the current
    UTC time), read by the ``future`` and ``late`` rules.
    """
    landing = Path(landing)
    if con is not None:
        return ingest_into(con, landing, rejected, now=now)
    with warehouse.connect(db_path) as opened:
        return ingest_into(opened, landing, rejected, now=now)
