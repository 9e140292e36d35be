"""Command line of coadv: ``python -m coadv_assets.cli summary`` and friends.

``summary`` prints what the last run of the main job produced and where: each model's latest
version and metrics, the `c_r` baselines, the readouts of `τ`, the real-data reproductions,
and how to open the UI.
"""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

from coadv_assets import paths
from coadv_assets.warehouse import connect


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.sql(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            params=[schema, table],
        ).fetchall()[0][0]
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _num(value: float) -> str:
    """A count as an integer, any other figure to four significant digits."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def _window(window: object) -> str:
    """``[start, end)`` instants as ``YYYY-MM-DD to YYYY-MM-DD`` (end exclusive)."""
    if isinstance(window, list | tuple) and len(window) == 2:
        start, end = (str(w)[:10] if w else "start" for w in window)
        return f"{start} to {end} (end exclusive)"
    return str(window)


def summary_lines() -> list[str]:
    """Lines describing the warehouse's current products (read-only)."""
    db = paths.warehouse_path()
    lines = [f"coadv — data in {paths.coadv_home()}", f"warehouse: {db}", ""]
    if not db.exists():
        return [*lines, "no warehouse yet: run `make run`"]
    with connect(db, read_only=True) as con:
        lines += _model_lines(con)
        lines += _baseline_lines(con)
        lines += _readout_lines(con)
        lines += _validation_lines(con)
    lines += [
        f"artifacts (models, plots, training-set manifests): {paths.artifacts_dir()}",
        "",
        "Open the UI:  make ui   (runs `dagster dev -m coadv_assets.definitions`, "
        "then browse http://127.0.0.1:3000)",
    ]
    return lines


