"""Calendar regressors of the contact forecast, and the projection of payroll-day shares.

Every regressor is known before the day it describes: the weekday, the month flags, US
federal holidays, the open-enrolment and year-end windows, and the share of active clients
paying that day (pay calendars are set in advance). The day after a pay date gets its own
regressor, because payroll questions peak on the pay date and the day after.
"""

import datetime as dt

import numpy as np
import polars as pl

WEEKDAYS = ("tue", "wed", "thu", "fri", "sat", "sun")  # Monday is the reference level
PEO_REGRESSORS = (
    *(f"wd_{d}" for d in WEEKDAYS),
    "is_holiday",
    "is_january",
    "is_december",
    "is_open_enrollment",
    "is_year_end",
    "payroll_day_share",
    "payroll_day_share_prev",
    "trend_years",
)


def add_regressors(frame: pl.DataFrame, origin: dt.date | None = None) -> pl.DataFrame:
    """Return ``frame`` (one series, sorted by ``date``) with the regressor columns added.

    Needs ``date``; uses the mart's flags and ``payroll_day_share`` where present (missing
    flags become false, a missing share 0). ``trend_years`` counts years from ``origin``
    (default: the first date). Refuses duplicated or unsorted dates.
    """
    dates = frame["date"]
    if dates.is_duplicated().any():
        raise ValueError(f"forecast input has {int(dates.is_duplicated().sum())} duplicated dates")
    if not dates.is_sorted():
        raise ValueError("forecast input must be sorted by date")
    start = origin or dates.min()
    out = frame.with_columns(
        *(
            (pl.col("date").dt.weekday() == i + 2).cast(pl.Float64).alias(f"wd_{d}")
            for i, d in enumerate(WEEKDAYS)
        ),
        (pl.col("date").dt.month() == 1).cast(pl.Float64).alias("is_january"),
        (pl.col("date").dt.month() == 12).cast(pl.Float64).alias("is_december"),
        ((pl.col("date") - pl.lit(start)).dt.total_days() / 365.25).alias("trend_years"),
    )
    for flag in ("is_holiday", "is_open_enrollment", "is_year_end"):
        col = pl.col(flag).fill_null(False) if flag in out.columns else pl.lit(False)
        out = out.with_columns(col.cast(pl.Float64).alias(flag))
    share = (
        pl.col("payroll_day_share").fill_null(0.0)
        if "payroll_day_share" in out.columns
        else pl.lit(0.0)
    )
    out = out.with_columns(share.cast(pl.Float64).alias("payroll_day_share"))
    return out.with_columns(
        pl.col("payroll_day_share").shift(1).fill_null(0.0).alias("payroll_day_share_prev")
    )


def future_calendar(
    last_date: dt.date, days: int, holidays: set[dt.date] | None = None
) -> pl.DataFrame:
    """The ``days`` dates after ``last_date`` with the mart's calendar flags.

    ``is_open_enrollment`` is November; ``is_year_end`` runs from 15 December to 15 January,
    as in ``marts.feat_contact_queue_day``. Holidays come from ``holidays`` (empty default).
    """
    dates = [last_date + dt.timedelta(days=i + 1) for i in range(days)]
    hol = holidays or set()
    return pl.DataFrame(
        {
            "date": dates,
            "is_weekend": [d.isoweekday() >= 6 for d in dates],
            "is_holiday": [d in hol for d in dates],
            "is_open_enrollment": [d.month == 11 for d in dates],
            "is_year_end": [
                (d.month == 12 and d.day >= 15) or (d.month == 1 and d.day <= 15) for d in dates
            ],
        }
    )


def _pay_calendar_features(dates: list[dt.date]) -> np.ndarray:
    """Indicators that explain payroll-day shares: Friday by two-week parity, and the 5th
    and 20th of the month moved back to the Friday before when they fall on a weekend."""

    def moved(d: dt.date) -> dt.date:
        return d - dt.timedelta(days=max(0, d.isoweekday() - 5))

    rows = []
    for d in dates:
        friday = d.isoweekday() == 5
        parity = (d.toordinal() // 7) % 2
        fifth = moved(d.replace(day=5)) == d
        twentieth = moved(d.replace(day=20)) == d
        rows.append([friday and parity == 0, friday and parity == 1, fifth, twentieth])
    return np.array(rows, dtype=float)


def project_payroll_share(
    history: pl.DataFrame, future_dates: list[dt.date], window_days: int = 182
) -> list[float]:
    """Projected ``payroll_day_share`` of ``future_dates`` from the last ``window_days``.

    A least-squares fit of the share on the pay-calendar indicators (Friday by two-week
    parity, the adjusted 5th and 20th), clipped to [0, 1]. Refuses a history without
    ``date`` and ``payroll_day_share``.

    Known shortcoming: this assumes weekly, biweekly, semimonthly and monthly pay calendars
    paying five days after the period; a table of scheduled future pay dates per client
    would replace the projection with the schedule itself.
    """
    missing = {"date", "payroll_day_share"} - set(history.columns)
    if missing:
        raise ValueError(f"payroll-share projection needs columns {sorted(missing)}")
    recent = history.sort("date").tail(window_days).drop_nulls("payroll_day_share")
    x = _pay_calendar_features(recent["date"].to_list())
    y = recent["payroll_day_share"].to_numpy()
    design = np.column_stack([np.ones(len(x)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    future = np.column_stack([np.ones(len(future_dates)), _pay_calendar_features(future_dates)])
    return [float(v) for v in np.clip(future @ coef, 0.0, 1.0)]
