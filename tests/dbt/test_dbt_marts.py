"""dbt build on a small simulated dataset, and values worked out by hand from ``raw``.

One module-scoped build (about 30 s): simulate into a temporary COADV_HOME, ingest, run
``dbt build`` (every model and test), then recompute figures from the raw tables with plain
DuckDB queries and compare them with the marts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from coadv_assets import paths
from coadv_assets.ingestion import ingest_landing
from coadv_assets.simulation import SimulationConfig, simulate
from coadv_assets.warehouse import connect

pytestmark = pytest.mark.slow

MARTS = (
    "fct_team_week_pu",
    "fct_team_month_pu",
    "fct_function_month_pu",
    "feat_client_month",
    "feat_payroll_run",
    "feat_contact_queue_day",
    "lbl_renewal",
    "agg_claims_client_month",
    "agg_claims_pricing_group_month",
)
PII_NAMES = {
    "first_name",
    "last_name",
    "ssn",
    "birth_date",
    "email",
    "caller_email",
    "contact_name",
    "contact_email",
    "employee_id",
    "member_id",
}
SSN = re.compile(r"\d{3}-\d{2}-\d{4}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _dbt(home: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COADV_HOME=str(home), DO_NOT_TRACK="1")
    env.pop("COADV_HASH_KEY", None)
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [
            str(dbt),
            *args,
            "--profiles-dir",
            str(paths.DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=paths.DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(COADV_HOME, dbt work dir) after simulate -> ingest -> dbt build."""
    home = tmp_path_factory.mktemp("coadv_home")
    work = tmp_path_factory.mktemp("dbt_work")
    config = SimulationConfig(
        seed=11, clients=80, months=14, teams_per_function=3, end_date=dt.date(2026, 3, 31)
    )
    simulate(config, landing=home / "landing", truths=home / "truths", progress=False)
    report = ingest_landing(home / "landing", db_path=home / "warehouse.duckdb")
    assert report.ok, report.messages
    result = _dbt(home, work, "build")
    assert result.returncode == 0, result.stdout[-6000:]
    yield home, work


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> tuple:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None, sql
    return row


def test_every_model_and_test_passed(built: tuple[Path, Path]) -> None:
    _, work = built
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert statuses and set(statuses.values()) <= {"success", "pass", "no-op"}
    assert statuses["test.coadv.assert_no_ssn_or_email_in_marts"] == "pass"
    assert statuses["test.coadv.assert_column_classifications"] == "pass"
    for mart in MARTS:
        assert statuses[f"model.coadv.{mart}"] == "success"


