"""Input handling shared by the estimators: polars or pandas in, a clean pandas frame out.

Missing-value rule: a row with a missing value (null or NaN) in any column the estimator uses,
the cluster id included, is dropped; the count is reported as diagnostics['dropped_rows'].
Columns listed in `null_means_never` (the first-treatment column) are exempt: there a null
means "never treated" (numeric columns: it becomes 0; date columns keep the null).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from estimators._errors import IdentificationError, InputError


def to_pandas(df: Any) -> pd.DataFrame:
    """Return a pandas copy of a pandas or polars frame; refuse anything else."""
    if isinstance(df, pd.DataFrame):
        return df.copy()
    to_pd = getattr(df, "to_pandas", None)
    if to_pd is not None and type(df).__module__.startswith("polars"):
        return to_pd()
    raise InputError(f"expected a pandas or polars DataFrame, got {type(df).__name__}")


def prepare(
    df: Any,
    columns: Sequence[str | None],
    *,
    null_means_never: Iterable[str] = (),
    numeric: Iterable[str] = (),
) -> tuple[pd.DataFrame, int]:
    """Select the used columns, fill never-treated nulls, drop incomplete rows.

    Returns the cleaned frame (fresh index) and the number of rows dropped. Refuses with
    InputError when a column is missing, a `numeric` column is not numeric, or nothing is left.
    """
    frame = to_pandas(df)
    used = list(dict.fromkeys(c for c in columns if c is not None))
    missing = [c for c in used if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; the frame has {list(frame.columns)[:20]}")
    frame = frame[used]
    never_cols = list(null_means_never)
    for col in never_cols:
        if pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].where(frame[col].notna(), 0)
    for col in numeric:
        if not pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(
            frame[col]
        ):
            try:
                frame[col] = pd.to_numeric(frame[col])
            except (TypeError, ValueError) as exc:
                raise InputError(f"column {col!r} must be numeric ({exc})") from exc
    n_before = len(frame)
    subset = [c for c in used if c not in never_cols]
    frame = frame.dropna(how="any", subset=subset).reset_index(drop=True)
    if len(frame) == 0:
        raise InputError(f"no complete rows in columns {used} ({n_before} rows, all dropped)")
    return frame, n_before - len(frame)


def time_positions(
    times: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct time values and each row's position (0-based) among them."""
    values = np.sort(times.unique())
    pos = np.searchsorted(values, times.to_numpy())
    return values, pos


def cohort_positions(first: pd.Series, tvals: np.ndarray) -> np.ndarray:
    """Position of each first-treatment value on the time grid.

    Never treated (0) gives -1. A value after the last period gives -1 too (never treated within
    the window). A value between grid points maps to the first period at or after it.
    """
    raw = first.to_numpy()
    never = pd.isna(first).to_numpy()
    if pd.api.types.is_numeric_dtype(first):
        never |= raw == 0
    pos = np.full(len(raw), -1, dtype=np.int64)
    valid = ~never
    if valid.any():
        try:
            p = np.searchsorted(tvals, raw[valid].astype(tvals.dtype), side="left")
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"first-treatment column {first.name!r} is not comparable with the time column"
            ) from exc
        p = np.where(p >= len(tvals), -1, p)
        pos[valid] = p
    return pos


def require_balanced(frame: pd.DataFrame, unit: str, time: str) -> None:
    """Refuse (IdentificationError) a panel where some unit lacks some period or has duplicates."""
    counts = frame.groupby(unit, sort=False)[time].agg(["size", "nunique"])
    n_times = frame[time].nunique()
    dup = counts["size"] != counts["nunique"]
    if dup.any():
        raise InputError(
            f"{int(dup.sum())} unit(s) have duplicate ({unit}, {time}) rows, "
            f"e.g. {counts.index[dup][:3].tolist()}; aggregate to one row per unit and period"
        )
    short = counts["nunique"] < n_times
    if short.any():
        raise IdentificationError(
            f"unbalanced panel: {int(short.sum())} of {len(counts)} units lack some of the "
            f"{n_times} periods (after dropping rows with missing values), e.g. "
            f"{counts.index[short][:3].tolist()}; this estimator requires a balanced panel"
        )


def constant_within(frame: pd.DataFrame, unit: str, col: str) -> pd.Series:
    """Per-unit value of a column that must not vary within unit; refuse if it does."""
    nun = frame.groupby(unit, sort=False)[col].nunique()
    if (nun > 1).any():
        bad = nun.index[nun > 1][:3].tolist()
        raise InputError(f"column {col!r} varies within {unit!r} for units {bad}")
    return frame.groupby(unit, sort=False)[col].first()
