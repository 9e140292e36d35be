"""The framework's promises on the trained warehouse: no training without a pre-registration,
no promotion below the criterion (scoring keeps the last promoted version), exact
reproduction of a version's predictions, and the scoring policy for unexpected input."""

import datetime as dt
import hashlib
import shutil

import dagster as dg
import numpy as np
import polars as pl
import pytest

from coadv_assets import paths
from coadv_assets.defs import models, models_churn, models_payroll
from coadv_assets.models import classifier, preregistration, registry, training
from coadv_assets.models.scoring import score_batch
from coadv_assets.warehouse import WarehouseResource, connect


@pytest.fixture(scope="module")
def scratch(models_home, tmp_path_factory):
    """A private copy of the trained warehouse and of the churn training set."""
    home = tmp_path_factory.mktemp("scratch_home")
    shutil.copy(models_home.warehouse, home / "warehouse.duckdb")
    src = models_home.home / "artifacts" / "training_sets" / "churn"
    shutil.copytree(src, home / "artifacts" / "training_sets" / "churn")
    return home


def _failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {
        e.step_key: e.event_specific_data.error.message
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    }


def test_missing_preregistration_means_no_training(tmp_path, monkeypatch):
    monkeypatch.setenv("COADV_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(paths, "MODEL_CARDS_DIR", tmp_path / "empty_cards")
    result = dg.materialize(
        [models_churn.churn_training_set, models_churn.churn_model],
        resources={"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"))},
        raise_on_error=False,
    )
    assert not result.success
    failures = _failures(result)
    assert list(failures) == ["churn_training_set"]
    assert "no pre-registration for model 'churn'" in failures["churn_training_set"]
    assert not (tmp_path / "home" / "artifacts" / "training_sets" / "churn").exists()
    assert not (tmp_path / "w.duckdb").exists()


