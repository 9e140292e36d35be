"""The payroll-exception model: per payroll run, the calibrated probability that the run has
an exception; per client, the expected exception rate of its runs in the next quarter.

Label (``marts.lbl_payroll_exception``): the run's first revision carries at least one
exception, the event whose probability the simulator plants, so that the oracle comparison
is meaningful. (A manual correction follows an exception about a third of the time; its
probability is this model's times that share, and the label keeps ``needs_correction_final``
for reconciliation.) Scoring instant: the pay date at 00:00 UTC. Features, read through the
point-in-time builder at that instant: the run's schedule facts from
``marts.feat_payroll_run`` (frequency, headcount, hires in the period, client age, January)
in the revision known then (a revision 2 arrives at least three days later and cannot leak),
and the client's exception history before the run (``marts.feat_payroll_client_history``).
Known shortcoming: those schedule facts are fixed when the pay period closes, but the feature
mart publishes a run only once processed; a score before processing needs the schedule
published at period end.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from coadv_assets import paths
from coadv_assets.defs.models import (
    gate_spec,
    model_outputs,
    require_preregistration,
    training_set_check,
)
from coadv_assets.features.manifest import FeatureRef
from coadv_assets.features.pit import build_training_set, write
from coadv_assets.models.training import ClassifierSpec
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:payroll-analytics"
MODEL_NAME = "payroll_exception"
HORIZON = dt.timedelta(days=21)  # a run's label is final once processed; 21 d covers revisions

RUN = FeatureRef(
    table="marts.feat_payroll_run",
    entity_key=("run_id",),
    tenant_key="client_id",
    event_ts="event_ts",
    available_at="available_at",
    columns=(
        "employee_count",
        "client_age_days",
        "is_january",
        "new_hires_in_period",
        "pay_frequency",
    ),
    version="1",
    name="payroll_run",
)
HISTORY = FeatureRef(
    table="marts.feat_payroll_client_history",
    entity_key=("run_id",),
    tenant_key="client_id",
    event_ts="event_ts",
    available_at="available_at",
    columns=("prior_runs", "prior_exception_runs", "prior_runs_12m", "prior_exception_runs_12m"),
    version="1",
    name="payroll_history",
)
# The smoothed share shrinks a short history to the book's rate (about 0.15, 10 pseudo-runs).
PRIOR_SHARE = 0.15
PRIOR_WEIGHT = 10.0
SPEC = ClassifierSpec(
    model=MODEL_NAME,
    purpose=(
        "Per payroll run, the probability that the run has an exception, scored at its pay "
        "date; per client, the expected exception rate of its runs in the next quarter, for "
        "staffing payroll operations and for pre-emptive review of likely exceptions."
    ),
    entity_col="run_id",
    label="had_exception",
    ts_col="score_ts",
    horizon=HORIZON,
    numerical=(
        "employee_count",
        "client_age_days",
        "is_january",
        "new_hires_in_period",
        "prior_runs",
        "prior_exception_runs",
        "prior_runs_12m",
        "prior_exception_runs_12m",
        "prior_exception_share",
    ),
    categorical=("pay_frequency",),
    feature_sources={
        **{c: (RUN.table, RUN.version) for c in RUN.columns},
        **{c: (HISTORY.table, HISTORY.version) for c in HISTORY.columns},
        "prior_exception_share": (HISTORY.table + " (derived)", HISTORY.version),
    },
    params={
        "n_estimators": 300,
        "max_depth": 3,
        "learning_rate": 0.05,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "min_child_weight": 20,
    },
    method="sigmoid",
)
VALIDATION = (
    "Time-based split on the pay date: train, a gap of 21 days (a run's revisions arrive "
    "within 20 days), a calibration window (sigmoid), another 21-day gap, then the test "
    "window, the last third of the span. Runs of one client are correlated; the DeLong "
    "interval treats them as independent."
)
FAILURE_MODES = [
    "a new client has no history: its hidden propensity is unknown and it is scored at the "
    "book's rate adjusted for its schedule facts",
    "the client's propensity is learnt from a few exceptions a year; it is noisy for clients "
    "paid monthly",
]


def derive(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``prior_exception_share``, the client's smoothed exception share before the run:
    (exceptions + 0.15 * 10) / (runs + 10). Used identically in training and scoring."""
    return frame.with_columns(
        prior_exception_share=(
            (pl.col("prior_exception_runs").cast(pl.Float64) + PRIOR_SHARE * PRIOR_WEIGHT)
            / (pl.col("prior_runs").cast(pl.Float64) + PRIOR_WEIGHT)
        ),
        is_january=pl.col("is_january").cast(pl.Int8),
    )


