"""On-call paging: a check failing twice for one incident pages exactly once."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from coadv_assets.ops.alerts import oncall_check_failures
from coadv_assets.ops.notifier import Alert, OnCallNotifier, payload

STATE = {"value": -1.0}


@dg.asset
def tiny_metric() -> float:
    return STATE["value"]


@dg.asset_check(asset=tiny_metric)
def metric_is_positive() -> dg.AssetCheckResult:
    ok = STATE["value"] > 0
    return dg.AssetCheckResult(
        passed=ok,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"value {STATE['value']}",
        metadata={"incident": "" if ok else "negative"},
    )


@dg.asset_check(asset=tiny_metric)
def enough_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description="insufficient data: 3 rows, min_rows 100",
    )


def _tick(instance: dg.DagsterInstance, notifier: OnCallNotifier, cursor: str | None) -> str:
    defs = dg.Definitions(
        assets=[tiny_metric],
        asset_checks=[metric_is_positive, enough_rows],
        sensors=[oncall_check_failures],
        resources={"oncall": notifier},
    )
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources={"oncall": notifier}
    )
    oncall_check_failures(context)
    return context.cursor


def _run(instance: dg.DagsterInstance, value: float) -> str:
    STATE["value"] = value
    result = dg.materialize(
        [tiny_metric, metric_is_positive, enough_rows], instance=instance, raise_on_error=True
    )
    return result.run_id


def _alerts(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(
            "select status, channel, component, check_name, occurrences from ops.alerts "
            "order by first_seen_at"
        ).fetchall()
    finally:
        con.close()


def test_one_incident_pages_once_with_asset_check_severity_and_link(
    tmp_path: Path, webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COADV_ONCALL_WEBHOOK", webhook.url)
    monkeypatch.setenv("COADV_UI_URL", "http://ui.example:3000")
    db = tmp_path / "warehouse.duckdb"
    notifier = OnCallNotifier(warehouse_path=str(db))
    with dg.instance_for_test() as instance:
        first_run = _run(instance, -1.0)
        cursor = _tick(instance, notifier, None)
        _run(instance, -2.0)  # the same incident fails again in another run
        cursor = _tick(instance, notifier, cursor)
        cursor = _tick(instance, notifier, cursor)  # nothing new
        assert len(webhook.received) == 1
        page = webhook.received[0]
        assert page["event_action"] == "trigger"
        assert page["payload"]["component"] == "tiny_metric"
        assert page["payload"]["group"] == "metric_is_positive"
        assert page["payload"]["severity"] == "error"
        assert page["payload"]["custom_details"]["run_id"] == first_run
        assert page["summary"] == "check metric_is_positive on tiny_metric failed: value -1.0"
        hrefs = [link["href"] for link in page["links"]]
        assert "http://ui.example:3000/assets/tiny_metric?view=checks" in hrefs
        assert f"http://ui.example:3000/runs/{first_run}" in hrefs
        # the WARN failure (insufficient data) never paged; the incident saw two failures
        assert _alerts(db) == [("open", "webhook", "tiny_metric", "metric_is_positive", 2)]

        # recovery resolves the incident (one resolve event); a new failure pages again
        _run(instance, 5.0)
        cursor = _tick(instance, notifier, cursor)
        assert [p["event_action"] for p in webhook.received] == ["trigger", "resolve"]
        _run(instance, -1.0)
        _tick(instance, notifier, cursor)
        assert [p["event_action"] for p in webhook.received] == ["trigger", "resolve", "trigger"]
        assert [r[0] for r in _alerts(db)] == ["resolved", "open"]


def test_without_webhook_alerts_go_to_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COADV_ONCALL_WEBHOOK", raising=False)
    db = tmp_path / "warehouse.duckdb"
    notifier = OnCallNotifier(warehouse_path=str(db))
    alert = Alert("run of main_job failed", "critical", "job:main_job", None, "step_a")
    assert notifier.notify(alert) == "logged"
    assert notifier.notify(alert) == "duplicate"
    assert _alerts(db) == [("open", "table", "job:main_job", None, 2)]
    assert notifier.resolve("job:main_job", None) == 1


def test_dedup_key_ignores_run_and_figures_but_not_the_incident() -> None:
    a = Alert(
        "x failed: 0.31",
        "error",
        "renewal_model",
        "feature_drift",
        "mlr_12m",
        details={"run_id": "1"},
    )
    b = Alert(
        "x failed: 0.42",
        "error",
        "renewal_model",
        "feature_drift",
        "mlr_12m",
        details={"run_id": "2"},
    )
    c = Alert("x failed: 0.42", "error", "renewal_model", "feature_drift", "industry")
    assert a.dedup_key == b.dedup_key != c.dedup_key
    body = payload(a, routing_key="R")
    assert body["routing_key"] == "R" and body["alias"] == body["dedup_key"] == a.dedup_key
    assert body["priority"] == "P2" and body["text"].startswith("[error] x failed")


@dg.asset
def broken_step() -> None:
    raise RuntimeError("source file unreadable")


def test_failed_run_pages_once_per_job_and_failed_steps(
    tmp_path: Path, webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coadv_assets.ops.alerts import oncall_run_failures

    monkeypatch.setenv("COADV_ONCALL_WEBHOOK", webhook.url)
    notifier = OnCallNotifier(warehouse_path=str(tmp_path / "warehouse.duckdb"))
    with dg.instance_for_test() as instance:
        for _ in range(2):
            result = dg.materialize([broken_step], instance=instance, raise_on_error=False)
            assert not result.success
            run = instance.get_run_by_id(result.run_id)
            failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
            context = dg.build_run_status_sensor_context(
                sensor_name="oncall_run_failures",
                dagster_event=failure,
                dagster_instance=instance,
                dagster_run=run,
                resources={"oncall": notifier},
            ).for_run_failure()
            oncall_run_failures(context)
    assert len(webhook.received) == 1
    page = webhook.received[0]
    assert page["payload"]["component"] == "job:__ephemeral_asset_job__"
    assert page["payload"]["severity"] == "critical"
    assert page["payload"]["custom_details"]["failed_steps"] == ["broken_step"]
