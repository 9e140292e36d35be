"""The simulated calendar: window, history, months, working days and US holidays.

Dates are handled as ``int`` days since 1970-01-01 (numpy ``datetime64[D]`` viewed as int64)
so that every table can be built with vectorised arithmetic; ``to_date`` and ``to_instant``
turn them into polars ``Date`` and UTC ``Datetime`` series at the end.

The window holds ``months`` calendar months and ends on ``end_date``. Its first month is
month 0. Data cover events up to ``end_date - 1 day`` (the last complete day), exported during
the night so that every ``_loaded_at`` is at most ``end_date`` 06:00 UTC. A history of 18
months before the window carries employees (for headcount trends) but no operational data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

HISTORY_MONTHS = 18
_EPOCH = np.datetime64("1970-01-01", "D")


def day_of(date: dt.date) -> int:
    """Return ``date`` as days since 1970-01-01."""
    return int((np.datetime64(date, "D") - _EPOCH).astype(np.int64))


def month_start_days(days: np.ndarray) -> np.ndarray:
    """Return the first day of the month of each day (days since epoch)."""
    d = days.astype("datetime64[D]")
    return d.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_number(days: np.ndarray) -> np.ndarray:
    """Return months since 1970-01 of each day."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_of_year(days: np.ndarray) -> np.ndarray:
    """Return the calendar month (1..12) of each day."""
    return month_number(days) % 12 + 1


def weekday(days: np.ndarray) -> np.ndarray:
    """Return the ISO weekday index (0 = Monday .. 6 = Sunday) of each day."""
    return (days.astype(np.int64) + 3) % 7


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Return each day shifted by ``months`` calendar months, clipped to the month's end."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    offset = (d - m.astype("datetime64[D]")).astype(np.int64)
    new_m = m + np.asarray(months, dtype=np.int64)
    length = ((new_m + 1).astype("datetime64[D]") - new_m.astype("datetime64[D]")).astype(np.int64)
    return new_m.astype("datetime64[D]").astype(np.int64) + np.minimum(offset, length - 1)


def us_holidays(years: range) -> np.ndarray:
    """Return the US federal holidays observed by the PEO's operations in ``years``.

    New Year's Day, Memorial Day, Independence Day, Labor Day, Thanksgiving and Christmas,
    moved to the nearest weekday when they fall on a weekend.
    """
    out: list[int] = []
    for year in years:
        fixed = [dt.date(year, 1, 1), dt.date(year, 7, 4), dt.date(year, 12, 25)]
        for date in fixed:
            if date.weekday() == 5:
                date -= dt.timedelta(days=1)
            elif date.weekday() == 6:
                date += dt.timedelta(days=1)
            out.append(day_of(date))
        may31 = dt.date(year, 5, 31)
        out.append(day_of(may31 - dt.timedelta(days=may31.weekday())))
        sep1 = dt.date(year, 9, 1)
        out.append(day_of(sep1 + dt.timedelta(days=(7 - sep1.weekday()) % 7)))
        nov1 = dt.date(year, 11, 1)
        first_thu = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7)
        out.append(day_of(first_thu + dt.timedelta(days=21)))
    return np.array(sorted(out), dtype=np.int64)


@dataclass(frozen=True)
class Timeline:
    """The simulated window. All ``*_day`` fields are days since 1970-01-01."""

    end_day: int
    window_start_day: int
    history_start_day: int
    months: int

    @classmethod
    def build(cls, end_date: dt.date, months: int) -> Timeline:
        end_day = day_of(end_date)
        end_month_start = int(month_start_days(np.array([end_day]))[0])
        window_start = int(add_months(np.array([end_month_start]), -(months - 1))[0])
        history_start = int(add_months(np.array([window_start]), -HISTORY_MONTHS)[0])
        return cls(end_day, window_start, history_start, months)

    @property
    def last_day(self) -> int:
        """The last complete day with data (``end_date - 1``)."""
        return self.end_day - 1

    @property
    def window_days(self) -> np.ndarray:
        """Every day from the window start through ``last_day``."""
        return np.arange(self.window_start_day, self.end_day, dtype=np.int64)

    def month_starts(self, with_history: bool = False) -> np.ndarray:
        """First days of the window's months (with the 12 history months first if asked)."""
        first = self.history_start_day if with_history else self.window_start_day
        n = self.months + (HISTORY_MONTHS if with_history else 0)
        return add_months(np.full(n, first, dtype=np.int64), np.arange(n))

    def window_month(self, month: int) -> int:
        """Return the first day of window month ``month`` (0 = first month of the window)."""
        return int(add_months(np.array([self.window_start_day]), month)[0])

    def holidays(self) -> np.ndarray:
        first_year = int(str(np.datetime64(self.history_start_day, "D"))[:4])
        last_year = int(str(np.datetime64(self.end_day, "D"))[:4])
        return us_holidays(range(first_year, last_year + 1))

    def working_days(self) -> np.ndarray:
        """Weekdays of the window through ``last_day`` that are not holidays."""
        days = self.window_days
        keep = (weekday(days) < 5) & ~np.isin(days, self.holidays())
        return days[keep]


def to_date(days: np.ndarray, name: str) -> pl.Series:
    """Return days since epoch as a polars ``Date`` series named ``name``."""
    return pl.Series(name, np.asarray(days, dtype=np.int32), dtype=pl.Int32).cast(pl.Date)


def to_instant(days: np.ndarray, seconds: np.ndarray | float, name: str) -> pl.Series:
    """Return day + seconds-of-day as a UTC ``Datetime("us")`` series named ``name``."""
    micros = (np.asarray(days, dtype=np.int64) * 86_400 + np.asarray(seconds)).astype(np.float64)
    micros_i = np.round(micros * 1_000_000).astype(np.int64)
    return pl.Series(name, micros_i, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))


def group_sums(frame: pl.DataFrame, keys: list[str], values: dict[str, np.ndarray]) -> pl.DataFrame:
    """Return one row per distinct ``keys`` (sorted) with the sum of each value array.

    Sums are taken sequentially in row order within each group (``np.add.reduceat``), so
    that the result does not depend on threading: same input, same bits.
    """
    order = frame.select(keys).with_row_index("_row").sort(keys, maintain_order=True)
    idx = order["_row"].to_numpy()
    sorted_keys = order.select(keys)
    change = np.ones(order.height, dtype=bool)
    if order.height > 1:
        differs = np.zeros(order.height - 1, dtype=bool)
        for key in keys:
            col = sorted_keys[key].to_numpy()
            differs |= col[1:] != col[:-1]
        change[1:] = differs
    starts = np.nonzero(change)[0]
    out = sorted_keys[starts]
    return out.with_columns(
        [pl.Series(name, np.add.reduceat(np.asarray(v)[idx], starts)) for name, v in values.items()]
    )
