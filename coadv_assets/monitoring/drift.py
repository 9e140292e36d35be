"""Data drift between a reference and a current window, on evidently 0.7.

Cases decided here, before evidently sees the data, because its scores are wrong or
undefined for them:

- fewer than ``min_rows`` rows in either window: status ``insufficient_data``, nothing is
  scored, nothing pages;
- a column with no non-missing value in the current window: alert
  ``column X empty in current window`` (in the reference window: alert as well);
- a column holding one and the same value in both windows: ``constant, no drift``, no score;
  one constant value in each window but different values: drift (``constant_shift``);
- a categorical level present in the current window but not in the reference: alert naming
  the level and its row count (the column is still scored by evidently).

Missing-value rule of the polars -> pandas conversion: numerical columns become float64 with
null and NaN both as NaN (missing); categorical columns become strings (object dtype) with
null as None. Both count as missing everywhere in this module.

Every other column goes to ``DataDriftPreset`` with explicit numerical and categorical
columns. Above 1,000 reference rows evidently scores with distances (drift when the score
is at or above the threshold); below, with p-values (drift when below). The drifted flag is
read from evidently's own per-column test, so both cases are handled the same way. Status:
``alert`` if any alert, else ``drift`` if the share of drifted scored columns reaches
``drift_share``, else ``ok``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl

Status = Literal["ok", "drift", "insufficient_data", "alert"]


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict; ``score`` is None for columns decided before evidently."""

    column: str
    kind: Literal["numerical", "categorical"]
    status: Literal["scored", "constant", "constant_shift", "empty_current", "empty_reference"]
    drifted: bool
    score: float | None = None
    method: str | None = None
    threshold: float | None = None
    new_categories: dict[str, int] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class DriftResult:
    """Verdict over all columns; ``pages`` is True for ``drift`` and ``alert``."""

    status: Status
    message: str
    drift_share: float | None
    columns: tuple[ColumnDrift, ...]
    alerts: tuple[str, ...]
    reference_rows: int
    current_rows: int
    html_path: Path | None = None

    @property
    def pages(self) -> bool:
        return self.status in ("drift", "alert")

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(f"column {name!r} was not part of this drift check")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["html_path"] = None if self.html_path is None else str(self.html_path)
        out["columns"] = [asdict(c) for c in self.columns]
        out["alerts"] = list(self.alerts)
        return out


def to_pandas(df: pl.DataFrame, numerical: list[str], categorical: list[str]) -> pd.DataFrame:
    """Return a pandas frame under the module's missing-value rule (float64 NaN, str/None)."""
    data: dict[str, Any] = {}
    for c in numerical:
        data[c] = df.get_column(c).cast(pl.Float64).to_numpy().astype(np.float64, copy=True)
    for c in categorical:
        data[c] = pd.Series(df.get_column(c).cast(pl.String).to_list(), dtype=object)
    return pd.DataFrame(data)


def _present(series: pd.Series) -> pd.Series:
    return series.dropna()


def _fmt(value: Any) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def _precheck(
    name: str, kind: Literal["numerical", "categorical"], ref: pd.Series, cur: pd.Series
) -> ColumnDrift | None:
    """Decide a column without evidently when its score would be wrong; None to score it."""
    ref_v, cur_v = _present(ref), _present(cur)
    if cur_v.empty:
        msg = f"column {name} empty in current window ({cur.size} rows, all missing)"
        return ColumnDrift(name, kind, "empty_current", False, message=msg)
    if ref_v.empty:
        msg = f"column {name} empty in reference window ({ref.size} rows, all missing)"
        return ColumnDrift(name, kind, "empty_reference", False, message=msg)
    ref_u, cur_u = ref_v.unique(), cur_v.unique()
    if len(ref_u) == 1 and len(cur_u) == 1:
        if ref_u[0] == cur_u[0]:
            msg = f"column {name}: constant, no drift ({_fmt(ref_u[0])} in both windows)"
            return ColumnDrift(name, kind, "constant", False, message=msg)
        msg = f"column {name} constant {_fmt(ref_u[0])} in reference, {_fmt(cur_u[0])} now"
        return ColumnDrift(name, kind, "constant_shift", True, method="constant", message=msg)
    return None


def _new_categories(ref: pd.Series, cur: pd.Series) -> dict[str, int]:
    known = set(_present(ref).unique())
    counts = _present(cur).value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items()) if k not in known}


def _run_evidently(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    numerical: list[str],
    categorical: list[str],
    threshold: float | None,
    drift_share: float,
    html_path: Path | None,
) -> tuple[dict[str, dict[str, Any]], float]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    cols = numerical + categorical
    preset = DataDriftPreset(columns=cols, threshold=threshold, drift_share=drift_share)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([preset], include_tests=True).run(
            Dataset.from_pandas(cur[cols], data_definition=definition),
            Dataset.from_pandas(ref[cols], data_definition=definition),
        )
    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(html_path))
    data = snapshot.dict()
    per_column: dict[str, dict[str, Any]] = {}
    by_metric: dict[str, str] = {}
    share = math.nan
    for metric in data["metrics"]:
        cfg = metric["config"]
        if cfg["type"].endswith("ValueDrift"):
            per_column[cfg["column"]] = {
                "score": float(metric["value"]),
                "method": cfg.get("method"),
                "threshold": cfg.get("threshold"),
                "drifted": None,
            }
            by_metric[metric["id"]] = cfg["column"]
        elif cfg["type"].endswith("DriftedColumnsCount"):
            share = float(metric["value"]["share"])
    for test in data.get("tests", []):
        column = by_metric.get(test.get("metric_config", {}).get("metric_id", ""))
        if column is not None:
            per_column[column]["drifted"] = test["status"] == "FAIL"
    return per_column, share


