"""``simulate``: build every source table of the PEO and write landing files and truths.

Random numbers come from one numpy ``Generator`` per concern, spawned from the seed in the
fixed order of ``STREAMS``, so that changing one table's logic leaves the others' draws alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from coadv_assets import paths
from coadv_assets.simulation import truths as truths_mod
from coadv_assets.simulation.clients import build_clients
from coadv_assets.simulation.config import FUNCTIONS, SimulationConfig
from coadv_assets.simulation.contacts import build_contacts
from coadv_assets.simulation.employees import NEVER, Headcount, build_employees, export_columns
from coadv_assets.simulation.health_plan import (
    TARGET_MLR,
    build_claims,
    build_premiums,
    member_months,
    plan_rates,
)
from coadv_assets.simulation.lifecycle import monthly_activity, simulate_lifecycle
from coadv_assets.simulation.output import clear_simulated, write_parquet
from coadv_assets.simulation.payroll import build_corrections, build_runs
from coadv_assets.simulation.schema import conform, load_contracts
from coadv_assets.simulation.teams import TOOL_NAME, build_teams
from coadv_assets.simulation.timeline import (
    Timeline,
    month_start_days,
    to_date,
    to_instant,
)
from coadv_assets.simulation.work_items import (
    ai_effect_team_months,
    att_by_function,
    build_work_items,
    expected_team_days,
)
from coadv_assets.simulation.workforce import build_timesheets, team_day_hours

STREAMS = (
    "teams",
    "timesheets",
    "productivity",
    "work_items",
    "clients",
    "employees",
    "payroll_runs",
    "corrections",
    "contacts",
    "plan_rates",
    "contracts",
    "claims",
)


@dataclass(frozen=True)
class SimulationSummary:
    """What a simulation wrote: row counts and files per table, and where the truths are."""

    config: SimulationConfig
    landing: Path
    truths: Path
    window_start: str
    last_day: str
    rows: dict[str, int]
    files: dict[str, list[Path]]
    bytes_written: int


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(ss) for name, ss in zip(STREAMS, children, strict=True)}


def _window_grids(
    n_clients: int, employees: pl.DataFrame, runs: pl.DataFrame, timeline: Timeline
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return headcount, pay-date and exception-pay-date grids of shape (clients, window days)."""
    days = timeline.window_days
    n_days = len(days)
    ws = timeline.window_start_day
    client = employees["client"].to_numpy()
    hire = employees["hire_day"].to_numpy()
    term = employees["term_day"].to_numpy()
    delta = np.zeros((n_clients, n_days + 1), dtype=np.int32)
    np.add.at(delta, (client, np.clip(hire - ws, 0, n_days)), 1)
    left = term < NEVER
    np.add.at(delta, (client[left], np.clip(term[left] - ws, 0, n_days)), -1)
    hc = np.cumsum(delta, axis=1)[:, :n_days].astype(np.float64)
    pay = np.zeros((n_clients, n_days), dtype=bool)
    exc = np.zeros((n_clients, n_days), dtype=bool)
    r_client = runs["client"].to_numpy()
    r_day = runs["pay_day"].to_numpy() - ws
    ok = (r_day >= 0) & (r_day < n_days)
    pay[r_client[ok], r_day[ok]] = True
    has_exc = ok & (runs["exception_count"].to_numpy() > 0)
    exc[r_client[has_exc], r_day[has_exc]] = True
    return hc, pay, exc


