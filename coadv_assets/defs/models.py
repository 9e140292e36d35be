"""The renewal-propensity model: point-in-time training set, training, promotion gate.

Its monitoring (drift, calibration, reconciliation) is registered in
``coadv_assets.monitoring.specs``.

The training set takes each renewal label (a contract, scored 90 days before its renewal
date) and the client-month features as they were known at the scoring instant. The model is
an xgboost classifier calibrated on a later window and judged on a still later one; its
pre-registration under ``model_cards/renewal_propensity/`` must exist before it trains, and
the promotion gate compares the test-window figures with the criterion signed there.
"""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg
import polars as pl
import yaml

from coadv_assets import lineage, paths
from coadv_assets.features.manifest import FeatureRef
from coadv_assets.features.pit import build_training_set, write
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:retention-models"
MODEL_NAME = "renewal_propensity"
LABEL_HORIZON = dt.timedelta(days=90)
PREREGISTRATION = paths.MODEL_CARDS_DIR / MODEL_NAME / "preregistration.yaml"

CLIENT_MONTH = FeatureRef(
    table="marts.feat_client_month",
    entity_key=("client_id",),
    tenant_key="client_id",
    event_ts="event_ts",
    available_at="available_at",
    columns=(
        "active_employees",
        "headcount_growth_12m",
        "tenure_years",
        "exception_share_6m",
        "contacts_per_employee_6m",
        "admin_fee_pepm",
        "mlr_12m",
        "industry",
        "pay_frequency",
    ),
    version="1",
    ttl=dt.timedelta(days=62),
    name="client_month",
)
NUMERICAL = [
    "offered_rate_change",
    "active_employees",
    "headcount_growth_12m",
    "tenure_years",
    "exception_share_6m",
    "contacts_per_employee_6m",
    "admin_fee_pepm",
    "mlr_12m",
]
CATEGORICAL = ["industry", "pay_frequency"]
XGB_PARAMS = {
    "n_estimators": 300,
    "max_depth": 3,
    "learning_rate": 0.04,
    "subsample": 0.9,
    "colsample_bytree": 0.9,
    "min_child_weight": 5,
}
ML_DDL = """
create schema if not exists ml;
create table if not exists ml.model_registry (
    model varchar, version varchar, trained_at timestamptz, data_window json,
    feature_versions json, training_set_sha256 varchar, library_versions json,
    metrics json, criterion json, promoted boolean, promotion_reasons json,
    artifact_dir varchar, primary key (model, version)
);
create table if not exists ml.renewal_test_predictions (
    model_version varchar, contract_id varchar, client_id varchar, score_ts timestamptz,
    renewed integer, p_renew double
);
"""


def training_set_dir() -> Path:
    return paths.artifacts_dir() / "training_sets" / MODEL_NAME


@dg.asset(
    group_name="features",
    kinds={"python", "duckdb", "parquet"},
    owners=[OWNER],
    deps=[dg.AssetKey(["marts", "lbl_renewal"]), dg.AssetKey(["marts", "feat_client_month"])],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "training_set_quality",
            asset="renewal_training_set",
            blocking=True,
            description=(
                "Blocks training when the set is too small, has one class, or when more than "
                "half of a feature's values are missing."
            ),
        )
    ],
    description=(
        "Point-in-time training set of renewal propensity: each contract's renewal label "
        "with the client-month features known 90 days before the renewal date (no value "
        "ingested later leaks in). Written with its manifest for byte-identical rebuilds."
    ),
)
def renewal_training_set(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with connect(warehouse.db_path) as con:
        labels = con.sql(
            "select contract_id, client_id, score_ts, renewal_date, offered_rate_change, "
            "renewed::integer as renewed from marts.lbl_renewal"
        ).pl()
        ts = build_training_set(
            con,
            labels,
            [CLIENT_MONTH],
            entity_key="client_id",
            label_ts_col="score_ts",
            tenant_key="client_id",
        )
        files = write(ts, training_set_dir())
        con.execute("create schema if not exists ml")
        con.register("incoming", ts.frame.to_arrow())
        con.execute("create or replace table ml.renewal_training_set as select * from incoming")
        con.unregister("incoming")
    frame = ts.frame
    positives = float(frame["renewed"].mean()) if frame.height else 0.0
    null_shares = {
        c: float(frame[c].null_count() / max(frame.height, 1)) for c in NUMERICAL + CATEGORICAL
    }
    worst = max(null_shares, key=null_shares.get)
    problems = []
    if frame.height < 500:
        problems.append(f"{frame.height} label rows, fewer than 500")
    if not 0.02 < positives < 0.98:
        problems.append(f"renewal rate {positives:.3f} leaves one class almost empty")
    if null_shares[worst] > 0.5:
        problems.append(f"{worst} is missing in {null_shares[worst]:.0%} of rows")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": frame.height,
            "renewal_rate": positives,
            "label_window": f"{frame['score_ts'].min()} .. {frame['score_ts'].max()}",
            "manifest": dg.MetadataValue.path(str(files["manifest"])),
            "training_set_sha256": ts.manifest.get("output_sha256", ""),
            "null_shares": dg.MetadataValue.json(null_shares),
        }
    )
    yield dg.AssetCheckResult(
        check_name="training_set_quality",
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or "enough rows, both classes, features populated",
        metadata={"rows": frame.height, "renewal_rate": positives},
    )


