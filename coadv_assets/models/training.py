"""Train, judge, register and card one calibrated classifier: the steps every classifier shares.

A classifier asset builds its point-in-time training set (``coadv_assets.features.pit``),
then calls ``train_and_register(spec, frame, ...)``. That function:

1. splits the frame in time: train, then a gap of the label horizon, a calibration window, a
   second gap, and the test window (the last ``test_share`` of the span);
2. fits xgboost on train and its calibration map on the calibration window;
3. evaluates on the test window only (AUC with DeLong interval, Brier, log loss, ECE,
   calibration slope and intercept) and draws the reliability plot;
4. judges the figures against the signed pre-registration, saves the model with its golden
   batch, records the version in ``ml.model_registry`` (promoted only when it meets the
   criterion) and writes the test-window predictions to ``ml.test_predictions``;
5. writes the model card under ``$COADV_HOME/artifacts/model_cards/<model>/<version>.md``.

The pre-registration is read by the caller before the training set is even built, so that a
model without one is never trained.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from coadv_assets import lineage
from coadv_assets.models import cards, classifier, metrics, plots, registry, scoring
from coadv_assets.models.preregistration import Preregistration, judge
from coadv_assets.warehouse import connect

PREDICTIONS_DDL = """
create schema if not exists ml;
create table if not exists ml.test_predictions (
    model varchar, model_version varchar, entity_id varchar, client_id varchar,
    score_ts timestamptz, label integer, prediction double
);
"""


@dataclass(frozen=True)
class ClassifierSpec:
    """What distinguishes one classifier from another; the rest is shared."""

    model: str
    purpose: str
    entity_col: str
    label: str
    ts_col: str
    horizon: dt.timedelta
    numerical: tuple[str, ...]
    categorical: tuple[str, ...]
    feature_sources: dict[str, tuple[str, str]]  # feature -> (table, version)
    params: dict[str, Any] = field(default_factory=dict)
    method: str = "sigmoid"
    test_share: float = 0.34
    calib_share: float = 0.20
    min_rows: int = 50

    @property
    def features(self) -> list[str]:
        return [*self.numerical, *self.categorical]

    @property
    def feature_versions(self) -> dict[str, str]:
        return {table: version for table, version in self.feature_sources.values()}


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced, for the asset's metadata and checks."""

    version: str
    promoted: bool
    misses: list[str]
    figures: metrics.ClassifierMetrics
    flat_metrics: dict[str, Any]
    windows: dict[str, Any]
    artifact_dir: Path
    card: Path
    plot: Path
    test: pl.DataFrame
    p_test: np.ndarray


def split_windows(frame: pl.DataFrame, spec: ClassifierSpec) -> classifier.TimeSplit:
    """Train / calibration / test on ``spec.ts_col``, each gap as long as the horizon.

    The test window is the last ``test_share`` of the span; calibration ends one horizon
    before it and spans ``calib_share``; train ends one horizon before calibration starts.
    Refuses (ValueError from ``time_split``) windows with fewer than ``min_rows`` rows.
    """
    first, last = frame[spec.ts_col].min(), frame[spec.ts_col].max()
    if first is None:
        raise ValueError(f"{spec.model}: the training set is empty; nothing to split")
    span = last - first
    test_start = first + span * (1 - spec.test_share)
    calib_end = test_start - spec.horizon
    train_end = calib_end - span * spec.calib_share - spec.horizon
    return classifier.time_split(
        frame,
        spec.ts_col,
        train_end=train_end,
        gap=spec.horizon,
        calib_end=calib_end,
        test_end=last + dt.timedelta(seconds=1),
        horizon=spec.horizon,
        min_rows=spec.min_rows,
    )


