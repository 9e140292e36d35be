"""The browsable feature catalog: Markdown pages rendered from the registry frame.

``index.md`` lists every group with its freshness and links to one page per group; a
group's page gives its declaration, lineage, consumers and a table of its features.
"""

import json
from pathlib import Path

import polars as pl


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value).replace("|", "\\|")


def _group_page(rows: pl.DataFrame) -> str:
    first = rows.row(0, named=True)
    contract = json.loads(first["source_contract"])
    lines = [
        f"# {first['feature_group']} ({first['entity']})",
        "",
        first["group_description"],
        "",
        "| field | value |",
        "| --- | --- |",
        f"| relation | `{first['relation']}` |",
        f"| entity key | {', '.join(json.loads(first['entity_key']))} |",
        f"| grain | {', '.join(json.loads(first['grain']))} |",
        f"| tenant key | {_fmt(first['tenant_key'])} |",
    ]
    if first["tenant_key_reason"]:
        lines.append(f"| no tenant because | {_fmt(first['tenant_key_reason'])} |")
    lines += [
        f"| event timestamp | `{first['event_timestamp']}` |",
        f"| available-at | `{first['available_at_column']}` |",
        f"| freshness SLA | {first['freshness_sla_hours']:.0f} h |",
        f"| TTL | {first['ttl_hours']:.0f} h |",
        f"| owner | {first['owner']} |",
        f"| version | {first['version']} |",
        f"| consumers | {', '.join(json.loads(first['consumers']))} |",
        f"| rows | {_fmt(first['table_rows'])} |",
        f"| latest available_at | {_fmt(first['max_available_at'])} |",
        f"| lag at check | {_fmt(first['lag_hours'])} h "
        f"({'fresh' if first['fresh'] else 'STALE'}) |",
        "",
        "## Lineage",
        "",
        "Reads (dbt nodes): " + ", ".join(f"`{u}`" for u in json.loads(first["upstream"])),
        "",
        "Source contract:",
        "",
    ]
    lines += [f"- `{table}`: {', '.join(cols)}" for table, cols in contract.items()]
    lines += [
        "",
        "## Features",
        "",
        "| feature | type | class | non-null rows | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows.iter_rows(named=True):
        lines.append(
            f"| `{r['column_name']}` | {r['data_type']} | {r['classification']} | "
            f"{_fmt(r['non_null_rows'])} | {_fmt(r['description'])} |"
        )
    return "\n".join(lines) + "\n"


def write_catalog(frame: pl.DataFrame, directory: Path) -> Path:
    """Write ``index.md`` and one ``<group>.md`` per group into ``directory``.

    Returns the index path. Refuses (ValueError) an empty registry frame.
    """
    if frame.is_empty():
        raise ValueError("the feature registry is empty: no model declares a feature block")
    directory.mkdir(parents=True, exist_ok=True)
    checked = frame["checked_at"][0]
    index = [
        "# Feature catalog",
        "",
        f"{frame.height} features in {frame['feature_group'].n_unique()} groups; freshness "
        f"checked at {checked}.",
        "",
        "| group | entity | tenant key | features | owner | version | SLA (h) | lag (h) | fresh |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, rows in frame.group_by("feature_group", maintain_order=True):
        group = str(name[0])
        page = directory / f"{group}.md"
        page.write_text(_group_page(rows))
        r = rows.row(0, named=True)
        index.append(
            f"| [{group}]({page.name}) | {r['entity']} | {_fmt(r['tenant_key'])} | "
            f"{rows.height} | {r['owner']} | {r['version']} | "
            f"{r['freshness_sla_hours']:.0f} | {_fmt(r['lag_hours'])} | "
            f"{'yes' if r['fresh'] else 'NO'} |"
        )
    path = directory / "index.md"
    path.write_text("\n".join(index) + "\n")
    return path
