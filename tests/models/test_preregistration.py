"""Versioned, signed pre-registrations: the chain rules, the ledger, the signing command, the
check against the model registry, the card's history, and the repository's own files."""

import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

import pytest
import yaml

from coadv_assets import paths
from coadv_assets.models import cards, registry
from coadv_assets.models import preregistration as pr
from coadv_assets.models.preregistration import PreregistrationError, load_preregistration
from coadv_assets.warehouse import connect

TODAY = dt.date(2026, 12, 3)
V1 = """\
model: toy
criterion_version: 1
signed_by: A. Lead
signed_at: "2026-01-05"
question: Will it?
success_criterion:
  auc_min: 0.70
reconciliation_plan: Compare monthly sums.
"""
V2 = """\
model: toy
criterion_version: 2
signed_by: B. Lead
signed_at: "2026-02-01"
supersedes:
  criterion_version: 1
  reason: Version 1's floor was unreachable on the test window.
question: Will it?
success_criterion:
  auc_min: 0.65
reconciliation_plan: Compare monthly sums.
"""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _folder(root: Path, model: str = "toy") -> Path:
    folder = root / model / "preregistrations"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chain(root: Path, *texts: str, signed: int | None = None) -> Path:
    """Write v1..vN from ``texts`` and a ledger signing the first ``signed`` of them (all by
    default) with sha256 computed here, independently of the module."""
    folder = _folder(root)
    signed = len(texts) if signed is None else signed
    ledger = ["model: toy", "signatures:"]
    for i, text in enumerate(texts, start=1):
        (folder / f"v{i}.yaml").write_text(text)
        if i <= signed:
            ledger += [f"  - criterion_version: {i}", f"    sha256: {_sha(text)}"]
    (folder / "signatures.yaml").write_text("\n".join(ledger) + "\n")
    return folder


def _refused(root: Path, *, db_path: Path | None = None) -> str:
    with pytest.raises(PreregistrationError) as info:
        load_preregistration("toy", root, today=TODAY, db_path=db_path)
    return str(info.value)


def test_the_highest_version_is_loaded_with_its_history(tmp_path):
    folder = _chain(tmp_path, V1, V2)
    prereg = load_preregistration("toy", tmp_path, today=TODAY)
    assert prereg.criterion_version == 2
    assert prereg.success_criterion == {"auc_min": 0.65}
    assert prereg.path == folder / "v2.yaml"
    assert prereg.sha256 == _sha(V2)
    assert prereg.judged_versions is None  # no warehouse given
    v1, v2 = prereg.history
    assert (v1.criterion_version, v1.signed_by, v1.signed_at) == (1, "A. Lead", dt.date(2026, 1, 5))
    assert v1.success_criterion == {"auc_min": 0.70}
    assert v1.superseded_by == 2
    assert v1.superseded_because == "Version 1's floor was unreachable on the test window."
    assert (v2.superseded_by, v2.sha256) == (None, _sha(V2))


def test_a_gap_in_the_versions_is_refused(tmp_path):
    folder = _chain(tmp_path, V1, V2, V2.replace("criterion_version: 2", "criterion_version: 3"))
    (folder / "v2.yaml").unlink()
    message = _refused(tmp_path)
    assert "without a gap" in message and "v2.yaml is missing" in message
    assert str(folder) in message


def test_a_signed_version_deleted_from_the_top_is_refused(tmp_path):
    folder = _chain(tmp_path, V1, V2)
    (folder / "v2.yaml").unlink()
    message = _refused(tmp_path)
    assert "signs criterion version 2" in message and "v2.yaml is gone" in message


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        (lambda t: re.sub(r"supersedes:\n.*\n.*\n", "", t), "must state 'supersedes"),
        (
            lambda t: t.replace("  criterion_version: 1\n", "  criterion_version: 0\n"),
            "must state 'supersedes",
        ),
        (
            lambda t: t.replace(
                "reason: Version 1's floor was unreachable on the test window.", 'reason: " "'
            ),
            "needs a non-empty reason",
        ),
        (
            lambda t: t.replace('signed_at: "2026-02-01"', 'signed_at: "2026-01-04"'),
            "precedes the signature of version 1 (2026-01-05)",
        ),
        (
            lambda t: t.replace(
                "model: toy\ncriterion_version: 2", "model: toy\ncriterion_version: 3"
            ),
            "differs from the file name",
        ),
        (lambda t: t + "superseded:\n  - criterion_version: 1\n", "'superseded' block"),
    ],
)
def test_a_later_version_must_supersede_the_previous_one(tmp_path, edit, rule):
    v2 = edit(V2)
    assert v2 != V2
    folder = _chain(tmp_path, V1, v2)
    message = _refused(tmp_path)
    assert rule in message
    assert str(folder / "v2.yaml") in message


