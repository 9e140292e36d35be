"""Registry row, model card and embedded plot for the forecast, staffing and pricing models.

One call after a model has been judged: writes the card from the run's facts, records the
version in ``ml.model_registry`` (promoted exactly when the pre-registration's criterion is
met) and returns the card's path.
"""

import base64
import datetime as dt
from pathlib import Path

import duckdb

from coadv_assets.models import cards, registry
from coadv_assets.models.preregistration import Preregistration

LIBRARIES = ("numpy", "polars", "duckdb", "scipy", "statsmodels")


def record(
    con: duckdb.DuckDBPyConnection,
    prereg: Preregistration,
    *,
    version: str,
    purpose: str,
    data_window: dict,
    rows: dict[str, int],
    features: list[dict[str, str]],
    validation: str,
    metrics: dict[str, float],
    card_metrics: list[cards.Metric],
    misses: list[str],
    artifact_dir: Path,
    code_version: str,
) -> Path:
    """Write the card and the registry row of one version; return the card's path."""
    trained_at = dt.datetime.now(dt.UTC)
    facts = cards.CardFacts(
        model=prereg.model,
        version=version,
        purpose=purpose,
        trained_at=trained_at,
        data_window=data_window,
        training_rows=rows,
        features=features,
        validation_strategy=validation,
        metrics=card_metrics,
        preregistration=prereg,
        misses=misses,
        promoted=not misses,
        artifact_dir=artifact_dir,
        hashes={"code_version": code_version, "preregistration_sha256": prereg.sha256},
        library_versions=registry.library_versions(LIBRARIES),
    )
    path = cards.write_card(facts)
    registry.record_version(
        con,
        registry.ModelVersion(
            model=prereg.model,
            version=version,
            trained_at=trained_at,
            data_window=data_window,
            feature_versions={f["name"]: f.get("version", "") for f in features},
            training_set_sha256="",
            library_versions=registry.library_versions(LIBRARIES),
            metrics=metrics,
            criterion=prereg.success_criterion,
            promoted=not misses,
            promotion_reasons=misses,
            artifact_dir=str(artifact_dir),
            code_version=code_version,
            preregistration_sha256=prereg.sha256,
            criterion_version=prereg.criterion_version,
            card_path=str(path),
        ),
    )
    return path


def image_md(path: Path, alt: str) -> str:
    """Markdown embedding the PNG at ``path`` as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"![{alt}](data:image/png;base64,{data})"
