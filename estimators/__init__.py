"""Causal-inference estimators: pure functions over data frames returning frozen results.

Modules: `did` (twfe, event_study, staggered), `synthetic_control` (fit), `matching` (psm),
`its` (fit). Every estimator refuses unidentified questions with `IdentificationError` and
malformed input with `InputError`, both subclasses of ValueError.
"""

from estimators._errors import IdentificationError, InputError
from estimators._results import EstimateResult

__all__ = ["EstimateResult", "IdentificationError", "InputError"]
