"""Governance rules on planted tables in a temporary warehouse, and the blocking check."""

import copy
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from features.store import mini_manifest, plant

from coadv_assets.governance.checks import build_governance_check
from coadv_assets.governance.phi import phi_violations
from coadv_assets.governance.pii import pii_violations
from coadv_assets.governance.tenancy import tenancy_violations
from coadv_assets.warehouse import WarehouseResource, connect


def _leaky_manifest() -> dict[str, Any]:
    manifest = mini_manifest()
    node = manifest["nodes"]["model.t.feat_cm"]
    node["columns"]["contact_email"] = {
        "name": "contact_email",
        "data_type": "varchar",
        "meta": {"classification": "pii"},
    }
    return manifest


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with connect(path) as con:
        plant(con)
    return path


def test_clean_store_has_no_violation(db: Path) -> None:
    with connect(db, read_only=True) as con:
        manifest = mini_manifest()
        assert pii_violations(con, manifest) == []
        assert phi_violations(con, manifest) == []
        assert tenancy_violations(con, manifest) == []


def test_planted_pii_values_and_columns_are_named(db: Path) -> None:
    with connect(db) as con:
        con.execute(
            "create table marts.planted as select * from (values "
            "('a', 'jo@example.com', '123-45-6789'), ('b', 'none', '12-345'), "
            "('c', 'x.y@corp.org', 'n/a')) as v(k, note, tax_ref)"
        )
        con.execute("alter table marts.feat_cm add column email varchar")
        found = [v.message() for v in pii_violations(con, mini_manifest())]
    assert found == [
        "marts.feat_cm.email: named like a PII source column past staging: PII columns never "
        "leave staging; drop or key-hash it in staging",
        "marts.planted.note: holds e-mail-shaped values past staging (2 rows): remove the "
        "values in staging; PII never leaves it",
        "marts.planted.tax_ref: holds SSN-shaped values past staging (1 rows): remove the "
        "values in staging; PII never leaves it",
    ]


def test_pii_class_declared_on_a_mart_is_a_violation(db: Path) -> None:
    with connect(db, read_only=True) as con:
        found = [v.message() for v in pii_violations(con, _leaky_manifest())]
    assert found == [
        "marts.feat_cm.contact_email: classified pii past staging: drop the column or "
        "key-hash it in staging (and classify the hash none)"
    ]


def test_phi_rules(db: Path) -> None:
    manifest = mini_manifest()
    claims = ["claim_id", "member_key"]
    manifest["nodes"]["model.t.stg_claims"] = {
        "resource_type": "model",
        "name": "stg_claims",
        "unique_id": "model.t.stg_claims",
        "schema": "staging",
        "columns": {c: {"name": c, "meta": {"classification": "phi"}} for c in claims},
        "depends_on": {"nodes": []},
    }
    agg_cols = {
        "client_id": "none",
        "service_month": "none",
        "members": "phi_aggregated",
        "paid_amount": "phi_aggregated",
        "suppressed": "none",
    }
    manifest["nodes"]["model.t.agg"] = {
        "resource_type": "model",
        "name": "agg",
        "unique_id": "model.t.agg",
        "schema": "marts",
        "columns": {c: {"name": c, "meta": {"classification": k}} for c, k in agg_cols.items()},
        "depends_on": {"nodes": ["model.t.stg_claims"]},
    }
    raw_reader = copy.deepcopy(manifest["nodes"]["model.t.feat_cm"])
    raw_reader.update(name="feat_raw", unique_id="model.t.feat_raw", alias="feat_raw")
    raw_reader["depends_on"] = {"nodes": ["model.t.stg_claims"]}
    raw_reader["config"] = {"meta": {}}
    manifest["nodes"]["model.t.feat_raw"] = raw_reader
    with connect(db) as con:
        con.execute(
            "create table marts.agg as select * from (values "
            "('A', date '2024-01-01', 12, 900.0, false), "  # fine
            "('A', date '2024-02-01', null, null, true), "  # suppressed properly
            "('B', date '2024-01-01', 4, 80.0, false), "  # small cell published
            "('B', date '2024-02-01', null, 55.0, true)"  # suppressed but leaks a sum
            ") as v(client_id, service_month, members, paid_amount, suppressed)"
        )
        found = [v.message() for v in phi_violations(con, manifest, min_cell_size=11)]
    assert found == [
        "marts.feat_raw: reads PHI staging model stg_claims directly: read claims only "
        "through a client-month aggregate with suppression",
        "marts.agg.members: cells under the minimum size 11 not suppressed (1 rows): set the "
        "measures of such cells to null and flag them suppressed",
        "marts.agg: suppressed cells still hold phi_aggregated values (1 rows): null every "
        "phi_aggregated column of a suppressed cell",
    ]


