"""The versioned model registry: ``ml.model_registry`` in the warehouse.

How a model uses it (model-agnostic: any artifact directory, metrics as a flat dict):

1. Compute a version id with ``version_id(...)`` from whatever determines the fit (the
   training set's sha256, the code version, the parameters): same inputs, same version.
2. Save the fitted artifact under ``model_artifact_dir(model, version)`` in any format, with
   a golden batch and its stored predictions (``coadv_assets.models.classifier.save_model``
   does this for the classifiers; other models store their own and prove reproduction in
   their loader).
3. Build a ``ModelVersion`` (data window, feature versions, hashes, library versions from
   ``library_versions()``, metrics, criterion, ``promoted`` = no misses from
   ``preregistration.judge``) and call ``record_version(con, mv)`` on a writer connection.
4. Scoring calls ``promoted_version(con, model)``: the most recently trained version whose
   ``promoted`` flag is true. A version that missed its criterion is recorded but never
   returned there, so scoring keeps using the last promoted one.

One row per (model, version); recording the same version again replaces its row.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import duckdb

from coadv_assets import paths

TABLE = "ml.model_registry"
DDL = """
create schema if not exists ml;
create table if not exists ml.model_registry (
    model varchar, version varchar, trained_at timestamptz, data_window json,
    feature_versions json, training_set_sha256 varchar, library_versions json,
    metrics json, criterion json, promoted boolean, promotion_reasons json,
    artifact_dir varchar, primary key (model, version)
);
alter table ml.model_registry add column if not exists code_version varchar;
alter table ml.model_registry add column if not exists preregistration_sha256 varchar;
alter table ml.model_registry add column if not exists criterion_version integer;
alter table ml.model_registry add column if not exists card_path varchar;
"""
COLUMNS = (
    "model",
    "version",
    "trained_at",
    "data_window",
    "feature_versions",
    "training_set_sha256",
    "library_versions",
    "metrics",
    "criterion",
    "promoted",
    "promotion_reasons",
    "artifact_dir",
    "code_version",
    "preregistration_sha256",
    "criterion_version",
    "card_path",
)
_JSON = {
    "data_window",
    "feature_versions",
    "library_versions",
    "metrics",
    "criterion",
    "promotion_reasons",
}
DEFAULT_LIBRARIES = ("numpy", "polars", "duckdb", "scikit-learn", "xgboost", "statsmodels")


@dataclass(frozen=True)
class ModelVersion:
    """One trained version as the registry holds it."""

    model: str
    version: str
    trained_at: dt.datetime
    data_window: dict[str, Any]
    feature_versions: dict[str, str]
    training_set_sha256: str
    library_versions: dict[str, str]
    metrics: dict[str, Any]
    criterion: dict[str, Any]
    promoted: bool
    promotion_reasons: list[str]
    artifact_dir: str
    code_version: str = ""
    preregistration_sha256: str = ""
    criterion_version: int | None = None
    card_path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def version_id(*parts: object) -> str:
    """The first 12 hex digits of the sha256 of the parts' JSON (sorted keys)."""
    text = json.dumps([_jsonable(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _jsonable(value: object) -> object:
    return str(value) if isinstance(value, Path) else value


def model_artifact_dir(model: str, version: str) -> Path:
    """``$COADV_HOME/artifacts/models/<model>/<version>`` (not created)."""
    return paths.artifacts_dir() / "models" / model / version


def library_versions(names: tuple[str, ...] = DEFAULT_LIBRARIES) -> dict[str, str]:
    """Installed version of each distribution named (``"absent"`` when not installed)."""
    out = {}
    for name in names:
        try:
            out[name] = package_version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ml.model_registry`` (and add columns newer than an existing table)."""
    con.execute(DDL)


def record_version(con: duckdb.DuckDBPyConnection, mv: ModelVersion) -> None:
    """Insert (or replace) the row of ``mv``. Refuses an empty model or version name."""
    if not mv.model or not mv.version:
        raise ValueError("a registry row needs a model name and a version")
    ensure_table(con)
    values = []
    for col in COLUMNS:
        v = getattr(mv, col)
        values.append(json.dumps(v, sort_keys=True, default=str) if col in _JSON else v)
    con.execute(f"delete from {TABLE} where model = ? and version = ?", [mv.model, mv.version])
    placeholders = ", ".join("?" for _ in COLUMNS)
    con.execute(f"insert into {TABLE} ({', '.join(COLUMNS)}) values ({placeholders})", values)


def _read(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[ModelVersion]:
    exists = con.sql(
        "select count(*) from information_schema.tables "
        "where table_schema = 'ml' and table_name = 'model_registry'"
    ).fetchall()[0][0]
    if not exists:
        return []
    have = {
        r[0]
        for r in con.sql(
            "select column_name from information_schema.columns "
            "where table_schema = 'ml' and table_name = 'model_registry'"
        ).fetchall()
    }
    cols = [c for c in COLUMNS if c in have]
    rows = con.sql(
        f"select {', '.join(cols)} from {TABLE} where {where} order by trained_at desc",
        params=params,
    ).fetchall()
    out = []
    for row in rows:
        rec: dict[str, Any] = {c: None for c in COLUMNS}
        rec.update(dict(zip(cols, row, strict=True)))
        for c in _JSON:
            rec[c] = json.loads(rec[c]) if rec[c] is not None else None
        rec["code_version"] = rec["code_version"] or ""
        rec["preregistration_sha256"] = rec["preregistration_sha256"] or ""
        rec["card_path"] = rec["card_path"] or ""
        out.append(ModelVersion(**rec))
    return out


def versions(con: duckdb.DuckDBPyConnection, model: str) -> list[ModelVersion]:
    """Every recorded version of ``model``, newest first (empty when none or no table)."""
    return _read(con, "model = ?", [model])


def get_version(con: duckdb.DuckDBPyConnection, model: str, version: str) -> ModelVersion:
    """The row of one version. Raises LookupError naming the model and version."""
    found = _read(con, "model = ? and version = ?", [model, version])
    if not found:
        raise LookupError(f"{TABLE} holds no version {version!r} of model {model!r}")
    return found[0]


def promoted_version(con: duckdb.DuckDBPyConnection, model: str) -> ModelVersion | None:
    """The most recently trained promoted version of ``model``, or None when none passed."""
    found = _read(con, "model = ? and promoted", [model])
    return found[0] if found else None
