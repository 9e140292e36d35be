"""Pre-registrations: the signed success criterion a model is judged against.

How a model uses this module (any model: classifier, forecast, staffing, pricing):

1. Before the first training run, write ``model_cards/<model>/preregistration.yaml`` with at
   least ``model``, ``criterion_version``, ``signed_by``, ``signed_at`` (an ISO date),
   ``question``, ``success_criterion`` and ``reconciliation_plan``; optional fields
   (``population``, ``validation``, ``known_failure_modes``) are carried to the card.
2. The training asset calls ``load_preregistration(model)`` first thing. It raises
   ``PreregistrationError`` (and the asset should turn it into ``dg.Failure``) when the file
   is missing, unsigned, signed in the future or lacks a field: no training happens.
3. After evaluation the asset calls ``judge(metrics, prereg.success_criterion)`` with its
   validation figures as a flat ``{name: number}`` dict; the returned list of misses is
   empty exactly when the criterion is met. That list feeds the registry's ``promoted`` flag
   and the blocking ``promotion_gate`` check.

Criterion language (each key of ``success_criterion``; ``<m>`` names a key of ``metrics``):

- ``<m>_min: x``       metrics[m] >= x
- ``<m>_max: x``       metrics[m] <= x
- ``<m>_abs_max: x``   |metrics[m]| <= x
- ``min_<m>: x`` / ``max_<m>: x``   the same as the suffix forms (kept for older files)
- ``<m>: [lo, hi]``    lo <= metrics[m] <= hi

A criterion naming a metric the model did not report is a miss, never silently passed.
Changing a criterion means a new signed file with a new ``criterion_version``.
"""

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coadv_assets import paths

REQUIRED_FIELDS = (
    "model",
    "criterion_version",
    "signed_by",
    "signed_at",
    "question",
    "success_criterion",
    "reconciliation_plan",
)
FILE_NAME = "preregistration.yaml"


class PreregistrationError(ValueError):
    """The pre-registration is missing or invalid; the model must not be trained."""


@dataclass(frozen=True)
class Preregistration:
    """A signed pre-registration as read from its YAML file."""

    model: str
    criterion_version: int
    signed_by: str
    signed_at: dt.date
    question: str
    success_criterion: dict[str, Any]
    reconciliation_plan: str
    path: Path
    sha256: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def known_failure_modes(self) -> list[str]:
        return [str(m) for m in self.extra.get("known_failure_modes", []) or []]


def preregistration_path(model: str, root: Path | None = None) -> Path:
    """Where the pre-registration of ``model`` lives (``model_cards/<model>/...``)."""
    return (root or paths.MODEL_CARDS_DIR) / model / FILE_NAME


