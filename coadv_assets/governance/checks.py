"""The governance rules as one blocking Dagster multi-asset check.

One step scans the warehouse once and reports per asset: ``no_pii_past_staging`` on every
model past staging, ``phi_only_aggregated`` on every published model and
``tenant_isolation`` on every tenant-scoped feature table. Each is blocking: a failure
fails the run and skips everything downstream of the offending asset, with a description
that names the table, the column, the rule and the row count. A PII violation in a table
that no dbt model owns (created by hand or by another tool) fails the PII check of every
model of its schema: the schema as a whole is no longer fit to read. Known shortcoming:
the check scans ``intermediate`` and ``marts`` only; tables that Python assets write later
in the run (``ml``, ``pu``, ``features``) are not scanned. A second check placed after
those assets (``pii_violations`` with their schemas) would remove it.
"""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from coadv_assets.features.spec import feature_nodes, node_meta
from coadv_assets.warehouse import WarehouseResource

PII = "no_pii_past_staging"
PHI = "phi_only_aggregated"
TENANT = "tenant_isolation"


def _key(node: Mapping[str, Any]) -> dg.AssetKey:
    return dg.AssetKey([str(node.get("schema")), str(node["name"])])


def governed_keys(manifest: Mapping[str, Any]) -> dict[str, list[dg.AssetKey]]:
    """Asset keys per rule: models past staging (PII), published ones (PHI), tenant groups."""
    models = [n for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model"]
    tenant_groups = {
        name
        for name, node in feature_nodes(manifest).items()
        if node_meta(node)["feature"].get("tenant_key")
    }
    return {
        PII: sorted(
            (_key(n) for n in models if n.get("schema") in ("intermediate", "marts")),
            key=lambda k: k.to_user_string(),
        ),
        PHI: sorted(
            (_key(n) for n in models if n.get("schema") == "marts"),
            key=lambda k: k.to_user_string(),
        ),
        TENANT: sorted(
            (_key(n) for n in models if n["name"] in tenant_groups),
            key=lambda k: k.to_user_string(),
        ),
    }


def build_governance_check(
    manifest_loader: Callable[[], Mapping[str, Any]],
    manifest: Mapping[str, Any],
    min_cell_size: int = 11,
    name: str = "governance",
) -> dg.AssetChecksDefinition:
    """Return the multi-asset check over the keys ``manifest`` declares.

    ``manifest_loader`` is called in the step (the manifest at run time).
    """
    keys = governed_keys(manifest)
    specs = [
        dg.AssetCheckSpec(
            rule,
            asset=key,
            blocking=True,
            description={
                PII: "No pii or phi column, PII-named column or SSN/e-mail value.",
                PHI: "Claims only aggregated to client-month with small cells suppressed.",
                TENANT: "Tenant key never null; no entity under two tenants.",
            }[rule],
        )
        for rule, rule_keys in keys.items()
        for key in rule_keys
    ]

    @dg.multi_asset_check(specs=specs, name=name, pool="warehouse", can_subset=True)
    def governance(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        from coadv_assets.governance.phi import phi_violations
        from coadv_assets.governance.pii import pii_violations
        from coadv_assets.governance.tenancy import tenancy_violations
        from coadv_assets.warehouse import connect

        selected = set(context.selected_asset_check_keys)
        current = manifest_loader()
        with connect(Path(warehouse.db_path), read_only=True) as con:
            found = {
                PII: pii_violations(con, current, ("intermediate", "marts")),
                PHI: phi_violations(con, current, min_cell_size),
                TENANT: tenancy_violations(con, current),
            }
        owned = {".".join(k.path) for k in keys[PII]}
        unowned = [v for v in found[PII] if v.relation not in owned]
        for rule, rule_keys in keys.items():
            for key in rule_keys:
                if dg.AssetCheckKey(key, rule) not in selected:
                    continue
                relation = ".".join(key.path)
                mine = [v for v in found[rule] if v.relation == relation]
                if rule == PII:
                    mine += [v for v in unowned if v.relation.split(".")[0] == key.path[0]]
                for v in mine:
                    context.log.error(v.message())
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=rule,
                    passed=not mine,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description="; ".join(v.message() for v in mine) or "no violation",
                    metadata={"violations": len(mine)},
                )

    return governance