def test_a_missed_criterion_records_the_version_unpromoted_and_scoring_keeps_the_last(
    scratch, tmp_path, monkeypatch
):
    monkeypatch.setenv("COADV_HOME", str(scratch))
    cards = tmp_path / "cards"
    shutil.copytree(paths.MODEL_CARDS_DIR / "churn", cards / "churn")
    folder = cards / "churn" / "preregistrations"
    text = (folder / "v2.yaml").read_text()
    head, _, rest = text.partition("supersedes:\n")
    rest = rest[rest.index("question:") :]  # v2's own account of version 1 goes
    strict = (
        (head + rest)
        .replace("auc_min: 0.60", "auc_min: 0.99")
        .replace(
            "criterion_version: 2\n",
            "criterion_version: 3\nsupersedes:\n  criterion_version: 2\n"
            "  reason: An unreachable AUC floor, to see a version recorded unpromoted.\n",
        )
    )
    assert "auc_min: 0.99" in strict and "criterion_version: 3" in strict
    (folder / "v3.yaml").write_text(strict)
    preregistration.sign("churn", cards)
    monkeypatch.setattr(paths, "MODEL_CARDS_DIR", cards)
    db = scratch / "warehouse.duckdb"
    with connect(db, read_only=True) as con:
        before = registry.promoted_version(con, "churn")
    assert before is not None

    resource = {"warehouse": WarehouseResource(path=str(db))}
    result = dg.materialize(
        [models_churn.churn_model, models_churn.churn_scores],
        resources=resource,
        raise_on_error=False,
    )
    gate = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert [(g.check_name, g.passed) for g in gate] == [("promotion_gate", False)]
    assert "auc" in gate[0].description and "< 0.99" in gate[0].description
    # the blocking gate stops what is downstream in the same run
    materialized = {
        e.asset_key.path[-1]
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert materialized == {"churn_model"}
    with connect(db, read_only=True) as con:
        versions = registry.versions(con, "churn")
        after = registry.promoted_version(con, "churn")
    newest = versions[0]
    assert not newest.promoted and newest.version != before.version
    assert newest.promotion_reasons and "0.99" in newest.promotion_reasons[0]
    assert (newest.criterion_version, before.criterion_version) == (3, 2)
    assert newest.preregistration_sha256 == hashlib.sha256(strict.encode()).hexdigest()
    assert after is not None and after.version == before.version

    scored = dg.materialize([models_churn.churn_scores], resources=resource)
    assert scored.success
    with connect(db, read_only=True) as con:
        used = con.sql(
            "select distinct model_version from ml.scores where model = 'churn'"
        ).fetchall()
    assert used == [(before.version,)]


def test_a_criterion_edited_in_place_after_training_refuses_training(
    models_home, tmp_path, monkeypatch
):
    """Versions of churn were judged under criterion version 2; a v2.yaml edited since (even
    with its ledger entry rewritten to match) no longer is what they were judged against."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(models_home.warehouse, home / "warehouse.duckdb")
    monkeypatch.setenv("COADV_HOME", str(home))
    cards = tmp_path / "cards"
    shutil.copytree(paths.MODEL_CARDS_DIR / "churn", cards / "churn")
    folder = cards / "churn" / "preregistrations"
    original = (folder / "v2.yaml").read_bytes()
    edited = original.replace(b"auc_min: 0.60", b"auc_min: 0.55")
    assert edited != original
    (folder / "v2.yaml").write_bytes(edited)
    ledger = (folder / "signatures.yaml").read_text()
    old_sha, new_sha = hashlib.sha256(original).hexdigest(), hashlib.sha256(edited).hexdigest()
    (folder / "signatures.yaml").write_text(ledger.replace(old_sha, new_sha))
    monkeypatch.setattr(paths, "MODEL_CARDS_DIR", cards)
    db = home / "warehouse.duckdb"
    with connect(db, read_only=True) as con:
        judged = [v for v in registry.versions(con, "churn") if v.criterion_version == 2]
    assert judged and {v.preregistration_sha256 for v in judged} == {old_sha}

    result = dg.materialize(
        [models_churn.churn_training_set],
        resources={"warehouse": WarehouseResource(path=str(db))},
        raise_on_error=False,
    )
    message = _failures(result)["churn_training_set"]
    assert f"holds {len(judged)} version(s) of 'churn' judged under criterion version 2" in (
        message
    )
    assert f"{folder / 'v2.yaml'} now hashes to {new_sha[:16]}" in message
    with connect(db, read_only=True) as con:
        assert len(registry.versions(con, "churn")) == len(judged)


@pytest.mark.parametrize(
    ("module", "derive"),
    [(models, None), (models_churn, None), (models_payroll, models_payroll.derive)],
)
def test_reloading_a_version_reproduces_its_test_predictions(models_home, module, derive):
    spec = module.SPEC
    with models_home.connect() as con:
        mv = registry.promoted_version(con, spec.model)
        stored = con.sql(
            "select entity_id, prediction from ml.test_predictions "
            "where model = ? and model_version = ? order by entity_id",
            params=[spec.model, mv.version],
        ).pl()
    model = classifier.load_model(mv.artifact_dir)  # raises unless the golden batch reproduces
    frame = pl.read_parquet(
        models_home.home / "artifacts" / "training_sets" / spec.model / "training_set.parquet"
    )
    frame = derive(frame) if derive else frame
    test = training.split_windows(frame, spec).test
    again, _ = model.predict_proba(test)
    redone = pl.DataFrame(
        {"entity_id": test[spec.entity_col].cast(pl.String), "again": again}
    ).sort("entity_id")
    assert redone.height == stored.height
    assert np.array_equal(redone["again"].to_numpy(), stored["prediction"].to_numpy())


def test_scoring_counts_unseen_levels_and_missing_columns_without_failing(models_home, scratch):
    with connect(scratch / "warehouse.duckdb", read_only=True) as con:
        frame = con.sql(
            "select * from ml.renewal_training_set where industry is not null "
            "order by contract_id limit 40"
        ).pl()
    frame = frame.with_columns(
        industry=pl.when(pl.int_range(pl.len()) < 3)
        .then(pl.lit("asteroid_mining"))
        .otherwise(pl.col("industry")),
        surprise=pl.lit(1.0),
    ).drop("mlr_12m")
    as_of = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    result = score_batch(
        scratch / "warehouse.duckdb",
        "renewal_propensity",
        frame,
        entity_col="contract_id",
        as_of=as_of,
    )
    assert result.rows == 40
    assert result.counts["rows_with_unseen_category"] == 3
    assert result.counts["unseen_categories"] == {"industry": 3}
    assert result.counts["missing_columns"] == ["mlr_12m"]
    assert "surprise" in result.counts["extra_columns"]
    assert result.counts["rows_with_input_issues"] == 40  # mlr_12m is absent from every row
    assert np.isfinite(result.scores["prediction"].to_numpy()).all()
    issues = result.scores["input_issues"].to_list()
    assert issues[0] == "absent:mlr_12m,unseen:industry"
    assert issues[5] == "absent:mlr_12m"
    with connect(scratch / "warehouse.duckdb", read_only=True) as con:
        n = con.sql(
            "select count(*) from ml.scores where model = 'renewal_propensity' and as_of = ?",
            params=[as_of],
        ).fetchall()[0][0]
    assert n == 40


def test_renewal_scores_cover_the_clients_renewing_within_90_days(models_home):
    with models_home.connect() as con:
        rows = con.sql(
            "select count(*), min(target_date - as_of::date), max(target_date - as_of::date), "
            "count(distinct model_version) from ml.scores where model = 'renewal_propensity'"
        ).fetchall()[0]
        expected = con.sql(
            "select count(*) from staging.stg_peo__contracts as k, "
            "(select max(event_ts)::date as d from marts.feat_client_month) as m "
            "where k.outcome = 'active' and k.renewal_date between m.d and m.d + 90"
        ).fetchall()[0][0]
    n, lo, hi, versions = rows
    assert n == expected > 0
    assert lo >= 0 and hi <= 90 and versions == 1


def test_next_quarter_projection_by_hand():
    latest = pl.DataFrame(
        {
            "client_id": ["A", "B"],
            "pay_date": [dt.date(2026, 11, 27), dt.date(2026, 11, 5)],
            "last_pay_date": [dt.date(2026, 11, 27), dt.date(2026, 11, 5)],
            "pay_frequency": ["weekly", "monthly"],
            "client_age_days": [100, 200],
        }
    )
    runs = models_payroll.project_next_quarter(latest, dt.date(2027, 1, 1))
    a = runs.filter(pl.col("client_id") == "A")
    b = runs.filter(pl.col("client_id") == "B")
    # weekly: 2026-11-27 + 7k for k = 5..17 -> 2027-01-01 .. 2027-03-26
    assert a.height == 13
    assert a["pay_date"].min() == dt.date(2027, 1, 1) and a["pay_date"].max() == dt.date(
        2027, 3, 26
    )
    # monthly: round(k * 30.4375) days for k = 2, 3, 4 -> +61, +91, +122
    assert b["pay_date"].to_list() == [
        dt.date(2027, 1, 5),
        dt.date(2027, 2, 4),
        dt.date(2027, 3, 7),
    ]
    assert b["client_age_days"].to_list() == [261, 291, 322]
    assert a.filter(pl.col("is_january") == 1).height == 5
    with pytest.raises(ValueError, match="fortnightly"):
        models_payroll.project_next_quarter(
            latest.with_columns(pay_frequency=pl.lit("fortnightly")), dt.date(2027, 1, 1)
        )


def test_expected_quarter_rates_follow_the_planted_january_effect(models_home):
    """January runs carry +0.8 on the logit in the simulator: the projected January runs of
    the next quarter must score above the February and March ones of the same clients."""
    with models_home.connect() as con:
        by_month = dict(
            con.sql(
                "select month(target_date), avg(prediction) from ml.scores "
                "where model = 'payroll_exception' group by 1"
            ).fetchall()
        )
        quarter = con.sql(
            "select min(quarter_start), count(*), min(expected_rate), max(expected_rate) "
            "from ml.payroll_exception_client_quarter"
        ).fetchall()[0]
    assert by_month[1] > 1.3 * max(by_month[2], by_month[3])
    assert quarter[0] == dt.date(2027, 1, 1) and quarter[1] > 1000
    assert 0 < quarter[2] <= quarter[3] < 1
