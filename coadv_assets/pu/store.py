"""Immutable, versioned records of baselines and readouts in the warehouse's ``pu`` schema.

A version is the hash of everything that determines a figure: the function, the month it is
as of, the fingerprint of the input rows, the code version and the compiled SQL of the
models read. Publishing looks the version up first, so republishing unchanged inputs writes
nothing and returns the existing version; any changed input makes a new version beside the
old ones, never an overwrite. Baselines keep their input rows (``pu.baseline_inputs``) so
that ``rebuild_baseline`` can refit one from its audit trail alone and compare it with what
was published.
"""

import datetime as dt
import hashlib
import io
import json

import duckdb
import numpy as np
import polars as pl

from coadv_assets import lineage
from coadv_assets.pu import baseline as baseline_mod
from coadv_assets.pu.estimate import Estimate

MODELS_READ = ("fct_team_month_pu", "int_pu_units_team_day")
BASELINE_CODE = ("baseline.py", "panel.py", "store.py")
READOUT_CODE = ("readout.py", "alternatives.py", "estimate.py", "panel.py", "store.py")

DDL = """
create schema if not exists pu;
create table if not exists pu.baselines (
    version varchar primary key, function varchar, pre_start date, pre_end date,
    n_obs integer, n_teams integer, input_fingerprint varchar, code_version varchar,
    git_commit varchar, record json, published_at timestamptz
);
create table if not exists pu.baseline_months (
    version varchar, function varchar, month date, labor_cost double, pu double,
    observed_c_r double, baseline_c_r double, ci_low double, ci_high double,
    in_pre_period boolean
);
create table if not exists pu.baseline_inputs (version varchar, rows json);
create table if not exists pu.tau_readouts (
    function varchar, outcome varchar, unit varchar, method varchar, status varchar,
    estimate double, std_error double, ci_low double, ci_high double,
    estimate_pct double, ci_low_pct double, ci_high_pct double, n_obs integer,
    reason varchar, diagnostics varchar, input_fingerprint varchar, code_version varchar,
    computed_at timestamptz
);
"""
# Columns added after the first release of these tables; old warehouses gain them in place.
ADDED_COLUMNS = {
    "baselines": {"as_of_month": "date", "status": "varchar"},
    "tau_readouts": {
        "version": "varchar",
        "month": "date",
        "role": "varchar",
        "assumptions": "varchar",
        "document": "varchar",
    },
}