def flatten(figures: metrics.ClassifierMetrics) -> dict[str, Any]:
    """The figures as the flat dict a pre-registration criterion names."""
    return {
        "n_test": figures.n,
        "test_events": int(round(figures.prevalence * figures.n)),
        "prevalence": figures.prevalence,
        "mean_prediction": figures.mean_prediction,
        "auc": figures.auc.auc,
        "auc_ci_low": figures.auc.ci_low,
        "auc_ci_high": figures.auc.ci_high,
        "brier": figures.brier,
        "log_loss": figures.log_loss,
        "ece": figures.ece,
        "calibration_slope": figures.calibration.slope,
        "calibration_slope_ci": list(figures.calibration.slope_ci),
        "calibration_intercept": figures.calibration.intercept,
        "calibration_intercept_ci": list(figures.calibration.intercept_ci),
        "calibration_in_the_large": figures.calibration.in_the_large,
    }


def load_training_set(directory: Path) -> tuple[pl.DataFrame, str]:
    """The training set written by ``features.pit.write`` and its output SHA-256.

    Raises FileNotFoundError naming the folder when the training-set asset has not run.
    """
    import json

    parquet, manifest = directory / "training_set.parquet", directory / "manifest.json"
    if not parquet.exists() or not manifest.exists():
        raise FileNotFoundError(
            f"no training set in {directory}: materialize the model's training-set asset first"
        )
    sha = json.loads(manifest.read_text()).get("output_sha256", "")
    return pl.read_parquet(parquet), sha


def train_and_register(
    spec: ClassifierSpec,
    frame: pl.DataFrame,
    *,
    prereg: Preregistration,
    training_set_sha256: str,
    db_path: Path,
    code_files: tuple[str, ...],
    validation_strategy: str,
    failure_modes: list[str] | None = None,
) -> TrainResult:
    """Run steps 1-5 of the module docstring on ``frame``; return what they produced.

    Refuses (ValueError): windows too small or with a single class (from the split and the
    trainer). Never refuses a model that misses its criterion: it is recorded unpromoted.
    """
    split = split_windows(frame, spec)
    model = classifier.train_calibrated_classifier(
        split.train,
        split.calib,
        spec.features,
        spec.label,
        categorical=list(spec.categorical),
        params=spec.params,
        method=spec.method,  # type: ignore[arg-type]
        seed=0,
    )
    p_test, report = model.predict_proba(split.test)
    y_test = split.test[spec.label].cast(pl.Int64).to_numpy()
    figures = metrics.evaluate(y_test, p_test)
    flat = flatten(figures)
    flat["scoring_unseen_categories"] = report.unseen_categories
    code = lineage.code_version(*code_files, classifier.__file__, __file__)
    version = registry.version_id(
        spec.model, training_set_sha256, code, spec.params, spec.method, prereg.sha256
    )
    artifact_dir = registry.model_artifact_dir(spec.model, version)
    classifier.save_model(model, artifact_dir)
    plot = plots.reliability_plot(
        y_test, p_test, artifact_dir / "reliability.png", title=f"{spec.model} {version}: test"
    )
    misses = judge(flat, prereg.success_criterion)
    promoted = not misses
    trained_at = dt.datetime.now(dt.UTC)
    libs = registry.library_versions()
    card = cards.write_card(
        _card_facts(
            spec,
            prereg,
            version,
            trained_at,
            split,
            figures,
            misses,
            plot,
            artifact_dir,
            validation_strategy,
            failure_modes or [],
            training_set_sha256,
            code,
            libs,
        )
    )
    mv = registry.ModelVersion(
        model=spec.model,
        version=version,
        trained_at=trained_at,
        data_window=split.windows,
        feature_versions=spec.feature_versions,
        training_set_sha256=training_set_sha256,
        library_versions=libs,
        metrics={
            **flat,
            "n_train": split.train.height,
            "n_calibration": split.calib.height,
            "test_window": list(split.windows["test"]),
        },
        criterion=prereg.success_criterion,
        promoted=promoted,
        promotion_reasons=misses,
        artifact_dir=str(artifact_dir),
        code_version=code,
        preregistration_sha256=prereg.sha256,
        criterion_version=prereg.criterion_version,
        card_path=str(card),
    )
    test_rows = split.test.select(
        pl.lit(spec.model).alias("model"),
        pl.lit(version).alias("model_version"),
        pl.col(spec.entity_col).cast(pl.String).alias("entity_id"),
        pl.col("client_id").cast(pl.String),
        pl.col(spec.ts_col).alias("score_ts"),
        pl.col(spec.label).cast(pl.Int32).alias("label"),
        pl.Series("prediction", p_test),
    )
    with connect(db_path) as con:
        registry.record_version(con, mv)
        con.execute(PREDICTIONS_DDL)
        con.execute(
            "delete from ml.test_predictions where model = ? and model_version = ?",
            [spec.model, version],
        )
        con.register("incoming_predictions", test_rows.to_arrow())
        con.execute("insert into ml.test_predictions by name select * from incoming_predictions")
        con.unregister("incoming_predictions")
    return TrainResult(
        version,
        promoted,
        misses,
        figures,
        flat,
        split.windows,
        artifact_dir,
        card,
        plot,
        split.test,
        p_test,
    )


