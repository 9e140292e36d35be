"""Batch scoring with the last promoted version of a model, written to ``ml.scores``.

Policy for input that differs from training (the classifier's ``ScoringReport``): a
categorical level never seen in training is scored as missing, a declared feature absent
from the frame is scored as all-missing, a column the model does not use is ignored. None of
these fails the batch; each is counted (rows with an unseen level, rows with any missing
feature value, missing and extra columns) and returned for the asset's metadata, and each
row carries ``input_issues`` (null when clean).

Only a promoted version scores: a version that missed its criterion is recorded in the
registry but never loaded here, so scoring keeps using the last one that passed.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from coadv_assets.models import classifier, registry
from coadv_assets.warehouse import connect

POLICY = (
    "Input that differs from training does not fail a batch. A categorical level never seen "
    "in training is scored as missing (xgboost's learnt default direction); a declared "
    "feature absent from the frame is scored as all-missing; a column the model does not "
    "use is ignored. Rows with an unseen level or a missing value are counted in the "
    "scoring asset's metadata and flagged per row in ml.scores.input_issues."
)
SCORES_DDL = """
create schema if not exists ml;
create table if not exists ml.scores (
    model varchar, model_version varchar, entity_id varchar, client_id varchar,
    as_of timestamptz, target_date date, prediction double, input_issues varchar,
    scored_at timestamptz
);
"""


@dataclass(frozen=True)
class ScoreResult:
    """What one batch wrote; ``version`` is None when no version was ever promoted."""

    version: str | None
    rows: int
    scores: pl.DataFrame
    counts: dict[str, Any] = field(default_factory=dict)


def row_issues(model: classifier.CalibratedClassifier, frame: pl.DataFrame) -> pl.Series:
    """Per row, the features scored as missing (``unseen:<col>``, ``null:<col>``,
    ``absent:<col>``) joined by commas, or null when the row is clean."""
    parts = []
    for c in model.features:
        if c not in frame.columns:
            parts.append(pl.lit(f"absent:{c}"))
            continue
        parts.append(pl.when(pl.col(c).is_null()).then(pl.lit(f"null:{c}")))
        if c in model.encoder.categorical:
            levels = list(model.encoder.levels[c])
            parts.append(
                pl.when(pl.col(c).is_not_null() & ~pl.col(c).cast(pl.String).is_in(levels)).then(
                    pl.lit(f"unseen:{c}")
                )
            )
    if not parts:
        return pl.Series("input_issues", [None] * frame.height, dtype=pl.String)
    out = frame.select(pl.concat_str(parts, separator=",", ignore_nulls=True).alias("x"))["x"]
    return out.replace("", None).alias("input_issues")


def score_batch(
    db_path: Path,
    model_name: str,
    frame: pl.DataFrame,
    *,
    entity_col: str,
    as_of: dt.datetime,
    target_col: str | None = None,
) -> ScoreResult:
    """Score ``frame`` with the last promoted version of ``model_name`` and replace that
    model's rows of ``ml.scores`` for ``as_of``; return the scores and the counts.

    Returns a ScoreResult with ``version=None`` (and writes nothing) when no version was ever
    promoted. Raises ValueError when the promoted version's artifact fails its golden-batch
    reproduction (see ``classifier.load_model``): scoring with a model that does not predict
    as it did when judged would be worse than not scoring.
    """
    with connect(db_path, read_only=True) as con:
        mv = registry.promoted_version(con, model_name)
    if mv is None:
        return ScoreResult(None, 0, pl.DataFrame(), {"reason": "no promoted version"})
    model = classifier.load_model(mv.artifact_dir)
    p, report = model.predict_proba(frame)
    issues = row_issues(model, frame)
    target = (
        frame[target_col].cast(pl.Date)
        if target_col
        else pl.Series([None] * frame.height, dtype=pl.Date)
    )
    scores = pl.DataFrame(
        {
            "model": [model_name] * frame.height,
            "model_version": [mv.version] * frame.height,
            "entity_id": frame[entity_col].cast(pl.String),
            "client_id": frame["client_id"].cast(pl.String),
            "as_of": pl.Series([as_of] * frame.height, dtype=pl.Datetime("us", "UTC")),
            "target_date": target,
            "prediction": pl.Series(np.asarray(p, dtype=np.float64)),
            "input_issues": issues,
            "scored_at": pl.Series(
                [dt.datetime.now(dt.UTC)] * frame.height, dtype=pl.Datetime("us", "UTC")
            ),
        }
    )
    with connect(db_path) as con:
        con.execute(SCORES_DDL)
        con.execute("delete from ml.scores where model = ? and as_of = ?", [model_name, as_of])
        con.register("incoming_scores", scores.to_arrow())
        con.execute("insert into ml.scores by name select * from incoming_scores")
        con.unregister("incoming_scores")
    counts = {
        "rows_scored": frame.height,
        "rows_with_input_issues": int(issues.is_not_null().sum()),
        "rows_with_unseen_category": int(issues.str.contains("unseen:").fill_null(False).sum()),
        "unseen_categories": report.unseen_categories,
        "null_values": report.null_values,
        "missing_columns": list(report.missing_columns),
        "extra_columns": list(report.extra_columns),
    }
    return ScoreResult(mv.version, frame.height, scores, counts)
