"""Worksite employees: staff at the start of each client's history, separations, replacements
and growth hires, with the HRIS's personal data.

Each client starts (at its signup or at the history start, whichever is later) with ``size0``
employees, hired earlier (backward tenure exponential at the separation rate). Job classes are
hourly 65%, salaried 30%, executive 5%, with yearly separation rates 33%, 14% and 8%.
A separation is replaced after 7–45 days with probability ``1 + growth / rate`` (capped at 1),
growing clients also hire at ``growth × size0`` a year. About 60% of employees enrol in the
health plan (hourly 50%, salaried 75%, executives 85%); ``enrolled`` is not exported.

``headcount_at`` counts, from the rows alone, the employees with ``hire_date <= d`` and
``termination_date`` null or ``> d``: the definition the renewal and churn truths use.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from coadv_assets.simulation.clients import STATES, choice
from coadv_assets.simulation.names import capitalized, emails, person_names, ssns
from coadv_assets.simulation.timeline import Timeline, to_date, to_instant

JOB_CLASSES = ("hourly", "salaried", "executive")
CLASS_SHARE = np.array([0.65, 0.30, 0.05])
SEPARATION_RATE = np.array([0.33, 0.14, 0.08])
ENROLL_RATE = np.array([0.50, 0.75, 0.85])
SALARY_MEDIAN = np.array([40_000.0, 72_000.0, 165_000.0])
SALARY_SIGMA = np.array([0.25, 0.30, 0.35])
INDUSTRY_PAY = {
    "construction": 1.05,
    "professional_services": 1.20,
    "healthcare": 1.05,
    "retail": 0.80,
    "hospitality": 0.75,
    "manufacturing": 1.00,
    "technology": 1.30,
    "nonprofit": 0.85,
}
NEVER = np.iinfo(np.int64).max // 4


def _simulate_spells(
    clients: pl.DataFrame, timeline: Timeline, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Return arrays client, job_class, hire_day, term_day (``NEVER`` if not before the end)."""
    start = np.maximum(clients["signup_day"].to_numpy(), timeline.history_start_day)
    size0 = clients["size0"].to_numpy()
    growth = clients["growth"].to_numpy()
    horizon = timeline.last_day
    # Opening staff.
    client = np.repeat(np.arange(clients.height), size0)
    jc = rng.choice(3, size=len(client), p=CLASS_SHARE)
    back = np.minimum(rng.exponential(365.25 / SEPARATION_RATE[jc]), 30 * 365.25)
    hire = start[client] - np.floor(back).astype(np.int64)
    parts_client, parts_class, parts_hire = [client], [jc], [hire]
    # Growth hires, a Poisson process over the client's remaining history.
    years = np.maximum(horizon - start, 0) / 365.25
    n_growth = rng.poisson(np.maximum(growth, 0.0) * size0 * years)
    g_client = np.repeat(np.arange(clients.height), n_growth)
    g_hire = start[g_client] + np.floor(rng.random(len(g_client)) * (horizon - start[g_client]))
    parts_client.append(g_client)
    parts_class.append(rng.choice(3, size=len(g_client), p=CLASS_SHARE))
    parts_hire.append(g_hire.astype(np.int64))
    client = np.concatenate(parts_client)
    jc = np.concatenate(parts_class)
    hire = np.concatenate(parts_hire)
    # Separations (memoryless from the later of hire and start) and replacements, generation
    # by generation until no replacement falls inside the horizon.
    out_client, out_class, out_hire, out_term = [], [], [], []
    while len(client):
        from_day = np.maximum(hire, start[client])
        term = from_day + np.ceil(rng.exponential(365.25 / SEPARATION_RATE[jc])).astype(np.int64)
        term = np.where(term > horizon, NEVER, term)
        out_client.append(client)
        out_class.append(jc)
        out_hire.append(hire)
        out_term.append(term)
        p_replace = np.clip(1.0 + growth[client] / SEPARATION_RATE[jc], 0.0, 1.0)
        replaced = (term != NEVER) & (rng.random(len(client)) < p_replace)
        new_hire = term + rng.integers(7, 46, len(client))
        keep = replaced & (new_hire <= horizon)
        client, jc, hire = client[keep], jc[keep], new_hire[keep]
    return {
        "client": np.concatenate(out_client),
        "job_class": np.concatenate(out_class),
        "hire_day": np.concatenate(out_hire),
        "term_day": np.concatenate(out_term),
    }