class ReproductionError(RuntimeError):
    """A baseline rebuilt from its audit trail differs from the published one."""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``pu`` tables (and add columns missing from older versions of them)."""
    con.execute(DDL)
    for table, columns in ADDED_COLUMNS.items():
        for name, dtype in columns.items():
            con.execute(f"alter table pu.{table} add column if not exists {name} {dtype}")


def _code_version(files: tuple[str, ...]) -> str:
    return lineage.code_version(*(baseline_mod.__file__.rsplit("/", 1)[0] + "/" + f for f in files))


def _compiled_sql() -> dict[str, str | None]:
    return {name: lineage.compiled_sql(name) for name in MODELS_READ}


def _version(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _sql_digest(sql: dict[str, str | None]) -> str:
    return hashlib.sha256(json.dumps(sql, sort_keys=True).encode()).hexdigest()[:16]


def baseline_version(function: str, as_of: dt.date, panel: pl.DataFrame, pre_end: dt.date) -> str:
    """The version a baseline of these inputs gets, computable before fitting it."""
    return _version(
        function,
        as_of,
        lineage.frame_fingerprint(panel),
        _code_version(BASELINE_CODE),
        pre_end,
        _sql_digest(_compiled_sql()),
    )


def baseline_exists(con: duckdb.DuckDBPyConnection, version: str) -> bool:
    """True when a baseline of this version is already published."""
    return bool(
        con.sql("select 1 from pu.baselines where version = ?", params=[version]).fetchall()
    )


def publish_baseline(
    con: duckdb.DuckDBPyConnection,
    fitted: baseline_mod.Baseline,
    panel: pl.DataFrame,
    as_of: dt.date,
) -> tuple[str, bool]:
    """Store ``fitted`` (fit on ``panel``, as of month ``as_of``); return (version, new).

    The record holds the audit trail: data window, row counts, input fingerprint, code
    version, git commit, the compiled SQL of the models read and the method in words.
    """
    ensure_tables(con)
    fingerprint = lineage.frame_fingerprint(panel)
    code = _code_version(BASELINE_CODE)
    sql = _compiled_sql()
    version = baseline_version(fitted.function, as_of, panel, fitted.pre_end)
    if con.sql("select 1 from pu.baselines where version = ?", params=[version]).fetchall():
        return version, False
    record = {
        "function": fitted.function,
        "version": version,
        "as_of_month": str(as_of),
        "data_window": {
            "first_month": str(panel["month"].min()),
            "last_month": str(panel["month"].max()),
        },
        "pre_period": {"start": str(fitted.pre_start), "end": str(fitted.pre_end)},
        "row_counts": {"marts.fct_team_month_pu": panel.height, "pre_period_rows": fitted.n_obs},
        "input_fingerprints": {"marts.fct_team_month_pu": fingerprint},
        "code_version": code,
        "git_commit": lineage.git_commit(),
        "compiled_sql": sql,
        "method": fitted.method,
        "fit": fitted.fit,
    }
    con.execute(
        "insert into pu.baselines by name select ? as version, ? as function, ? as pre_start, "
        "? as pre_end, ? as n_obs, ? as n_teams, ? as input_fingerprint, ? as code_version, "
        "? as git_commit, ? as record, ? as published_at, ? as as_of_month, "
        "'published' as status",
        [
            version,
            fitted.function,
            fitted.pre_start,
            fitted.pre_end,
            fitted.n_obs,
            fitted.n_teams,
            fingerprint,
            code,
            record["git_commit"],
            json.dumps(record),
            dt.datetime.now(dt.UTC),
            as_of,
        ],
    )
    months = fitted.months.with_columns(version=pl.lit(version), function=pl.lit(fitted.function))
    con.register("incoming_months", months.to_arrow())
    con.execute("insert into pu.baseline_months by name select * from incoming_months")
    con.unregister("incoming_months")
    con.execute(
        "insert into pu.baseline_inputs values (?, ?)",
        [version, panel.write_json()],
    )
    return version, True


def baseline_inputs(con: duckdb.DuckDBPyConnection, version: str) -> pl.DataFrame:
    """The input rows a published baseline was fitted on; refuses an unknown version."""
    row = con.sql("select rows from pu.baseline_inputs where version = ?", params=[version])
    found = row.fetchall()
    if not found:
        raise KeyError(f"pu.baseline_inputs has no rows for baseline version {version!r}")
    frame = pl.read_json(io.StringIO(found[0][0]))
    return frame.with_columns(pl.col(c).str.to_date() for c in ("month", "first_ai_month"))


def rebuild_baseline(con: duckdb.DuckDBPyConnection, version: str) -> baseline_mod.Baseline:
    """Refit a published baseline from its audit trail and check it reproduces exactly.

    Returns the rebuilt Baseline. Raises ReproductionError when the stored inputs no longer
    match the recorded fingerprint, or when any month's baseline or interval differs from
    the published value (bit for bit); KeyError for an unknown version.
    """
    found = con.sql("select record from pu.baselines where version = ?", params=[version])
    row = found.fetchall()
    if not row:
        raise KeyError(f"pu.baselines has no version {version!r}")
    record = json.loads(row[0][0])
    panel = baseline_inputs(con, version)
    fingerprint = lineage.frame_fingerprint(panel)
    recorded = record["input_fingerprints"]["marts.fct_team_month_pu"]
    if fingerprint != recorded:
        raise ReproductionError(
            f"baseline {version}: stored inputs fingerprint {fingerprint[:12]} differs from "
            f"the recorded {recorded[:12]}"
        )
    pre_end = dt.date.fromisoformat(record["pre_period"]["end"])
    rebuilt = baseline_mod.fit_baseline(panel, record["function"], pre_end=pre_end)
    published = con.sql(
        "select month, baseline_c_r, ci_low, ci_high from pu.baseline_months "
        "where version = ? order by month",
        params=[version],
    ).pl()
    ours = rebuilt.months.select("month", "baseline_c_r", "ci_low", "ci_high").sort("month")
    for column in ("baseline_c_r", "ci_low", "ci_high"):
        a, b = ours[column].to_numpy(), published[column].to_numpy()
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            raise ReproductionError(
                f"baseline {version}: rebuilt {column} differs from pu.baseline_months in "
                f"{int(np.sum(a != b)) if a.shape == b.shape else 'shape'} month(s)"
            )
    return rebuilt


def record_baseline_refusal(
    con: duckdb.DuckDBPyConnection, function: str, as_of: dt.date, reason: str, status: str
) -> str:
    """Record that no baseline exists for ``function`` as of ``as_of`` (refused or no data)."""
    ensure_tables(con)
    version = _version(function, as_of, status, reason)
    if not con.sql("select 1 from pu.baselines where version = ?", params=[version]).fetchall():
        con.execute(
            "insert into pu.baselines by name select ? as version, ? as function, "
            "? as as_of_month, ? as status, ? as record, ? as published_at",
            [
                version,
                function,
                as_of,
                status,
                json.dumps({"function": function, "status": status, "reason": reason}),
                dt.datetime.now(dt.UTC),
            ],
        )
    return version


def readout_version(function: str, as_of: dt.date, panel: pl.DataFrame) -> tuple[str, str, str]:
    """(version, input fingerprint, code version) of a readout of ``function`` as of a month."""
    fingerprint = lineage.frame_fingerprint(panel) if panel.height else "no-data"
    code = _code_version(READOUT_CODE)
    return _version(function, as_of, fingerprint, code), fingerprint, code


def readout_exists(con: duckdb.DuckDBPyConnection, version: str) -> bool:
    """True when a readout of this version is already published."""
    ensure_tables(con)
    return bool(
        con.sql(
            "select 1 from pu.tau_readouts where version = ? limit 1", params=[version]
        ).fetchall()
    )


def publish_readout(
    con: duckdb.DuckDBPyConnection,
    rows: list[Estimate],
    *,
    version: str,
    as_of: dt.date,
    fingerprint: str,
    code: str,
    document: str | None,
) -> bool:
    """Append a readout's rows under ``version``; False (nothing written) if it exists."""
    if readout_exists(con, version):
        return False
    now = dt.datetime.now(dt.UTC)
    frame = pl.DataFrame(
        [
            {
                **r.to_row(),
                "version": version,
                "month": as_of,
                "input_fingerprint": fingerprint,
                "code_version": code,
                "computed_at": now,
                "document": document,
            }
            for r in rows
        ],
        infer_schema_length=None,
    )
    con.register("incoming_readout", frame.to_arrow())
    con.execute("insert into pu.tau_readouts by name select * from incoming_readout")
    con.unregister("incoming_readout")
    return True
