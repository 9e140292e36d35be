"""Feature groups as declared in dbt: the ``feature:`` block of a model's ``config.meta``.

A feature group is one dbt model (a feature table) whose YAML declares, under
``config.meta.feature``:

- ``entity``: the entity name used by serving and training sets (``client_month``, ...);
- ``entity_key``: the columns that identify the entity a value describes (the join key of
  point-in-time training sets and of serving); ``grain``: the table's unique key (entity
  key plus the period or revision column);
- ``tenant_key``: the tenant column, or ``null`` with a ``tenant_key_reason`` saying why
  the entity has no tenant (an operational aggregate over every tenant);
- ``event_timestamp`` and ``available_at``: the columns holding when the value describes
  and when it was known (ingested);
- ``source_contract``: ``{"<source>.<table>": [columns read]}`` over the dbt sources;
- ``freshness_sla`` and ``ttl``: durations (``"36h"``, ``"2 days"``, ``"1w"``);
- ``owner``, ``description``, ``version``;
- ``features``: the feature columns (each with a description and ``meta.classification``).

The consuming models are the dbt exposures that depend on the model. This module only
reads; ``coadv_assets.features.validate`` says what is missing.
"""

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED_FIELDS = (
    "entity",
    "entity_key",
    "grain",
    "tenant_key",
    "event_timestamp",
    "available_at",
    "source_contract",
    "freshness_sla",
    "ttl",
    "owner",
    "description",
    "version",
    "features",
)
_DURATION = re.compile(
    r"^\s*(\d+)\s*(h|hr|hrs|hour|hours|d|day|days|w|wk|week|weeks)\s*$", re.IGNORECASE
)
_UNIT = {"h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: object) -> dt.timedelta | None:
    """Return the timedelta of ``"36h"``, ``"2d"``, ``"10 days"``, ``"1 week"``.

    Returns None for None, an empty string or anything else (the caller decides whether a
    missing or malformed duration is an error); zero is refused the same way.
    """
    if text is None:
        return None
    match = _DURATION.match(str(text))
    if not match:
        return None
    count = int(match.group(1))
    if count <= 0:
        return None
    return dt.timedelta(**{_UNIT[match.group(2)[0].lower()]: count})


@dataclass(frozen=True)
class FeatureColumn:
    """One feature column of a group, with its governance class."""

    name: str
    data_type: str
    description: str
    classification: str


@dataclass(frozen=True)
class FeatureGroup:
    """A feature table and everything its YAML declares (see the module docstring)."""

    name: str
    unique_id: str
    relation: str
    entity: str
    entity_key: tuple[str, ...]
    grain: tuple[str, ...]
    tenant_key: str | None
    tenant_key_reason: str
    event_timestamp: str
    available_at: str
    source_contract: dict[str, tuple[str, ...]]
    freshness_sla: dt.timedelta
    ttl: dt.timedelta
    owner: str
    description: str
    version: str
    features: tuple[FeatureColumn, ...]
    consumers: tuple[str, ...]
    upstream: tuple[str, ...] = field(default=())

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def column(self, name: str) -> FeatureColumn:
        """Return the feature column ``name``; KeyError naming the group when absent."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(
            f"feature group {self.name!r} has no feature {name!r} "
            f"(it has: {', '.join(self.feature_names)})"
        )


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read a dbt ``manifest.json``; FileNotFoundError names the path and how to make it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no dbt manifest at {path}: run `dbt parse` in dbt_project/ (make setup does)"
        )
    return json.loads(path.read_text())


def node_meta(node: Mapping[str, Any]) -> dict[str, Any]:
    """The merged ``meta`` of a manifest node (top-level meta overridden by config.meta)."""
    return {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}


def feature_nodes(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Return ``{model name: node}`` of every model whose meta has a ``feature`` block."""
    out = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        if isinstance(node_meta(node).get("feature"), Mapping):
            out[node["name"]] = node
    return dict(sorted(out.items()))


def consumers_of(manifest: Mapping[str, Any], unique_id: str) -> tuple[str, ...]:
    """Names of the dbt exposures that depend on ``unique_id``, sorted."""
    names = [
        exp["name"]
        for exp in manifest.get("exposures", {}).values()
        if unique_id in (exp.get("depends_on") or {}).get("nodes", [])
    ]
    return tuple(sorted(names))


def _relation(node: Mapping[str, Any]) -> str:
    return f"{node.get('schema')}.{node.get('alias') or node['name']}"


def group_from_node(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> FeatureGroup:
    """Build a FeatureGroup from a validated node.

    Refuses (ValueError naming the model and field) a block that does not validate; run
    ``coadv_assets.features.validate.validate_manifest`` to list every problem at once.
    """
    from coadv_assets.features.validate import validate_node

    problems = validate_node(manifest, node)
    if problems:
        raise ValueError("; ".join(problems))
    block = node_meta(node)["feature"]
    columns = node.get("columns", {})
    feats = tuple(
        FeatureColumn(
            name=c,
            data_type=str(columns[c].get("data_type") or ""),
            description=str(columns[c].get("description") or ""),
            classification=str(node_meta(columns[c]).get("classification")),
        )
        for c in block["features"]
    )
    ttl = parse_duration(block["ttl"])
    sla = parse_duration(block["freshness_sla"])
    assert ttl is not None and sla is not None  # validate_node refused anything else
    return FeatureGroup(
        name=node["name"],
        unique_id=node["unique_id"],
        relation=_relation(node),
        entity=str(block["entity"]),
        entity_key=tuple(block["entity_key"]),
        grain=tuple(block["grain"]),
        tenant_key=block["tenant_key"],
        tenant_key_reason=str(block.get("tenant_key_reason") or ""),
        event_timestamp=str(block["event_timestamp"]),
        available_at=str(block["available_at"]),
        source_contract={k: tuple(v) for k, v in sorted(block["source_contract"].items())},
        freshness_sla=sla,
        ttl=ttl,
        owner=str(block["owner"]),
        description=str(block["description"]),
        version=str(block["version"]),
        features=feats,
        consumers=consumers_of(manifest, node["unique_id"]),
        upstream=tuple(sorted((node.get("depends_on") or {}).get("nodes", []))),
    )


def feature_groups(manifest: Mapping[str, Any]) -> dict[str, FeatureGroup]:
    """Every feature group of the manifest by model name; ValueError on an invalid block."""
    return {name: group_from_node(manifest, n) for name, n in feature_nodes(manifest).items()}


def group_by_entity(manifest: Mapping[str, Any], entity: str) -> FeatureGroup:
    """The feature group whose ``entity`` (or model name) is ``entity``.

    Raises KeyError listing the known entities when none matches.
    """
    groups = feature_groups(manifest)
    for g in groups.values():
        if entity in (g.entity, g.name):
            return g
    known = ", ".join(sorted(g.entity for g in groups.values()))
    raise KeyError(f"no feature group for entity {entity!r}; known entities: {known}")
