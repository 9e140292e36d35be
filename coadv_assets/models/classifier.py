"""Binary classifiers: time-ordered splits, xgboost with post-hoc calibration, persistence.

The model is an xgboost ``XGBClassifier`` (``hist``, ``n_jobs=2``, seeded, so that a fit is
reproducible on the same machine and library versions) fitted on the training window, then
frozen (``FrozenEstimator``) inside ``CalibratedClassifierCV`` fitted on the calibration
window only.

Scoring policy (counted in every ``ScoringReport``):

- a categorical level not seen in training becomes missing (NaN); xgboost sends it the way
  it learnt for missing values. Nulls are missing too, counted separately.
- a declared feature absent from the frame is scored as all-missing; a column the model does
  not use is ignored. Both are listed.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import sklearn
import xgboost
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from xgboost import XGBClassifier

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
}
GOLDEN_ROWS = 256


@dataclass(frozen=True)
class TimeSplit:
    """Train / calibration / test frames and their half-open windows ``[start, end)``."""

    train: pl.DataFrame
    calib: pl.DataFrame
    test: pl.DataFrame
    windows: dict[str, tuple[str | None, str]]


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def time_split(
    df: pl.DataFrame,
    ts_col: str,
    *,
    train_end: datetime | date,
    gap: timedelta,
    calib_end: datetime | date,
    test_end: datetime | date,
    gap2: timedelta | None = None,
    horizon: timedelta | None = None,
    min_rows: int = 50,
) -> TimeSplit:
    """Split by time: train ``ts < train_end``; calibration ``[train_end + gap, calib_end)``;
    test ``[calib_end + gap2, test_end)`` (``gap2`` defaults to ``gap``). Rows in the gaps or
    after ``test_end`` are dropped.

    Refuses (ValueError): a gap shorter than the label ``horizon`` (labels of one window
    would see outcomes of the next), windows out of order, null timestamps, and any window
    with fewer than ``min_rows`` rows (named, with its bounds and count).
    """
    gap2 = gap if gap2 is None else gap2
    for name, g in (("gap", gap), ("gap2", gap2)):
        if g < timedelta(0):
            raise ValueError(f"{name} must be non-negative, got {g}")
        if horizon is not None and g < horizon:
            raise ValueError(f"{name} {g} is shorter than the label horizon {horizon}")
    calib_start, test_start = train_end + gap, calib_end + gap2
    if not (calib_start < calib_end and test_start < test_end):
        raise ValueError(
            f"windows out of order: train < {train_end}, calibration [{calib_start}, "
            f"{calib_end}), test [{test_start}, {test_end})"
        )
    n_null = df.get_column(ts_col).null_count()
    if n_null:
        raise ValueError(f"{ts_col} is null in {n_null} rows; a time split cannot place them")
    ts = pl.col(ts_col)
    parts = {
        "train": df.filter(ts < train_end),
        "calibration": df.filter((ts >= calib_start) & (ts < calib_end)),
        "test": df.filter((ts >= test_start) & (ts < test_end)),
    }
    windows = {
        "train": (None, _iso(train_end)),
        "calibration": (_iso(calib_start), _iso(calib_end)),
        "test": (_iso(test_start), _iso(test_end)),
    }
    for name, part in parts.items():
        if part.height < min_rows:
            lo, hi = windows[name]
            raise ValueError(
                f"{name} window [{lo or '-inf'}, {hi}) of {ts_col} holds {part.height} rows, "
                f"fewer than min_rows={min_rows}; move the window bounds or lower min_rows"
            )
    return TimeSplit(parts["train"], parts["calibration"], parts["test"], windows)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ScoringReport:
    """What scoring had to paper over; ``to_dict`` is JSON-safe."""

    n_rows: int
    missing_columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    unseen_categories: dict[str, int] = field(default_factory=dict)
    null_values: dict[str, int] = field(default_factory=dict)

    @property
    def rows_with_unseen(self) -> int:
        return sum(self.unseen_categories.values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["missing_columns"] = list(self.missing_columns)
        out["extra_columns"] = list(self.extra_columns)
        return out


@dataclass(frozen=True)
class FeatureEncoder:
    """Numeric columns as float64 (null -> NaN); categorical columns as the code of their
    level among the training levels (sorted), unseen or null -> NaN."""

    features: tuple[str, ...]
    categorical: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]

    @classmethod
    def fit(cls, df: pl.DataFrame, features: list[str], categorical: list[str]) -> FeatureEncoder:
        missing = [c for c in features if c not in df.columns]
        if missing:
            raise ValueError(f"training frame has no column {missing}")
        unknown = [c for c in categorical if c not in features]
        if unknown:
            raise ValueError(f"categorical columns {unknown} are not among the features")
        for c in features:
            if (
                c not in categorical
                and not df.schema[c].is_numeric()
                and df.schema[c] != pl.Boolean
            ):
                raise ValueError(
                    f"feature {c!r} has type {df.schema[c]}; declare it categorical or cast it"
                )
        levels = {
            c: tuple(sorted(df.get_column(c).cast(pl.String).drop_nulls().unique().to_list()))
            for c in categorical
        }
        return cls(tuple(features), tuple(categorical), levels)

    @property
    def feature_types(self) -> list[str]:
        return ["c" if c in self.categorical else "q" for c in self.features]

    def transform(self, df: pl.DataFrame) -> tuple[np.ndarray, ScoringReport]:
        """Return the float64 design matrix (rows of ``df``) and what was missing or unseen."""
        present = set(df.columns)
        missing = tuple(c for c in self.features if c not in present)
        extra = tuple(sorted(present - set(self.features)))
        x = np.full((df.height, len(self.features)), np.nan, dtype=np.float64)
        unseen: dict[str, int] = {}
        nulls: dict[str, int] = {}
        for j, c in enumerate(self.features):
            if c in missing:
                continue
            col = df.get_column(c)
            if col.null_count():
                nulls[c] = col.null_count()
            if c in self.categorical:
                mapping = pl.DataFrame(
                    {"level": list(self.levels[c]), "code": range(len(self.levels[c]))},
                    schema={"level": pl.String, "code": pl.Float64},
                )
                codes = (
                    pl.DataFrame({"level": col.cast(pl.String)})
                    .join(mapping, on="level", how="left", maintain_order="left")
                    .get_column("code")
                )
                n_unseen = int((codes.is_null() & col.is_not_null()).sum())
                if n_unseen:
                    unseen[c] = n_unseen
                x[:, j] = codes.to_numpy()
            else:
                x[:, j] = col.cast(pl.Float64).fill_null(np.nan).to_numpy()
        return x, ScoringReport(df.height, missing, extra, unseen, nulls)


@dataclass
class CalibratedClassifier:
    """A fitted encoder, the calibrated xgboost model and what it was trained on."""

    encoder: FeatureEncoder
    calibrated: CalibratedClassifierCV
    label: str
    method: str
    seed: int
    params: dict[str, Any]
    summary: dict[str, Any]
    golden_batch: pl.DataFrame

    @property
    def features(self) -> list[str]:
        return list(self.encoder.features)

    @property
    def booster(self) -> XGBClassifier:
        """The uncalibrated xgboost model."""
        return self.calibrated.estimator.estimator

    def predict_proba(self, df: pl.DataFrame) -> tuple[np.ndarray, ScoringReport]:
        """Return calibrated P(label = 1) per row of ``df`` and the scoring report."""
        x, report = self.encoder.transform(df)
        if df.height == 0:
            return np.empty(0), report
        return self.calibrated.predict_proba(x)[:, 1], report


def _labels(df: pl.DataFrame, label: str, window: str) -> np.ndarray:
    if label not in df.columns:
        raise ValueError(f"{window} frame has no label column {label!r}")
    col = df.get_column(label)
    if col.null_count():
        raise ValueError(f"label {label!r} is null in {col.null_count()} {window} rows")
    y = col.cast(pl.Int64).to_numpy()
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"label {label!r} must be 0/1 in the {window} window")
    if np.unique(y).size < 2:
        raise ValueError(f"label {label!r} has a single class in the {window} window")
    return y


def train_calibrated_classifier(
    train: pl.DataFrame,
    calib: pl.DataFrame,
    features: list[str],
    label: str,
    *,
    categorical: list[str] | None = None,
    params: dict[str, Any] | None = None,
    method: Literal["isotonic", "sigmoid"] = "isotonic",
    seed: int = 0,
) -> CalibratedClassifier:
    """Fit xgboost on ``train`` and its calibration map on ``calib``; return the model.

    Refuses (ValueError): a missing feature or label, non-numeric features not declared
    categorical, a null or non-0/1 label, a window with a single class, an unknown method.
    """
    if method not in ("isotonic", "sigmoid"):
        raise ValueError(f"method must be 'isotonic' or 'sigmoid', got {method!r}")
    encoder = FeatureEncoder.fit(train, list(features), list(categorical or []))
    y_train, y_calib = _labels(train, label, "train"), _labels(calib, label, "calibration")
    x_train, _ = encoder.transform(train)
    x_calib, calib_report = encoder.transform(calib)
    merged = {**DEFAULT_PARAMS, **(params or {})}
    model = XGBClassifier(
        **merged,
        tree_method="hist",
        n_jobs=2,
        random_state=seed,
        enable_categorical=True,
        feature_types=encoder.feature_types,
        eval_metric="logloss",
    )
    model.fit(x_train, y_train)
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method=method)
    calibrated.fit(x_calib, y_calib)
    summary = {
        "train_rows": train.height,
        "train_prevalence": float(y_train.mean()),
        "calibration_rows": calib.height,
        "calibration_prevalence": float(y_calib.mean()),
        "calibration_scoring": calib_report.to_dict(),
    }
    return CalibratedClassifier(
        encoder=encoder,
        calibrated=calibrated,
        label=label,
        method=method,
        seed=seed,
        params=merged,
        summary=summary,
        golden_batch=calib.select(list(features)).head(GOLDEN_ROWS),
    )


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "xgboost": xgboost.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "polars": pl.__version__,
    }


def save_model(obj: CalibratedClassifier, directory: str | Path) -> dict[str, Path]:
    """Write ``model.pkl``, ``golden_batch.parquet`` and ``metadata.json`` (library versions,
    features, sha256 of the pickled bytes, predictions on the golden batch). Returns paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    blob = pickle.dumps(obj, protocol=5)
    paths = {
        "model": directory / "model.pkl",
        "golden_batch": directory / "golden_batch.parquet",
        "metadata": directory / "metadata.json",
    }
    paths["model"].write_bytes(blob)
    obj.golden_batch.write_parquet(paths["golden_batch"], compression="zstd", statistics=False)
    golden, _ = obj.predict_proba(pl.read_parquet(paths["golden_batch"]))
    meta = {
        "label": obj.label,
        "features": obj.features,
        "categorical": list(obj.encoder.categorical),
        "method": obj.method,
        "seed": obj.seed,
        "params": obj.params,
        "summary": obj.summary,
        "library_versions": _versions(),
        "model_sha256": hashlib.sha256(blob).hexdigest(),
        "golden_predictions": [float(v) for v in golden],
    }
    paths["metadata"].write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return paths