def load_preregistration(
    model: str, root: Path | None = None, *, today: dt.date | None = None
) -> Preregistration:
    """Read and validate the pre-registration of ``model``; return it.

    Refuses (PreregistrationError, naming the file and the rule): a missing file, a file that
    is not a YAML mapping, a missing or empty required field, a ``model`` field naming another
    model, a ``signed_at`` that is not a date or lies after ``today`` (default: today in
    UTC), and a criterion whose entries are not numbers or ``[lo, hi]`` pairs.
    """
    path = preregistration_path(model, root)
    if not path.exists():
        raise PreregistrationError(
            f"no pre-registration for model {model!r} at {path}: a model is not trained "
            "before its success criterion and reconciliation plan are written and signed; "
            f"write {FILE_NAME} there (fields: {', '.join(REQUIRED_FIELDS)})"
        )
    raw_bytes = path.read_bytes()
    raw = yaml.safe_load(raw_bytes)
    if not isinstance(raw, dict):
        raise PreregistrationError(f"{path} is not a YAML mapping")
    missing = [f for f in REQUIRED_FIELDS if raw.get(f) in (None, "", [], {})]
    if missing:
        raise PreregistrationError(
            f"{path} lacks {', '.join(repr(f) for f in missing)}; the model is not trained "
            "until the pre-registration is complete and signed"
        )
    if raw["model"] != model:
        raise PreregistrationError(f"{path} pre-registers {raw['model']!r}, not {model!r}")
    signed_at = raw["signed_at"]
    if isinstance(signed_at, str):
        try:
            signed_at = dt.date.fromisoformat(signed_at)
        except ValueError as exc:
            raise PreregistrationError(f"{path}: signed_at {signed_at!r} is no date") from exc
    if isinstance(signed_at, dt.datetime):
        signed_at = signed_at.date()
    if not isinstance(signed_at, dt.date):
        raise PreregistrationError(f"{path}: signed_at {signed_at!r} is no date")
    today = today or dt.datetime.now(dt.UTC).date()
    if signed_at > today:
        raise PreregistrationError(
            f"{path}: signed_at {signed_at} lies after today ({today}); a pre-registration "
            "is signed before training, not dated ahead"
        )
    criterion = raw["success_criterion"]
    if not isinstance(criterion, dict):
        raise PreregistrationError(f"{path}: success_criterion must be a mapping")
    for key, bound in criterion.items():
        _parse_rule(key, bound, path)
    extra = {k: v for k, v in raw.items() if k not in REQUIRED_FIELDS}
    return Preregistration(
        model=model,
        criterion_version=int(raw["criterion_version"]),
        signed_by=str(raw["signed_by"]),
        signed_at=signed_at,
        question=str(raw["question"]).strip(),
        success_criterion=dict(criterion),
        reconciliation_plan=str(raw["reconciliation_plan"]).strip(),
        path=path,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        extra=extra,
    )


def _parse_rule(key: str, bound: Any, where: Path | str) -> tuple[str, str, Any]:
    """Return (metric, kind, bound) with kind in min, max, abs_max, range."""
    if isinstance(bound, list):
        if len(bound) != 2 or not all(_is_number(b) for b in bound) or bound[0] > bound[1]:
            raise PreregistrationError(f"{where}: criterion {key!r} must be [lo, hi], lo <= hi")
        return key, "range", (float(bound[0]), float(bound[1]))
    if not _is_number(bound):
        raise PreregistrationError(f"{where}: criterion {key!r} must be a number, got {bound!r}")
    for suffix, kind in (("_abs_max", "abs_max"), ("_min", "min"), ("_max", "max")):
        if key.endswith(suffix):
            return key[: -len(suffix)], kind, float(bound)
    for prefix, kind in (("min_", "min"), ("max_", "max")):
        if key.startswith(prefix):
            return key[len(prefix) :], kind, float(bound)
    raise PreregistrationError(
        f"{where}: criterion {key!r} has no rule; name it <metric>_min, <metric>_max, "
        "<metric>_abs_max, or give [lo, hi]"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def judge(metrics: Mapping[str, float], criterion: Mapping[str, Any]) -> list[str]:
    """Return why ``metrics`` miss ``criterion`` (one sentence per miss; empty = met).

    A metric that is missing, None or NaN misses its rule. Raises PreregistrationError for a
    rule it cannot read (see the module docstring for the language).
    """
    misses = []
    for key, bound in criterion.items():
        metric, kind, value = _parse_rule(key, bound, "success_criterion")
        got = metrics.get(metric)
        if got is None or not math.isfinite(float(got)):
            misses.append(f"{metric} was not reported (criterion {key}: {bound})")
            continue
        got = float(got)
        if kind == "min" and got < value:
            misses.append(f"{metric} {got:.4g} < {value:g} (minimum)")
        elif kind == "max" and got > value:
            misses.append(f"{metric} {got:.4g} > {value:g} (maximum)")
        elif kind == "abs_max" and abs(got) > value:
            misses.append(f"|{metric}| {abs(got):.4g} > {value:g} (maximum)")
        elif kind == "range" and not value[0] <= got <= value[1]:
            misses.append(f"{metric} {got:.4g} outside [{value[0]:g}, {value[1]:g}]")
    return misses