def test_a_pooled_phi_cell_is_held_to_its_declared_key_and_the_minimum_size(db: Path) -> None:
    manifest = mini_manifest()
    cols = {
        "industry": "none",
        "service_month": "none",
        "members": "phi_aggregated",
        "paid_amount": "phi_aggregated",
        "suppressed": "none",
    }
    node = {
        "resource_type": "model",
        "name": "pool",
        "unique_id": "model.t.pool",
        "schema": "marts",
        "columns": {c: {"name": c, "meta": {"classification": k}} for c, k in cols.items()},
        "depends_on": {"nodes": []},
        "config": {"meta": {"phi_cell": ["industry", "service_month"]}},
    }
    manifest["nodes"]["model.t.pool"] = node
    with connect(db) as con:
        con.execute(
            "create table marts.pool as select * from (values "
            "('retail', date '2024-01-01', 40, 9000.0, false), "  # fine
            "('retail', date '2024-01-01', 12, 800.0, false), "  # a second row of the cell
            "('health', date '2024-01-01', 3, 50.0, false)"  # small cell published
            ") as v(industry, service_month, members, paid_amount, suppressed)"
        )
        found = [v.message() for v in phi_violations(con, manifest, min_cell_size=11)]
        assert found == [
            "marts.pool: not unique on (industry, service_month) (1 rows): PHI leaves staging "
            "only at the client-month grain or its declared cell",
            "marts.pool.members: cells under the minimum size 11 not suppressed (1 rows): set "
            "the measures of such cells to null and flag them suppressed",
        ]
        del node["config"]["meta"]["phi_cell"]  # without the declaration: client-month only
        found = [v.message() for v in phi_violations(con, manifest, min_cell_size=11)]
    assert found == [
        "marts.pool: holds phi_aggregated columns without a client-month grain: aggregate "
        "claims to client_id and one of ['month', 'service_month', 'coverage_month']"
    ]


def test_entity_under_two_tenants_is_a_tenancy_violation(db: Path) -> None:
    with connect(db) as con:
        con.execute(
            "insert into marts.feat_run values ('R3', 2, 'A', timestamptz '2024-01-08 00:00+00', "
            "timestamptz '2024-01-09 00:00+00', 71.0), ('R4', 1, null, "
            "timestamptz '2024-01-08 00:00+00', timestamptz '2024-01-09 00:00+00', 1.0)"
        )
        found = [v.message() for v in tenancy_violations(con, mini_manifest())]
    assert found == [
        "marts.feat_run.client_id: tenant key is null (1 rows): every feature row is computed "
        "from one tenant's rows and carries its key",
        "marts.feat_run.run_id: entities appear under more than one tenant (1 rows): rows of "
        "different tenants were mixed; rebuild the feature from one tenant's rows",
    ]


def _run(db: Path, manifest: dict[str, Any]) -> dg.ExecuteInProcessResult:
    @dg.asset(key=["marts", "feat_cm"])
    def feat_cm() -> None:
        return None

    @dg.asset(deps=[feat_cm])
    def downstream_model() -> None:
        return None

    others = [
        dg.AssetSpec(["marts", "feat_run"]),
        dg.AssetSpec(["marts", "feat_queue"]),
    ]
    check = build_governance_check(lambda: manifest, manifest)
    return dg.materialize(
        [feat_cm, downstream_model, *others, check],
        resources={"warehouse": WarehouseResource(path=str(db))},
        selection=dg.AssetSelection.assets(feat_cm, downstream_model),
        raise_on_error=False,
    )


def test_a_pii_column_added_to_a_mart_fails_the_run_naming_it(db: Path) -> None:
    with connect(db) as con:
        con.execute("alter table marts.feat_cm add column contact_email varchar")
        con.execute("update marts.feat_cm set contact_email = 'hr@client-a.com'")
    result = _run(db, _leaky_manifest())
    assert not result.success
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    failed = evaluations[("marts/feat_cm", "no_pii_past_staging")]
    assert not failed.passed
    assert "marts.feat_cm.contact_email: classified pii past staging" in failed.description
    assert "marts.feat_cm.contact_email: holds e-mail-shaped values past staging (3 rows)" in (
        failed.description
    )
    assert evaluations[("marts/feat_cm", "tenant_isolation")].passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"marts/feat_cm"}  # downstream_model was blocked


def test_the_check_passes_on_a_clean_store(db: Path) -> None:
    result = _run(db, mini_manifest())
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
