"""Asset checks built from the monitoring contract (``coadv_assets.monitoring.specs``).

``build_monitor_checks`` turns every ``ModelMonitor`` into one multi-asset check on its
``asset_key`` with the checks its fields call for (``feature_drift``, ``prediction_drift``,
``calibration``, ``reconciliation``), thresholds from ``thresholds.yaml``. Each evaluation:

1. reads the windows read-only from the warehouse (a query that fails, e.g. on a table not
   built yet, is insufficient data: the check fails with WARN and does not page);
2. judges them with ``coadv_assets.monitoring.evaluate`` (ERROR failures page on-call and,
   for a monitor with ``blocking=True``, stop what is built downstream in the same run);
3. writes the evidently HTML report and PNG plots under
   ``$COADV_HOME/artifacts/monitoring/<model>/<stamp>/`` and links them in the check
   metadata (the plots embedded, so they show on the check's page);
4. appends one row per check to ``ops.check_history``.

The metadata key ``incident`` names what is wrong (drifted columns, missed calibration
bounds, the sign of a reconciliation gap) without figures that change from run to run, so
that the on-call sensor pages once per incident.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from coadv_assets import paths
from coadv_assets.monitoring import history
from coadv_assets.monitoring.specs import MONITORS, ModelMonitor
from coadv_assets.monitoring.thresholds import THRESHOLDS_PATH, load_thresholds
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:ml-platform"


def check_names(monitor: ModelMonitor) -> list[str]:
    """The checks a monitor gets, in evaluation order."""
    names = ["feature_drift"]
    if monitor.prediction_column:
        names.append("prediction_drift")
    if monitor.labelled_sql:
        names.append("calibration")
    if monitor.reconciliation_sql:
        names.append("reconciliation")
    return names


_DESCRIPTIONS = {
    "feature_drift": "Feature drift, reference against current window (evidently).",
    "prediction_drift": "Drift of the model's prediction, reference against current window.",
    "calibration": "Calibration slope, intercept and ECE on the latest labelled window.",
    "reconciliation": "Predicted against realised business metric, per period and in total.",
}


def _read(con: duckdb.DuckDBPyConnection, sql: str | None) -> pl.DataFrame | str | None:
    """The query's rows, or the error message when it fails; None without a query."""
    if sql is None:
        return None
    try:
        return con.sql(sql).pl()
    except duckdb.Error as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _unreadable(name: str, error: str, cfg: dict[str, Any]) -> Any:
    from coadv_assets.monitoring.evaluate import Verdict

    msg = f"insufficient data: window not readable ({error}); {name} not assessed"
    return Verdict(name, "insufficient_data", msg, str(cfg.get("severity", "ERROR")))


def evaluate_monitor(
    monitor: ModelMonitor,
    db_path: Path,
    out_dir: Path,
    thresholds: dict[str, dict[str, Any]],
) -> list[Any]:
    """Read the monitor's windows from ``db_path`` and return one ``Verdict`` per check of
    ``check_names(monitor)``, writing reports and plots under ``out_dir``."""
    from coadv_assets.monitoring import evaluate

    with connect(db_path, read_only=True) as con:
        ref = _read(con, monitor.reference_sql)
        cur = _read(con, monitor.current_sql)
        labelled = _read(con, monitor.labelled_sql)
        recon = _read(con, monitor.reconciliation_sql)
    verdicts = []
    windows_error = ref if isinstance(ref, str) else cur if isinstance(cur, str) else None
    if windows_error is not None:
        verdicts.append(_unreadable("feature_drift", windows_error, thresholds["drift"]))
    else:
        verdicts.append(
            evaluate.feature_drift(
                ref,
                cur,
                list(monitor.numerical),
                list(monitor.categorical),
                thresholds["drift"],
                html_path=out_dir / "feature_drift.html",
                plot_path=out_dir / "feature_drift.png",
            )
        )
    if monitor.prediction_column:
        cfg = thresholds["prediction_drift"]
        col = monitor.prediction_column
        if windows_error is not None:
            verdicts.append(_unreadable("prediction_drift", windows_error, cfg))
        else:
            verdicts.append(
                evaluate.feature_drift(
                    ref.select(col) if col in ref.columns else ref.select([]),
                    cur.select(col) if col in cur.columns else cur.select([]),
                    [col],
                    [],
                    {**cfg, "drift_share": 0.5},
                    check_name="prediction_drift",
                    html_path=out_dir / "prediction_drift.html",
                    plot_path=out_dir / "prediction_drift.png",
                )
            )
    if monitor.labelled_sql:
        cfg = thresholds["calibration"]
        if isinstance(labelled, str):
            verdicts.append(_unreadable("calibration", labelled, cfg))
        else:
            verdicts.append(
                evaluate.calibration(labelled, cfg, plot_path=out_dir / "calibration.png")
            )
    if monitor.reconciliation_sql:
        cfg = thresholds["reconciliation"]
        if isinstance(recon, str):
            verdicts.append(_unreadable("reconciliation", recon, cfg))
        else:
            verdicts.append(
                evaluate.reconciliation(recon, cfg, plot_path=out_dir / "reconciliation.png")
            )
    return verdicts


