"""The calendar count forecast: planted seasonality, rolling-origin backtest, real bank calls."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from coadv_assets.forecasting import backtest, bank_calls, calendar, glm
from coadv_assets.simulation.contacts import SEASONALITY


def _planted_queue(days: int = 1100, seed: int = 5) -> tuple[pl.DataFrame, np.ndarray]:
    """A payroll-like queue built from the simulator's planted multipliers.

    Weekday, month, holiday and pay-date multipliers of contact_seasonality (payroll queue:
    x3 on the share of clients paying, x2 the day after); expected 150 contacts on a
    Wednesday of an ordinary month; Poisson counts.
    """
    rng = np.random.default_rng(seed)
    start = dt.date(2023, 12, 1)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    wd = np.array(list(SEASONALITY["weekday"].values()))[[d.weekday() for d in dates]]
    month = np.array([SEASONALITY["month"][str(d.month)] for d in dates])
    holiday = np.array([(d.month, d.day) in {(1, 1), (7, 4), (12, 25)} for d in dates])
    fridays = np.array([d.isoweekday() == 5 for d in dates])
    share = np.where(fridays, rng.uniform(0.4, 0.8, days), 0.0)
    prev = np.concatenate([[0.0], share[:-1]])
    mean = 150 * wd * month * np.where(holiday, 0.15, 1.0) * (1 + 2 * share) * (1 + prev)
    frame = pl.DataFrame(
        {
            "date": dates,
            "contacts": rng.poisson(mean),
            "is_holiday": holiday,
            "is_open_enrollment": [d.month == 11 for d in dates],
            "is_year_end": [
                (d.month == 12 and d.day >= 15) or (d.month == 1 and d.day <= 15) for d in dates
            ],
            "payroll_day_share": share,
        }
    )
    return calendar.add_regressors(frame), mean


def test_fit_recovers_the_planted_weekday_and_january_effects() -> None:
    frame, _ = _planted_queue()
    fitted = glm.fit_counts(frame, "contacts", calendar.PEO_REGRESSORS)
    coef = dict(zip(("const", *fitted.regressors), fitted.coef, strict=True))
    wd = SEASONALITY["weekday"]
    # Fridays are pay days here, so their dummy also absorbs part of the pay-date effect
    # (planted as 1 + 2 x share, fitted as exp(b x share)); Thursday and Sunday are clean.
    assert np.exp(coef["wd_thu"]) == pytest.approx(wd["thursday"] / wd["monday"], rel=0.05)
    assert np.exp(coef["wd_sun"]) == pytest.approx(wd["sunday"] / wd["monday"], rel=0.15)
    # January 1.30 against an ordinary month 1.0 (year end overlaps; combined effect).
    jan = np.exp(coef["is_january"] + coef["is_year_end"] * 15 / 31)
    assert jan == pytest.approx(1.30, rel=0.08)


def test_backtest_beats_seasonal_naive_with_calibrated_intervals() -> None:
    frame, _ = _planted_queue()
    result = backtest.rolling_origin(frame, "contacts", calendar.PEO_REGRESSORS, draws=500)
    assert result.mase < 0.9 * result.mase_naive
    assert 0.70 <= result.coverage[0.8] <= 0.90
    assert 0.88 <= result.coverage[0.95] <= 0.99
    assert result.n_test == 6 * 56


def test_seasonal_naive_and_its_scale_by_hand() -> None:
    train = np.array([1, 2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6, 7, 8], dtype=float)
    assert backtest.seasonal_naive(train, 9, 7).tolist() == [2, 3, 4, 5, 6, 7, 8, 2, 3]
    assert backtest.naive_scale(train, 7) == pytest.approx(1.0)


def test_payroll_share_projection_follows_the_pay_calendar() -> None:
    frame, _ = _planted_queue(days=400)
    last = frame["date"].max()
    future = [last + dt.timedelta(days=i + 1) for i in range(14)]
    share = calendar.project_payroll_share(frame, future)
    for d, s in zip(future, share, strict=True):
        assert (s > 0.4) if d.isoweekday() == 5 else (s < 0.1)


def test_the_real_bank_series_beats_seasonal_naive() -> None:
    daily = bank_calls.daily(bank_calls.load_intervals())
    assert daily.height == 164 and daily["date"].min() == bank_calls.first_day()
    result = backtest.rolling_origin(
        daily,
        "contacts",
        bank_calls.BANK_REGRESSORS,
        origins=6,
        horizon=15,
        season=5,
        min_train=60,
        draws=500,
    )
    # Measured: MASE 0.84 against 0.96 for the naive forecast.
    assert result.mase < result.mase_naive
    assert 0.65 <= result.coverage[0.8] <= 0.95


def test_a_negative_count_is_refused() -> None:
    frame, _ = _planted_queue(days=60)
    bad = frame.with_columns(
        pl.when(pl.col("date") == pl.col("date").min())
        .then(-1)
        .otherwise(pl.col("contacts"))
        .alias("contacts")
    )
    with pytest.raises(ValueError, match="contacts: 1 rows are missing or negative"):
        glm.fit_counts(bad, "contacts", calendar.PEO_REGRESSORS)