def detect_drift(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    numerical: list[str],
    categorical: list[str],
    *,
    min_rows: int = 100,
    threshold: float | None = None,
    drift_share: float = 0.5,
    html_path: str | Path | None = None,
) -> DriftResult:
    """Compare ``current`` with ``reference`` column by column; return a ``DriftResult``.

    ``threshold`` overrides evidently's per-method default (p-value 0.05 or distance 0.1).
    The HTML report is written to ``html_path`` when given and when evidently ran.
    Refuses (ValueError): a column listed twice or absent from the reference frame. A column
    absent from the current frame is treated as empty there (an alert).
    """
    dup = set(numerical) & set(categorical)
    if dup or len(set(numerical)) != len(numerical) or len(set(categorical)) != len(categorical):
        raise ValueError(f"columns listed twice: {sorted(dup) or 'within one list'}")
    absent = [c for c in numerical + categorical if c not in reference.columns]
    if absent:
        raise ValueError(f"reference window has no column {absent}; fix the column lists")
    n_ref, n_cur = reference.height, current.height
    if n_ref < min_rows or n_cur < min_rows:
        msg = (
            f"insufficient data: reference {n_ref} rows, current {n_cur} rows, "
            f"min_rows {min_rows}; drift not assessed"
        )
        return DriftResult("insufficient_data", msg, None, (), (), n_ref, n_cur)
    missing_now = [c for c in numerical + categorical if c not in current.columns]
    if missing_now:
        current = current.with_columns(pl.lit(None).alias(c) for c in missing_now)
    ref = to_pandas(reference, numerical, categorical)
    cur = to_pandas(current, numerical, categorical)

    decided: dict[str, ColumnDrift] = {}
    new_levels: dict[str, dict[str, int]] = {}
    for name in numerical + categorical:
        kind: Literal["numerical", "categorical"] = (
            "numerical" if name in numerical else "categorical"
        )
        verdict = _precheck(name, kind, ref[name], cur[name])
        if verdict is not None:
            decided[name] = verdict
        elif kind == "categorical":
            new_levels[name] = _new_categories(ref[name], cur[name])

    scored_num = [c for c in numerical if c not in decided]
    scored_cat = [c for c in categorical if c not in decided]
    path = None if html_path is None else Path(html_path)
    per_column: dict[str, dict[str, Any]] = {}
    if scored_num or scored_cat:
        per_column, _ = _run_evidently(
            ref, cur, scored_num, scored_cat, threshold, drift_share, path
        )
    else:
        path = None

    columns: list[ColumnDrift] = []
    alerts: list[str] = []
    for name in numerical + categorical:
        if name in decided:
            columns.append(decided[name])
            if decided[name].status in ("empty_current", "empty_reference"):
                alerts.append(decided[name].message)
            continue
        kind = "numerical" if name in numerical else "categorical"
        res = per_column.get(name)
        new = new_levels.get(name, {})
        if new:
            listed = ", ".join(f"{k!r} ({v} rows)" for k, v in new.items())
            alerts.append(f"new category in column {name} in current window: {listed}")
        if res is None or res["score"] is None or math.isnan(res["score"]):
            msg = f"column {name}: drift score undefined; check its values"
            alerts.append(msg)
            columns.append(
                ColumnDrift(name, kind, "scored", False, new_categories=new, message=msg)
            )
            continue
        drifted = bool(res["drifted"])
        msg = f"column {name}: {res['method']} {res['score']:.4g} (threshold {res['threshold']})"
        columns.append(
            ColumnDrift(
                name,
                kind,
                "scored",
                drifted,
                res["score"],
                res["method"],
                res["threshold"],
                new,
                msg + (", drift" if drifted else ", no drift"),
            )
        )

    drifted_names = [c.column for c in columns if c.drifted]
    # evidently's share over the scored columns, with constant shifts counted as drifted
    n_assessed = sum(c.status in ("scored", "constant_shift") for c in columns)
    share = len(drifted_names) / n_assessed if n_assessed else None
    if alerts:
        status: Status = "alert"
    elif share is not None and share >= drift_share:
        status = "drift"
    else:
        status = "ok"
    summary = (
        f"{len(drifted_names)} of {len(columns)} columns drifted"
        + (f" ({', '.join(drifted_names)})" if drifted_names else "")
        + ("" if share is None else f", drift share {share:.2f} (page at {drift_share:.2f})")
    )
    message = "; ".join([*alerts, summary])
    return DriftResult(status, message, share, tuple(columns), tuple(alerts), n_ref, n_cur, path)
