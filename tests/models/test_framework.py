"""Pre-registration, registry and card framework on hand-written cases."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from coadv_assets.models import cards, registry
from coadv_assets.models.preregistration import (
    PreregistrationError,
    judge,
    load_preregistration,
)
from coadv_assets.warehouse import connect

PREREG = """
model: toy
criterion_version: 1
signed_by: A. Lead
signed_at: "2026-01-05"
question: Will it?
success_criterion:
  auc_min: 0.7
  calibration_slope: [0.8, 1.2]
  calibration_intercept_abs_max: 0.5
  min_test_events: 100
reconciliation_plan: Compare monthly sums.
known_failure_modes: ["thin data for new clients"]
"""


def _write(root: Path, text: str = PREREG, model: str = "toy") -> Path:
    """Write ``text`` as version 1 and record its sha256 in the ledger as signed."""
    folder = root / model / "preregistrations"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "v1.yaml"
    path.write_text(text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    (folder / "signatures.yaml").write_text(
        f"model: {model}\nsignatures:\n  - criterion_version: 1\n    sha256: {sha}\n"
    )
    return path


def test_missing_preregistration_is_refused_with_the_path(tmp_path):
    with pytest.raises(PreregistrationError, match=r"no pre-registration.*toy.*signed"):
        load_preregistration("toy", tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("signed_by: A. Lead", "signed_by: ''", "lacks 'signed_by'"),
        ('signed_at: "2026-01-05"', 'signed_at: "2099-01-01"', "lies after today"),
        ("model: toy", "model: other", "pre-registers 'other'"),
        ("auc_min: 0.7", "auc_floor: 0.7", "has no rule"),
        ("[0.8, 1.2]", "[1.2, 0.8]", r"\[lo, hi\]"),
    ],
)
def test_invalid_preregistrations_are_refused(tmp_path, old, new, match):
    _write(tmp_path, PREREG.replace(old, new))
    with pytest.raises(PreregistrationError, match=match):
        load_preregistration("toy", tmp_path, today=dt.date(2026, 12, 1))


def test_judge_applies_each_rule_kind(tmp_path):
    _write(tmp_path)
    prereg = load_preregistration("toy", tmp_path)
    crit = prereg.success_criterion
    good = {
        "auc": 0.71,
        "calibration_slope": 1.0,
        "calibration_intercept": -0.4,
        "test_events": 100,
    }
    assert judge(good, crit) == []
    bad = {"auc": 0.69, "calibration_slope": 1.25, "calibration_intercept": -0.6}
    misses = judge(bad, crit)
    assert len(misses) == 4
    assert misses[0].startswith("auc 0.69 < 0.7")
    assert "outside [0.8, 1.2]" in misses[1]
    assert misses[2].startswith("|calibration_intercept| 0.6 > 0.5")
    assert misses[3].startswith("test_events was not reported")
    assert judge({**good, "auc": float("nan")}, crit)[0].startswith("auc was not reported")


def _mv(version: str, promoted: bool, when: int) -> registry.ModelVersion:
    return registry.ModelVersion(
        model="toy",
        version=version,
        trained_at=dt.datetime(2026, 1, when, tzinfo=dt.UTC),
        data_window={"train": [None, "2025-01-01"]},
        feature_versions={"marts.x": "1"},
        training_set_sha256="ab" * 32,
        library_versions={"numpy": "2"},
        metrics={"auc": 0.7},
        criterion={"auc_min": 0.6},
        promoted=promoted,
        promotion_reasons=[] if promoted else ["auc 0.5 < 0.6 (minimum)"],
        artifact_dir=f"/a/{version}",
        criterion_version=1,
    )


def test_registry_returns_the_last_promoted_version_not_the_latest(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        assert registry.promoted_version(con, "toy") is None
        registry.record_version(con, _mv("v1", True, 1))
        registry.record_version(con, _mv("v2", True, 2))
        registry.record_version(con, _mv("v3", False, 3))
        registry.record_version(con, _mv("v3", False, 3))  # replaced, not duplicated
        assert [v.version for v in registry.versions(con, "toy")] == ["v3", "v2", "v1"]
        best = registry.promoted_version(con, "toy")
        assert best is not None and best.version == "v2"
        assert best.metrics == {"auc": 0.7}
        assert registry.get_version(con, "toy", "v3").promotion_reasons == [
            "auc 0.5 < 0.6 (minimum)"
        ]
        with pytest.raises(LookupError, match="no version 'v9' of model 'toy'"):
            registry.get_version(con, "toy", "v9")


def test_version_id_is_stable_and_sensitive():
    assert registry.version_id("a", {"x": 1, "y": 2}) == registry.version_id("a", {"y": 2, "x": 1})
    assert registry.version_id("a", {"x": 1}) != registry.version_id("a", {"x": 2})
    assert len(registry.version_id("a")) == 12


def test_card_states_figures_with_units_windows_and_the_judgement(tmp_path):
    _write(tmp_path)
    prereg = load_preregistration("toy", tmp_path)
    facts = cards.CardFacts(
        model="toy",
        version="v1",
        purpose="Toy purpose.",
        trained_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        data_window={"train": [None, "2025-01-01"], "test": ["2025-04-01", "2025-07-01"]},
        training_rows={"train": 1000, "test": 300},
        features=[{"name": "f1", "source": "marts.x", "version": "1", "type": "numeric"}],
        validation_strategy="Time split.",
        metrics=[cards.Metric("AUC", 0.7123, "probability", "test", 0.68, 0.74, "DeLong 95%")],
        preregistration=prereg,
        misses=["auc 0.69 < 0.7 (minimum)"],
        promoted=False,
        calibration="Slope 1.01.",
    )
    text = cards.write_card(facts, tmp_path / "card.md").read_text()
    assert "| AUC | 0.7123 | probability | test | [0.68, 0.74] (DeLong 95%) |" in text
    assert "NOT PROMOTED" in text
    assert "misses: auc 0.69 < 0.7 (minimum)." in text
    assert "thin data for new clients" in text
    assert "signed by A. Lead on 2026-01-05" in text
    assert "| train | [-inf, 2025-01-01) |" in text
