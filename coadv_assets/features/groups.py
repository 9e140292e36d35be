"""Training sets from a feature-group name: the one entry point the models use.

A model names a feature group (its dbt model or entity, e.g. ``feat_payroll_run`` or
``payroll_run``) and passes its label table; the group's YAML supplies the keys, the
timestamps, the TTL and the version, so no model repeats them in Python.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from coadv_assets.features.manifest import FeatureRef, TrainingSet
from coadv_assets.features.spec import FeatureGroup, group_by_entity, load_manifest


def default_manifest() -> dict[str, Any]:
    """The dbt manifest of the repository's project (``dbt parse`` writes it at set-up)."""
    from coadv_assets.transform.dbt_project import ensure_manifest

    return load_manifest(Path(ensure_manifest()))


def feature_ref(
    group: FeatureGroup,
    columns: Sequence[str] | None = None,
    *,
    prefix: str = "",
    apply_ttl: bool = True,
) -> FeatureRef:
    """The point-in-time reference of ``group`` (all its features unless ``columns``).

    Refuses (KeyError naming the group) a column that is not one of the group's features.
    ``apply_ttl=False`` returns a reference without TTL (serving flags staleness itself).
    """
    wanted = list(columns) if columns else group.feature_names
    for c in wanted:
        group.column(c)
    return FeatureRef(
        table=group.relation,
        entity_key=group.entity_key,
        event_ts=group.event_timestamp,
        available_at=group.available_at,
        columns=tuple(wanted),
        version=group.version,
        ttl=group.ttl if apply_ttl else None,
        tenant_key=group.tenant_key,
        name=group.entity,
        prefix=prefix,
    )


def training_set_from_group(
    con: duckdb.DuckDBPyConnection,
    group: str,
    labels: pl.DataFrame | str,
    *,
    entity_key: str | Sequence[str],
    label_ts_col: str,
    tenant_key: str | None = None,
    columns: Sequence[str] | None = None,
    prefix: str = "",
    manifest: Mapping[str, Any] | None = None,
) -> TrainingSet:
    """Point-in-time training set of the label table ``labels`` with the group's features.

    ``entity_key`` and ``tenant_key`` name the labels' columns matched with the group's
    entity and tenant keys. Returns ``build_training_set``'s TrainingSet (write it with
    ``coadv_assets.features.manifest.write``). Refuses an unknown group (KeyError listing
    the known ones), a tenant key on one side only and everything ``build_training_set``
    refuses.
    """
    from coadv_assets.features.pit import build_training_set

    spec = group_by_entity(manifest if manifest is not None else default_manifest(), group)
    return build_training_set(
        con,
        labels,
        [feature_ref(spec, columns, prefix=prefix)],
        entity_key=entity_key,
        label_ts_col=label_ts_col,
        tenant_key=tenant_key,
    )
