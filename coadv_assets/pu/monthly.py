"""Baselines of a list of months, published once: shared by both PU assets.

``tau_readouts`` calls this too, before its readouts, so that the baseline its document
plots exists whatever order the two assets run in (in an unpartitioned run a Dagster
dependency on the partitioned ``cr_baselines`` cannot be declared). Publishing is
idempotent, so the second call writes nothing.
"""

import datetime as dt

import duckdb
import polars as pl

from coadv_assets.pu import baseline as baseline_mod
from coadv_assets.pu import store
from coadv_assets.pu.readout import panel_as_of


def publish_baselines(
    con: duckdb.DuckDBPyConnection, panels: dict[str, pl.DataFrame], months: list[dt.date]
) -> tuple[dict[str, dict], int]:
    """Publish the baseline of every function as of every month; return (summary, new).

    A month before any complete month of data records "no_data"; a refused fit records the
    refusal and its reason. ``new`` counts versions written by this call.
    """
    summary: dict[str, dict] = {}
    new_versions = 0
    for month in months:
        for function, full in panels.items():
            key = f"{month:%Y-%m}/{function}"
            panel = panel_as_of(full, month)
            if panel.is_empty():
                reason = "no complete month of data through it"
                store.record_baseline_refusal(con, function, month, reason, "no_data")
                summary[key] = {"status": "no_data"}
                continue
            known = store.baseline_version(
                function, month, panel, baseline_mod.default_pre_end(panel)
            )
            if store.baseline_exists(con, known):
                summary[key] = {"status": "unchanged", "version": known}
                continue
            try:
                fitted = baseline_mod.fit_baseline(panel, function)
            except baseline_mod.BaselineError as err:
                store.record_baseline_refusal(con, function, month, str(err), "refused")
                summary[key] = {"status": "refused", "reason": str(err)}
                continue
            version, new = store.publish_baseline(con, fitted, panel, month)
            new_versions += int(new)
            last = fitted.months.tail(1).row(0, named=True)
            summary[key] = {
                "status": "published" if new else "unchanged",
                "version": version,
                "pre_period": f"{fitted.pre_start}..{fitted.pre_end}",
                "observed_c_r_usd_per_pu": round(last["observed_c_r"], 2),
                "baseline_c_r_usd_per_pu": round(last["baseline_c_r"], 2),
                "baseline_95ci_usd_per_pu": [round(last["ci_low"], 2), round(last["ci_high"], 2)],
            }
    return summary, new_versions
