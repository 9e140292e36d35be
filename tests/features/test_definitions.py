"""Feature definitions in the dbt manifest: complete, consistent, and turned into policies."""

import copy
import datetime as dt
from typing import Any

import pytest

from coadv_assets.features.spec import feature_groups, parse_duration
from coadv_assets.features.validate import validate_manifest

EXPECTED_ENTITIES = {
    "feat_client_month": ("client_month", "client_id"),
    "feat_payroll_run": ("payroll_run", "client_id"),
    "feat_contact_queue_day": ("queue_day", None),
    "feat_team_week": ("team_week", None),
}


def test_every_feature_definition_of_the_project_is_complete(manifest: dict[str, Any]) -> None:
    problems = validate_manifest(manifest)
    assert problems == [], "\n".join(problems)


def test_four_entities_and_at_least_twelve_features(manifest: dict[str, Any]) -> None:
    groups = feature_groups(manifest)
    assert {n: (g.entity, g.tenant_key) for n, g in groups.items()} == EXPECTED_ENTITIES
    assert sum(len(g.features) for g in groups.values()) >= 12
    assert groups["feat_team_week"].consumers == ("pu_readouts", "staffing_demand")
    assert groups["feat_client_month"].ttl == dt.timedelta(days=45)
    assert "peo.claims" in groups["feat_client_month"].source_contract


def _node(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in manifest["nodes"].values() if n.get("name") == name)


@pytest.mark.parametrize("field", ["ttl", "owner", "source_contract", "available_at"])
def test_a_missing_field_is_named_with_its_feature(manifest: dict[str, Any], field: str) -> None:
    broken = copy.deepcopy(manifest)
    del _node(broken, "feat_payroll_run")["config"]["meta"]["feature"][field]
    problems = validate_manifest(broken)
    assert problems == [f"feature feat_payroll_run: missing field {field!r} in config.meta.feature"]


def test_null_tenant_needs_a_reason(manifest: dict[str, Any]) -> None:
    broken = copy.deepcopy(manifest)
    del _node(broken, "feat_team_week")["config"]["meta"]["feature"]["tenant_key_reason"]
    assert validate_manifest(broken) == [
        "feature feat_team_week: tenant_key is null without a 'tenant_key_reason' saying why "
        "the entity has no tenant"
    ]


def test_unclassified_column_unknown_source_and_no_consumer(manifest: dict[str, Any]) -> None:
    broken = copy.deepcopy(manifest)
    node = _node(broken, "feat_client_month")
    node["columns"]["mlr_12m"]["meta"] = {}
    node["columns"]["mlr_12m"].setdefault("config", {})["meta"] = {}
    node["config"]["meta"]["feature"]["source_contract"]["peo.nowhere"] = ["x"]
    for exp in broken["exposures"].values():
        deps = exp["depends_on"]["nodes"]
        exp["depends_on"]["nodes"] = [d for d in deps if d != node["unique_id"]]
    problems = validate_manifest(broken)
    assert any("column 'mlr_12m' has classification None" in p for p in problems)
    assert any("'peo.nowhere', which is not a dbt source" in p for p in problems)
    assert any(p.startswith("feature feat_client_month: no consuming model") for p in problems)
    assert all(p.startswith("feature feat_client_month:") for p in problems)


def test_durations() -> None:
    assert parse_duration("36h") == dt.timedelta(hours=36)
    assert parse_duration("10 days") == dt.timedelta(days=10)
    assert parse_duration("2d") == dt.timedelta(days=2)
    assert parse_duration("1 week") == dt.timedelta(weeks=1)
    assert parse_duration("soon") is None
    assert parse_duration("0 days") is None
    assert parse_duration(None) is None


def test_freshness_slas_become_dagster_freshness_policies(manifest: dict[str, Any]) -> None:
    from coadv_assets.defs.transform import TRANSLATOR

    def window(name: str) -> dt.timedelta:
        node = _node(manifest, name)
        policy = TRANSLATOR.get_asset_spec(manifest, node["unique_id"], None).freshness_policy
        assert policy is not None, name
        return policy.fail_window.to_timedelta()

    assert window("feat_payroll_run") == dt.timedelta(days=3)
    assert window("feat_client_month") == dt.timedelta(days=10)
    assert window("feat_team_week") == dt.timedelta(days=9)
    assert window("lbl_renewal") == dt.timedelta(days=10)
