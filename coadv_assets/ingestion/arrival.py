"""Rules about who sends a row and when it arrives, checked against what is already loaded.

- ``known_tenant``: every tenant key of a tenant-scoped table names a client that the
  tenant registry (``raw.clients``) already holds. The loader takes the registry's files
  first, so a client and its rows may arrive in the same batch.
- ``future``: no instant lies more than `FUTURE_TOLERANCE` after the ingestion's clock (a
  later one means a wrong clock or a wrong zone at the exporter), and no date more than
  `FUTURE_DATE_TOLERANCE` after its date (room for what is scheduled a few weeks ahead, such
  as a pay date; a later one is a mistyped date); a date column declared
  ``meta.future: allowed`` (a contract's renewal date) is exempt.
- ``late``: a table that declares ``meta.period`` (the date or instant that places a row in
  its month) accepts rows for a month already loaded for the same tenant (or, for a table
  without tenant key, for any) only until `LATE_WINDOW` after that month's end. Later rows
  would silently change figures already published; they are refused. Arrival is the
  ingestion's clock when it first saw the file (``raw._arrivals``), not the exporter's
  ``_loaded_at``, which an export could backdate; "already loaded" means loaded by a file
  loaded before that first sight (``raw._load_months``), so the files of one landing,
  including a batch retried after a crash, never make each other late. A month not loaded
  before (a first load, a backfill) is never late.
"""

import datetime as dt

import duckdb

from coadv_assets.ingestion.contracts import TableContract
from coadv_assets.ingestion.validation import INCOMING, Violation

FUTURE_TOLERANCE = dt.timedelta(hours=24)
FUTURE_DATE_TOLERANCE = dt.timedelta(days=31)
LATE_WINDOW = dt.timedelta(days=45)
ARRIVALS = "raw._arrivals"
LOAD_MONTHS = "raw._load_months"
ARRIVAL_DDL = (
    f"create table if not exists {ARRIVALS} (table_name varchar not null, "
    "file_name varchar not null, sha256 varchar not null, "
    "first_seen timestamp with time zone not null)"
)
LOAD_MONTHS_DDL = (
    f"create table if not exists {LOAD_MONTHS} (table_name varchar not null, "
    "sha256 varchar not null, tenant varchar not null, period_month date not null, "
    "loaded_at timestamp with time zone not null)"
)
INSTANT_TYPE = "TIMESTAMP WITH TIME ZONE"


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def tenant_registry(contracts: dict[str, TableContract]) -> TableContract | None:
    """The table whose key is its own tenant key (the clients table); None when absent."""
    for contract in contracts.values():
        if contract.tenant_key and contract.key == (contract.tenant_key,):
            return contract
    return None


def check_tenants(
    con: duckdb.DuckDBPyConnection, contract: TableContract, registry: TableContract | None
) -> list[Violation]:
    """``known_tenant``: rows of ``contract`` whose tenant is not in the loaded registry.

    Returns no violation for the registry itself, for a table without tenant key, or when
    the contracts declare no registry.
    """
    if registry is None or not contract.tenant_key or contract.name == registry.name:
        return []
    tenant = _quote(contract.tenant_key)
    registry_key = _quote(registry.key[0])
    row = con.execute(
        f"select count(*), count(distinct i.{tenant}), min(i.{tenant}) from {INCOMING} as i "
        f"where i.{tenant} is not null and not exists (select 1 from raw.{_quote(registry.name)}"
        f" as r where r.{registry_key} = i.{tenant})"
    ).fetchone()
    bad, tenants, example = (int(row[0]), int(row[1]), row[2]) if row else (0, 0, None)
    if not bad:
        return []
    return [
        Violation(
            contract.name,
            contract.tenant_key,
            "known_tenant",
            bad,
            f"{_rows(bad)} belong to {tenants} tenant(s) not in raw.{registry.name} "
            f"(e.g. {example!r}); land the {registry.name} file that declares them first or "
            "in the same batch",
        )
    ]


