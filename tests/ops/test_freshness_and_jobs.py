"""The real code location: freshness policies on every source and feature asset, cadence
jobs over the groups they name, and the operations wiring."""

import datetime as dt
import json
import re

import dagster as dg
import pytest

from coadv_assets.ingestion.contracts import load_contracts

UNITS = {"h": "hours", "hour": "hours", "d": "days", "day": "days", "w": "weeks", "week": "weeks"}


def _sla(text: str) -> dt.timedelta:
    """'10 days', '36h', '2 weeks' as a timedelta, parsed here independently."""
    m = re.fullmatch(r"\s*(\d+)\s*([a-z]+?)s?\s*", str(text).lower())
    assert m and m.group(2) in UNITS, f"unreadable SLA {text!r}"
    return dt.timedelta(**{UNITS[m.group(2)]: int(m.group(1))})


@pytest.fixture(scope="module")
def code_location(tmp_path_factory: pytest.TempPathFactory):
    mp = pytest.MonkeyPatch()
    mp.setenv("COADV_HOME", str(tmp_path_factory.mktemp("home")))
    import coadv_assets.definitions as definitions

    yield definitions
    mp.undo()


def test_every_source_has_a_freshness_policy(code_location) -> None:
    graph = code_location.defs.resolve_asset_graph()
    tables = sorted(load_contracts())
    assert len(tables) >= 10
    for table in tables:
        policy = graph.get(dg.AssetKey(["peo", table])).freshness_policy
        assert policy is not None, f"source peo/{table} has no freshness policy"
        assert policy.fail_window.to_timedelta() > dt.timedelta(0)


def test_every_feature_model_has_its_sla_as_freshness_policy(code_location) -> None:
    from coadv_assets.defs.transform import MANIFEST

    manifest = json.loads(MANIFEST.read_text())
    graph = code_location.defs.resolve_asset_graph()
    features = {}
    for node in manifest["nodes"].values():
        meta = {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}
        if node["resource_type"] == "model" and "feature" in meta:
            features[(node["schema"].split("_")[-1], node["name"])] = meta["feature"]
    assert ("marts", "feat_client_month") in features
    for (schema, name), feature in features.items():
        assert "freshness_sla" in feature, f"feature model {name} declares no freshness_sla"
        policy = graph.get(dg.AssetKey([schema, name])).freshness_policy
        assert policy is not None, f"feature model {schema}/{name} has no freshness policy"
        assert policy.fail_window.to_timedelta() == _sla(feature["freshness_sla"])


def test_cadence_jobs_select_their_groups_and_tolerate_missing_ones(code_location) -> None:
    repo = code_location.defs.get_repository_def()
    daily = repo.get_job("daily_job").asset_layer.executable_asset_keys
    monthly = repo.get_job("monthly_job").asset_layer.executable_asset_keys
    ingestion = repo.get_job("ingestion_job").asset_layer.executable_asset_keys
    assert dg.AssetKey(["peo", "clients"]) in daily
    assert dg.AssetKey(["marts", "feat_client_month"]) in daily
    assert dg.AssetKey("renewal_training_set") in daily
    assert dg.AssetKey("renewal_model") in monthly and dg.AssetKey("renewal_model") not in daily
    assert ingestion == {dg.AssetKey(["peo", t]) for t in load_contracts()}
    names = {s.name for s in repo.sensor_defs}
    assert {"oncall_check_failures", "oncall_run_failures", "landing_files"} <= names
    assert {s.name for s in repo.schedule_defs} >= {
        "daily_schedule",
        "weekly_schedule",
        "monthly_schedule",
    }
    checks = code_location.defs.resolve_asset_graph().asset_check_keys
    for name in ("feature_drift", "calibration", "reconciliation"):
        assert dg.AssetCheckKey(dg.AssetKey("renewal_model"), name) in checks
