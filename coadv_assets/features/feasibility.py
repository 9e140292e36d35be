"""Feasibility review of a proposed feature, from the data it would read.

A proposal is a small YAML file::

    name: client_open_contacts
    description: Contacts still open per client and day.
    grain: [client_id, date]
    wanted_freshness: 3 days          # how old a value may be when served
    sources:
      - table: peo.contacts           # <source>.<table> of the source contracts
        columns: [client_id, opened_at, resolved]
        event_time: opened_at         # optional: measures lateness (_loaded_at - event)

The review reads ``raw.<table>`` and the contracts in the dbt manifest and reports, per
source: whether it is declared and populated, the columns missing, its observed refresh
cadence (gaps between distinct ``_loaded_at`` values), lateness (``_loaded_at`` minus the
event time), null rate per column, duplicate rate on the contract key, and the governance
class of each column read. The verdict is ``go`` unless a reason says ``no-go``:

- a source not declared, absent from the warehouse or empty; a column it does not have;
- a ``pii`` column (PII never leaves staging);
- a ``phi`` column unless the grain is client-month (claims leave staging only aggregated
  to client-month, small cells suppressed: the reason says so);
- a wanted freshness shorter than the median refresh gap or the 95th percentile of
  lateness of a source (the source cannot deliver it).
"""

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from coadv_assets.features.manifest import quote_ident
from coadv_assets.features.spec import node_meta, parse_duration

CLIENT_MONTH_GRAINS = ({"client_id", "month"}, {"client_id", "service_month"})


@dataclass
class SourceReport:
    """What the data say about one source of a proposal."""

    table: str
    declared: bool
    exists: bool
    rows: int
    missing_columns: list[str]
    classes: dict[str, str]
    null_rates: dict[str, float]
    duplicate_rate: float | None
    duplicate_key: list[str]
    loads: int
    median_refresh_hours: float | None
    max_refresh_gap_hours: float | None
    lateness_p50_hours: float | None
    lateness_p95_hours: float | None
    last_loaded_at: str | None