def simulate(
    config: SimulationConfig,
    landing: Path | None = None,
    truths: Path | None = None,
    progress: bool = True,
) -> SimulationSummary:
    """Simulate the PEO, write ``<landing>/<table>/<load_id>.parquet`` and the truths.

    Returns a ``SimulationSummary``. Earlier simulated loads (``sim-*.parquet``) of each
    table are replaced; other files in the landing folder are left alone. Refuses (via
    ``schema.conform``) to write a table that breaks its source contract.
    """
    landing = landing or paths.landing_dir()
    truths = truths or paths.truths_dir()
    timeline = Timeline.build(config.end_date, config.months)
    rng = _streams(config.seed)
    steps = [
        "operations",
        "clients",
        "employees",
        "payroll",
        "contacts",
        "lifecycle",
        "health plan",
        "write",
        "truths",
    ]
    bar = tqdm(total=len(steps), desc="simulate", disable=not progress, unit="step")

    def step(name: str) -> None:
        bar.set_postfix_str(name)

    step("operations")
    teams = build_teams(config, timeline, rng["teams"])
    timesheets = build_timesheets(teams, timeline, rng["timesheets"])
    expected = expected_team_days(
        teams, team_day_hours(timesheets, timeline), timeline, rng["productivity"]
    )
    work_items = build_work_items(expected, rng["work_items"])
    team_months = ai_effect_team_months(expected)
    att = att_by_function(team_months)
    bar.update()

    step("clients")
    clients = build_clients(config.n_clients, timeline, rng["clients"])
    n = clients.height
    bar.update()

    step("employees")
    employees = build_employees(clients, timeline, rng["employees"])
    headcount = Headcount(
        employees["client"].to_numpy(),
        employees["hire_day"].to_numpy(),
        employees["term_day"].to_numpy(),
    )
    salary_sum = np.bincount(
        employees["client"].to_numpy(), employees["annual_salary"].to_numpy(), minlength=n
    )
    salary_n = np.bincount(employees["client"].to_numpy(), minlength=n)
    avg_salary = salary_sum / np.maximum(salary_n, 1)
    bar.update()

    step("payroll")
    po_teams = sorted(
        teams.frame.filter(pl.col("function") == "payroll_operations")["team_id"].to_list()
    )
    runs = build_runs(clients, headcount, avg_salary, po_teams, timeline, rng["payroll_runs"])
    corrections = build_corrections(runs, rng["corrections"])
    bar.update()

    step("contacts")
    hc_grid, pay_grid, exc_grid = _window_grids(n, employees, runs, timeline)
    sc_teams = teams.frame.filter(pl.col("function") == "service_center").sort("team_id")
    contacts = build_contacts(
        clients, employees, hc_grid, pay_grid, exc_grid, sc_teams, timeline, rng["contacts"]
    )
    del hc_grid, pay_grid, exc_grid
    bar.update()

    step("lifecycle")
    premium, relative_cost = plan_rates(clients, rng["plan_rates"])
    never = np.full(n, NEVER)
    signup_month = month_start_days(clients["signup_day"].to_numpy())
    _, mm_client0, _ = member_months(employees, timeline, signup_month, never)
    weight = np.bincount(mm_client0, minlength=n).astype(float)
    scale_k = (
        TARGET_MLR
        * float((weight * premium).sum())
        / max(float((weight * relative_cost).sum()), 1e-9)
    )
    cost_pmpm = scale_k * relative_cost
    claims_ratio = cost_pmpm / (TARGET_MLR * premium)
    activity = monthly_activity(n, runs, contacts, headcount, timeline)
    life = simulate_lifecycle(
        clients, activity, headcount, claims_ratio, timeline, rng["contracts"]
    )
    outcome = life.outcome_day
    bar.update()

    step("health plan")
    emp_client = employees["client"].to_numpy()
    employees = employees.filter(pl.Series(employees["hire_day"].to_numpy() <= outcome[emp_client]))
    emp_client = employees["client"].to_numpy()
    employees = employees.with_columns(
        pl.Series("term_day", np.minimum(employees["term_day"].to_numpy(), outcome[emp_client]))
    )
    employees = export_columns(employees)
    runs = runs.filter(pl.Series(runs["pay_day"].to_numpy() <= outcome[runs["client"].to_numpy()]))
    c_out = outcome[corrections["client"].to_numpy()]
    corrections = corrections.filter(
        pl.Series(
            (corrections["pay_day"].to_numpy() <= c_out)
            & (corrections["loaded_day"].to_numpy() <= np.minimum(c_out, timeline.last_day))
        )
    )
    contacts = contacts.filter(
        pl.Series(contacts["day"].to_numpy() <= outcome[contacts["client"].to_numpy()])
    )
    coverage_end = np.minimum(outcome, timeline.last_day)
    mm_row, mm_client, mm_month = member_months(employees, timeline, signup_month, coverage_end)
    months = timeline.month_starts()
    cc = np.repeat(np.arange(n), len(months))
    mm = np.tile(months, n)
    alive = (mm >= signup_month[cc]) & (mm <= coverage_end[cc])
    alive_months = pl.DataFrame({"client": cc[alive], "month": mm[alive]})
    premiums = build_premiums(clients, mm_client, mm_month, premium, timeline, alive_months)
    claims = build_claims(
        employees, mm_row, mm_client, mm_month, cost_pmpm, coverage_end, timeline, rng["claims"]
    )
    bar.update()

    step("write")
    snapshot = to_instant(np.array([timeline.end_day]), 3600, "_loaded_at")[0]
    rollouts = teams.frame.filter(pl.col("rollout_day").is_not_null()).sort("team_id")
    ai_rollouts = pl.DataFrame(
        {
            "team_id": rollouts["team_id"],
            "function": rollouts["function"],
            "tool_name": rollouts["function"].replace_strict(TOOL_NAME, return_dtype=pl.Utf8),
            "rollout_date": to_date(rollouts["rollout_day"].to_numpy(), "rollout_date"),
        },
        schema_overrides={"team_id": pl.Utf8},
    ).with_columns(pl.lit(snapshot).alias("_loaded_at"))
    teams_table = teams.frame.sort("team_id").with_columns(pl.lit(snapshot).alias("_loaded_at"))
    tables: dict[str, pl.DataFrame] = {
        "clients": clients,
        "contracts": life.contracts,
        "employees": employees,
        "payroll_runs": runs,
        "premiums": premiums,
        "claims": claims,
        "contacts": contacts,
        "teams": teams_table,
        "timesheets": timesheets,
        "work_items": work_items,
        "ai_rollouts": ai_rollouts,
    }
    missing = set(load_contracts()) - set(tables)
    if missing:
        raise RuntimeError(f"no simulated frame for source tables {sorted(missing)}")
    rows: dict[str, int] = {}
    files: dict[str, list[Path]] = {}
    total = 0
    for name, frame in tables.items():
        table_dir = landing / name
        clear_simulated(table_dir)
        out = conform(name, frame)
        path = table_dir / f"{config.load_id}.parquet"
        total += write_parquet(out, path)
        rows[name] = out.height
        files[name] = [path]
    conform("payroll_runs", pl.concat([runs.select(corrections.columns), corrections]))
    corr_out = conform("payroll_runs", corrections)
    corr_path = landing / "payroll_runs" / f"{config.correction_load_id}.parquet"
    total += write_parquet(corr_out, corr_path)
    rows["payroll_runs"] += corr_out.height
    files["payroll_runs"].append(corr_path)
    bar.update()

    step("truths")
    total += truths_mod.write_truths(
        truths,
        config=config,
        timeline=timeline,
        teams=teams.frame,
        att=att,
        team_months=team_months,
        renewal=life.renewal_truth,
        churn=life.churn_truth,
        runs=runs,
        clients=clients,
        cost_pmpm=cost_pmpm,
        premium=premium,
    )
    bar.update()
    bar.close()
    return SimulationSummary(
        config=config,
        landing=landing,
        truths=truths,
        window_start=str(np.datetime64(timeline.window_start_day, "D")),
        last_day=str(np.datetime64(timeline.last_day, "D")),
        rows=rows,
        files=files,
        bytes_written=total,
    )


def config_as_dict(config: SimulationConfig) -> dict[str, object]:
    """Return the config as plain JSON-ready data."""
    payload = dataclasses.asdict(config)
    payload["end_date"] = config.end_date.isoformat()
    payload["n_clients"] = config.n_clients
    payload["functions"] = list(FUNCTIONS)
    return payload