def _card_facts(
    spec: ClassifierSpec,
    prereg: Preregistration,
    version: str,
    trained_at: dt.datetime,
    split: classifier.TimeSplit,
    figures: metrics.ClassifierMetrics,
    misses: list[str],
    plot: Path,
    artifact_dir: Path,
    validation_strategy: str,
    failure_modes: list[str],
    sha: str,
    code: str,
    libs: dict[str, str],
) -> cards.CardFacts:
    test = f"test {split.windows['test'][0]} .. {split.windows['test'][1]}"
    c = figures.calibration
    measured = [
        f"{figures.n:,} test rows hold {int(round(figures.prevalence * figures.n)):,} events; "
        "the AUC interval's width shows how far a figure on this few events can move",
    ]
    return cards.CardFacts(
        model=spec.model,
        version=version,
        purpose=spec.purpose,
        trained_at=trained_at,
        data_window={k: list(v) for k, v in split.windows.items()},
        training_rows={
            "train": split.train.height,
            "calibration": split.calib.height,
            "test": split.test.height,
        },
        features=[
            {
                "name": name,
                "source": spec.feature_sources.get(name, ("label table", ""))[0],
                "version": spec.feature_sources.get(name, ("", "label"))[1],
                "type": "categorical" if name in spec.categorical else "numeric",
            }
            for name in spec.features
        ],
        validation_strategy=validation_strategy,
        metrics=[
            cards.Metric(
                "AUC",
                figures.auc.auc,
                "probability",
                test,
                figures.auc.ci_low,
                figures.auc.ci_high,
                "DeLong 95%",
            ),
            cards.Metric("Brier score", figures.brier, "squared probability", test),
            cards.Metric("log loss", figures.log_loss, "nats per row", test),
            cards.Metric("ECE", figures.ece, "probability (10 equal-width bins)", test),
            cards.Metric(
                "calibration slope",
                c.slope,
                "logit per logit",
                test,
                c.slope_ci[0],
                c.slope_ci[1],
                "GLM Wald 95%",
            ),
            cards.Metric(
                "calibration intercept",
                c.intercept,
                "logit",
                test,
                c.intercept_ci[0],
                c.intercept_ci[1],
                "GLM Wald 95%",
            ),
            cards.Metric("prevalence", figures.prevalence, "share of rows", test),
            cards.Metric("mean prediction", figures.mean_prediction, "probability", test),
        ],
        preregistration=prereg,
        misses=misses,
        promoted=not misses,
        calibration=(
            f"{spec.method.capitalize()} calibration fitted on the calibration window only. "
            f"On the test window: slope {c.slope:.2f} (95% {c.slope_ci[0]:.2f} to "
            f"{c.slope_ci[1]:.2f}), intercept {c.intercept:.2f}, calibration-in-the-large "
            f"{c.in_the_large:.2f}, ECE {figures.ece:.3f}, mean prediction "
            f"{figures.mean_prediction:.3f} against an observed rate {figures.prevalence:.3f}."
        ),
        reliability_plot=plot,
        failure_modes=[*failure_modes, *measured],
        scoring_policy=scoring.POLICY,
        artifact_dir=artifact_dir,
        hashes={"training set sha256": sha, "code version": code},
        library_versions=libs,
    )