def test_version_1_supersedes_nothing(tmp_path):
    v1 = V1 + "supersedes:\n  criterion_version: 0\n  reason: none\n"
    folder = _chain(tmp_path, v1)
    message = _refused(tmp_path)
    assert str(folder / "v1.yaml") in message and "supersedes nothing" in message


def test_a_signed_file_edited_afterwards_is_detected_by_the_ledger(tmp_path):
    folder = _chain(tmp_path, V1, V2)
    (folder / "v1.yaml").write_text(V1.replace("auc_min: 0.70", "auc_min: 0.60"))
    message = _refused(tmp_path)
    assert message.startswith(f"{folder / 'v1.yaml'} was edited after it was signed")
    assert f"signed {_sha(V1)[:16]}" in message
    assert "write a new version, v3.yaml" in message
    # a whitespace-only edit changes the bytes, and is refused the same way
    (folder / "v1.yaml").write_text(V1 + "\n")
    assert "edited after it was signed" in _refused(tmp_path)


def test_an_unsigned_version_is_refused_with_how_to_sign_it(tmp_path):
    folder = _chain(tmp_path, V1, V2, signed=1)
    message = _refused(tmp_path)
    assert message.startswith(f"{folder / 'v2.yaml'} is not signed")
    assert "python -m coadv_assets.models.preregistration sign toy" in message
    (folder / "signatures.yaml").unlink()
    assert _refused(tmp_path).startswith(f"{folder / 'v1.yaml'} is not signed")


def test_missing_and_retired_layouts_are_refused(tmp_path):
    message = _refused(tmp_path)
    assert "no pre-registration for model 'toy'" in message
    assert str(tmp_path / "toy" / "preregistrations" / "v1.yaml") in message
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "preregistration.yaml").write_text(V1)
    assert "retired single-file layout: move it to" in _refused(tmp_path)
    _folder(tmp_path)
    (tmp_path / "toy" / "preregistrations" / "v2-draft.yaml").write_text(V2)
    assert "v2-draft.yaml: not a pre-registration file name" in _refused(tmp_path)


def test_the_signing_command_appends_the_newest_version_and_refuses_to_resign(tmp_path, capsys):
    folder = _folder(tmp_path)
    (folder / "v1.yaml").write_text(V1)
    assert pr.main(["--root", str(tmp_path), "sign", "toy"]) == 0
    ledger = yaml.safe_load((folder / "signatures.yaml").read_text())
    assert ledger["model"] == "toy"
    assert ledger["signatures"] == [
        {
            "criterion_version": 1,
            "file": "v1.yaml",
            "sha256": _sha(V1),
            "signed_by": "A. Lead",
            "signed_at": "2026-01-05",
        }
    ]
    assert load_preregistration("toy", tmp_path, today=TODAY).criterion_version == 1

    before = (folder / "signatures.yaml").read_text()
    assert pr.main(["--root", str(tmp_path), "sign", "toy"]) == 1
    assert "v1.yaml is already signed; nothing to sign" in capsys.readouterr().err

    (folder / "v1.yaml").write_text(V1.replace("0.70", "0.60"))
    assert pr.main(["--root", str(tmp_path), "sign", "toy"]) == 1
    assert f"{folder / 'v1.yaml'} was edited after it was signed" in capsys.readouterr().err
    assert (folder / "signatures.yaml").read_text() == before
    (folder / "v1.yaml").write_text(V1)

    (folder / "v2.yaml").write_text(V2)
    assert pr.main(["--root", str(tmp_path), "sign", "toy"]) == 0
    ledger_text = (folder / "signatures.yaml").read_text()
    assert ledger_text.startswith(before)  # appended, the earlier entry untouched
    entries = yaml.safe_load(ledger_text)["signatures"]
    assert [(e["criterion_version"], e["sha256"]) for e in entries] == [
        (1, _sha(V1)),
        (2, _sha(V2)),
    ]
    assert load_preregistration("toy", tmp_path, today=TODAY).criterion_version == 2


