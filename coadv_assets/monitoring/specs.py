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
    # the window the latest version was judged on (its test window)
    reference_sql=(
        f"select {_COLS} from ml.renewal_training_set where score_ts >= ("
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


def _latest_version(model: str) -> str:
    return (
        f"(select version from ml.model_registry where model = '{model}' "
        "order by trained_at desc limit 1)"
    )


def _test_rows(model: str) -> str:
    return f"from ml.test_predictions where model = '{model}' and model_version = " + (
        _latest_version(model)
    )


_CHURN_FEATURES = ("exception_share_3m", "contacts_per_employee_3m", "headcount_growth_6m")
CHURN = ModelMonitor(
    model="churn",
    asset_key=dg.AssetKey("churn_model"),
    # the window the latest version was judged on (its test window): drift is measured from
    # what the promotion saw, not from the older training window the book has moved away from
    reference_sql=(
        f"select {', '.join(_CHURN_FEATURES)} from ml.churn_training_set "
        f"where score_ts >= (select min(score_ts) {_test_rows('churn')})"
    ),
    # what the model scores now: the latest complete client-month
    current_sql=(
        f"select {', '.join(_CHURN_FEATURES)} from marts.feat_client_month_3m "
        "where month = (select max(month) from marts.feat_client_month_3m)"
    ),
    numerical=_CHURN_FEATURES,
    categorical=(),
    labelled_sql=f"select prediction, label {_test_rows('churn')}",
    # predicted three-month terminations of each monthly cohort against the realised ones
    reconciliation_sql=(
        "select date_trunc('month', score_ts)::date as period, sum(prediction) as predicted, "
        f"sum(label)::double as realised {_test_rows('churn')} group by 1 order by 1"
    ),
)

_PAYROLL_NUM = (
    "employee_count",
    "client_age_days",
    "new_hires_in_period",
    "prior_runs",
    "prior_exception_runs",
)
PAYROLL_EXCEPTION = ModelMonitor(
    model="payroll_exception",
    asset_key=dg.AssetKey("payroll_exception_model"),
    reference_sql=(
        f"select {', '.join(_PAYROLL_NUM)}, pay_frequency "
        "from ml.payroll_exception_training_set "
        f"where score_ts >= (select min(score_ts) {_test_rows('payroll_exception')})"
    ),
    # the runs of the last 31 days with data, as the model read them (first revision)
    current_sql=(
        "select r.employee_count, r.client_age_days, r.new_hires_in_period, h.prior_runs, "
        "h.prior_exception_runs, r.pay_frequency from marts.feat_payroll_run as r "
        "inner join marts.feat_payroll_client_history as h on r.run_id = h.run_id "
        "where r.revision = 1 and r.pay_date > "
        "(select max(pay_date) - 31 from marts.feat_payroll_run)"
    ),
    numerical=_PAYROLL_NUM,
    categorical=("pay_frequency",),
    labelled_sql=f"select prediction, label {_test_rows('payroll_exception')}",
    # predicted exceptions of the runs paid each month against the runs that had one
    reconciliation_sql=(
        "select date_trunc('month', score_ts)::date as period, sum(prediction) as predicted, "
        f"sum(label)::double as realised {_test_rows('payroll_exception')} group by 1 order by 1"
    ),
)

MONITORS.extend([CHURN, PAYROLL_EXCEPTION])
