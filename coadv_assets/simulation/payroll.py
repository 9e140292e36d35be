"""Payroll runs: one per client and pay period, with exceptions, rework and late corrections.

Pay periods by frequency: weekly (Monday–Sunday), biweekly (two weeks from a Monday, in one of
two phases per client), semimonthly (1st–15th, 16th–month end) and monthly. The pay date is
five days after the period ends, moved back to Friday when it falls on a weekend; a run is
processed and loaded two days before its pay date at 18:00 UTC. Runs start with the first
period that begins on or after the later of signup and the window start, and stop at the last
pay date before ``end_date``.

Exceptions (planted truth ``payroll_exception_probabilities.parquet``)::

    logit p = -2.2 + freq effect (weekly +0.45, biweekly 0, semimonthly -0.1, monthly -0.2)
              + 0.9 * [client age at period start < 90 days] + 0.8 * [pay date in January]
              + 0.15 * (log1p(employee_count) - log1p(10)) + 0.3 * log1p(new hires in period)
              + client exception effect (normal, sd 0.5; hidden)

``needs_correction`` flags rework on 30% of exceptions (40% with two or more) and 0.5% of
clean runs. About 5% of runs (3% of clean ones, 18% of exceptions) get a revision 2, loaded
3–20 days after the original, with gross pay changed by about 2% and needs_correction set
true with probability 0.6 (kept otherwise). Exception counts and types do not change.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from coadv_assets.simulation.employees import Headcount
from coadv_assets.simulation.timeline import (
    Timeline,
    add_months,
    month_of_year,
    month_start_days,
    to_date,
    to_instant,
    weekday,
)

FREQ_EFFECT = {"weekly": 0.45, "biweekly": 0.0, "semimonthly": -0.1, "monthly": -0.2}
EXCEPTION_TYPES = (
    "missing_timecard",
    "tax_setup",
    "garnishment",
    "rate_change",
    "new_hire_setup",
    "bank_reject",
)
_TYPE_WEIGHTS = np.array([0.30, 0.10, 0.12, 0.20, 0.15, 0.13])
INTERCEPT = -2.2


def _schedule(timeline: Timeline) -> pl.DataFrame:
    """Return every pay period touching the window: frequency, phase, start, end, pay day."""
    lo, hi = timeline.window_start_day - 62, timeline.end_day + 31
    frames = []
    monday0 = lo - weekday(np.array([lo]))[0]
    weeks = np.arange(monday0, hi, 7)
    frames.append(("weekly", 0, weeks, weeks + 6))
    for phase in (0, 1):
        starts = np.arange(monday0 + 7 * phase, hi, 14)
        frames.append(("biweekly", phase, starts, starts + 13))
    first = month_start_days(np.array([lo]))[0]
    n_months = timeline.months + 8
    month_starts = add_months(np.full(n_months, first, dtype=np.int64), np.arange(n_months))
    month_ends = add_months(month_starts, 1) - 1
    mids = month_starts + 14
    semi_s = np.concatenate([month_starts, mids + 1])
    semi_e = np.concatenate([mids, month_ends])
    frames.append(("semimonthly", 0, semi_s, semi_e))
    frames.append(("monthly", 0, month_starts, month_ends))
    out = []
    for freq, phase, s, e in frames:
        pay = e + 5
        wd = weekday(pay)
        pay = np.where(wd == 5, pay - 1, np.where(wd == 6, pay - 2, pay))
        for ph in (0, 1) if freq != "biweekly" else (phase,):
            out.append(
                pl.DataFrame(
                    {
                        "pay_frequency": [freq] * len(s),
                        "biweekly_phase": np.full(len(s), ph),
                        "start_day": s,
                        "end_day": e,
                        "pay_day": pay,
                    }
                )
            )
    return pl.concat(out)


def build_runs(
    clients: pl.DataFrame,
    headcount: Headcount,
    avg_salary: np.ndarray,
    teams: list[str],
    timeline: Timeline,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Return revision-1 payroll runs of every client (before any loss truncation).

    Columns: the contract's payroll_runs columns (revision 1) plus client (index),
    start_day, end_day, pay_day, loaded_day, new_client, january, new_hires, client_effect,
    p_exception_true, exception.
    """
    schedule = _schedule(timeline)
    runs = clients.select(
        "idx", "client_id", "pay_frequency", "biweekly_phase", "signup_day", "exception_effect"
    ).join(schedule, on=["pay_frequency", "biweekly_phase"])
    first_day = np.maximum(runs["signup_day"].to_numpy(), timeline.window_start_day)
    keep = (runs["start_day"].to_numpy() >= first_day) & (
        runs["pay_day"].to_numpy() <= timeline.last_day
    )
    runs = runs.filter(pl.Series(keep)).sort("idx", "start_day")
    client = runs["idx"].to_numpy()
    start = runs["start_day"].to_numpy()
    end = runs["end_day"].to_numpy()
    pay = runs["pay_day"].to_numpy()
    n = runs.height
    employee_count = headcount.at(client, end)
    new_hires = headcount.hires_through(client, end) - headcount.hires_through(client, start - 1)
    age = start - runs["signup_day"].to_numpy()
    new_client = age < 90
    january = month_of_year(pay) == 1
    freq_eff = runs["pay_frequency"].replace_strict(FREQ_EFFECT, return_dtype=pl.Float64)
    logit = (
        INTERCEPT
        + freq_eff.to_numpy()
        + 0.9 * new_client
        + 0.8 * january
        + 0.15 * (np.log1p(employee_count) - np.log1p(10.0))
        + 0.3 * np.log1p(new_hires)
        + runs["exception_effect"].to_numpy()
    )
    p = 1.0 / (1.0 + np.exp(-logit))
    exception = rng.random(n) < p
    count = np.where(exception, 1 + rng.poisson(0.4 + 0.02 * np.sqrt(employee_count)), 0)
    weights = np.tile(_TYPE_WEIGHTS, (n, 1))
    weights[:, 1] *= np.where(january, 5.0, 1.0) * np.where(new_client, 2.0, 1.0)
    weights[:, 4] *= np.where(new_hires > 0, 3.0, 1.0) * np.where(new_client, 2.0, 1.0)
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    type_idx = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), len(EXCEPTION_TYPES) - 1)
    exc_type = np.where(exception, np.array(EXCEPTION_TYPES, dtype=object)[type_idx], None)
    p_rework = np.where(exception, np.where(count >= 2, 0.40, 0.30), 0.005)
    needs_correction = rng.random(n) < p_rework
    periods = end - start + 1
    gross = employee_count * avg_salary[client] * periods / 365.25 * np.exp(rng.normal(0, 0.04, n))
    team_of_client = rng.integers(0, len(teams), clients.height)
    loaded_seconds = 18 * 3600 + rng.integers(0, 3600, n)
    start_str = to_date(start, "s").dt.strftime("%Y%m%d")
    return runs.select("client_id", "pay_frequency").with_columns(
        (pl.lit("PR-") + pl.col("client_id") + pl.lit("-") + start_str).alias("run_id"),
        pl.lit(1, dtype=pl.Int32).alias("revision"),
        to_date(start, "period_start"),
        to_date(end, "period_end"),
        to_date(pay, "pay_date"),
        pl.Series("employee_count", employee_count.astype(np.int32)),
        pl.Series("gross_pay", np.round(gross, 2)),
        pl.Series("exception_count", count.astype(np.int32)),
        pl.Series("exception_type", exc_type.tolist(), dtype=pl.Utf8),
        pl.Series("needs_correction", needs_correction),
        pl.Series("processed_by_team", np.array(teams)[team_of_client[client]]),
        to_instant(pay - 2, loaded_seconds, "_loaded_at"),
        pl.Series("client", client),
        pl.Series("start_day", start),
        pl.Series("end_day", end),
        pl.Series("pay_day", pay),
        pl.Series("loaded_day", pay - 2),
        pl.Series("loaded_seconds", loaded_seconds),
        pl.Series("new_client", new_client),
        pl.Series("january", january),
        pl.Series("new_hires", new_hires.astype(np.int64)),
        pl.Series("client_effect", runs["exception_effect"].to_numpy()),
        pl.Series("p_exception_true", p),
        pl.Series("exception", exception),
    )