def to_check_result(verdict: Any, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    """The Dagster result of a verdict, with its report linked and its plot embedded."""
    from coadv_assets.monitoring.plots import png_markdown

    metadata: dict[str, Any] = {
        "status": verdict.status,
        "value": float("nan") if verdict.value is None else float(verdict.value),
        "incident": str(verdict.details.get("incident", "")),
        "details": dg.MetadataValue.json(verdict.details),
    }
    if verdict.report_path is not None:
        metadata["report"] = dg.MetadataValue.path(str(verdict.report_path))
        metadata["report_url"] = dg.MetadataValue.url(verdict.report_path.resolve().as_uri())
    if verdict.plot_path is not None:
        metadata["plot"] = dg.MetadataValue.md(png_markdown(verdict.plot_path, verdict.check_name))
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=verdict.check_name,
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity(verdict.effective_severity),
        description=verdict.message,
        metadata=metadata,
    )


def build_monitor_check(
    monitor: ModelMonitor, thresholds_path: Path = THRESHOLDS_PATH
) -> dg.AssetChecksDefinition:
    """One multi-asset check evaluating every check of ``monitor``.

    Refuses (ValueError, at definition time) thresholds that do not load for the model.
    """
    thresholds = load_thresholds(monitor.model, thresholds_path)
    specs = [
        dg.AssetCheckSpec(
            name,
            asset=monitor.asset_key,
            blocking=monitor.blocking,
            description=f"{monitor.model}: {_DESCRIPTIONS[name]}",
        )
        for name in check_names(monitor)
    ]

    @dg.multi_asset_check(
        name=f"{monitor.model}_monitoring",
        specs=specs,
        description=f"Monitoring of {monitor.model}: drift, calibration, reconciliation.",
        pool="warehouse",
    )
    def _monitor(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        now = dt.datetime.now(dt.UTC)
        out_dir = (
            paths.artifacts_dir()
            / "monitoring"
            / monitor.model
            / f"{now:%Y%m%dT%H%M%SZ}_{context.run.run_id[:8]}"
        )
        verdicts = evaluate_monitor(monitor, warehouse.db_path, out_dir, thresholds)
        rows = [
            history.HistoryRow(
                model=monitor.model,
                asset_key=monitor.asset_key.to_user_string(),
                check_name=v.check_name,
                status=v.status,
                passed=v.passed,
                severity=v.effective_severity,
                value=v.value,
                message=v.message,
                report_path=None if v.report_path is None else str(v.report_path),
                run_id=context.run.run_id,
                details=v.details,
            )
            for v in verdicts
        ]
        with connect(warehouse.db_path) as con:
            history.append(con, rows, now)
        for v in verdicts:
            context.log.info(f"{monitor.model} {v.check_name}: {v.status}: {v.message}")
            yield to_check_result(v, monitor.asset_key)

    return _monitor


def build_monitor_checks(
    monitors: Sequence[ModelMonitor] = tuple(MONITORS), thresholds_path: Path = THRESHOLDS_PATH
) -> list[dg.AssetChecksDefinition]:
    """The checks of every registered monitor. Refuses (ValueError) two monitors of one
    model or of one asset (their check names would collide)."""
    for attr in ("model", "asset_key"):
        seen = [getattr(m, attr) for m in monitors]
        dup = {str(x) for x in seen if seen.count(x) > 1}
        if dup:
            raise ValueError(f"monitors registered twice for {attr} {sorted(dup)}")
    return [build_monitor_check(m, thresholds_path) for m in monitors]
