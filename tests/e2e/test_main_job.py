"""The whole graph on a small simulated PEO, checked against the simulator's planted truths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from coadv_assets import paths

pytestmark = pytest.mark.slow

PII_NAMES = {
    "first_name",
    "last_name",
    "ssn",
    "birth_date",
    "email",
    "caller_email",
    "contact_name",
    "contact_email",
}
SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


def _readouts(graph_run) -> pl.DataFrame:
    with graph_run.connect() as con:
        return con.sql("select * from pu.tau_readouts").pl()


@pytest.mark.parametrize(
    "outcome,truth_key", [("c_r", "c_r_usd_per_pu"), ("pu_per_hour", "pu_per_hour_units")]
)
def test_did_interval_covers_planted_effect_and_naive_is_reported(graph_run, outcome, truth_key):
    truth = graph_run.truths()["functions"]["payroll_operations"]["att"][truth_key]
    rows = _readouts(graph_run).filter(
        (pl.col("function") == "payroll_operations") & (pl.col("outcome") == outcome)
    )
    assert rows["month"].n_unique() == 1  # main_job reads out the latest complete month
    did = rows.filter(pl.col("method") == "staggered_did").row(0, named=True)
    naive = rows.filter(pl.col("method") == "naive_before_after").row(0, named=True)
    assert did["status"] == "estimated" and did["role"] == "primary", did["reason"]
    assert did["ci_low"] <= truth <= did["ci_high"], (truth, did)
    assert naive["status"] == "estimated" and naive["role"] == "naive"
    # The dashboard's before/after: inflation, the work's drift and the teams not yet
    # treated pull it toward no effect (tests/pu/test_readouts_against_truths.py).
    assert not naive["ci_low"] <= truth <= naive["ci_high"], (truth, naive)


def test_readout_documents_are_written_and_linked(graph_run):
    docs = _readouts(graph_run).select("function", "document").unique()
    assert docs.height == 4
    for function, document in docs.iter_rows():
        text = Path(document).read_text()
        assert function.replace("_", " ") in text and "## Answer" in text
        assert "![c_r against its baseline](c_r_baseline.png)" in text


def test_renewal_model_auc_is_close_to_the_oracle_on_the_same_rows(graph_run):
    truths = pl.read_parquet(graph_run.home / "truths" / "renewal_probabilities.parquet")
    with graph_run.connect() as con:
        preds = con.sql(
            "select contract_id, renewed, p_renew from ml.renewal_test_predictions"
        ).pl()
        registry = con.sql(
            "select metrics, promoted from ml.model_registry where model = 'renewal_propensity'"
        ).fetchall()
    joined = preds.join(truths.select("contract_id", "p_renew_true"), on="contract_id")
    assert joined.height == preds.height > 200
    y = joined["renewed"].to_numpy()
    ours = roc_auc_score(y, joined["p_renew"].to_numpy())
    oracle = roc_auc_score(y, joined["p_renew_true"].to_numpy())
    assert abs(ours - oracle) <= 0.05, (ours, oracle)
    assert len(registry) == 1 and registry[0][1]


def test_the_run_simulated_the_pinned_embedded_default(graph_run):
    """Without configuration the job simulates the book ``make run`` builds on any day."""
    written = json.loads((graph_run.home / "landing" / "_simulation.json").read_text())
    assert written == {
        "clients": 1500,
        "months": 36,
        "teams_per_function": 10,
        "scale": 1.0,
        "seed": 11,
        "end_date": "2026-11-30",
    }
    assert graph_run.truths()["last_day"] == "2026-11-29"  # the last complete day


def test_no_pii_column_or_value_outside_staging(graph_run):
    with graph_run.connect() as con:
        columns = con.sql(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_schema not in ('raw', 'staging')"
        ).fetchall()
        leaked = [c for c in columns if c[2] in PII_NAMES]
        assert not leaked
        for schema, table, column, dtype in columns:
            if dtype != "VARCHAR":
                continue
            values = con.sql(
                f'select distinct "{column}" from "{schema}"."{table}" '
                f'where "{column}" is not null limit 200'
            ).fetchall()
            for (value,) in values:
                assert not SSN_SHAPE.match(value), (schema, table, column)
                assert not EMAIL_SHAPE.match(value), (schema, table, column)


def test_real_data_check_matches_published_mpdta(graph_run):
    with graph_run.connect() as con:
        rows = dict(
            con.sql(
                "select quantity, ours from validation.reproductions where study = 'mpdta'"
            ).fetchall()
        )
    assert rows["simple_att"] == pytest.approx(-0.0400, abs=0.0005)
    assert rows["simple_att_se"] == pytest.approx(0.0120, abs=0.0015)


def test_baselines_published_for_every_function_with_audit_trail(graph_run):
    with graph_run.connect() as con:
        records = con.sql("select function, record from pu.baselines").fetchall()
    assert {r[0] for r in records} == {
        "payroll_operations",
        "service_center",
        "benefits_administration",
        "onboarding",
    }
    import json

    for _, record in records:
        rec = json.loads(record)
        assert rec["row_counts"]["marts.fct_team_month_pu"] > 0
        assert len(rec["input_fingerprints"]["marts.fct_team_month_pu"]) == 64
        assert rec["compiled_sql"]["fct_team_month_pu"]
        assert rec["method"].startswith("On the pre-period")


def test_summary_names_every_product(graph_run):
    text = graph_run.summary
    for needle in (
        "renewal_propensity",
        "AUC",
        "c_r baselines",
        "readouts of tau",
        "mpdta",
        "bank_calls forecast backtest",
        "dagster dev",
    ):
        assert needle in text, needle
    # every primary readout prints its interval in units and in percent
    did = [line for line in text.splitlines() if "staggered_did" in line]
    assert len(did) == 8
    interval = re.compile(r"\], -?\d+\.\d% \[-?\d+\.\d, -?\d+\.\d\]$")
    assert all(interval.search(line) for line in did), did


def test_preregistration_is_signed():
    prereg = yaml.safe_load(
        (paths.MODEL_CARDS_DIR / "renewal_propensity" / "preregistrations" / "v2.yaml").read_text()
    )
    assert prereg["signed_by"] and prereg["signed_at"]
    assert np.isfinite(prereg["success_criterion"]["auc_min"])