def build_corrections(runs: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Return revision-2 rows for about 5% of ``runs``, loaded 3–20 days after the original.

    Same columns as ``runs``; ``loaded_day`` is the correction's. Rows loaded after the last
    complete day are left out (the correction has not happened yet).
    """
    n = runs.height
    p = np.where(runs["exception"].to_numpy(), 0.18, 0.03)
    chosen = (rng.random(n) < p) & (runs["gross_pay"].to_numpy() > 0)
    delay = rng.integers(3, 21, n)
    flip = rng.random(n) < 0.6
    change = np.exp(rng.normal(0.0, 0.02, n))
    seconds = rng.integers(6 * 3600, 20 * 3600, n)
    sub = runs.with_columns(
        pl.Series("chosen", chosen),
        pl.Series("delay", delay),
        pl.Series("flip", flip),
        pl.Series("change", change),
        pl.Series("corr_seconds", seconds),
    ).filter(pl.col("chosen"))
    return sub.with_columns(
        pl.lit(2, dtype=pl.Int32).alias("revision"),
        (pl.col("gross_pay") * pl.col("change")).round(2).alias("gross_pay"),
        (
            pl.col("needs_correction")
            | pl.col("flip")
            | ((pl.col("gross_pay") * pl.col("change")).round(2) == pl.col("gross_pay"))
        ).alias("needs_correction"),
        (pl.col("loaded_day") + pl.col("delay")).alias("loaded_day"),
        (pl.col("_loaded_at") + pl.duration(days=pl.col("delay"))).alias("_loaded_at"),
    ).drop("chosen", "delay", "flip", "change", "corr_seconds")
