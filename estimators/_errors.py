"""The two refusals every estimator raises instead of returning a meaningless number."""


class InputError(ValueError):
    """The input is malformed: a named column is missing, of the wrong kind, or inconsistent."""


class IdentificationError(ValueError):
    """The data cannot identify the effect: no comparison units, no overlap, rank deficiency,
    too short a pre-period, an unbalanced panel where a balanced one is required, or a treated
    unit the donors cannot reproduce."""