def test_team_week_pu_by_hand(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        team_id, week_start = _one(
            con,
            """
            select team_id, week_start from marts.fct_team_week_pu
            where pu > 0 and hours > 0 order by team_id, week_start limit 1 offset 7""",
        )
        completed, reworked = _one(
            con,
            """
            select sum(completed), sum(reworked) from raw.work_items
            where team_id = ? and work_date between ? and ? + 6""",
            [team_id, week_start, week_start],
        )
        (labor_cost,) = _one(
            con,
            """
            select sum(hours * loaded_hourly_cost) from raw.timesheets
            where team_id = ? and week_start = ?""",
            [team_id, week_start],
        )
        mart = _one(
            con,
            """
            select units_completed, units_reworked, pu, labor_cost, c_r
            from marts.fct_team_week_pu where team_id = ? and week_start = ?""",
            [team_id, week_start],
        )
    assert mart[:3] == (completed, reworked, completed - reworked)
    assert mart[3] == pytest.approx(labor_cost)
    assert mart[4] == pytest.approx(labor_cost / (completed - reworked))
    assert week_start.weekday() == 0


def test_ai_flags_follow_the_rollout(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        team_id, rollout = _one(
            con,
            """
            select team_id, min(rollout_date) from raw.ai_rollouts
            group by team_id order by team_id limit 1""",
        )
        weeks = con.execute(
            """
            select week_start, ai_enabled, first_ai_week from marts.fct_team_week_pu
            where team_id = ? order by week_start""",
            [team_id],
        ).fetchall()
        months = con.execute(
            """
            select month, ai_enabled, first_ai_month from marts.fct_team_month_pu
            where team_id = ? order by month""",
            [team_id],
        ).fetchall()
    first_monday = rollout + dt.timedelta(days=(7 - rollout.weekday()) % 7)
    assert all(enabled == (week >= rollout) for week, enabled, _ in weeks)
    assert {first for _, _, first in weeks} == {first_monday}
    assert all(enabled == (month >= rollout.replace(day=1)) for month, enabled, _ in months)
    assert {first for _, _, first in months} == {rollout.replace(day=1)}


def test_team_month_hours_allocated_by_working_days(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        team_id, month = _one(
            con,
            """
            select team_id, month from marts.fct_team_month_pu
            where complete_month order by team_id, month limit 1 offset 2""",
        )
        sheets = con.execute(
            "select week_start, hours from raw.timesheets where team_id = ?", [team_id]
        ).fetchall()
        hours, pu = _one(
            con,
            "select hours, pu from marts.fct_team_month_pu where team_id = ? and month = ?",
            [team_id, month],
        )
        (raw_pu,) = _one(
            con,
            """
            select sum(completed - reworked) from raw.work_items
            where team_id = ? and date_trunc('month', work_date) = ?""",
            [team_id, month],
        )
    expected = 0.0
    for week_start, week_hours in sheets:
        in_month = sum(
            1 for d in range(5) if (week_start + dt.timedelta(days=d)).replace(day=1) == month
        )
        expected += week_hours * in_month / 5
    assert hours == pytest.approx(expected)
    assert pu == raw_pu


def test_function_month_is_the_sum_of_its_teams(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        bad = _one(
            con,
            """
            select count(*) from marts.fct_function_month_pu as f
            join (
                select function, month, sum(pu) as pu, sum(labor_cost) as cost,
                    count(*) as teams, count(*) filter (where ai_enabled) as treated
                from marts.fct_team_month_pu group by all
            ) as t using (function, month)
            where f.pu <> t.pu or abs(f.labor_cost - t.cost) > 1e-6
                or f.teams <> t.teams or f.treated_teams <> t.treated
                or abs(f.c_r - t.cost / t.pu) > 1e-9""",
        )
    assert bad == (0,)


def test_client_month_features_by_hand(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        client_id, month, active, runs, share, event_ts, available_at = _one(
            con,
            """
            select client_id, month, active_employees, runs_6m, exception_share_6m,
                event_ts, available_at
            from marts.feat_client_month
            where runs_6m > 3 and month >= date '2025-10-01'
            order by client_id, month limit 1""",
        )
        month_end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        month_end -= dt.timedelta(days=1)
        (raw_active,) = _one(
            con,
            """
            select count(*) from raw.employees where client_id = ? and hire_date <= ?
                and (termination_date is null or termination_date > ?)""",
            [client_id, month_end, month_end],
        )
        raw_runs, raw_exceptions = _one(
            con,
            """
            with latest as (
                select * from raw.payroll_runs
                qualify revision = max(revision) over (partition by run_id)
            )
            select count(*), count(*) filter (where exception_count > 0) from latest
            where client_id = ? and pay_date > ? - interval 6 month and pay_date <= ?""",
            [client_id, month_end, month_end],
        )
    assert active == raw_active
    assert runs == raw_runs
    assert share == pytest.approx(raw_exceptions / raw_runs)
    assert event_ts == dt.datetime.combine(
        month_end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC
    )
    assert available_at >= event_ts


def test_renewal_labels(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        labels = con.execute("""
            select contract_id, renewal_date, score_ts, renewed from marts.lbl_renewal
        """).fetchall()
        window = _one(con, "select first_day, last_day from intermediate.int_data_window")
        raw = dict(
            con.execute(
                """
            select contract_id, outcome = 'renewed' from raw.contracts
            where outcome in ('renewed', 'lost_at_renewal') and renewal_date between ? and ?
        """,
                list(window),
            ).fetchall()
        )
    assert labels and {c: r for c, _, _, r in labels} == raw
    for _, renewal, score_ts, _ in labels:
        assert score_ts == dt.datetime.combine(
            renewal - dt.timedelta(days=90), dt.time(), tzinfo=dt.UTC
        )


def test_small_claims_cells_are_suppressed(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        cells = con.execute("""
            select client_id, cast(date_trunc('month', service_date) as date) as month,
                count(distinct member_id) as members, sum(paid_amount) as paid
            from raw.claims group by all""").fetchall()
        mart = {
            (c, m): (members, paid, suppressed)
            for c, m, members, paid, suppressed in con.execute("""
                select client_id, service_month, members, paid_amount, suppressed
                from marts.agg_claims_client_month""").fetchall()
        }
    small = [c for c in cells if c[2] < 11]
    large = [c for c in cells if c[2] >= 11]
    assert small and large
    for client_id, month, _, _ in small:
        assert mart[(client_id, month)] == (None, None, True)
    for client_id, month, members, paid in large:
        got_members, got_paid, suppressed = mart[(client_id, month)]
        assert (got_members, suppressed) == (members, False)
        assert got_paid == pytest.approx(paid)


def test_no_pii_outside_staging(built: tuple[Path, Path]) -> None:
    home, work = built
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    documented = {
        (node["schema"], node["name"]): node["columns"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        columns = con.execute("""
            select table_schema, table_name, column_name, data_type
            from information_schema.columns
            where table_schema in ('staging', 'intermediate', 'marts')""").fetchall()
        raw_ids = {r[0] for r in con.execute("select employee_id from raw.employees").fetchall()}
        texts: dict[str, set[str]] = {}
        for schema, table, column, data_type in columns:
            if data_type == "VARCHAR" and schema != "staging":
                values = con.execute(
                    f'select distinct "{column}" from {schema}.{table} where "{column}" is not null'
                ).fetchall()
                texts[f"{schema}.{table}.{column}"] = {v[0] for v in values}
    for schema, table, column, _ in columns:
        docs = documented[(schema, table)]
        assert column in docs, f"{schema}.{table}.{column} is not documented"
        classification = docs[column]["meta"].get("classification")
        assert classification in {"none", "pii", "phi", "phi_aggregated"}
        if schema != "staging":
            assert classification in {"none", "phi_aggregated"}, (table, column)
        assert column not in PII_NAMES, f"{schema}.{table}.{column} is a PII column"
    for where, values in texts.items():
        assert not any(SSN.search(v) or EMAIL.search(v) for v in values), where
        assert not values & raw_ids, f"{where} holds raw employee ids"


def test_employee_key_is_the_keyed_hash(built: tuple[Path, Path]) -> None:
    home, _ = built
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        (employee_id,) = _one(con, "select min(employee_id) from raw.employees")
        (expected,) = _one(con, "select sha256('coadv-dev-key|' || ?)", [employee_id])
        (found,) = _one(
            con,
            "select count(*) from staging.stg_peo__employees where employee_key = ?",
            [expected],
        )
    assert found == 1


def test_governance_query_catches_an_ssn_in_a_mart(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    home, work = built
    copy = tmp_path / "home"
    copy.mkdir()
    shutil.copy(home / "warehouse.duckdb", copy / "warehouse.duckdb")
    with connect(copy / "warehouse.duckdb") as con:
        con.execute(
            "update marts.feat_payroll_run set exception_type = '123-45-6789' "
            "where run_id = (select min(run_id) from marts.feat_payroll_run)"
        )
    result = _dbt(copy, tmp_path / "dbt", "test", "--select", "assert_no_ssn_or_email_in_marts")
    assert result.returncode != 0
    assert "assert_no_ssn_or_email_in_marts" in result.stdout
