"""dbt models and tests as Dagster assets and checks.

dbt builds staging, intermediate and mart models inside the warehouse; every dbt test becomes
an asset check (error-severity tests stop the models downstream of them inside dbt). The
invocation holds the warehouse lock for its whole length, so no other writer can collide with
dbt's connection whatever the executor. Column schemas and column lineage are attached to
each model's materialization.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from coadv_assets.features.spec import parse_duration
from coadv_assets.transform.dbt_project import (
    dbt_executable,
    ensure_manifest,
    get_dbt_project,
)
from coadv_assets.warehouse import WarehouseResource

DBT_PROJECT = get_dbt_project()
MANIFEST = ensure_manifest()
DEFAULT_OWNER = "team:analytics-engineering"


class CoadvDbtTranslator(DagsterDbtTranslator):
    """Groups by dbt folder, owners and freshness from each model's ``meta``."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any):
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest.get("nodes", {}).get(unique_id) or manifest.get("sources", {}).get(
            unique_id, {}
        )
        if node.get("resource_type") == "source":
            return spec
        meta = {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}
        # Feature tables declare ``feature:``, label tables ``label:``; both carry an SLA.
        feature = meta.get("feature") or meta.get("label") or {}
        owner = feature.get("owner") or meta.get("owner") or DEFAULT_OWNER
        if "@" not in owner and not owner.startswith("team:"):
            owner = f"team:{owner}"
        fqn = node.get("fqn", [])
        group = fqn[1] if len(fqn) > 2 else "dbt"
        kwargs: dict[str, Any] = {"group_name": group, "owners": [owner]}
        sla = parse_duration(feature.get("freshness_sla"))
        if sla is not None:
            kwargs["freshness_policy"] = dg.FreshnessPolicy.time_window(fail_window=sla)
        return spec.replace_attributes(**kwargs)


TRANSLATOR = CoadvDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=MANIFEST,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    pool="warehouse",
)
def coadv_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    with warehouse.lock():
        invocation = dbt.cli(["build"], context=context)
        yield from invocation.stream().fetch_row_counts().fetch_column_metadata()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=DBT_PROJECT,
        dbt_executable=dbt_executable(),
        target=DBT_PROJECT.target,
    )


defs = dg.Definitions(assets=[coadv_dbt_models])