def test_signing_refuses_an_invalid_or_out_of_order_version(tmp_path):
    folder = _chain(tmp_path, V1)
    (folder / "v2.yaml").write_text(re.sub(r"supersedes:\n.*\n.*\n", "", V2))
    with pytest.raises(PreregistrationError, match=r"v2\.yaml: version 2 must state"):
        pr.sign("toy", tmp_path, today=TODAY)
    assert "criterion_version: 2" not in (folder / "signatures.yaml").read_text()
    (folder / "v2.yaml").write_text(V2)
    (folder / "v3.yaml").write_text(
        V2.replace("criterion_version: 2", "criterion_version: 3").replace(
            "  criterion_version: 1", "  criterion_version: 2"
        )
    )
    with pytest.raises(PreregistrationError, match=r"v2\.yaml unsigned below the newest"):
        pr.sign("toy", tmp_path, today=TODAY)


def _row(version: str, criterion_version: int, sha: str, day: int) -> registry.ModelVersion:
    return registry.ModelVersion(
        model="toy",
        version=version,
        trained_at=dt.datetime(2026, 2, day, tzinfo=dt.UTC),
        data_window={},
        feature_versions={},
        training_set_sha256="",
        library_versions={},
        metrics={"auc": 0.68},
        criterion={},
        promoted=criterion_version == 2,
        promotion_reasons=[],
        artifact_dir="",
        preregistration_sha256=sha,
        criterion_version=criterion_version,
    )


def test_registry_versions_judged_against_another_text_refuse_training(tmp_path):
    _chain(tmp_path, V1, V2)
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        registry.record_version(con, _row("a", 1, _sha(V1), 1))
        registry.record_version(con, _row("b", 1, _sha(V1), 2))
        registry.record_version(con, _row("c", 2, _sha(V2), 3))
    prereg = load_preregistration("toy", tmp_path, today=TODAY, db_path=db)
    assert prereg.judged_versions == {1: 2, 2: 1}

    # v1 as it was when "a" and "b" were judged differs from the file now on disk (the
    # ledger re-signed to match, as an in-place edit would have to be)
    folder = _chain(tmp_path, V1.replace("0.70", "0.60"), V2)
    message = _refused(tmp_path, db_path=db)
    assert "ml.model_registry holds 2 version(s) of 'toy' judged under criterion version 1" in (
        message
    )
    assert f"sha256 {_sha(V1)[:16]}... (2)" in message
    assert f"{folder / 'v1.yaml'} now hashes to {_sha(V1.replace('0.70', '0.60'))[:16]}" in (
        message
    )
    # without the warehouse nothing is compared
    assert load_preregistration("toy", tmp_path, today=TODAY).criterion_version == 2

    # a version judged under a criterion version that has no file
    _chain(tmp_path, V1)
    (folder / "v2.yaml").unlink()
    message = _refused(tmp_path, db_path=db)
    assert "judged under criterion version 2, which has no file" in message


def test_the_ledger_can_name_the_text_a_version_had_in_an_earlier_layout(tmp_path):
    old_v2 = V2.replace("supersedes:", "superseded_note:")
    folder = _chain(tmp_path, V1, V2)
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        registry.record_version(con, _row("c", 2, _sha(old_v2), 3))
    assert "judged under criterion version 2" in _refused(tmp_path, db_path=db)
    with (folder / "signatures.yaml").open("a") as f:
        f.write(f"    recorded_earlier_as:\n      - sha256: {_sha(old_v2)}\n")
    prereg = load_preregistration("toy", tmp_path, today=TODAY, db_path=db)
    assert prereg.judged_versions == {2: 1}