def load_preregistration() -> dict:
    """The signed pre-registration; raises Failure when it is missing or unsigned."""
    if not PREREGISTRATION.exists():
        raise dg.Failure(
            description=(
                f"no pre-registration at {PREREGISTRATION}: a model is not trained before its "
                "success criterion and reconciliation plan are written and signed"
            )
        )
    prereg = yaml.safe_load(PREREGISTRATION.read_text())
    for field in ("signed_by", "signed_at", "success_criterion", "reconciliation_plan"):
        if not prereg.get(field):
            raise dg.Failure(description=f"{PREREGISTRATION} lacks {field!r}")
    return prereg


def judge(m: "ClassifierMetrics", criterion: dict) -> list[str]:  # noqa: F821
    """Reasons the figures miss the criterion (empty when they meet it)."""
    misses = []
    if m.auc.auc < criterion["auc_min"]:
        misses.append(f"AUC {m.auc.auc:.3f} < {criterion['auc_min']}")
    lo, hi = criterion["calibration_slope"]
    if not lo <= m.calibration.slope <= hi:
        misses.append(f"calibration slope {m.calibration.slope:.2f} outside [{lo}, {hi}]")
    if abs(m.calibration.intercept) > criterion["calibration_intercept_abs_max"]:
        misses.append(f"calibration intercept {m.calibration.intercept:.2f} too far from 0")
    if m.ece > criterion["ece_max"]:
        misses.append(f"ECE {m.ece:.3f} > {criterion['ece_max']}")
    if m.n < criterion["min_test_events"]:
        misses.append(f"{m.n} test events < {criterion['min_test_events']}")
    return misses


def split_windows(frame: pl.DataFrame) -> "TimeSplit":  # noqa: F821
    """Train, calibration and test windows on the scoring date, gaps of the label horizon."""
    from coadv_assets.models import classifier

    first, last = frame["score_ts"].min(), frame["score_ts"].max()
    span = last - first
    test_start = first + span * 0.66
    calib_end = test_start - LABEL_HORIZON
    train_end = calib_end - span * 0.20 - LABEL_HORIZON
    return classifier.time_split(
        frame,
        "score_ts",
        train_end=train_end,
        gap=LABEL_HORIZON,
        calib_end=calib_end,
        test_end=last + dt.timedelta(seconds=1),
        horizon=LABEL_HORIZON,
    )