@dataclass
class FeasibilityReport:
    """The verdict (``go`` / ``no-go``), its reasons and the per-source figures."""

    name: str
    grain: list[str]
    wanted_freshness_hours: float
    verdict: str
    reasons: list[str]
    sources: list[SourceReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        """The report as Markdown: verdict, reasons, one table row per source."""
        lines = [
            f"# Feasibility of {self.name}: {self.verdict.upper()}",
            "",
            f"Grain {', '.join(self.grain)}; wanted freshness {self.wanted_freshness_hours:g} h.",
            "",
            *(f"- {r}" for r in self.reasons or ["every source can deliver it"]),
            "",
            "| source | rows | loads | median refresh (h) | lateness p95 (h) | worst null rate "
            "| duplicate rate | classes |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for s in self.sources:
            worst = max(s.null_rates.values(), default=0.0)
            classes = ", ".join(sorted(set(s.classes.values()))) or "—"
            lines.append(
                f"| {s.table} | {s.rows} | {s.loads} | {_f(s.median_refresh_hours)} | "
                f"{_f(s.lateness_p95_hours)} | {worst:.1%} | {_f(s.duplicate_rate, pct=True)} "
                f"| {classes} |"
            )
        return "\n".join(lines) + "\n"


def _f(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if pct else f"{value:,.1f}"


def load_proposal(path: str | Path) -> dict[str, Any]:
    """Read and check a proposal YAML; ValueError naming the file and the missing field."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    for key in ("name", "grain", "wanted_freshness", "sources"):
        if not data.get(key):
            raise ValueError(f"proposal {path}: missing field {key!r}")
    for i, src in enumerate(data["sources"]):
        if not src.get("table") or not src.get("columns"):
            raise ValueError(f"proposal {path}: source #{i + 1} needs 'table' and 'columns'")
    return data


def _contracts(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {f"{s['source_name']}.{s['name']}": s for s in manifest.get("sources", {}).values()}


def _source_report(
    con: duckdb.DuckDBPyConnection, spec: Mapping[str, Any], contract: Mapping[str, Any] | None
) -> SourceReport:
    table = str(spec["table"])
    columns = [str(c) for c in spec["columns"]]
    classes = {}
    key: list[str] = []
    relation = f"raw.{table.split('.')[-1]}"
    if contract is not None:
        declared_cols = contract.get("columns", {})
        classes = {
            c: str(node_meta(declared_cols[c]).get("classification"))
            for c in columns
            if c in declared_cols
        }
        key = list(node_meta(contract).get("key") or [])
        relation = f"{contract.get('schema') or 'raw'}.{contract['name']}"
    schema, name = relation.split(".", 1)
    present = con.sql(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        params=[schema, name],
    ).fetchall()
    present_cols = [r[0] for r in present]
    report = SourceReport(
        table=table,
        declared=contract is not None,
        exists=bool(present_cols),
        rows=0,
        missing_columns=[c for c in columns if c not in present_cols] if present_cols else columns,
        classes=classes,
        null_rates={},
        duplicate_rate=None,
        duplicate_key=key or columns,
        loads=0,
        median_refresh_hours=None,
        max_refresh_gap_hours=None,
        lateness_p50_hours=None,
        lateness_p95_hours=None,
        last_loaded_at=None,
    )
    if not present_cols:
        return report
    q = f"{quote_ident(schema)}.{quote_ident(name)}"
    usable = [c for c in columns if c in present_cols]
    nulls = ", ".join(f"count(*) - count({quote_ident(c)})" for c in usable) or "0"
    row = con.sql(f"select count(*), {nulls} from {q}").fetchall()[0]
    report.rows = int(row[0])
    if report.rows:
        report.null_rates = {c: int(n) / report.rows for c, n in zip(usable, row[1:], strict=False)}
        dup_cols = [c for c in report.duplicate_key if c in present_cols]
        if dup_cols:
            cols = ", ".join(quote_ident(c) for c in dup_cols)
            distinct = con.sql(f"select count(*) from (select distinct {cols} from {q})")
            report.duplicate_rate = 1.0 - distinct.fetchall()[0][0] / report.rows
    if "_loaded_at" in present_cols and report.rows:
        gaps = con.sql(
            f"with l as (select distinct _loaded_at as t from {q}), "
            f"g as (select epoch(t) - epoch(lag(t) over (order by t)) as s from l) "
            f"select (select count(*) from l), median(s) / 3600, max(s) / 3600, "
            f"(select max(t) from l)::varchar from g"
        ).fetchall()[0]
        report.loads = int(gaps[0])
        report.median_refresh_hours = None if gaps[1] is None else float(gaps[1])
        report.max_refresh_gap_hours = None if gaps[2] is None else float(gaps[2])
        report.last_loaded_at = gaps[3]
        event = spec.get("event_time")
        if event and event in present_cols:
            late = con.sql(
                f"select quantile_cont(s, 0.5) / 3600, quantile_cont(s, 0.95) / 3600 from "
                f"(select epoch(_loaded_at) - epoch(cast({quote_ident(event)} as timestamptz)) "
                f"as s from {q} where {quote_ident(event)} is not null)"
            ).fetchall()[0]
            report.lateness_p50_hours = None if late[0] is None else float(late[0])
            report.lateness_p95_hours = None if late[1] is None else float(late[1])
    return report


def _reasons(proposal: Mapping[str, Any], wanted_h: float, reports: list[SourceReport]) -> list:
    reasons = []
    grain = set(proposal["grain"])
    for r in reports:
        if not r.declared:
            reasons.append(f"no-go: {r.table} is not a declared source contract")
        if not r.exists:
            reasons.append(f"no-go: {r.table} is not in the warehouse (raw schema)")
            continue
        if r.rows == 0:
            reasons.append(f"no-go: {r.table} is empty")
        if r.missing_columns:
            reasons.append(f"no-go: {r.table} has no column {', '.join(r.missing_columns)}")
        pii = sorted(c for c, k in r.classes.items() if k == "pii")
        if pii:
            reasons.append(
                f"no-go: {r.table}.{', '.join(pii)} is classified pii; PII never leaves staging"
            )
        phi = sorted(c for c, k in r.classes.items() if k == "phi")
        if phi and grain not in CLIENT_MONTH_GRAINS:
            reasons.append(
                f"no-go: {r.table}.{', '.join(phi)} is phi; claims leave staging only "
                "aggregated to client-month (grain [client_id, month]) with small cells "
                "suppressed"
            )
        if r.median_refresh_hours is not None and r.median_refresh_hours > wanted_h:
            reasons.append(
                f"no-go: {r.table} refreshes every {r.median_refresh_hours:.1f} h (median gap "
                f"between loads), longer than the wanted freshness {wanted_h:g} h"
            )
        if r.lateness_p95_hours is not None and r.lateness_p95_hours > wanted_h:
            reasons.append(
                f"no-go: {r.table} rows arrive {r.lateness_p95_hours:.1f} h after their event "
                f"(95th percentile), later than the wanted freshness {wanted_h:g} h"
            )
    return reasons


def review(
    con: duckdb.DuckDBPyConnection, proposal: Mapping[str, Any], manifest: Mapping[str, Any]
) -> FeasibilityReport:
    """Return the feasibility report of ``proposal`` (a dict as ``load_proposal`` returns).

    Refuses (ValueError) a wanted freshness that is not a duration like '36h' or '2 days'.
    """
    wanted = parse_duration(proposal["wanted_freshness"])
    if wanted is None:
        raise ValueError(
            f"proposal {proposal['name']}: wanted_freshness {proposal['wanted_freshness']!r} "
            "is not a duration like '36h' or '2 days'"
        )
    wanted_h = wanted.total_seconds() / 3600.0
    contracts = _contracts(manifest)
    reports = [_source_report(con, s, contracts.get(str(s["table"]))) for s in proposal["sources"]]
    reasons = _reasons(proposal, wanted_h, reports)
    return FeasibilityReport(
        name=str(proposal["name"]),
        grain=list(proposal["grain"]),
        wanted_freshness_hours=wanted_h,
        verdict="no-go" if reasons else "go",
        reasons=reasons,
        sources=reports,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: print the report (Markdown or JSON); exit 0 for go, 1 for no-go, 2 on error."""
    parser = argparse.ArgumentParser(
        prog="python -m coadv_assets.features.feasibility",
        description="Feasibility report of a proposed feature from the data it would read.",
    )
    parser.add_argument("proposal", help="proposal YAML file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--manifest", help="dbt manifest.json (default: the project's)")
    args = parser.parse_args(argv)
    from coadv_assets.features.groups import default_manifest
    from coadv_assets.features.spec import load_manifest
    from coadv_assets.warehouse import connect

    try:
        proposal = load_proposal(args.proposal)
        manifest = load_manifest(args.manifest) if args.manifest else default_manifest()
        with connect(read_only=True) as con:
            report = review(con, proposal, manifest)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.to_markdown(), end="")
    return 0 if report.verdict == "go" else 1


if __name__ == "__main__":
    raise SystemExit(main())
