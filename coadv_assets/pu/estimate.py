"""One estimate of `τ` (or a refusal) and the helpers every method of a readout shares."""

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

OUTCOMES = {"c_r": "USD per PU", "pu_per_hour": "PUs per hour"}
ROLES = ("primary", "secondary", "naive")


@dataclass(frozen=True)
class Estimate:
    """One estimate of τ (or a refusal) for one function, outcome and method.

    ``assumptions`` says which identifying assumptions were checked, how, and with what
    result; ``tables`` carries plot data (event study, synthetic-control gaps) and is not
    stored in the readout table.
    """

    function: str
    outcome: str
    unit: str
    method: str
    status: str  # "estimated" or "refused"
    role: str = "secondary"
    estimate: float | None = None
    std_error: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    estimate_pct: float | None = None
    ci_low_pct: float | None = None
    ci_high_pct: float | None = None
    n_obs: int | None = None
    reason: str | None = None
    assumptions: str | None = None
    diagnostics: str | None = None
    tables: dict[str, pl.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    def to_row(self) -> dict[str, Any]:
        """The estimate as a flat row of pu.tau_readouts (without the plot tables)."""
        row = asdict(self)
        row.pop("tables")
        return row

    def covers(self, value: float) -> bool:
        """True when the interval is estimated and contains ``value``."""
        return (
            self.status == "estimated"
            and self.ci_low is not None
            and self.ci_high is not None
            and self.ci_low <= value <= self.ci_high
        )


def refusal(function: str, outcome: str, method: str, role: str, reason: str) -> Estimate:
    """An Estimate recording that ``method`` refused, and why."""
    return Estimate(function, outcome, OUTCOMES[outcome], method, "refused", role, reason=reason)


def estimated(
    function: str,
    outcome: str,
    method: str,
    role: str,
    *,
    estimate: float,
    std_error: float,
    ci: tuple[float, float],
    counterfactual: float,
    n_obs: int,
    assumptions: str,
    diagnostics: object,
    tables: dict[str, pl.DataFrame] | None = None,
) -> Estimate:
    """An Estimate with percent figures relative to ``counterfactual`` (taken as fixed)."""

    def pct(value: float) -> float | None:
        if not math.isfinite(value) or counterfactual == 0:
            return None
        return 100.0 * value / counterfactual

    return Estimate(
        function,
        outcome,
        OUTCOMES[outcome],
        method,
        "estimated",
        role,
        estimate=float(estimate),
        std_error=float(std_error),
        ci_low=float(ci[0]),
        ci_high=float(ci[1]),
        estimate_pct=pct(estimate),
        ci_low_pct=pct(ci[0]),
        ci_high_pct=pct(ci[1]),
        n_obs=int(n_obs),
        assumptions=assumptions,
        diagnostics=to_json(diagnostics),
        tables=tables or {},
    )


def to_json(value: object) -> str:
    """Canonical JSON of a diagnostics dict (numpy scalars and frames made plain)."""

    def default(obj: object) -> object:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, pl.DataFrame):
            return obj.to_dicts()
        if hasattr(obj, "to_dict"):
            return obj.to_dict(orient="records")  # pandas frames from the estimators
        return str(obj)

    return json.dumps(value, default=default, sort_keys=True)
