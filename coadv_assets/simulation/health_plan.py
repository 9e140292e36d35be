"""The master health plan: premiums per client-month and paid claims of enrolled members.

Member-months are the enrolled employees active on the first day of a coverage month.
Each client has a premium per member-month, ``clip(750 × exp(0.15 z + 0.05 e), 600, 900)``,
and an expected claims cost per member-month ``k × exp(0.4 z − 0.08) × industry factor``, with
``z`` its hidden health risk and ``k`` set so that the book's expected MLR is 0.86 over its
member-months. Both trend up 6% a year from the window start. Claims per member-month are
Poisson (mean 1.2), typed pharmacy / professional / outpatient / inpatient (45/32/18/5%), with
lognormal amounts (sigma 0.9) whose mean keeps the member-month's expected cost. Claims are
paid a gamma lag after service (shape 2, mean 38 days) and exported the day after payment;
claims not yet paid by the last complete day are not in the file (incurred but not reported).
Planted truth: ``claims_cost.parquet``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from coadv_assets.simulation.timeline import Timeline, add_months, to_date, to_instant

TARGET_MLR = 0.86
TREND = 0.06
CLAIMS_PER_MEMBER_MONTH = 1.2
CLAIM_TYPES = ("pharmacy", "professional", "outpatient", "inpatient")
TYPE_SHARE = np.array([0.45, 0.32, 0.18, 0.05])
TYPE_SIZE = np.array([0.35, 0.75, 2.0, 9.0]) / float(np.dot(TYPE_SHARE, [0.35, 0.75, 2.0, 9.0]))
INDUSTRY_COST = {
    "construction": 1.10,
    "professional_services": 0.95,
    "healthcare": 1.00,
    "retail": 1.00,
    "hospitality": 0.95,
    "manufacturing": 1.08,
    "technology": 0.92,
    "nonprofit": 1.02,
}


def plan_rates(clients: pl.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (premium per member-month, unscaled relative claims cost) per client."""
    z = clients["risk_z"].to_numpy()
    premium = np.clip(750.0 * np.exp(0.15 * z + 0.05 * rng.normal(0.0, 1.0, len(z))), 600, 900)
    industry = np.array([INDUSTRY_COST[i] for i in clients["industry"].to_list()])
    relative_cost = np.exp(0.4 * z - 0.08) * industry
    return np.round(premium, 2), relative_cost


def member_months(
    employees: pl.DataFrame,
    timeline: Timeline,
    coverage_start: np.ndarray,
    coverage_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (employee row, client index, month start day) of each enrolled member-month.

    ``coverage_start`` per client index is the first covered month (first day),
    ``coverage_end`` the last day the client is covered.
    """
    enrolled = np.nonzero(employees["enrolled"].to_numpy())[0]
    client = employees["client"].to_numpy()[enrolled]
    hire = employees["hire_day"].to_numpy()[enrolled]
    term = employees["term_day"].to_numpy()[enrolled]
    rows, months = [], []
    for m in timeline.month_starts():
        active = (hire <= m) & (term > m) & (m <= coverage_end[client])
        active &= m >= coverage_start[client]
        idx = enrolled[active]
        rows.append(idx)
        months.append(np.full(len(idx), m))
    row = np.concatenate(rows)
    return row, employees["client"].to_numpy()[row], np.concatenate(months)


def build_premiums(
    clients: pl.DataFrame,
    mm_client: np.ndarray,
    mm_month: np.ndarray,
    premium: np.ndarray,
    timeline: Timeline,
    alive_months: pl.DataFrame,
) -> pl.DataFrame:
    """Return premiums per client and coverage month (members may be 0), loaded the next day.

    ``alive_months`` holds client (index) and month (day) of every covered client-month.
    """
    counts = (
        pl.DataFrame({"client": mm_client, "month": mm_month})
        .group_by("client", "month")
        .len("members")
    )
    frame = (
        alive_months.join(counts, on=["client", "month"], how="left")
        .with_columns(pl.col("members").fill_null(0))
        .sort("client", "month")
    )
    client = frame["client"].to_numpy()
    month = frame["month"].to_numpy()
    years = (month - timeline.window_start_day) / 365.25
    members = frame["members"].to_numpy()
    earned = np.round(members * premium[client] * (1.0 + TREND) ** years, 2)
    return pl.DataFrame(
        {
            "client_id": clients["client_id"].to_numpy()[client],
            "coverage_month": to_date(month, "coverage_month"),
            "enrolled_members": members.astype(np.int32),
            "earned_premium": earned,
            "_loaded_at": to_instant(month + 1, 6 * 3600, "_loaded_at"),
        }
    )


def build_claims(
    employees: pl.DataFrame,
    mm_row: np.ndarray,
    mm_client: np.ndarray,
    mm_month: np.ndarray,
    cost_pmpm: np.ndarray,
    coverage_end: np.ndarray,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Return paid claims, sorted by paid date, with ids ``CL`` + 10 digits."""
    n_claims = rng.poisson(CLAIMS_PER_MEMBER_MONTH, len(mm_row))
    row = np.repeat(mm_row, n_claims)
    client = np.repeat(mm_client, n_claims)
    month = np.repeat(mm_month, n_claims)
    n = len(row)
    month_len = add_months(month, 1) - month
    service = month + np.floor(rng.random(n) * month_len).astype(np.int64)
    term = employees["term_day"].to_numpy()[row]
    last = np.minimum(np.minimum(term - 1, coverage_end[client]), timeline.last_day)
    service = np.minimum(service, last)
    ctype = rng.choice(4, size=n, p=TYPE_SHARE)
    years = (month - timeline.window_start_day) / 365.25
    mean = cost_pmpm[client] * (1.0 + TREND) ** years / CLAIMS_PER_MEMBER_MONTH * TYPE_SIZE[ctype]
    amount = mean * np.exp(rng.normal(-(0.9**2) / 2, 0.9, n))
    paid = service + np.ceil(rng.gamma(2.0, 19.0, n)).astype(np.int64)
    keep = (service >= month) & (paid <= np.minimum(timeline.last_day, coverage_end[client]))
    frame = pl.DataFrame(
        {
            "client_id": employees["client_id"].to_numpy()[row[keep]],
            "member_id": employees["employee_id"].to_numpy()[row[keep]],
            "service_day": service[keep],
            "paid_day": paid[keep],
            "claim_type": np.array(CLAIM_TYPES)[ctype[keep]],
            "paid_amount": np.round(amount[keep], 2),
        }
    ).sort("paid_day", "client_id", "member_id", "service_day", maintain_order=True)
    paid_day = frame["paid_day"].to_numpy()
    return frame.select(
        pl.format("CL{}", pl.int_range(1, pl.len() + 1).cast(pl.Utf8).str.zfill(10)).alias(
            "claim_id"
        ),
        "client_id",
        "member_id",
        to_date(frame["service_day"].to_numpy(), "service_date"),
        to_date(paid_day, "paid_date"),
        "claim_type",
        "paid_amount",
        to_instant(paid_day + 1, 3 * 3600, "_loaded_at"),
    )
