"""The one DuckDB warehouse, shared by dbt and the Python assets.

DuckDB admits one writing process per file, and a reader cannot open the file while
another process writes it. Every connection, and every dbt invocation, therefore holds an
exclusive inter-process lock on ``warehouse.duckdb.lock`` for its (short) lifetime. This
serialises writers whatever the Dagster executor (in-process, multiprocess, several runs
at once); a waiting writer blocks instead of failing with "Could not set lock on file".
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from coadv_assets import paths

LOCK_TIMEOUT_SECONDS = 1800.0


@contextmanager
def warehouse_lock(db_path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the exclusive lock of ``db_path`` until the block ends.

    Raises TimeoutError naming the file when the lock is not free within ``timeout`` seconds.
    The lock is re-entrant within one process only through ``connect(..., locked=True)``.
    """
    lock_path = db_path.with_suffix(db_path.suffix + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with open(lock_path, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"warehouse {db_path} stayed locked by another process for "
                        f"{timeout:.0f} s; is a stuck run still holding it?"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def connect(
    db_path: Path | None = None, *, read_only: bool = False, locked: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a short-lived connection to the warehouse, holding its lock.

    ``locked=True`` skips taking the lock, for a caller that already holds it. Sessions run
    in UTC so that instants never depend on the machine's time zone.
    """
    db_path = Path(db_path) if db_path is not None else paths.warehouse_path()
    db_path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _open() -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(str(db_path), read_only=read_only and db_path.exists())
        try:
            con.execute("SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()

    if locked:
        with _open() as con:
            yield con
    else:
        with warehouse_lock(db_path), _open() as con:
            yield con


class WarehouseResource(dg.ConfigurableResource):
    """Dagster resource for the warehouse file; ``path`` defaults to ``$COADV_HOME``'s."""

    path: str = ""

    @property
    def db_path(self) -> Path:
        return Path(self.path) if self.path else paths.warehouse_path()

    @contextmanager
    def get_connection(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.db_path, read_only=read_only) as con:
            yield con

    @contextmanager
    def lock(self) -> Iterator[None]:
        with warehouse_lock(self.db_path):
            yield
