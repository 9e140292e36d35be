"""Common shape of every estimator's result: an immutable record with a readable summary."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


def json_safe(value: Any) -> Any:
    """Convert numpy scalars, arrays, data frames and NaN into JSON-serialisable values."""
    if isinstance(value, pd.DataFrame):
        return [json_safe(rec) for rec in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return json_safe(value.to_dict())
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if value is None or isinstance(value, str | int):
        return value
    return str(value)


def normal_ci(estimate: float, se: float, alpha: float) -> tuple[float, float]:
    """Two-sided normal interval of level 1 - alpha."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    return estimate - z * se, estimate + z * se


def t_ci(estimate: float, se: float, alpha: float, dof: float) -> tuple[float, float]:
    """Two-sided Student-t interval of level 1 - alpha with `dof` degrees of freedom."""
    q = float(stats.t.ppf(1 - alpha / 2, dof))
    return estimate - q * se, estimate + q * se


def _fmt(x: Any) -> str:
    if isinstance(x, float | np.floating):
        return f"{float(x):.4g}"
    return str(x)


@dataclass(frozen=True, eq=False, kw_only=True)
class EstimateResult:
    """Fields shared by every estimator.

    `estimate` is the headline effect in outcome units, `std_error` its standard error,
    `ci_low`/`ci_high` the (1 - alpha) interval, `n_obs` the rows used after dropping missing
    values, `method` a short name, and `diagnostics` what identifies the method (pre-trend
    test, balance, fit, placebo p-value) plus `dropped_rows`.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    n_obs: int
    method: str
    diagnostics: dict[str, Any] = field(default_factory=dict)
    alpha: float = 0.05

    def _tables(self) -> dict[str, pd.DataFrame]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), pd.DataFrame)
        }

    def summary(self) -> str:
        """Readable text: headline estimate with interval, diagnostics, then each table."""
        level = round(100 * (1 - self.alpha))
        lines = [
            f"{self.method}",
            f"  estimate   {self.estimate:.6g}  (SE {self.std_error:.4g})",
            f"  {level}% CI     [{self.ci_low:.6g}, {self.ci_high:.6g}]",
            f"  n_obs      {self.n_obs}",
            "  diagnostics:",
        ]
        for key, val in self.diagnostics.items():
            if isinstance(val, dict):
                inner = ", ".join(f"{k}={_fmt(v)}" for k, v in val.items())
                lines.append(f"    {key}: {inner}")
            elif isinstance(val, list | tuple) and len(val) > 8:
                lines.append(f"    {key}: [{len(val)} values]")
            else:
                lines.append(f"    {key}: {_fmt(val)}")
        for name, table in self._tables().items():
            lines.append(f"  {name}:")
            text = table.to_string(index=False, float_format=lambda v: f"{v:.4g}", max_rows=40)
            lines.extend("    " + row for row in text.splitlines())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-safe values (tables become lists of records, NaN becomes None)."""
        return {f.name: json_safe(getattr(self, f.name)) for f in dataclasses.fields(self)}