def _model_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Per model, its latest trained version: status, test-window figures, card."""
    if not _table_exists(con, "ml", "model_registry"):
        return ["models: none trained yet (renewal_propensity first)", ""]
    rows = con.sql(
        "select model, version, metrics, promoted, artifact_dir, card_path "
        "from ml.model_registry qualify row_number() over "
        "(partition by model order by trained_at desc) = 1 order by model"
    ).fetchall()
    if not rows:
        return ["models: none trained yet (renewal_propensity first)", ""]
    lines = ["models (latest trained version; figures on its test window):"]
    for model, version, metrics, promoted, artifact_dir, card in rows:
        m = json.loads(metrics)
        lines.append(f"{model} (version {version}, {'promoted' if promoted else 'NOT promoted'}):")
        if "auc" in m:
            lines += [
                f"  test window {_window(m.get('test_window'))}, {m.get('n_test'):,} rows "
                f"scored, {m.get('test_events'):,} events",
                f"  AUC {_fmt(m.get('auc'))} (95% CI {_fmt(m.get('auc_ci_low'))}–"
                f"{_fmt(m.get('auc_ci_high'))}), Brier {_fmt(m.get('brier'))}, "
                f"ECE {_fmt(m.get('ece'))}, calibration slope "
                f"{_fmt(m.get('calibration_slope'), 2)}, calibration-in-the-large "
                f"{_fmt(m.get('calibration_in_the_large'), 2)} (logit)",
            ]
        else:
            numbers = {k: v for k, v in m.items() if not isinstance(v, bool)}
            shown = [(k, v) for k, v in numbers.items() if isinstance(v, int | float)][:6]
            lines.append("  " + ", ".join(f"{k} {_num(v)}" for k, v in shown))
        lines.append(f"  card: {card or 'n/a'}; artifacts: {artifact_dir}")
    return [*lines, ""]


def _baseline_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not _table_exists(con, "pu", "baselines"):
        return ["c_r baselines: none yet", ""]
    lines = ["c_r baselines (USD per PU, latest month, 95% interval for the expected baseline):"]
    rows = con.sql(
        """
        with latest as (
            select function, version, pre_start, pre_end, as_of_month,
                   row_number() over (
                       partition by function order by as_of_month desc, published_at desc
                   ) as rn
            from pu.baselines
            where coalesce(status, 'published') = 'published'
        )
        select l.function, l.version, l.pre_start, l.pre_end, m.month, m.observed_c_r,
               m.baseline_c_r, m.ci_low, m.ci_high
        from latest l join pu.baseline_months m using (version)
        where l.rn = 1 and m.month = (
            select max(month) from pu.baseline_months where version = l.version)
        order by l.function
        """
    ).fetchall()
    for fn, version, pre_start, pre_end, month, obs, base, lo, hi in rows:
        lines.append(
            f"  {fn:<24} {month}: observed {_fmt(obs, 2)}, baseline {_fmt(base, 2)} "
            f"[{_fmt(lo, 2)}, {_fmt(hi, 2)}]  (pre-period {pre_start}..{pre_end}, "
            f"record {version})"
        )
    return [*lines, ""]


def _readout_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not _table_exists(con, "pu", "tau_readouts"):
        return ["readouts of tau: none yet", ""]
    lines = [
        "readouts of tau (effect of AI tooling on treated teams, latest month, 95% interval; "
        "primary method and the naive comparison, the other checks in each document):"
    ]
    rows = con.sql(
        """
        with latest as (
            select function, max(month) as month from pu.tau_readouts group by function
        )
        select r.function, r.month, r.outcome, r.unit, r.method, r.role, r.status,
               r.estimate, r.ci_low, r.ci_high, r.estimate_pct, r.ci_low_pct, r.ci_high_pct,
               r.reason, r.document
        from pu.tau_readouts r join latest l using (function, month)
        where coalesce(r.role, 'primary') in ('primary', 'naive')
        qualify r.computed_at = max(r.computed_at) over (partition by r.function)
        order by r.function, r.outcome, r.role desc
        """
    ).fetchall()
    documents: dict[str, str] = {}
    for row in rows:
        fn, month, outcome, unit, method, role, status, est, lo, hi = row[:10]
        pct, pct_lo, pct_hi, reason, doc = row[10:]
        head = f"  {fn:<24} {month} {outcome:<12} {method:<19}"
        if status == "estimated":
            lines.append(
                f"{head} {_fmt(est)} {unit} [{_fmt(lo)}, {_fmt(hi)}], "
                f"{_fmt(pct, 1)}% [{_fmt(pct_lo, 1)}, {_fmt(pct_hi, 1)}]"
                + ("  naive" if role == "naive" else "")
            )
        else:
            lines.append(f"{head} refused: {reason}")
        if doc:
            documents[fn] = doc
    lines += [f"  document: {doc}" for doc in documents.values()]
    return [*lines, ""]


def _validation_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not _table_exists(con, "validation", "reproductions"):
        return ["real-data checks: none yet", ""]
    lines = ["real-data checks (ours vs published):"]
    for study, qty, ours, pub, tol, ok in con.execute(
        "select study, quantity, ours, published, tolerance, within_tolerance "
        "from validation.reproductions order by study, quantity"
    ).fetchall():
        lines.append(
            f"  {study:<10} {qty:<16} ours {ours:.4f}  published {pub:.4f}  "
            f"(tolerance ±{tol}) {'OK' if ok else 'OUTSIDE TOLERANCE'}"
        )
    if _table_exists(con, "validation", "forecast_backtests"):
        for series, mase, naive, cov80, cov95, origins, horizon in con.execute(
            "select series, mase, mase_naive, coverage_80, coverage_95, origins, horizon "
            "from validation.forecast_backtests order by series"
        ).fetchall():
            lines.append(
                f"  {series:<10} forecast backtest ({origins} origins, {horizon} days ahead): "
                f"MASE {mase:.3f} vs seasonal naive {naive:.3f}, 80% interval covers "
                f"{cov80:.1%}, 95% covers {cov95:.1%}"
            )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coadv", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("summary", help="print what the main job produced and where")
    args = parser.parse_args(argv)
    if args.command == "summary":
        print("\n".join(summary_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