def build_employees(
    clients: pl.DataFrame, timeline: Timeline, rng: np.random.Generator
) -> pl.DataFrame:
    """Return every simulated employee, sorted by client and hire date.

    Columns: employee_id, client_id, first_name, last_name, ssn, birth_date, email,
    hire_date, job_class, annual_salary, work_state, and hidden client (index), hire_day,
    term_day (``NEVER`` when still employed), enrolled. ``export_columns`` adds
    termination_date and _loaded_at once losses are applied.
    """
    spells = _simulate_spells(clients, timeline, rng)
    order = np.lexsort((spells["hire_day"], spells["client"]))
    client = spells["client"][order]
    jc = spells["job_class"][order]
    hire = spells["hire_day"][order]
    term = spells["term_day"][order]
    n = len(client)
    pay = np.array([INDUSTRY_PAY[i] for i in clients["industry"].to_list()])[client]
    salary = SALARY_MEDIAN[jc] * pay * np.exp(rng.normal(0.0, SALARY_SIGMA[jc]))
    age_days = (18.0 + rng.beta(2.0, 3.0, n) * 45.0) * 365.25
    first, last = person_names(rng, n)
    email = emails(first, last, clients["domain"].to_numpy()[client])
    no_email = pl.Series(rng.random(n) < 0.08)
    state = clients["state"].to_numpy()[client]
    elsewhere = rng.random(n) < 0.10
    state = np.where(elsewhere, choice(rng, STATES, n), state).astype(str)
    return pl.DataFrame(
        {
            "employee_id": [f"E{i + 1:08d}" for i in range(n)],
            "client_id": clients["client_id"].to_numpy()[client],
            "first_name": capitalized(first),
            "last_name": capitalized(last),
            "ssn": ssns(rng, n),
            "birth_date": to_date(hire - np.floor(age_days).astype(np.int64), "birth_date"),
            "email": pl.select(pl.when(no_email).then(None).otherwise(email)).to_series(),
            "hire_date": to_date(hire, "hire_date"),
            "job_class": np.array(JOB_CLASSES)[jc],
            "annual_salary": np.round(salary, -2),
            "work_state": state,
            "client": client,
            "hire_day": hire,
            "term_day": term,
            "enrolled": rng.random(n) < ENROLL_RATE[jc],
        }
    )


def export_columns(employees: pl.DataFrame) -> pl.DataFrame:
    """Return ``employees`` with termination_date (null while employed) and _loaded_at (the
    day after the last of hire and termination, 04:00 UTC) derived from hire_day/term_day."""
    hire = employees["hire_day"].to_numpy()
    term = employees["term_day"].to_numpy()
    employed = term == NEVER
    loaded_day = np.where(employed, hire, term) + 1
    return employees.with_columns(
        pl.select(
            pl.when(pl.Series(employed))
            .then(None)
            .otherwise(to_date(np.where(employed, 0, term), "t"))
            .alias("termination_date")
        ).to_series(),
        to_instant(loaded_day, 4 * 3600, "_loaded_at"),
    )


class Headcount:
    """Counts employees per client at any day from hire and termination days alone."""

    def __init__(self, client: np.ndarray, hire_day: np.ndarray, term_day: np.ndarray) -> None:
        self._offset = 1 << 20
        self._stride = 1 << 42
        self._hires = np.sort(client * self._stride + hire_day + self._offset)
        left = term_day < NEVER
        self._terms = np.sort(client[left] * self._stride + term_day[left] + self._offset)

    def _count(self, keys: np.ndarray, client: np.ndarray, day: np.ndarray) -> np.ndarray:
        hi = np.searchsorted(keys, client * self._stride + day + self._offset, side="right")
        lo = np.searchsorted(keys, client * self._stride, side="left")
        return hi - lo

    def at(self, client: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Return employees with hire <= day < termination, per (client, day) pair."""
        return self._count(self._hires, client, day) - self._count(self._terms, client, day)

    def hires_through(self, client: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Return employees hired on or before ``day``, per (client, day) pair."""
        return self._count(self._hires, client, day)
