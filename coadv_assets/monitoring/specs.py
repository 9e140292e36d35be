"""The monitoring contract: one ``ModelMonitor`` per production model.

A model owner registers how to read its monitoring windows from the warehouse; the builder in
``coadv_assets.monitoring.checks`` turns every entry of ``MONITORS`` into asset checks on
``asset_key``:

- ``feature_drift`` (always): ``reference_sql`` against ``current_sql`` over ``numerical`` and
  ``categorical`` columns, with evidently through ``coadv_assets.monitoring.drift``;
- ``prediction_drift`` when ``prediction_column`` is set: that column of both frames, scored
  as a numerical column;
- ``calibration`` when ``labelled_sql`` is set: the query returns ``prediction`` (a
  probability) and ``label`` (0/1) of the latest labelled window; calibration slope,
  intercept and ECE from ``coadv_assets.models.metrics``;
- ``reconciliation`` when ``reconciliation_sql`` is set: the query returns ``period``,
  ``predicted`` and ``realised`` (the business metric: renewals, contacts, exceptions, MLR);
  the relative error of the total and of each period.

Queries run read-only on the warehouse and must name every column they return (no ``*``).
Thresholds are not part of a monitor: they live in ``thresholds.yaml`` beside this module,
with per-model overrides. ``blocking=True`` makes the checks blocking, so that an
ERROR-severity failure stops what is built downstream of ``asset_key`` in the same run.

Owners append their monitor to ``MONITORS`` here (one entry a model); keep the module free of
heavy imports, it is loaded with the code location.
"""

from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class ModelMonitor:
    """How to read one model's monitoring windows; see the module docstring for the rules."""

    model: str
    asset_key: dg.AssetKey
    reference_sql: str
    current_sql: str
    numerical: tuple[str, ...]
    categorical: tuple[str, ...]
    prediction_column: str | None = None
    labelled_sql: str | None = None
    reconciliation_sql: str | None = None
    blocking: bool = False

    def __post_init__(self) -> None:
        overlap = set(self.numerical) & set(self.categorical)
        if overlap:
            raise ValueError(
                f"monitor {self.model}: columns {sorted(overlap)} are both numerical and "
                "categorical; list each column once"
            )
        if self.prediction_column in (*self.numerical, *self.categorical):
            raise ValueError(
                f"monitor {self.model}: prediction column {self.prediction_column!r} is also "
                "listed as a feature; it is scored by prediction_drift alone"
            )


_RENEWAL_FEATURES_NUM = (
    "active_employees",
    "headcount_growth_12m",
    "tenure_years",
    "exception_share_6m",
    "contacts_per_employee_6m",
    "admin_fee_pepm",
    "mlr_12m",
)
_RENEWAL_FEATURES_CAT = ("industry", "pay_frequency")
_RENEWAL_LATEST_VERSION = (
    "(select version from ml.model_registry where model = 'renewal_propensity' "
    "order by trained_at desc limit 1)"
)
_COLS = ", ".join(_RENEWAL_FEATURES_NUM + _RENEWAL_FEATURES_CAT)

RENEWAL_PROPENSITY = ModelMonitor(
    model="renewal_propensity",
    asset_key=dg.AssetKey("renewal_model"),
    # the training window: label rows scored before the latest model's test window
    reference_sql=(
        f"select {_COLS} from ml.renewal_training_set where score_ts < ("
        "select min(score_ts) from ml.renewal_test_predictions "
        f"where model_version = {_RENEWAL_LATEST_VERSION})"
    ),
    # what the model would score today: the latest client-month of the feature mart
    current_sql=(
        f"select {_COLS} from marts.feat_client_month "
        "where month = (select max(month) from marts.feat_client_month)"
    ),
    numerical=_RENEWAL_FEATURES_NUM,
    categorical=_RENEWAL_FEATURES_CAT,
    labelled_sql=(
        "select p_renew as prediction, renewed as label from ml.renewal_test_predictions "
        f"where model_version = {_RENEWAL_LATEST_VERSION}"
    ),
    reconciliation_sql=(
        "select date_trunc('month', score_ts)::date as period, sum(p_renew) as predicted, "
        "sum(renewed)::double as realised from ml.renewal_test_predictions "
        f"where model_version = {_RENEWAL_LATEST_VERSION} group by 1 order by 1"
    ),
)

MONITORS: list[ModelMonitor] = [RENEWAL_PROPENSITY]