@dg.asset(
    group_name="models",
    kinds={"python", "xgboost", "scikit-learn"},
    owners=[OWNER],
    deps=[renewal_training_set],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "promotion_gate",
            asset="renewal_model",
            blocking=True,
            description="The test-window figures meet the signed pre-registration.",
        ),
    ],
    description=(
        "Renewal propensity: xgboost on the point-in-time training set, calibrated (sigmoid) "
        "on a later window, evaluated on a still later one (AUC with DeLong interval, Brier, "
        "ECE, calibration slope and intercept, reliability plot), recorded in "
        "ml.model_registry and promoted only when it meets its pre-registration."
    ),
)
def renewal_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    # Heavy libraries load in the step, not when the code location loads.
    from coadv_assets.models import classifier, metrics, plots

    prereg = load_preregistration()
    criterion = prereg["success_criterion"]
    manifest_path = training_set_dir() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    frame = pl.read_parquet(training_set_dir() / "training_set.parquet")
    split = split_windows(frame)
    model = classifier.train_calibrated_classifier(
        split.train,
        split.calib,
        NUMERICAL + CATEGORICAL,
        "renewed",
        categorical=CATEGORICAL,
        params=XGB_PARAMS,
        method="sigmoid",
        seed=0,
    )
    p_test, report = model.predict_proba(split.test)
    y_test = split.test["renewed"].to_numpy()
    figures = metrics.evaluate(y_test, p_test)
    code = lineage.code_version(__file__, classifier.__file__)
    sha = manifest.get("output_sha256", "")
    version = hashlib.sha256(
        f"{sha}|{code}|{json.dumps(XGB_PARAMS, sort_keys=True)}".encode()
    ).hexdigest()[:12]
    artifact_dir = paths.artifacts_dir() / "models" / MODEL_NAME / version
    classifier.save_model(model, artifact_dir)
    plot = plots.reliability_plot(
        y_test,
        p_test,
        artifact_dir / "reliability.png",
        title=f"{MODEL_NAME} {version}: test window",
    )
    misses = judge(figures, criterion)
    promoted = not misses
    metric_row = {
        "test_window": list(split.windows["test"]),
        "n_train": split.train.height,
        "n_calibration": split.calib.height,
        "n_test": figures.n,
        "prevalence": figures.prevalence,
        "auc": figures.auc.auc,
        "auc_ci_low": figures.auc.ci_low,
        "auc_ci_high": figures.auc.ci_high,
        "brier": figures.brier,
        "ece": figures.ece,
        "log_loss": figures.log_loss,
        "calibration_slope": figures.calibration.slope,
        "calibration_intercept": figures.calibration.intercept,
        "scoring_unseen_categories": report.unseen_categories,
    }
    predictions = split.test.select("contract_id", "client_id", "score_ts", "renewed").with_columns(
        model_version=pl.lit(version), p_renew=pl.Series(p_test)
    )
    with connect(warehouse.db_path) as con:
        con.execute(ML_DDL)
        con.execute(
            "delete from ml.model_registry where model = ? and version = ?", [MODEL_NAME, version]
        )
        con.execute(
            "insert into ml.model_registry values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                MODEL_NAME,
                version,
                dt.datetime.now(dt.UTC),
                json.dumps(split.windows),
                json.dumps({CLIENT_MONTH.table: CLIENT_MONTH.version}),
                sha,
                json.dumps(_library_versions()),
                json.dumps(metric_row),
                json.dumps(criterion),
                promoted,
                json.dumps(misses),
                str(artifact_dir),
            ],
        )
        con.execute("delete from ml.renewal_test_predictions where model_version = ?", [version])
        con.register("incoming", predictions.to_arrow())
        con.execute("insert into ml.renewal_test_predictions by name select * from incoming")
        con.unregister("incoming")
    yield dg.MaterializeResult(
        metadata={
            "version": version,
            "promoted": promoted,
            "auc": figures.auc.auc,
            "auc_95ci": f"[{figures.auc.ci_low:.3f}, {figures.auc.ci_high:.3f}]",
            "brier": figures.brier,
            "ece": figures.ece,
            "calibration_slope": figures.calibration.slope,
            "calibration_intercept": figures.calibration.intercept,
            "n_test": figures.n,
            "windows": dg.MetadataValue.json(split.windows),
            "training_set_manifest": dg.MetadataValue.path(str(manifest_path)),
            "reliability_plot": dg.MetadataValue.md(_image_md(plot)),
            "artifact_dir": dg.MetadataValue.path(str(artifact_dir)),
        }
    )
    yield dg.AssetCheckResult(
        check_name="promotion_gate",
        passed=promoted,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(misses) or "meets the pre-registered criterion",
        metadata={"criterion": dg.MetadataValue.json(criterion)},
    )


def _image_md(path: Path) -> str:
    import base64

    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"![reliability](data:image/png;base64,{data})"


def _library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        name: version(name) for name in ("xgboost", "scikit-learn", "numpy", "polars", "duckdb")
    }


defs = dg.Definitions(assets=[renewal_training_set, renewal_model])