def check_future(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    file_types: dict[str, str],
    now: dt.datetime,
) -> list[Violation]:
    """``future``: instants later than ``now`` + `FUTURE_TOLERANCE` and dates later than
    ``now``'s UTC date + `FUTURE_DATE_TOLERANCE`, per column (dates declared
    ``future: allowed`` exempt)."""
    limit = now.astimezone(dt.UTC) + FUTURE_TOLERANCE
    last_date = now.astimezone(dt.UTC).date() + FUTURE_DATE_TOLERANCE
    violations: list[Violation] = []
    for column in contract.columns:
        kind = file_types.get(column.name)
        if kind != column.duckdb_type:
            continue
        if kind == "DATE" and not column.future_allowed:
            bound: dt.date | dt.datetime = last_date
            rule = (
                f"dated after {last_date:%Y-%m-%d} (the ingestion's date plus "
                f"{FUTURE_DATE_TOLERANCE.days} days; latest {{latest:%Y-%m-%d}}); check the "
                "exporter's dates, or declare the column meta.future: allowed if it holds "
                "scheduled dates"
            )
        elif kind == INSTANT_TYPE:
            bound = limit
            rule = (
                f"later than {limit:%Y-%m-%d %H:%M} UTC (the ingestion's clock plus "
                f"{FUTURE_TOLERANCE.total_seconds() / 3600:g} h); check the exporter's clock "
                "and time zone"
            )
        else:
            continue
        name = _quote(column.name)
        row = con.execute(
            f"select count(*), max({name}) from {INCOMING} where {name} > ?", [bound]
        ).fetchone()
        bad = int(row[0]) if row else 0
        if bad:
            message = f"{_rows(bad)} " + rule.format(latest=row[1] if row else None)
            violations.append(Violation(contract.name, column.name, "future", bad, message))
    return violations


def _month_keys(contract: TableContract) -> str:
    """A row's ``tenant`` ('' without a tenant key) and ``period_month`` (first day)."""
    tenant = (
        f"coalesce(cast({_quote(contract.tenant_key)} as varchar), '')"
        if contract.tenant_key
        else "''"
    )
    month = f"cast(date_trunc('month', cast({_quote(contract.period or '')} as date)) as date)"
    return f"{tenant} as tenant, {month} as period_month"


def record_months(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    sha256: str,
    loaded_at: dt.datetime,
    source: str = INCOMING,
) -> None:
    """Record the months the rows of ``source`` (the staged file, by default) hold as loaded
    at ``loaded_at``; called inside the load's transaction."""
    if not contract.period:
        return
    con.execute(
        f"insert into {LOAD_MONTHS} select distinct ?, ?, tenant, period_month, ? "
        f"from (select {_month_keys(contract)} from {source})",
        [contract.name, sha256, loaded_at],
    )


def check_late(
    con: duckdb.DuckDBPyConnection, contract: TableContract, arrived: dt.datetime
) -> list[Violation]:
    """``late``: rows for a month loaded before ``arrived`` (when the ingestion first saw
    the file) that arrive more than `LATE_WINDOW` after that month's end.

    Returns no violation for a table that declares no ``period``.
    """
    if not contract.period:
        return []
    days = LATE_WINDOW.days
    row = con.execute(
        f"""
        select count(*), min(i.period_month)
        from (select {_month_keys(contract)} from {INCOMING}) as i
        inner join (
            select distinct tenant, period_month from {LOAD_MONTHS}
            where table_name = ? and loaded_at < ?
        ) as loaded using (tenant, period_month)
        where cast(? as timestamptz)
            > cast(i.period_month + interval 1 month as timestamptz) + interval {days} day
        """,
        [contract.name, arrived, arrived],
    ).fetchone()
    bad = int(row[0]) if row else 0
    if not bad:
        return []
    first = row[1] if row else None
    scope = "for their tenant" if contract.tenant_key else "for the table"
    return [
        Violation(
            contract.name,
            contract.period,
            "late",
            bad,
            f"{_rows(bad)} arrive ({arrived.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC, when this "
            f"file was first seen) more than {days} days after the end of their month "
            f"(earliest {first:%Y-%m}), a month already loaded {scope}; load them as a "
            "restatement by hand or drop them from the export",
        )
    ]
