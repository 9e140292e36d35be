"""Readouts of τ on simulated PEOs, checked against the simulator's planted effects.

The planted ATT (truths.json, functions.<f>.att) is the mean effect over treated team-months
from expected PUs with and without the effect at the same hours and cost; the pipeline
never reads it.
"""

import datetime as dt

import polars as pl
import pytest

from coadv_assets.pu import readout
from coadv_assets.pu.registry import REGISTRY_PATH, load_registry
from coadv_assets.simulation.config import FUNCTIONS
from coadv_assets.simulation.teams import ITEM_TYPE
from coadv_assets.warehouse import connect

from .conftest import ALL_AT_ONCE, SINGLE_TEAM

AS_OF = dt.date(2026, 10, 1)  # last complete month of a window ending 2026-11-30 (partial)
TRUTH_KEYS = {"c_r": "c_r_usd_per_pu", "pu_per_hour": "pu_per_hour_units"}


def _readout(peo, function: str) -> list:
    return readout.readout(readout.panel_as_of(peo.panel(function), AS_OF), function)


def test_registry_names_the_simulators_item_type_of_every_function():
    registry = load_registry()
    assert set(registry) == set(FUNCTIONS)
    assert {f: d.item_type for f, d in registry.items()} == ITEM_TYPE


def test_registry_refuses_an_item_type_declared_twice(tmp_path):
    text = REGISTRY_PATH.read_text().splitlines()
    text[2] = text[2].replace("contact_resolved", "payroll_run_processed")
    path = tmp_path / "pu_registry.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match="'item_type' must be unique; 2 rows"):
        load_registry(path)


def test_marts_count_pus_of_the_registry_item_type_only(staggered_peo):
    with connect(staggered_peo.db, read_only=True) as con:
        raw = dict(
            con.sql(
                "select function, sum(completed - reworked) from raw.work_items group by function"
            ).fetchall()
        )
        marts = dict(
            con.sql("select function, sum(pu) from marts.fct_team_month_pu group by 1").fetchall()
        )
    assert marts == raw


@pytest.mark.parametrize("function", FUNCTIONS)
def test_staggered_primary_covers_the_planted_effect(staggered_peo, function):
    att = staggered_peo.truths()["functions"][function]["att"]
    rows = _readout(staggered_peo, function)
    for outcome, key in TRUTH_KEYS.items():
        main = readout.primary(rows, outcome)
        assert main.method == "staggered_did", main
        assert main.covers(att[key]), (outcome, att[key], main)
        assert main.estimate_pct is not None and main.ci_low_pct < main.ci_high_pct


@pytest.mark.parametrize("function", FUNCTIONS)
def test_naive_before_after_misses_the_planted_effect(staggered_peo, function):
    # The function's monthly figure since its rollout began against the months before:
    # wage inflation (+4% a year on cost), the drift in the work (-3% a year on PUs per hour)
    # and the teams not yet treated all pull it toward no effect, so it understates both the
    # saving in c_r and the gain in PUs per hour, and its interval misses the truth.
    att = staggered_peo.truths()["functions"][function]["att"]
    rows = _readout(staggered_peo, function)
    naive = {r.outcome: r for r in rows if r.method == "naive_before_after"}
    assert {r.role for r in naive.values()} == {"naive"}
    assert all(r.status == "estimated" for r in naive.values())
    assert naive["c_r"].ci_low > att["c_r_usd_per_pu"], naive["c_r"]
    assert naive["pu_per_hour"].ci_high < att["pu_per_hour_units"], naive["pu_per_hour"]


@pytest.mark.parametrize("function", SINGLE_TEAM)
def test_single_treated_team_is_read_by_synthetic_control(mixed_peo, function):
    att = mixed_peo.truths()["functions"][function]["att"]
    rows = _readout(mixed_peo, function)
    for outcome, key in TRUTH_KEYS.items():
        main = readout.primary(rows, outcome)
        assert main.method == "synthetic_control" and main.status == "estimated", main
        assert main.covers(att[key]), (outcome, att[key], main)
        assert "placebo" in main.assumptions.lower()


@pytest.mark.parametrize("function", ALL_AT_ONCE)
def test_rollout_without_comparison_teams_gets_a_refusal_not_a_number(mixed_peo, function):
    rows = _readout(mixed_peo, function)
    for outcome in TRUTH_KEYS:
        did = next(r for r in rows if r.method == "staggered_did" and r.outcome == outcome)
        assert did.role == "primary" and did.status == "refused"
        assert did.estimate is None and did.ci_low is None
        assert "no untreated comparison units" in did.reason
        sc = next(r for r in rows if r.method == "synthetic_control" and r.outcome == outcome)
        assert sc.status == "refused" and "donor" in sc.reason


def test_a_month_before_any_rollout_has_no_treated_team(staggered_peo):
    panel = readout.panel_as_of(staggered_peo.panel("onboarding"), dt.date(2024, 6, 1))
    assert readout.treated_team_count(panel) == 0
    rows = readout.readout(panel, "onboarding")
    assert all(r.status == "refused" for r in rows)
    assert panel["month"].max() == dt.date(2024, 6, 1)
    assert panel.filter(pl.col("first_ai_month").is_not_null()).is_empty()
