"""Client lifecycle: renewal decisions, mid-term terminations and the contracts table.

Every driver is computable by the warehouse from the source tables, on calendar months:

- ``runs`` / ``exceptions``: revision-1 payroll runs (rows with ``exception_count > 0``) by
  the month of ``pay_date``;
- ``contacts``: contacts by the month of ``opened_at`` (UTC);
- ``employee-months``: headcount on the first day of each month summed over the months, where
  headcount at day d counts employees with ``hire_date <= d`` and ``termination_date`` null or
  ``> d``.

Renewal (truth ``renewal_probabilities.parquet``), for each term whose renewal date falls in
the window: ``score_date = renewal_date − 90 days``; the score month is its first day ``S``;
the six complete months are ``[S − 6 months, S)``::

    logit p_renew = 1.9 − 7.0 × offered_rate_change
                    − 5.0 × (exception_share_6m − 0.15)
                    − 1.2 × (contacts_per_employee_month_6m − 0.3)
                    + 0.5 × log1p(tenure_years)          # (score_date − signup_date) / 365.25
                    + 0.8 × clip(headcount_growth_12m, −0.5, 0.5)
                    + INDUSTRY_EFFECT[industry]

``exception_share_6m`` is exceptions / runs (0.15 when there is no run), the contact rate is
contacts / employee-months (0.3 when there is no employee-month), ``headcount_growth_12m`` is
``headcount(S) / headcount(S − 12 months) − 1`` (0.5 when the earlier headcount is 0).

Mid-term termination (truth ``churn_hazard.parquet``), for each window month ``M`` after the
signup month that holds no renewal date of the client, using the three complete months before
``M``::

    logit h = −6.2 + 4.0 × (exception_share_3m − 0.15) + 1.5 × (contacts_per_employee_month_3m
              − 0.3) + 3.0 × max(0, −headcount_growth_6m)

with the same neutral values; ``headcount_growth_6m = headcount(M) / headcount(M − 6 months)
− 1``. The termination day is uniform in the month (up to the last complete day).

The offered rate change of a term is set at its offer date (renewal − 120 days)::

    offered_rate_change = clip(0.07 + 0.2 × (claims_ratio − 1) + N(0, 0.035), −0.02, 0.15)

rounded to 0.5 points, where ``claims_ratio`` is the client's expected claims cost over
``0.84 × premium``: clients whose claims run hot get larger increases. Renewals before the
window are all renewed (the client is in the opening book).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from coadv_assets.simulation.employees import Headcount
from coadv_assets.simulation.timeline import (
    Timeline,
    add_months,
    month_number,
    month_start_days,
    to_date,
    to_instant,
)

INDUSTRY_EFFECT = {
    "construction": -0.3,
    "professional_services": 0.0,
    "healthcare": 0.0,
    "retail": -0.3,
    "hospitality": -0.3,
    "manufacturing": 0.3,
    "technology": -0.3,
    "nonprofit": 0.3,
}
MAX_TERMS = 26


@dataclass(frozen=True)
class MonthlyActivity:
    """Per (client, month) counts over the months from the history start to the end month."""

    first_month: int  # months since 1970-01 of column 0
    runs: np.ndarray
    exceptions: np.ndarray
    contacts: np.ndarray
    employee_months: np.ndarray

    def window_sum(self, name: str, client: np.ndarray, month: np.ndarray, k: int) -> np.ndarray:
        """Sum of ``name`` over the ``k`` months before ``month`` (months since 1970-01)."""
        grid = getattr(self, name)
        cum = np.concatenate([np.zeros((grid.shape[0], 1)), np.cumsum(grid, axis=1)], axis=1)
        hi = np.clip(month - self.first_month, 0, grid.shape[1])
        lo = np.clip(month - k - self.first_month, 0, grid.shape[1])
        return cum[client, hi] - cum[client, lo]


def monthly_activity(
    n_clients: int,
    runs: pl.DataFrame,
    contacts: pl.DataFrame,
    headcount: Headcount,
    timeline: Timeline,
) -> MonthlyActivity:
    """Return the monthly counts the drivers are built from (revision-1 runs only)."""
    starts = timeline.month_starts(with_history=True)
    first = int(month_number(starts[:1])[0])
    n_months = len(starts)
    shape = (n_clients, n_months)

    def grid(client: np.ndarray, day: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        col = month_number(day) - first
        ok = (col >= 0) & (col < n_months)
        flat = np.bincount(
            client[ok] * n_months + col[ok],
            weights=None if weight is None else weight[ok],
            minlength=n_clients * n_months,
        )
        return flat.reshape(shape).astype(float)

    run_client = runs["client"].to_numpy()
    run_day = runs["pay_day"].to_numpy()
    exc = (runs["exception_count"].to_numpy() > 0).astype(float)
    cc = np.repeat(np.arange(n_clients), n_months)
    mm = np.tile(starts, n_clients)
    em = headcount.at(cc, mm).reshape(shape).astype(float)
    return MonthlyActivity(
        first_month=first,
        runs=grid(run_client, run_day),
        exceptions=grid(run_client, run_day, exc),
        contacts=grid(contacts["client"].to_numpy(), contacts["day"].to_numpy()),
        employee_months=em,
    )


def _rates(
    act: MonthlyActivity, client: np.ndarray, month: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    runs = act.window_sum("runs", client, month, k)
    exc = act.window_sum("exceptions", client, month, k)
    con = act.window_sum("contacts", client, month, k)
    em = act.window_sum("employee_months", client, month, k)
    share = np.where(runs > 0, exc / np.maximum(runs, 1), 0.15)
    rate = np.where(em > 0, con / np.maximum(em, 1), 0.3)
    return share, rate


def _growth(headcount: Headcount, client: np.ndarray, day: np.ndarray, months: int) -> np.ndarray:
    now = headcount.at(client, day)
    then = headcount.at(client, add_months(day, -months))
    return np.where(then > 0, now / np.maximum(then, 1) - 1.0, 0.5)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Lifecycle:
    """Outcome of every client, the contracts table and the two lifecycle truths.

    ``outcome_day`` per client index is the last day with data of a lost client (its
    renewal date or termination day) and a large sentinel for clients still in the book.
    """

    outcome_day: np.ndarray
    contracts: pl.DataFrame
    renewal_truth: pl.DataFrame
    churn_truth: pl.DataFrame


def simulate_lifecycle(
    clients: pl.DataFrame,
    act: MonthlyActivity,
    headcount: Headcount,
    claims_ratio: np.ndarray,
    timeline: Timeline,
    rng: np.random.Generator,
) -> Lifecycle:
    """Draw renewals and mid-term terminations and return the lifecycle of the book."""
    n = clients.height
    never = np.iinfo(np.int64).max // 4
    signup = clients["signup_day"].to_numpy()
    ids = clients["client_id"].to_numpy()
    # Terms k = 0..MAX_TERMS-1 of every client.
    k = np.arange(MAX_TERMS)
    term_start = add_months(np.repeat(signup, MAX_TERMS), np.tile(12 * k, n)).reshape(n, -1)
    renewal = add_months(np.repeat(signup, MAX_TERMS), np.tile(12 * (k + 1), n)).reshape(n, -1)
    orc = np.clip(
        0.07 + 0.2 * (claims_ratio[:, None] - 1.0) + rng.normal(0.0, 0.035, (n, MAX_TERMS)),
        -0.02,
        0.15,
    )
    orc = np.round(orc * 200.0) / 200.0
    fee0 = np.round(np.exp(rng.normal(np.log(140.0), 0.25, n)), 2)
    u_renew = rng.random((n, MAX_TERMS))
    # Renewal events inside the window.
    r_client, r_term = np.nonzero(
        (renewal >= timeline.window_start_day) & (renewal <= timeline.last_day)
    )
    r_day = renewal[r_client, r_term]
    score_day = r_day - 90
    score_month_day = month_start_days(score_day)
    score_month = month_number(score_month_day)
    exc6, con6 = _rates(act, r_client, score_month, 6)
    growth12 = np.clip(_growth(headcount, r_client, score_month_day, 12), -0.5, 0.5)
    tenure = (score_day - signup[r_client]) / 365.25
    industry = clients["industry"].to_numpy()[r_client]
    ind_eff = np.array([INDUSTRY_EFFECT[i] for i in industry])
    r_orc = orc[r_client, r_term]
    logit = (
        1.9
        - 7.0 * r_orc
        - 5.0 * (exc6 - 0.15)
        - 1.2 * (con6 - 0.3)
        + 0.5 * np.log1p(np.maximum(tenure, 0.0))
        + 0.8 * growth12
        + ind_eff
    )
    p_renew = _sigmoid(logit)
    renewed = u_renew[r_client, r_term] < p_renew
    lost_at = np.full(n, never)
    np.minimum.at(lost_at, r_client[~renewed], r_day[~renewed])
    # Mid-term hazard per window month.
    m_starts = timeline.month_starts()
    c_idx = np.repeat(np.arange(n), len(m_starts))
    m_day = np.tile(m_starts, n)
    eligible = m_day > signup[c_idx]
    m_end = np.minimum(add_months(m_day, 1) - 1, timeline.last_day)
    has_renewal = np.zeros(len(c_idx), dtype=bool)
    for kk in range(MAX_TERMS):
        rd = renewal[c_idx, kk]
        has_renewal |= (rd >= m_day) & (rd <= m_end)
    eligible &= ~has_renewal
    c_idx, m_day, m_end = c_idx[eligible], m_day[eligible], m_end[eligible]
    m_num = month_number(m_day)
    exc3, con3 = _rates(act, c_idx, m_num, 3)
    growth6 = _growth(headcount, c_idx, m_day, 6)
    hazard = _sigmoid(
        -6.2 + 4.0 * (exc3 - 0.15) + 1.5 * (con3 - 0.3) + 3.0 * np.maximum(0.0, -growth6)
    )
    terminates = rng.random(len(c_idx)) < hazard
    term_day = m_day + np.floor(rng.random(len(c_idx)) * (m_end - m_day + 1)).astype(np.int64)
    mid_at = np.full(n, never)
    np.minimum.at(mid_at, c_idx[terminates], term_day[terminates])
    outcome_day = np.minimum(lost_at, mid_at)
    lost_midterm = mid_at < lost_at
    # Truth tables: events the client actually reached.
    reached = r_day <= outcome_day[r_client]
    renewal_truth = pl.DataFrame(
        {
            "contract_id": [
                f"K-{ids[c]}-{t + 1:02d}" for c, t in zip(r_client, r_term, strict=True)
            ],
            "client_id": ids[r_client],
            "renewal_date": to_date(r_day, "renewal_date"),
            "score_date": to_date(score_day, "score_date"),
            "offered_rate_change": r_orc,
            "exception_share_6m": exc6,
            "contacts_per_employee_month_6m": con6,
            "tenure_years": tenure,
            "headcount_growth_12m": growth12,
            "industry": industry.astype(str),
            "industry_effect": ind_eff,
            "logit": logit,
            "p_renew_true": p_renew,
            "renewed": renewed,
        }
    ).filter(pl.Series(reached))
    alive = m_day <= outcome_day[c_idx]
    churn_truth = pl.DataFrame(
        {
            "client_id": ids[c_idx],
            "month": to_date(m_day, "month"),
            "exception_share_3m": exc3,
            "contacts_per_employee_month_3m": con3,
            "headcount_growth_6m": growth6,
            "hazard_true": hazard,
            "terminated": terminates & (term_day == mid_at[c_idx]) & lost_midterm[c_idx],
        }
    ).filter(pl.Series(alive))
    contracts = _contracts_table(
        ids, term_start, renewal, orc, fee0, outcome_day, lost_midterm, timeline
    )
    return Lifecycle(outcome_day, contracts, renewal_truth, churn_truth)


def _contracts_table(
    ids: np.ndarray,
    term_start: np.ndarray,
    renewal: np.ndarray,
    orc: np.ndarray,
    fee0: np.ndarray,
    outcome_day: np.ndarray,
    lost_midterm: np.ndarray,
    timeline: Timeline,
) -> pl.DataFrame:
    """Return the contracts table: terms with a renewal date on or after the history start
    that began before the client's outcome and by the last complete day."""
    n, k = term_start.shape
    growth = np.concatenate([np.ones((n, 1)), np.cumprod(1.0 + orc[:, :-1], axis=1)], axis=1)
    fee = np.round(fee0[:, None] * growth, 2)
    out_day = outcome_day[:, None]
    keep = (
        (renewal >= timeline.history_start_day)
        & (term_start <= timeline.last_day)
        & (term_start < out_day)
    )
    c, t = np.nonzero(keep)
    ts, rd, od = term_start[c, t], renewal[c, t], outcome_day[c]
    offer = rd - 120
    ends_here = (od >= ts) & (od <= rd)
    mid = ends_here & lost_midterm[c] & (od < rd)
    lost_renewal = ends_here & ~mid & (od == rd)
    decided = rd <= timeline.last_day
    outcome = np.where(
        mid,
        "terminated_midterm",
        np.where(lost_renewal, "lost_at_renewal", np.where(decided, "renewed", "active")),
    )
    outcome_date = np.where(mid | lost_renewal, od, np.where(decided, rd, -1))
    known_until = np.where(mid, od, timeline.last_day)
    offered = offer <= known_until
    loaded = np.where(outcome_date >= 0, outcome_date, np.where(offered, offer, ts)) + 1
    return pl.DataFrame(
        {
            "contract_id": [f"K-{ids[a]}-{b + 1:02d}" for a, b in zip(c, t, strict=True)],
            "client_id": ids[c],
            "term_start": to_date(ts, "term_start"),
            "renewal_date": to_date(rd, "renewal_date"),
            "admin_fee_pepm": fee[c, t],
            "offer_date": to_date(offer, "offer_date").set(pl.Series(~offered), None),
            "offered_rate_change": pl.Series(orc[c, t]).set(pl.Series(~offered), None),
            "outcome": outcome.astype(str),
            "outcome_date": to_date(np.maximum(outcome_date, 0), "o").set(
                pl.Series(outcome_date < 0), None
            ),
            "_loaded_at": to_instant(loaded, 5 * 3600, "_loaded_at"),
        }
    )
