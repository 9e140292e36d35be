"""Serving, training sets by group name and the registry on the planted store (store.py)."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from coadv_assets.features.catalog import write_catalog
from coadv_assets.features.groups import training_set_from_group
from coadv_assets.features.registry import build_registry, write_registry
from coadv_assets.features.serve import CrossTenantRequest, get_online_features
from coadv_assets.governance.tenancy import canary_leaks
from features.store import CANARY_GROSS, CANARY_X, mini_manifest, plant, t

MANIFEST = mini_manifest()


@pytest.fixture()
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    plant(connection)
    yield connection
    connection.close()


def serve(con: duckdb.DuckDBPyConnection, tenant: str | None, entity: str, keys, feats, as_of):
    return get_online_features(tenant, entity, keys, feats, as_of, con=con, manifest=MANIFEST)


def test_latest_value_known_at_as_of_correction_only_once_ingested(con) -> None:
    before = serve(con, "A", "payroll_run", ["R1"], ["gross_pay"], t("2024-01-15"))
    assert before.row(0, named=True) == {
        "run_id": "R1",
        "gross_pay": 100.0,
        "event_ts": t("2024-01-05"),
        "age_days": 10.0,
        "stale": False,
        "found": True,
    }
    after = serve(con, "A", "payroll_run", ["R1"], ["gross_pay"], t("2024-01-21"))
    assert after["gross_pay"].to_list() == [120.0]


def test_value_older_than_ttl_is_returned_and_flagged_stale(con) -> None:
    out = serve(con, "A", "payroll_run", ["R1", "R2", "R9"], None, t("2024-02-05"))
    # R1: 2024-01-05 -> 31 days > TTL 30 days; R2: 2024-01-10 -> 26 days; R9 unknown.
    assert out.select("run_id", "gross_pay", "age_days", "stale", "found").rows() == [
        ("R1", 120.0, 31.0, True, True),
        ("R2", 50.0, 26.0, False, True),
        ("R9", None, None, None, False),
    ]


def test_cross_tenant_lookups_are_refused(con) -> None:
    with pytest.raises(CrossTenantRequest, match=r"tenant 'B' asked payroll_run .* R1"):
        serve(con, "B", "payroll_run", ["R3", "R1"], None, t("2024-02-01"))
    with pytest.raises(CrossTenantRequest, match="client_month for 1 key"):
        serve(con, "A", "client_month", ["A", "B"], None, t("2024-03-05"))
    with pytest.raises(CrossTenantRequest, match="operational aggregate"):
        serve(con, "A", "queue_day", ["q1"], None, t("2024-01-03"))
    with pytest.raises(ValueError, match="pass the tenant_id"):
        serve(con, None, "payroll_run", ["R1"], None, t("2024-02-01"))
    with pytest.raises(KeyError, match="no feature 'nope'"):
        serve(con, "A", "payroll_run", ["R1"], ["nope"], t("2024-02-01"))


def test_operational_aggregate_served_without_tenant(con) -> None:
    out = serve(con, None, "queue_day", ["q1"], None, t("2024-01-03"))
    assert out.select("queue", "contacts", "age_days", "stale").rows() == [("q1", 7, 1.0, False)]


def test_training_set_by_group_name_keeps_canaries_in_their_tenant(con) -> None:
    labels = pl.DataFrame(
        {
            "tenant": ["A", "B", "B", "A"],
            "run_id": ["RC", "RC", "R3", "R1"],
            "label_ts": [t("2024-01-12"), t("2024-01-12"), t("2024-01-12"), t("2024-01-12")],
            "y": [1, 0, 1, 0],
        }
    ).with_columns(pl.col("label_ts").dt.convert_time_zone("UTC"))
    ts = training_set_from_group(
        con,
        "feat_run",
        labels,
        entity_key="run_id",
        label_ts_col="label_ts",
        tenant_key="tenant",
        manifest=MANIFEST,
    )
    got = {(r["tenant"], r["run_id"]): r["gross_pay"] for r in ts.frame.iter_rows(named=True)}
    # B's label names A's canary run: it must get nothing, not A's value.
    assert got == {
        ("A", "RC"): CANARY_GROSS,
        ("B", "RC"): None,
        ("B", "R3"): 70.0,
        ("A", "R1"): 100.0,
    }
    assert canary_leaks(ts.frame, "tenant", "A", {"gross_pay": [CANARY_GROSS]}) == []
    assert ts.manifest["features"][0]["version"] == "2"
    assert ts.manifest["features"][0]["ttl_seconds"] == 30 * 86400


def test_canary_leak_detector_reports_a_leak() -> None:
    frame = pl.DataFrame({"tenant": ["A", "B"], "x": [CANARY_X, CANARY_X]})
    [leak] = canary_leaks(frame, "tenant", "A", {"x": [CANARY_X]})
    assert leak.message() == (
        "frame.x: canary of tenant A in another tenant's rows (1 rows): "
        "a join is missing its tenant condition"
    )


def test_registry_rows_freshness_and_catalog(con, tmp_path: Path) -> None:
    now = t("2024-01-25")
    frame = build_registry(con, MANIFEST, now)
    assert frame["feature"].to_list() == ["feat_cm.x", "feat_queue.contacts", "feat_run.gross_pay"]
    run = frame.filter(pl.col("feature") == "feat_run.gross_pay").row(0, named=True)
    # latest available_at of feat_run: 2024-01-20 00:00 -> 120 h before now; SLA 72 h.
    assert (run["lag_hours"], run["fresh"], run["ttl_hours"]) == (120.0, False, 720.0)
    assert (run["entity"], run["tenant_key"], run["table_rows"]) == ("payroll_run", "client_id", 5)
    assert run["consumers"] == '["m"]' and run["upstream"] == '["model.t.stg_runs"]'
    queue = frame.filter(pl.col("feature") == "feat_queue.contacts").row(0, named=True)
    assert queue["tenant_key"] is None and queue["tenant_key_reason"]
    assert write_registry(con, frame) == 3
    assert con.sql("select count(*) from features.registry").fetchall() == [(3,)]
    index = write_catalog(frame, tmp_path)
    text = index.read_text()
    assert "[feat_run](feat_run.md)" in text and "3 features in 3 groups" in text
    assert "| `gross_pay` | double | none | 5 |" in (tmp_path / "feat_run.md").read_text()


def test_now_default_is_timezone_aware(con) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        serve(con, "A", "payroll_run", ["R1"], None, dt.datetime(2024, 1, 1))
