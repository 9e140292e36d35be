"""Validation of feature definitions in the dbt manifest.

Each problem is one sentence naming the feature group (the dbt model), the field and the
rule, so that ``make test`` (``tests/features/test_definitions.py``) says exactly what to
add to the YAML.
"""

from collections.abc import Mapping
from typing import Any

from coadv_assets.features.spec import (
    REQUIRED_FIELDS,
    consumers_of,
    feature_nodes,
    node_meta,
    parse_duration,
)

CLASSES = {"none", "pii", "phi", "phi_aggregated"}
FEATURE_CLASSES = {"none", "phi_aggregated"}


def _source_columns(manifest: Mapping[str, Any]) -> dict[str, set[str]]:
    out = {}
    for src in manifest.get("sources", {}).values():
        out[f"{src['source_name']}.{src['name']}"] = set(src.get("columns", {}))
    return out


def _check_columns(name: str, node: Mapping[str, Any], block: Mapping[str, Any]) -> list[str]:
    problems = []
    columns = node.get("columns", {})
    key_fields = ("entity_key", "grain")
    single = ("event_timestamp", "available_at")
    for f in key_fields:
        value = block.get(f)
        if not isinstance(value, list) or not value:
            problems.append(f"feature {name}: field {f!r} must be a non-empty list of columns")
            continue
        problems += [
            f"feature {name}: {f} column {c!r} is not a declared column of the model"
            for c in value
            if c not in columns
        ]
    for f in single:
        if block.get(f) not in columns:
            problems.append(f"feature {name}: {f} column {block.get(f)!r} is not a declared column")
    tenant = block.get("tenant_key")
    if tenant is None:
        if not str(block.get("tenant_key_reason") or "").strip():
            problems.append(
                f"feature {name}: tenant_key is null without a 'tenant_key_reason' saying "
                "why the entity has no tenant"
            )
    elif tenant not in columns:
        problems.append(f"feature {name}: tenant_key column {tenant!r} is not a declared column")
    for c, col in columns.items():
        cls = node_meta(col).get("classification")
        if cls not in CLASSES:
            problems.append(
                f"feature {name}: column {c!r} has classification {cls!r}; declare "
                f"meta.classification as one of {sorted(CLASSES)}"
            )
    for c in block.get("features") or []:
        if c not in columns:
            problems.append(f"feature {name}: feature column {c!r} is not a declared column")
            continue
        if not str(columns[c].get("description") or "").strip():
            problems.append(f"feature {name}: feature column {c!r} has no description")
        cls = node_meta(columns[c]).get("classification")
        if cls in CLASSES and cls not in FEATURE_CLASSES:
            problems.append(
                f"feature {name}: feature column {c!r} is classified {cls!r}; a feature may "
                f"only be {sorted(FEATURE_CLASSES)}"
            )
    return problems


def validate_node(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> list[str]:
    """Problems of one feature model's declaration (empty when complete and consistent).

    Checks every field of ``REQUIRED_FIELDS`` is present and non-empty (``tenant_key`` may be
    null only with a ``tenant_key_reason``), durations parse, declared columns exist in the
    model, each column has a classification, feature columns are described and not pii/phi,
    the source contract names existing source tables and columns, and at least one dbt
    exposure consumes the model.
    """
    name = node.get("name", "?")
    block = node_meta(node).get("feature")
    if not isinstance(block, Mapping):
        return [f"feature {name}: config.meta.feature is missing or not a mapping"]
    problems = []
    for f in REQUIRED_FIELDS:
        if f not in block:
            problems.append(f"feature {name}: missing field {f!r} in config.meta.feature")
        elif f != "tenant_key" and block[f] in (None, "", [], {}):
            problems.append(f"feature {name}: field {f!r} is empty")
    if problems:
        return problems
    for f in ("freshness_sla", "ttl"):
        if parse_duration(block[f]) is None:
            problems.append(
                f"feature {name}: field {f!r} = {block[f]!r} is not a duration "
                "like '36h', '2 days' or '1 week'"
            )
    problems += _check_columns(name, node, block)
    contract = block["source_contract"]
    sources = _source_columns(manifest)
    if not isinstance(contract, Mapping):
        problems.append(f"feature {name}: source_contract must map '<source>.<table>' to columns")
    else:
        for table, cols in contract.items():
            if table not in sources:
                problems.append(
                    f"feature {name}: source_contract names {table!r}, which is not a dbt source"
                )
                continue
            missing = [c for c in cols or [] if c not in sources[table]]
            if not cols:
                problems.append(f"feature {name}: source_contract {table!r} lists no columns")
            if missing:
                problems.append(
                    f"feature {name}: source_contract {table!r} reads undeclared columns {missing}"
                )
    if not consumers_of(manifest, node["unique_id"]):
        problems.append(
            f"feature {name}: no consuming model; add a dbt exposure in "
            "models/exposures.yml whose depends_on has ref('" + name + "')"
        )
    return problems


def validate_manifest(manifest: Mapping[str, Any], minimum_features: int = 12) -> list[str]:
    """Every problem of every feature group, plus too few features or entities.

    Returns an empty list when the manifest declares at least ``minimum_features`` feature
    columns, every group validates, and no two groups share an entity name.
    """
    nodes = feature_nodes(manifest)
    problems = []
    total = 0
    entities: dict[str, str] = {}
    for name, node in nodes.items():
        problems += validate_node(manifest, node)
        block = node_meta(node)["feature"]
        total += len(block.get("features") or [])
        entity = str(block.get("entity"))
        if entity in entities:
            problems.append(f"feature {name}: entity {entity!r} is already {entities[entity]}")
        entities[entity] = name
    if total < minimum_features:
        problems.append(f"only {total} feature columns declared; at least {minimum_features}")
    return problems
