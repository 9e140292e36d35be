"""Causal-inference estimators: pure functions over data frames returning frozen results.

Modules: `did` (twfe, event_study, staggered), `synthetic_control` (fit), `matching` (psm),
`its` (fit). Every estimator refuses unidentified questions with `IdentificationError` and
malformed input with `InputError`, both subclasses of ValueError. Submodules load on first
attribute access, so `import estimators` stays cheap.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from estimators._errors import IdentificationError, InputError
from estimators._results import EstimateResult

__all__ = [
    "EstimateResult",
    "IdentificationError",
    "InputError",
    "did",
    "its",
    "matching",
    "synthetic_control",
]

_SUBMODULES = {"did", "its", "matching", "synthetic_control"}


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"estimators.{name}")
    raise AttributeError(f"module 'estimators' has no attribute {name!r}")