def training_set_dir() -> Path:
    return paths.artifacts_dir() / "training_sets" / MODEL_NAME


@dg.asset(
    group_name="features",
    kinds={"python", "duckdb", "parquet"},
    owners=[OWNER],
    deps=[
        dg.AssetKey(["marts", "lbl_payroll_exception"]),
        dg.AssetKey(["marts", "feat_payroll_run"]),
        dg.AssetKey(["marts", "feat_payroll_client_history"]),
    ],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "training_set_quality",
            asset="payroll_exception_training_set",
            blocking=True,
            description="Blocks training when the set is too small or has one class.",
        )
    ],
    description=(
        "Point-in-time training set of payroll exceptions: each run's label with the run's "
        "schedule facts and the client's history known at the pay date."
    ),
)
def payroll_exception_training_set(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    require_preregistration(MODEL_NAME, warehouse.db_path)
    with connect(warehouse.db_path) as con:
        labels = con.sql(
            "select run_id, client_id, pay_date, score_ts, had_exception::integer "
            "as had_exception from marts.lbl_payroll_exception"
        ).pl()
        ts = build_training_set(
            con,
            labels,
            [RUN, HISTORY],
            entity_key="run_id",
            label_ts_col="score_ts",
            tenant_key="client_id",
        )
        files = write(ts, training_set_dir())
        con.execute("create schema if not exists ml")
        con.register("incoming", ts.frame.to_arrow())
        con.execute(
            "create or replace table ml.payroll_exception_training_set as select * from incoming"
        )
        con.unregister("incoming")
    frame = derive(ts.frame)
    problems = training_set_check(frame, "had_exception", SPEC.features)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "exception_rate": float(frame["had_exception"].mean()) if frame.height else 0.0,
            "manifest": dg.MetadataValue.path(str(files["manifest"])),
            "training_set_sha256": ts.manifest.get("output_sha256", ""),
        }
    )
    yield dg.AssetCheckResult(
        check_name="training_set_quality",
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or "enough rows, both classes, features populated",
    )


@dg.asset(
    group_name="models",
    kinds={"python", "xgboost", "scikit-learn"},
    owners=[OWNER],
    deps=[payroll_exception_training_set],
    pool="warehouse",
    check_specs=[gate_spec("payroll_exception_model")],
    description=(
        "Payroll exceptions: calibrated xgboost per run, judged on the last window against "
        "its pre-registration, recorded in ml.model_registry with its card."
    ),
)
def payroll_exception_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.models.training import load_training_set, train_and_register

    prereg = require_preregistration(MODEL_NAME, warehouse.db_path)
    raw, training_set_sha256 = load_training_set(training_set_dir())
    frame = derive(raw)
    result = train_and_register(
        SPEC,
        frame,
        prereg=prereg,
        training_set_sha256=training_set_sha256,
        db_path=warehouse.db_path,
        code_files=(__file__,),
        validation_strategy=VALIDATION,
        failure_modes=FAILURE_MODES,
    )
    yield from model_outputs(result)


STEP_DAYS = {"weekly": 7.0, "biweekly": 14.0, "semimonthly": 365.25 / 24, "monthly": 365.25 / 12}


def project_next_quarter(latest: pl.DataFrame, quarter_start: dt.date) -> pl.DataFrame:
    """The runs each client is expected to pay in the quarter starting ``quarter_start``.

    ``latest`` holds one row per client: its last run's ``pay_date``, ``pay_frequency`` and
    features. Pay dates step from the last one by the frequency's period (7, 14, 365.25/24
    or 365.25/12 days); ``client_age_days`` and ``is_january`` follow each projected date,
    the other features stay as last known. Refuses (ValueError) an unknown frequency.
    """
    unknown = set(latest["pay_frequency"].unique().to_list()) - set(STEP_DAYS)
    if unknown:
        raise ValueError(
            f"payroll projection: pay_frequency {sorted(unknown)} has no period; "
            f"known: {sorted(STEP_DAYS)}"
        )
    quarter_end = _add_months(quarter_start, 3)
    rows = []
    for rec in latest.iter_rows(named=True):
        step = STEP_DAYS[rec["pay_frequency"]]
        k = 1
        while True:
            pay = rec["pay_date"] + dt.timedelta(days=round(k * step))
            k += 1
            if pay >= quarter_end:
                break
            if pay < quarter_start:
                continue
            rows.append(
                {
                    **rec,
                    "pay_date": pay,
                    "run_id": f"{rec['client_id']}@{pay.isoformat()}",
                    "client_age_days": rec["client_age_days"] + (pay - rec["last_pay_date"]).days,
                    "is_january": int(pay.month == 1),
                }
            )
    return pl.DataFrame(rows, schema_overrides=latest.schema | {"is_january": pl.Int8})


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


