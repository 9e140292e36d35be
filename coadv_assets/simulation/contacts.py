"""Service-centre contacts: volume by client and day, queue, channel, waiting and handling.

Expected contacts of a client on a day and queue are::

    r0 × headcount × contact propensity × queue share × month multiplier
       × queue-month multiplier × weekday multiplier × holiday multiplier × pay-day multiplier

with ``r0`` set so that the book averages 0.3 contacts per employee-month. The multipliers
(planted truth ``contact_seasonality.json``) are in ``SEASONALITY``: January +30%, a benefits
open-enrolment surge in November, a year-end rise in December, payroll-queue peaks on the
client's pay dates and the day after (higher still when the run raised an exception), a
weekday pattern with few contacts at weekends and on holidays.

Waiting follows the day's queue load: with ``rho = min(0.95, 0.6 × volume / mean weekday
volume)`` of the queue, phone and chat waits are exponential with mean ``12 s × rho / (1 −
rho)`` and e-mail waits lognormal with a 4-hour median. A caller abandons when an exponential
patience (phone 240 s, chat 180 s) runs out first; the recorded wait is then the patience, the
handle time is null and no team is assigned. Handle times are lognormal by queue and channel.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from coadv_assets.simulation.timeline import Timeline, month_of_year, to_instant, weekday

QUEUES = ("payroll", "benefits", "hr", "general")
SEASONALITY: dict[str, object] = {
    "contacts_per_employee_month": 0.3,
    "queue_share": {"payroll": 0.42, "benefits": 0.23, "hr": 0.20, "general": 0.15},
    "month": {
        "1": 1.30,
        "2": 1.0,
        "3": 1.0,
        "4": 1.0,
        "5": 0.97,
        "6": 0.97,
        "7": 0.95,
        "8": 0.97,
        "9": 1.0,
        "10": 1.0,
        "11": 1.08,
        "12": 1.15,
    },
    "queue_month": {"benefits": {"11": 1.8, "1": 1.2}},
    "weekday": {
        "monday": 1.20,
        "tuesday": 1.10,
        "wednesday": 1.00,
        "thursday": 0.95,
        "friday": 0.85,
        "saturday": 0.10,
        "sunday": 0.05,
    },
    "holiday": 0.15,
    "payroll_day": {
        "payroll_queue_pay_date": 3.0,
        "payroll_queue_day_after": 2.0,
        "other_queues_pay_date": 1.2,
        "exception_extra_payroll_queue": 1.5,
    },
}
CHANNEL_SHARE = {
    "payroll": (0.60, 0.25, 0.15),
    "benefits": (0.55, 0.20, 0.25),
    "hr": (0.45, 0.20, 0.35),
    "general": (0.40, 0.35, 0.25),
}
CHANNELS = ("phone", "chat", "email")
CATEGORIES = {
    "payroll": ("paycheck_question", "direct_deposit", "tax_withholding", "pay_stub", "timecard"),
    "benefits": ("enrollment", "coverage_question", "claims_question", "id_card", "cobra"),
    "hr": ("leave_request", "policy_question", "onboarding", "termination", "workers_comp"),
    "general": ("portal_access", "address_change", "other"),
}
HANDLE_MEDIAN = {"payroll": 420.0, "benefits": 480.0, "hr": 400.0, "general": 240.0}
CHANNEL_HANDLE = np.array([1.0, 1.25, 0.8])
RESOLVE_RATE = np.array([0.86, 0.82, 0.78])
PATIENCE = np.array([240.0, 180.0, np.inf])


def multipliers(
    timeline: Timeline, pay_grid: np.ndarray, exc_grid: np.ndarray
) -> dict[str, np.ndarray]:
    """Return the (client × day) multiplier grid per queue, before ``r0`` and headcount.

    ``pay_grid`` and ``exc_grid`` flag (client, window day) pay dates and pay dates of runs
    with an exception.
    """
    days = timeline.window_days
    moy = month_of_year(days)
    month_m = np.array([SEASONALITY["month"][str(m)] for m in moy])  # type: ignore[index]
    wd_m = np.array(list(SEASONALITY["weekday"].values()))[weekday(days)]  # type: ignore[attr-defined]
    hol = np.where(np.isin(days, timeline.holidays()), SEASONALITY["holiday"], 1.0)
    common = month_m * wd_m * hol
    payday = SEASONALITY["payroll_day"]
    after = np.zeros_like(pay_grid)
    after[:, 1:] = pay_grid[:, :-1]
    exc_after = np.zeros_like(exc_grid)
    exc_after[:, 1:] = exc_grid[:, :-1]
    exc_any = exc_grid | exc_after
    out: dict[str, np.ndarray] = {}
    for queue in QUEUES:
        share = SEASONALITY["queue_share"][queue]  # type: ignore[index]
        qm = SEASONALITY["queue_month"].get(queue, {})  # type: ignore[attr-defined]
        queue_m = np.array([qm.get(str(m), 1.0) for m in moy])
        base = share * common * queue_m
        if queue == "payroll":
            pay_m = np.where(
                pay_grid,
                payday["payroll_queue_pay_date"],  # type: ignore[index]
                np.where(after, payday["payroll_queue_day_after"], 1.0),  # type: ignore[index]
            )
            pay_m = pay_m * np.where(exc_any, payday["exception_extra_payroll_queue"], 1.0)  # type: ignore[index]
        else:
            pay_m = np.where(pay_grid, payday["other_queues_pay_date"], 1.0)  # type: ignore[index]
        out[queue] = base[None, :] * pay_m
    return out


def build_contacts(
    clients: pl.DataFrame,
    employees: pl.DataFrame,
    hc_grid: np.ndarray,
    pay_grid: np.ndarray,
    exc_grid: np.ndarray,
    sc_teams: pl.DataFrame,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Return contacts of every client (before loss truncation), sorted by opened_at.

    Columns: the contract's contacts columns plus client (index) and day.
    ``hc_grid`` is headcount per (client, window day).
    """
    days = timeline.window_days
    mult = multipliers(timeline, pay_grid, exc_grid)
    prop = clients["contact_propensity"].to_numpy()[:, None]
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    dim = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    employee_months = float((hc_grid / dim[None, :]).sum())
    raw_total = sum(float((hc_grid * prop * m).sum()) for m in mult.values())
    r0 = SEASONALITY["contacts_per_employee_month"] * employee_months / max(raw_total, 1e-9)  # type: ignore[operator]
    parts = []
    for q_idx, queue in enumerate(QUEUES):
        lam = r0 * hc_grid * prop * mult[queue]
        counts = rng.poisson(lam)
        c_idx, d_idx = np.nonzero(counts)
        reps = counts[c_idx, d_idx]
        parts.append(
            (np.repeat(c_idx, reps), np.repeat(days[d_idx], reps), np.full(reps.sum(), q_idx))
        )
        del lam, counts
    client = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    queue = np.concatenate([p[2] for p in parts])
    n = len(client)
    # Load of each queue-day drives waiting.
    q_day = queue * (days[-1] + 1 - days[0]) + (day - days[0])
    vol = np.bincount(q_day, minlength=4 * len(days)).reshape(4, len(days)).astype(float)
    wkday = weekday(days) < 5
    mean_weekday = vol[:, wkday].mean(axis=1, keepdims=True)
    rho = np.minimum(0.95, 0.6 * vol / np.maximum(mean_weekday, 1.0))
    rho_c = rho.ravel()[q_day]
    share = np.array([CHANNEL_SHARE[QUEUES[q]] for q in range(4)])
    cum = np.cumsum(share[queue], axis=1)
    channel = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), 2)
    wait_q = rng.exponential(12.0 * rho_c / (1.0 - rho_c))
    wait_e = np.exp(rng.normal(np.log(4 * 3600.0), 0.7, n))
    wait = np.where(channel == 2, wait_e, wait_q)
    patience = rng.exponential(np.where(channel == 2, 1.0, PATIENCE[np.minimum(channel, 1)]))
    abandoned = (channel < 2) & (patience < wait)
    wait = np.where(abandoned, patience, wait)
    median = np.array([HANDLE_MEDIAN[q] for q in QUEUES])[queue] * CHANNEL_HANDLE[channel]
    handle = np.exp(np.log(median) + rng.normal(0.0, 0.6, n))
    resolved = ~abandoned & (rng.random(n) < RESOLVE_RATE[channel])
    reopened = resolved & (rng.random(n) < 0.07)
    # Category within queue.
    cat_idx = np.floor(rng.random(n) * np.array([len(CATEGORIES[q]) for q in QUEUES])[queue])
    categories = np.array([f"{q}|{c}" for q in QUEUES for c in CATEGORIES[q]], dtype=object)
    cat_offset = np.cumsum([0] + [len(CATEGORIES[q]) for q in QUEUES])[:-1]
    category = np.array([c.split("|")[1] for c in categories], dtype=object)[
        cat_offset[queue] + cat_idx.astype(np.int64)
    ]
    # Team: a service-centre team, weighted by its agents.
    agents = sc_teams["agents"].to_numpy().astype(float)
    team = sc_teams["team_id"].to_numpy()[rng.choice(len(agents), size=n, p=agents / agents.sum())]
    team = np.where(abandoned, None, team)
    # Caller: an employee of the client (80%), the HR contact (12%) or unknown.
    counts_by_client = np.bincount(employees["client"].to_numpy(), minlength=clients.height)
    first_row = np.concatenate([[0], np.cumsum(counts_by_client)[:-1]])
    pick = first_row[client] + np.floor(rng.random(n) * np.maximum(counts_by_client[client], 1))
    emp_email = employees["email"].to_numpy()[
        np.minimum(pick.astype(np.int64), employees.height - 1)
    ]
    emp_email = np.where(counts_by_client[client] > 0, emp_email, None)
    who = rng.random(n)
    hr_email = clients["contact_email"].to_numpy()[client]
    caller = np.where(who < 0.80, emp_email, np.where(who < 0.92, hr_email, None))
    seconds = np.clip(rng.normal(16.5 * 3600, 2.8 * 3600, n), 11 * 3600, 86_399)
    frame = pl.DataFrame(
        {
            "client_id": clients["client_id"].to_numpy()[client],
            "queue": np.array(QUEUES)[queue],
            "channel": np.array(CHANNELS)[channel],
            "category": category.astype(str),
            "caller_email": pl.Series(caller.tolist(), dtype=pl.Utf8),
            "opened_at": to_instant(day, np.floor(seconds), "opened_at"),
            "wait_seconds": np.round(wait, 1),
            "handle_seconds": pl.Series(np.round(handle, 1)).set(pl.Series(abandoned), None),
            "abandoned": abandoned,
            "resolved": resolved,
            "reopened": reopened,
            "team_id": pl.Series(team.tolist(), dtype=pl.Utf8),
            "_loaded_at": to_instant(day + 1, 2 * 3600, "_loaded_at"),
            "client": client,
            "day": day,
        }
    ).sort("opened_at", "client_id", "queue", maintain_order=True)
    return frame.with_columns(
        pl.format("K{}", pl.int_range(1, pl.len() + 1).cast(pl.Utf8).str.zfill(10)).alias(
            "contact_id"
        )
    )