def test_the_card_shows_each_version_its_signer_date_reason_and_judged_count(tmp_path):
    _chain(tmp_path, V1, V2)
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        for i, day in enumerate((1, 2, 3)):
            registry.record_version(con, _row(f"a{i}", 1, _sha(V1), day))
    prereg = load_preregistration("toy", tmp_path, today=TODAY, db_path=db)
    facts = cards.CardFacts(
        model="toy",
        version="x",
        purpose="Toy.",
        trained_at=dt.datetime(2026, 2, 4, tzinfo=dt.UTC),
        data_window={},
        training_rows={"test": 10},
        features=[],
        validation_strategy="Split.",
        metrics=[cards.Metric("AUC", 0.68, "probability", "test")],
        preregistration=prereg,
        misses=[],
        promoted=True,
    )
    text = cards.render_card(facts)
    assert "## Pre-registration history" in text
    assert (
        f"| 1 | `v1.yaml` | {_sha(V1)[:16]} | A. Lead | 2026-01-05 | 3 | superseded by version "
        "2: Version 1's floor was unreachable on the test window. |"
    ) in text
    assert f"| 2 | `v2.yaml` | {_sha(V2)[:16]} | B. Lead | 2026-02-01 | 0 | in force |" in text
    assert "- version 1: auc_min 0.7" in text and "- version 2: auc_min 0.65" in text


def test_the_repository_preregistrations_all_validate():
    models = sorted(p.name for p in paths.MODEL_CARDS_DIR.iterdir() if p.is_dir())
    assert models == [
        "churn",
        "contact_volume_forecast",
        "mlr_pricing",
        "payroll_exception",
        "renewal_propensity",
        "staffing_demand",
    ]
    loaded = {m: load_preregistration(m) for m in models}
    assert {m: p.criterion_version for m, p in loaded.items()} == {
        "churn": 2,
        "contact_volume_forecast": 1,
        "mlr_pricing": 1,
        "payroll_exception": 2,
        "renewal_propensity": 2,
        "staffing_demand": 2,
    }
    for model in models:
        assert not (paths.MODEL_CARDS_DIR / model / "preregistration.yaml").exists()
    # renewal: v1 is the original text (sha256 of `git show c07de25:...`), floor 0.70 -> 0.65
    renewal = loaded["renewal_propensity"]
    v1, v2 = renewal.history
    assert v1.sha256 == "b4ad851de3bca2185c42d6aaf9edc5643dcf4e7f87bef3115bddd7017b836011"
    assert v1.success_criterion["auc_min"] == 0.70 and v2.success_criterion["auc_min"] == 0.65
    assert {k: b for k, b in v1.success_criterion.items() if k != "auc_min"} == {
        k: b for k, b in v2.success_criterion.items() if k != "auc_min"
    }
    assert "after version 1" in v1.superseded_because
    # staffing: v1 is the original text (`git show 41e44ff:...`)
    s1, s2 = loaded["staffing_demand"].history
    assert s1.sha256 == "c2f0ed7de0a843cba772a534e494daa53ae1a0cb627745481bd69c0ebe099cfc"
    assert "simulated_service_level_margin_one_fewer_max" in s1.success_criterion
    assert s2.success_criterion["simulated_service_level_margin_min"] == -0.01
    assert "after version 1" in s1.superseded_because
    # the v2 files as they stood in the single-file layout (`git show 9ceeb9c:...`, ca08b32)
    assert v2.recorded_earlier_as == (
        "33c6dea8defb2023a9de08fb0297c33553a5e307c9b0b51c143423bc1e4229f4",
    )
    assert s2.recorded_earlier_as == (
        "ee7a0500c9a1eb1ff2d916086a73155d851503c0599654eb7e72bfe9a2bb7d83",
    )


def test_a_copied_model_folder_validates_elsewhere(tmp_path):
    """The chain depends on the files alone, not on where the folder lies."""
    shutil.copytree(paths.MODEL_CARDS_DIR / "renewal_propensity", tmp_path / "renewal_propensity")
    prereg = load_preregistration("renewal_propensity", tmp_path)
    assert prereg.path == tmp_path / "renewal_propensity" / "preregistrations" / "v2.yaml"