@dg.asset(
    group_name="models",
    kinds={"python", "duckdb"},
    owners=[OWNER],
    deps=[payroll_exception_model],
    pool="warehouse",
    description=(
        "Per client, the expected payroll-exception rate of its runs in the next calendar "
        "quarter (ml.payroll_exception_client_quarter), from the runs its pay frequency "
        "projects, each scored by the last promoted version (the run scores go to ml.scores)."
    ),
)
def payroll_exception_client_quarter(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
):
    from coadv_assets.models.scoring import score_batch

    with connect(warehouse.db_path, read_only=True) as con:
        last_day = con.sql("select max(pay_date) from marts.lbl_payroll_exception").fetchall()[0][0]
        latest = con.sql(
            "with r as (select *, row_number() over (partition by client_id "
            "order by pay_date desc, revision desc) as rk, avg(new_hires_in_period) over "
            "(partition by client_id order by pay_date rows between 5 preceding and current row) "
            "as hires_avg from marts.feat_payroll_run where revision = 1) "
            "select r.client_id, r.pay_date, r.pay_date as last_pay_date, r.pay_frequency, "
            "r.employee_count, r.client_age_days, r.hires_avg as new_hires_in_period, "
            "h.prior_runs + 1 as prior_runs, h.prior_exception_runs "
            "+ r.had_exception::integer as prior_exception_runs, "
            "h.prior_runs_12m, h.prior_exception_runs_12m "
            "from r inner join marts.feat_payroll_client_history as h on r.run_id = h.run_id "
            "where r.rk = 1 and r.pay_date >= ?::date - interval 45 day",
            params=[last_day],
        ).pl()
    quarter_start = _add_months(dt.date(last_day.year, 3 * ((last_day.month - 1) // 3) + 1, 1), 3)
    runs = derive(
        project_next_quarter(latest, quarter_start)
        .drop("is_january")
        .with_columns(is_january=pl.col("pay_date").dt.month() == 1)
    )
    as_of = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), dt.UTC)
    result = score_batch(
        warehouse.db_path,
        MODEL_NAME,
        runs,
        entity_col="run_id",
        as_of=as_of,
        target_col="pay_date",
    )
    if result.version is None:
        return dg.MaterializeResult(metadata={"model_version": "none promoted", "rows": 0})
    per_client = (
        result.scores.group_by("client_id")
        .agg(
            expected_runs=pl.len(),
            expected_exceptions=pl.col("prediction").sum(),
            expected_rate=pl.col("prediction").mean(),
        )
        .with_columns(
            quarter_start=pl.lit(quarter_start),
            model_version=pl.lit(result.version),
            as_of=pl.lit(as_of),
        )
        .sort("client_id")
    )
    with connect(warehouse.db_path) as con:
        con.execute(
            "create table if not exists ml.payroll_exception_client_quarter (client_id varchar, "
            "quarter_start date, expected_runs integer, expected_exceptions double, "
            "expected_rate double, model_version varchar, as_of timestamptz)"
        )
        con.execute(
            "delete from ml.payroll_exception_client_quarter where quarter_start = ?",
            [quarter_start],
        )
        con.register("incoming", per_client.to_arrow())
        con.execute(
            "insert into ml.payroll_exception_client_quarter by name select * from incoming"
        )
        con.unregister("incoming")
    return dg.MaterializeResult(
        metadata={
            "model_version": result.version,
            "quarter_start": str(quarter_start),
            "clients": per_client.height,
            "projected_runs": result.rows,
            "book_expected_rate": float(result.scores["prediction"].mean()),
            **{
                k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v
                for k, v in result.counts.items()
            },
        }
    )


defs = dg.Definitions(
    assets=[
        payroll_exception_training_set,
        payroll_exception_model,
        payroll_exception_client_quarter,
    ]
)
