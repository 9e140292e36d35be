"""Monitoring thresholds from ``thresholds.yaml``: defaults merged with per-model overrides."""

from pathlib import Path
from typing import Any

import yaml

THRESHOLDS_PATH = Path(__file__).with_name("thresholds.yaml")
SEVERITIES = ("ERROR", "WARN")


def load_thresholds(model: str, path: str | Path = THRESHOLDS_PATH) -> dict[str, dict[str, Any]]:
    """Return ``{check kind: {key: value}}`` for ``model``: the defaults with its overrides.

    Refuses (ValueError) an override of a check kind or key that the defaults do not define
    (a typo would otherwise be ignored silently) and a severity other than ERROR or WARN.
    """
    doc = yaml.safe_load(Path(path).read_text()) or {}
    defaults: dict[str, dict[str, Any]] = doc.get("defaults") or {}
    overrides: dict[str, dict[str, Any]] = (doc.get("models") or {}).get(model) or {}
    merged = {kind: dict(values) for kind, values in defaults.items()}
    for kind, values in overrides.items():
        if kind not in merged:
            raise ValueError(f"{path}: models.{model}.{kind} is not a check kind of defaults")
        unknown = set(values) - set(merged[kind])
        if unknown:
            raise ValueError(
                f"{path}: models.{model}.{kind} sets {sorted(unknown)}, unknown to defaults"
            )
        merged[kind].update(values)
    for kind, values in merged.items():
        if values.get("severity", "WARN") not in SEVERITIES:
            raise ValueError(f"{path}: {model}.{kind}.severity must be one of {SEVERITIES}")
    return merged
