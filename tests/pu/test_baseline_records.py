"""Baseline records: immutable, versioned, rebuilt exactly from their audit trail."""

import datetime as dt
import json

import polars as pl
import pytest

from coadv_assets.pu import store
from coadv_assets.pu.baseline import fit_baseline
from coadv_assets.pu.panel import add_clocks
from coadv_assets.warehouse import connect

from .conftest import synthetic_marts

AS_OF = dt.date(2024, 6, 1)


@pytest.fixture()
def panel() -> pl.DataFrame:
    marts = synthetic_marts(dt.date(2023, 1, 1), 18)
    return add_clocks(marts.filter(pl.col("function") == "onboarding"))


def _publish(con, panel: pl.DataFrame) -> tuple[str, bool]:
    return store.publish_baseline(con, fit_baseline(panel, "onboarding"), panel, AS_OF)


def test_republishing_unchanged_inputs_returns_the_same_record(tmp_path, panel):
    with connect(tmp_path / "w.duckdb") as con:
        first, new_first = _publish(con, panel)
        second, new_second = _publish(con, panel)
        records = con.sql("select version, record from pu.baselines").fetchall()
    assert (new_first, new_second) == (True, False)
    assert first == second and len(records) == 1
    record = json.loads(records[0][1])
    assert record["row_counts"]["marts.fct_team_month_pu"] == 6 * 18
    assert record["pre_period"] == {"start": "2023-01-01", "end": "2023-12-01"}
    assert record["data_window"] == {"first_month": "2023-01-01", "last_month": "2024-06-01"}
    assert len(record["input_fingerprints"]["marts.fct_team_month_pu"]) == 64
    assert set(record["compiled_sql"]) == {"fct_team_month_pu", "int_pu_units_team_day"}
    assert record["method"].startswith("On the pre-period") and record["code_version"]


def test_rebuild_from_the_audit_trail_reproduces_every_month_exactly(tmp_path, panel):
    with connect(tmp_path / "w.duckdb") as con:
        version, _ = _publish(con, panel)
        rebuilt = store.rebuild_baseline(con, version)
        published = con.sql(
            "select baseline_c_r from pu.baseline_months where version = ? order by month",
            params=[version],
        ).fetchall()
    assert rebuilt.months["baseline_c_r"].to_list() == [r[0] for r in published]


def test_a_changed_input_row_makes_a_new_version_and_keeps_the_old(tmp_path, panel):
    changed = panel.with_columns(
        labor_cost=pl.when((pl.col("team_id") == "onb-3") & (pl.col("month") == AS_OF))
        .then(pl.col("labor_cost") + 1.0)
        .otherwise(pl.col("labor_cost"))
    )
    with connect(tmp_path / "w.duckdb") as con:
        old, _ = _publish(con, panel)
        new, is_new = _publish(con, changed)
        versions = {r[0] for r in con.sql("select version from pu.baselines").fetchall()}
        months = con.sql("select version, count(*) from pu.baseline_months group by 1").fetchall()
        assert is_new and new != old and versions == {old, new}
        assert dict(months) == {old: 18, new: 18}
        # the old record still rebuilds from its own stored inputs
        store.rebuild_baseline(con, old)
        store.rebuild_baseline(con, new)


def test_rebuild_detects_a_published_figure_that_was_altered(tmp_path, panel):
    with connect(tmp_path / "w.duckdb") as con:
        version, _ = _publish(con, panel)
        con.execute(
            "update pu.baseline_months set baseline_c_r = baseline_c_r + 1e-9 "
            "where version = ? and month = ?",
            [version, AS_OF],
        )
        with pytest.raises(store.ReproductionError, match="baseline_c_r differs .* in 1 month"):
            store.rebuild_baseline(con, version)