def load_model(directory: str | Path) -> CalibratedClassifier:
    """Load a model written by ``save_model`` and prove it predicts as it did when saved.

    Only load directories this project wrote: the model is a pickle. Raises ValueError when
    the pickle's sha256 differs from the metadata, or when the golden batch's predictions do
    not reproduce exactly (the message gives the library versions then and now).
    """
    directory = Path(directory)
    meta = json.loads((directory / "metadata.json").read_text())
    blob = (directory / "model.pkl").read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != meta["model_sha256"]:
        raise ValueError(
            f"{directory / 'model.pkl'} hashes to {digest}, metadata says "
            f"{meta['model_sha256']}: the file changed since it was saved; refusing to load"
        )
    obj: CalibratedClassifier = pickle.loads(blob)  # noqa: S301 (own artifact, hash checked)
    golden, _ = obj.predict_proba(pl.read_parquet(directory / "golden_batch.parquet"))
    expected = np.asarray(meta["golden_predictions"], dtype=np.float64)
    if golden.shape != expected.shape or not np.array_equal(golden, expected):
        diff = float(np.max(np.abs(golden - expected))) if golden.shape == expected.shape else None
        raise ValueError(
            f"golden batch of {directory} does not reproduce (max abs difference {diff}); "
            f"saved with {meta['library_versions']}, loaded with {_versions()}"
        )
    return obj
