"""Sensors that page on-call: failed ERROR-severity asset checks and failed runs.

Open-source Dagster has no sensor type for check results, so ``oncall_check_failures``
polls the latest evaluation record of every asset check of the code location and keeps the
highest record id it has handled as its cursor: each evaluation is judged once. A failed
ERROR-severity evaluation is sent to the ``OnCallNotifier`` (which pages once per incident);
a passing one resolves its open incident. WARN failures (insufficient data among them) never
page. ``oncall_run_failures`` pages on every failed run; a later successful run of the same
job resolves it.

Both sensors run by default: paging must not depend on someone switching it on.

Known shortcoming: a tick reads the latest record of every check key one by one (about 300
with the dbt tests); a batched read by key list, once public in Dagster, would remove it.
"""

import os

import dagster as dg

from coadv_assets.ops.notifier import Alert, OnCallNotifier

UI_URL_ENV = "COADV_UI_URL"


def ui_url() -> str:
    """Base URL of the Dagster UI for links in alerts (``$COADV_UI_URL``, else local)."""
    return os.environ.get(UI_URL_ENV, "http://127.0.0.1:3000").rstrip("/")


def asset_url(key: dg.AssetKey) -> str:
    return f"{ui_url()}/assets/{'/'.join(key.path)}?view=checks"


def run_url(run_id: str) -> str:
    return f"{ui_url()}/runs/{run_id}"


def check_alert(evaluation: dg.AssetCheckEvaluation, run_id: str) -> Alert:
    """The alert of a failed check evaluation; its incident identity is the check's
    ``incident`` metadata when it sets one, else empty (one incident until it passes)."""
    meta = evaluation.metadata or {}
    incident_value = meta.get("incident")
    incident = str(getattr(incident_value, "value", incident_value) or "")
    asset = evaluation.asset_key.to_user_string()
    links = [(asset_url(evaluation.asset_key), f"{asset} checks"), (run_url(run_id), "run")]
    report = meta.get("report_url")
    if report is not None:
        links.append((str(getattr(report, "value", report)), "report"))
    return Alert(
        summary=(
            f"check {evaluation.check_name} on {asset} failed: "
            f"{evaluation.description or 'no description'}"
        ),
        severity="error",
        component=asset,
        check=evaluation.check_name,
        incident=incident,
        links=tuple(links),
        details={"run_id": run_id, "check_severity": evaluation.severity.value},
    )


@dg.sensor(
    name="oncall_check_failures",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Pages on-call once per incident of a failed ERROR-severity asset check.",
)
def oncall_check_failures(context: dg.SensorEvaluationContext, oncall: OnCallNotifier):
    cursor = int(context.cursor or 0)
    newest = cursor
    paged = resolved = 0
    for key in sorted(context.repository_def.asset_graph.asset_check_keys, key=str):
        record = context.instance.get_latest_asset_check_evaluation_record(key)
        if record is None or record.id <= cursor:
            continue
        newest = max(newest, record.id)
        evaluation = record.evaluation
        if not isinstance(evaluation, dg.AssetCheckEvaluation):
            continue  # planned, or the step never reported: the run failure sensor pages
        if evaluation.passed:
            resolved += oncall.resolve(key.asset_key.to_user_string(), key.name)
        elif evaluation.severity == dg.AssetCheckSeverity.ERROR:
            outcome = oncall.notify(check_alert(evaluation, record.run_id), context.log)
            paged += outcome != "duplicate"
    context.update_cursor(str(newest))
    return dg.SkipReason(f"{paged} alerts sent, {resolved} incidents resolved")


@dg.run_failure_sensor(
    name="oncall_run_failures",
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Pages on-call when a run fails (once per job and set of failed steps).",
)
def oncall_run_failures(context: dg.RunFailureSensorContext, oncall: OnCallNotifier):
    run = context.dagster_run
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    message = context.failure_event.message or "run failed"
    alert = Alert(
        summary=f"run of {run.job_name} failed ({', '.join(steps) or 'no step'}): {message}",
        severity="critical",
        component=f"job:{run.job_name}",
        check=None,
        incident=",".join(steps) or "run",
        links=((run_url(run.run_id), "run"),),
        details={"run_id": run.run_id, "failed_steps": steps},
    )
    oncall.notify(alert, context.log)


@dg.run_status_sensor(
    name="oncall_run_recoveries",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Resolves the open run-failure incidents of a job when it succeeds again.",
)
def oncall_run_recoveries(context: dg.RunStatusSensorContext, oncall: OnCallNotifier):
    oncall.resolve(f"job:{context.dagster_run.job_name}", None)
