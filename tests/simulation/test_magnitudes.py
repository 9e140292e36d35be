"""The default book has the magnitudes of a real PEO, and the planted truths hold."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl

from coadv_assets.simulation import RolloutPlan, SimulationConfig
from coadv_assets.simulation.config import FUNCTIONS

SSN = r"^\d{3}-\d{2}-\d{4}$"
EMAIL = r"^[a-z]+\.[a-z]+@[a-z0-9.-]+\.[a-z]+$"


def load(summary, name: str) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in summary.files[name]])


def headcount(employees: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return (
        employees.filter(
            (pl.col("hire_date") <= day)
            & (pl.col("termination_date").is_null() | (pl.col("termination_date") > day))
        )
        .group_by("client_id")
        .len("hc")
    )


def test_clients_size_and_frequencies(default) -> None:
    clients = load(default, "clients")
    hc = headcount(load(default, "employees"), dt.date(2024, 1, 1))["hc"]
    assert 16 <= hc.mean() <= 25
    assert 8 <= hc.median() <= 12
    assert (hc >= 200).sum() >= 3
    share = clients["pay_frequency"].value_counts(normalize=True)
    share = dict(zip(share["pay_frequency"], share["proportion"], strict=True))
    for freq, target in {
        "biweekly": 0.43,
        "weekly": 0.27,
        "semimonthly": 0.2,
        "monthly": 0.1,
    }.items():
        assert abs(share[freq] - target) < 0.04, freq
    window_start = dt.date(2022, 7, 1)
    assert (clients["signup_date"] < window_start).sum() == 1500
    assert (clients["signup_date"] >= window_start).sum() > 500


def test_losses_per_year_and_outcomes(default) -> None:
    contracts = load(default, "contracts")
    lost = contracts.filter(pl.col("outcome").is_in(["lost_at_renewal", "terminated_midterm"]))
    per_year = lost.height / 3.0 / 1500
    assert 0.13 <= per_year <= 0.22
    mid = (lost["outcome"] == "terminated_midterm").sum() / 3.0 / 1500
    assert 0.015 <= mid <= 0.05
    assert (lost["outcome"] == "lost_at_renewal").sum() > 2 * (
        lost["outcome"] == "terminated_midterm"
    ).sum()
    offered = contracts.filter(pl.col("offer_date").is_not_null())
    assert (offered["renewal_date"] - offered["offer_date"]).dt.total_days().unique().to_list() == [
        120
    ]
    assert offered["offered_rate_change"].is_between(-0.02, 0.15).all()
    assert 0.03 <= offered["offered_rate_change"].mean() <= 0.09
    active = contracts.filter(pl.col("outcome") == "active")
    assert (active["renewal_date"] >= dt.date(2025, 6, 15)).all()
    assert active["outcome_date"].null_count() == active.height


def test_lost_clients_leave_no_later_rows(default) -> None:
    ends = (
        load(default, "contracts")
        .filter(pl.col("outcome").is_in(["lost_at_renewal", "terminated_midterm"]))
        .select("client_id", "outcome_date")
    )
    checks = {
        "payroll_runs": ["pay_date", "period_end"],
        "contacts": ["opened_at"],
        "claims": ["service_date", "paid_date"],
        "premiums": ["coverage_month"],
        "employees": ["hire_date", "termination_date"],
    }
    for name, cols in checks.items():
        frame = load(default, name).join(ends, on="client_id")
        assert frame.height > 0, name
        for col in cols:
            late = frame.filter(pl.col(col).cast(pl.Date) > pl.col("outcome_date")).height
            assert late == 0, (name, col)
    contracts = load(default, "contracts").join(ends, on="client_id", suffix="_end")
    assert (contracts["term_start"] <= contracts["outcome_date_end"]).all()


def test_employees_pii_and_turnover(default) -> None:
    employees = load(default, "employees")
    assert employees["ssn"].str.contains(SSN).all()
    assert not employees["ssn"].str.starts_with("666").any()
    assert not employees["ssn"].str.starts_with("000").any()
    assert employees["email"].drop_nulls().str.contains(EMAIL).all()
    assert 0.03 < employees["email"].null_count() / employees.height < 0.15
    age = (employees["hire_date"] - employees["birth_date"]).dt.total_days() / 365.25
    assert age.min() >= 17.9 and age.max() <= 64
    lost = load(default, "contracts").filter(pl.col("outcome") != "renewed")
    lost_ids = lost.filter(pl.col("outcome") != "active")["client_id"]
    hourly = employees.filter(
        (pl.col("job_class") == "hourly") & ~pl.col("client_id").is_in(lost_ids.implode())
    )
    start, end = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    base = headcount(hourly, start)["hc"].sum()
    leavers = hourly.filter(pl.col("termination_date").is_between(start, end)).height
    assert 0.28 <= leavers / base <= 0.42
    contacts = load(default, "contacts")
    assert contacts["caller_email"].drop_nulls().str.contains(EMAIL).all()
    clients = load(default, "clients")
    assert clients["contact_email"].drop_nulls().str.contains(EMAIL).all()


def test_payroll_exceptions_and_corrections(default) -> None:
    runs = load(default, "payroll_runs")
    first = runs.filter(pl.col("revision") == 1)
    exc = pl.col("exception_count") > 0
    share = first.select(exc.mean()).item()
    assert 0.10 <= share <= 0.20
    by_freq = first.group_by("pay_frequency").agg(exc.mean().alias("s"))
    rates = dict(zip(by_freq["pay_frequency"], by_freq["s"], strict=True))
    assert rates["weekly"] > rates["biweekly"] > rates["monthly"]
    jan = first.filter(pl.col("pay_date").dt.month() == 1).select(exc.mean()).item()
    other = first.filter(pl.col("pay_date").dt.month() != 1).select(exc.mean()).item()
    assert jan > other * 1.3
    truth = pl.read_parquet(default.truths / "payroll_exception_probabilities.parquet")
    new = truth.filter(pl.col("new_client"))["exception"].mean()
    old = truth.filter(~pl.col("new_client"))["exception"].mean()
    assert new > old * 1.5
    assert abs(truth["p_exception_true"].mean() - share) < 0.01
    assert (
        first.filter(exc.not_())["exception_type"].null_count() == first.filter(exc.not_()).height
    )
    assert first.filter(pl.col("needs_correction"))["exception_count"].gt(0).mean() > 0.8
    assert first["processed_by_team"].str.starts_with("PO-").all()
    second = runs.filter(pl.col("revision") == 2)
    assert 0.03 <= second.height / first.height <= 0.07
    pairs = second.join(first, on="run_id", suffix="_orig")
    assert pairs.height == second.height
    lag = (pairs["_loaded_at"] - pairs["_loaded_at_orig"]).dt.total_days()
    assert lag.min() >= 3 and lag.max() <= 20
    changed = (pairs["gross_pay"] != pairs["gross_pay_orig"]) | (
        pairs["needs_correction"] & ~pairs["needs_correction_orig"]
    )
    assert changed.all()
    assert set(default.files["payroll_runs"][1].name.split("-")[-1:]) == {"0002.parquet"}
    assert pl.read_parquet(default.files["payroll_runs"][1])["revision"].unique().to_list() == [2]


def test_health_plan(default) -> None:
    premiums = load(default, "premiums")
    claims = load(default, "claims")
    employees = load(default, "employees")
    members = premiums["enrolled_members"].sum()
    pmpm = premiums["earned_premium"].sum() / members
    assert 600 <= pmpm <= 950
    covered_months = premiums.filter(pl.col("enrolled_members") > 0).height
    assert covered_months > 0
    # About 60% of employees enrolled: member-months over employee-months at month starts.
    month = dt.date(2024, 3, 1)
    enrolled = premiums.filter(pl.col("coverage_month") == month)["enrolled_members"].sum()
    active = headcount(employees, month)
    signed = load(default, "clients").filter(pl.col("signup_date") <= month)["client_id"]
    active_hc = active.filter(pl.col("client_id").is_in(signed.implode()))["hc"].sum()
    assert 0.52 <= enrolled / active_hc <= 0.68
    lag = (claims["paid_date"] - claims["service_date"]).dt.total_days()
    assert 30 <= lag.mean() <= 45
    cutoff = dt.date(2025, 1, 1)
    mlr = (
        claims.filter(pl.col("service_date") < cutoff)["paid_amount"].sum()
        / premiums.filter(pl.col("coverage_month") < cutoff)["earned_premium"].sum()
    )
    assert 0.78 <= mlr <= 0.90
    truth = pl.read_parquet(default.truths / "claims_cost.parquet")
    realized = (
        claims.filter(pl.col("service_date") < cutoff)
        .group_by("client_id")
        .agg(pl.col("paid_amount").sum())
        .join(
            premiums.filter(pl.col("coverage_month") < cutoff)
            .group_by("client_id")
            .agg(pl.col("enrolled_members").sum()),
            on="client_id",
        )
        .filter(pl.col("enrolled_members") >= 200)
        .join(truth, on="client_id")
    )
    per_member = realized["paid_amount"] / realized["enrolled_members"]
    assert np.corrcoef(per_member, realized["expected_claims_pmpm"])[0, 1] > 0.5


def test_contacts_volume_and_seasonality(default) -> None:
    contacts = load(default, "contacts")
    employees = load(default, "employees")
    clients = load(default, "clients")
    months = pl.date_range(dt.date(2022, 7, 1), dt.date(2025, 5, 1), "1mo", eager=True)
    em = 0
    for m in months:
        hc = headcount(employees, m)
        signed = clients.filter(pl.col("signup_date") <= m)["client_id"]
        em += hc.filter(pl.col("client_id").is_in(signed.implode()))["hc"].sum()
    full = contacts.filter(pl.col("opened_at").dt.date() < dt.date(2025, 6, 1))
    assert 0.24 <= full.height / em <= 0.36
    by_month = full.group_by(pl.col("opened_at").dt.month().alias("m")).len()
    count = dict(zip(by_month["m"], by_month["len"], strict=True))
    baseline = np.mean([count[m] for m in (2, 3, 4, 9, 10)])
    assert 1.2 <= count[1] / baseline <= 1.5
    assert count[12] / baseline > 1.05
    benefits = (
        full.filter(pl.col("queue") == "benefits")
        .group_by(pl.col("opened_at").dt.month().alias("m"))
        .len()
    )
    b = dict(zip(benefits["m"], benefits["len"], strict=True))
    assert b[11] / np.mean([b[m] for m in (2, 3, 4, 9, 10)]) > 1.6
    weekday = full.group_by(pl.col("opened_at").dt.weekday().alias("d")).len()
    w = dict(zip(weekday["d"], weekday["len"], strict=True))
    assert (w[6] + w[7]) / sum(w.values()) < 0.08
    # Payroll-queue contacts cluster on the client's pay dates and the day after.
    runs = load(default, "payroll_runs").filter(pl.col("revision") == 1)
    pay = runs.select("client_id", pl.col("pay_date").alias("d")).unique()
    after = pay.with_columns(pl.col("d") + pl.duration(days=1))
    near = pl.concat([pay, after]).unique().with_columns(pl.lit(True).alias("near"))
    payroll = (
        full.filter(pl.col("queue") == "payroll")
        .with_columns(pl.col("opened_at").dt.date().alias("d"))
        .join(near, on=["client_id", "d"], how="left")
    )
    near_share = payroll["near"].fill_null(False).mean()
    assert near_share > 0.25  # pay date and day after are about 10% of weekdays
    # Queueing: abandonment grows with waiting; abandoned contacts have no team nor handle.
    live = full.filter(pl.col("channel") != "email")
    assert 0.03 <= live["abandoned"].mean() <= 0.15
    ab = live.filter(pl.col("abandoned"))
    assert ab["team_id"].null_count() == ab.height
    assert ab["handle_seconds"].null_count() == ab.height
    assert not (ab["resolved"] | ab["reopened"]).any()
    assert full.filter(~pl.col("abandoned"))["team_id"].str.starts_with("SC-").all()
    q = live.with_columns((pl.col("wait_seconds").rank() * 4 // (pl.len() + 1)).alias("q"))
    rates = q.group_by("q").agg(pl.col("abandoned").mean()).sort("q")["abandoned"]
    assert rates[3] > rates[0]
    assert not (full["reopened"] & ~full["resolved"]).any()
    seasonality = json.loads((default.truths / "contact_seasonality.json").read_text())
    assert seasonality["month"]["1"] == 1.3


def test_teams_timesheets_and_work_items(default) -> None:
    teams = load(default, "teams")
    assert teams.group_by("function").len()["len"].to_list() == [10] * 4
    assert teams["agents"].is_between(6, 15).all()
    assert teams["site"].n_unique() == 3
    sheets = load(default, "timesheets")
    assert (sheets["week_start"].dt.weekday() == 1).all()
    assert 33 <= sheets["hours"].mean() <= 39
    cost = sheets.join(teams.select("team_id", "function"), on="team_id")
    by_fn = cost.group_by("function").agg(pl.col("loaded_hourly_cost").mean())
    assert by_fn["loaded_hourly_cost"].is_between(36, 62).all()
    yearly = (
        cost.group_by(pl.col("week_start").dt.year().alias("y"))
        .agg(pl.col("loaded_hourly_cost").mean())
        .sort("y")
    )
    growth = yearly["loaded_hourly_cost"][2] / yearly["loaded_hourly_cost"][1] - 1
    assert 0.02 <= growth <= 0.06
    items = load(default, "work_items")
    rework = items["reworked"].sum() / items["completed"].sum()
    assert 0.03 <= rework <= 0.08
    assert (items["reworked"] <= items["completed"]).all()


def test_rollout_truths(default) -> None:
    truths = json.loads((default.truths / "truths.json").read_text())
    rollouts = load(default, "ai_rollouts")
    for function in FUNCTIONS:
        info = truths["functions"][function]
        months = [t["rollout_month"] for t in info["teams"]]
        assert (
            sorted(months, key=lambda m: (m is None, m))
            == [12] * 3 + [18] * 3 + [24] * 2 + [None] * 2
        )
        treated = [t for t in info["teams"] if t["rollout_month"] is not None]
        order = sorted(
            info["teams"], key=lambda t: (t["rollout_month"] is None, t["rollout_month"])
        )
        first_wave = [t["base_productivity"] for t in order[:3]]
        never = [t["base_productivity"] for t in order[-2:]]
        assert min(first_wave) > max(never)
        rank = np.array([t["rank"] for t in info["teams"]])
        base = np.array([t["base_productivity"] for t in info["teams"]])
        assert np.corrcoef(rank, base)[0, 1] < -0.7
        att = info["att"]
        assert att["pu_per_hour_pct"] > 0 and att["c_r_pct"] < 0
        assert 0.6 * info["full_effect"] * 100 < att["pu_per_hour_pct"] < info["full_effect"] * 100
        assert abs(att["c_r_pct"] / 100 + 1 - 1 / (1 + att["pu_per_hour_pct"] / 100)) < 0.01
        listed = rollouts.filter(pl.col("function") == function)
        # Wave 3 (month 24 of 36) and earlier are inside the window.
        assert listed.height == len(treated)
        assert listed["rollout_date"].min() == dt.date(2023, 7, 1)


def test_rollout_plans_expressible() -> None:
    all_at_once = RolloutPlan.all_at_once(month=12)
    single = RolloutPlan.single_team(month=6)
    for function in FUNCTIONS:
        assert all_at_once.for_function(function).wave_months(10) == [12] * 10
        assert single.for_function(function).wave_months(10) == [6] + [None] * 9
    SimulationConfig(rollout=single)


def test_renewal_and_churn_truths(default) -> None:
    renewal = pl.read_parquet(default.truths / "renewal_probabilities.parquet")
    assert (renewal["renewal_date"] - renewal["score_date"]).dt.total_days().unique().to_list() == [
        90
    ]
    logit = (
        1.9
        - 7.0 * renewal["offered_rate_change"]
        - 5.0 * (renewal["exception_share_6m"] - 0.15)
        - 1.2 * (renewal["contacts_per_employee_month_6m"] - 0.3)
        + 0.5 * np.log1p(renewal["tenure_years"])
        + 0.8 * renewal["headcount_growth_12m"]
        + renewal["industry_effect"]
    )
    assert np.allclose(1 / (1 + np.exp(-logit.to_numpy())), renewal["p_renew_true"].to_numpy())
    p = renewal["p_renew_true"].to_numpy()
    y = renewal["renewed"].to_numpy()
    assert abs(p.mean() - y.mean()) < 0.02
    pos, neg = p[y], p[~y]
    auc = (pos[:, None] > neg[None, :]).mean()
    assert 0.6 < auc < 0.9
    contracts = load(default, "contracts").join(
        renewal.select("contract_id", "renewed"), on="contract_id"
    )
    assert contracts.height == renewal.height
    assert ((contracts["outcome"] == "renewed") == contracts["renewed"]).all()
    churn = pl.read_parquet(default.truths / "churn_hazard.parquet")
    assert 0.001 < churn["hazard_true"].mean() < 0.006
    mid = load(default, "contracts").filter(pl.col("outcome") == "terminated_midterm")
    assert churn["terminated"].sum() == mid.height
