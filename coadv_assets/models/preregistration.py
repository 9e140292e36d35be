"""Pre-registrations: the signed success criterion a model is judged against.

Layout (any model: classifier, forecast, staffing, pricing)::

    model_cards/<model>/preregistrations/v1.yaml        the first signed criterion
    model_cards/<model>/preregistrations/v2.yaml        a later one, naming what it replaces
    model_cards/<model>/preregistrations/signatures.yaml  the ledger: sha256 of each version

How a model uses this module:

1. Before the first training run, write ``preregistrations/v1.yaml`` with at least ``model``,
   ``criterion_version: 1``, ``signed_by``, ``signed_at`` (an ISO date), ``question``,
   ``success_criterion`` and ``reconciliation_plan``; optional fields (``population``,
   ``validation``, ``known_failure_modes``) are carried to the card. Then sign it:
   ``python -m coadv_assets.models.preregistration sign <model>`` appends the file's sha256
   to the ledger. A signed file is never edited again.
2. Changing the criterion means a new file ``v<N+1>.yaml``, a complete document with
   ``criterion_version: N+1`` and ``supersedes: {criterion_version: N, reason: ...}``, signed
   the same way. The older files stay: they are what earlier versions were judged against.
3. The training asset calls ``load_preregistration(model, db_path=...)`` first thing. It
   loads the highest version and validates the whole chain (versions contiguous from 1, each
   later one superseding the one before with a reason, ``signed_at`` never decreasing, every
   file's sha256 equal to its ledger entry) and, given the warehouse, checks that the
   versions ``ml.model_registry`` holds were judged against the files as they are now. Any
   breach raises ``PreregistrationError`` naming the file and the rule (the asset turns it
   into ``dg.Failure``): no training happens.
4. After evaluation the asset calls ``judge(metrics, prereg.success_criterion)`` with its
   validation figures as a flat ``{name: number}`` dict; the returned list of misses is
   empty exactly when the criterion is met. That list feeds the registry's ``promoted`` flag
   and the blocking ``promotion_gate`` check.

Criterion language (each key of ``success_criterion``; ``<m>`` names a key of ``metrics``):

- ``<m>_min: x``       metrics[m] >= x
- ``<m>_max: x``       metrics[m] <= x
- ``<m>_abs_max: x``   |metrics[m]| <= x
- ``min_<m>: x`` / ``max_<m>: x``   the same as the suffix forms (kept for older files)
- ``<m>: [lo, hi]``    lo <= metrics[m] <= hi

A criterion naming a metric the model did not report is a miss, never silently passed.

Command line: ``python -m coadv_assets.models.preregistration sign <model>`` signs the newest
unsigned version; ``... check [<model> ...]`` validates the chains (default: every model).
"""

import argparse
import datetime as dt
import hashlib
import math
import re
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from coadv_assets import paths

REQUIRED_FIELDS = (
    "model",
    "criterion_version",
    "signed_by",
    "signed_at",
    "question",
    "success_criterion",
    "reconciliation_plan",
)
DIR_NAME = "preregistrations"
LEDGER_NAME = "signatures.yaml"
LEGACY_FILE_NAME = "preregistration.yaml"
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.yaml$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
LEDGER_HEADER = """\
# Signature ledger of this model's pre-registrations: the sha256 of each version file as it
# was signed. Entries are appended by `python -m coadv_assets.models.preregistration sign
# <model>` and never changed; a version file whose bytes no longer hash to its entry is
# refused (write a new version instead).
model: {model}
signatures:
"""


class PreregistrationError(ValueError):
    """The pre-registration is missing or invalid; the model must not be trained."""


@dataclass(frozen=True)
class SignedVersion:
    """One criterion version of a model's chain, as its file and the ledger state it."""

    criterion_version: int
    path: Path
    sha256: str
    signed_by: str
    signed_at: dt.date
    success_criterion: dict[str, Any]
    supersedes_reason: str = ""
    superseded_by: int | None = None
    superseded_because: str = ""
    recorded_earlier_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preregistration:
    """The signed pre-registration in force (the highest version), with its history."""

    model: str
    criterion_version: int
    signed_by: str
    signed_at: dt.date
    question: str
    success_criterion: dict[str, Any]
    reconciliation_plan: str
    path: Path
    sha256: str
    extra: dict[str, Any] = field(default_factory=dict)
    history: tuple[SignedVersion, ...] = ()
    judged_versions: dict[int, int] | None = None

    @property
    def known_failure_modes(self) -> list[str]:
        return [str(m) for m in self.extra.get("known_failure_modes", []) or []]


def preregistration_dir(model: str, root: Path | None = None) -> Path:
    """``model_cards/<model>/preregistrations`` (or under ``root``)."""
    return (root or paths.MODEL_CARDS_DIR) / model / DIR_NAME


def version_path(model: str, version: int, root: Path | None = None) -> Path:
    """The file of criterion version ``version`` of ``model`` (``.../v<version>.yaml``)."""
    return preregistration_dir(model, root) / f"v{version}.yaml"


def ledger_path(model: str, root: Path | None = None) -> Path:
    """The signature ledger of ``model`` (``.../preregistrations/signatures.yaml``)."""
    return preregistration_dir(model, root) / LEDGER_NAME


def preregistration_path(model: str, root: Path | None = None) -> Path:
    """The file of the highest criterion version of ``model`` (``v1.yaml`` when none)."""
    found = _version_files(model, root)
    return found[max(found)] if found else version_path(model, 1, root)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version_files(model: str, root: Path | None) -> dict[int, Path]:
    folder = preregistration_dir(model, root)
    if not folder.is_dir():
        return {}
    found = {}
    for p in sorted(folder.iterdir()):
        m = _VERSION_FILE.match(p.name)
        if m:
            found[int(m.group(1))] = p
        elif p.name != LEDGER_NAME and p.suffix in (".yaml", ".yml"):
            raise PreregistrationError(
                f"{p}: not a pre-registration file name; versions are v1.yaml, v2.yaml, ... "
                f"beside {LEDGER_NAME}"
            )
    return found


def _missing_message(model: str, root: Path | None) -> str:
    first = version_path(model, 1, root)
    legacy = (root or paths.MODEL_CARDS_DIR) / model / LEGACY_FILE_NAME
    hint = (
        f"; {legacy} uses the retired single-file layout: move it to {first} and sign it"
        if legacy.exists()
        else ""
    )
    return (
        f"no pre-registration for model {model!r} at {first}: a model is not trained before "
        "its success criterion and reconciliation plan are written and signed; write "
        f"{first.name} there (fields: {', '.join(REQUIRED_FIELDS)}) and sign it with "
        f"`python -m coadv_assets.models.preregistration sign {model}`{hint}"
    )


def _read_version(path: Path, model: str, version: int, today: dt.date) -> dict[str, Any]:
    """The validated mapping of one version file (``signed_at`` as a date)."""
    raw = yaml.safe_load(path.read_bytes())
    if not isinstance(raw, dict):
        raise PreregistrationError(f"{path} is not a YAML mapping")
    missing = [f for f in REQUIRED_FIELDS if raw.get(f) in (None, "", [], {})]
    if missing:
        raise PreregistrationError(
            f"{path} lacks {', '.join(repr(f) for f in missing)}; the model is not trained "
            "until the pre-registration is complete and signed"
        )
    if raw["model"] != model:
        raise PreregistrationError(f"{path} pre-registers {raw['model']!r}, not {model!r}")
    if raw["criterion_version"] != version:
        raise PreregistrationError(
            f"{path}: criterion_version {raw['criterion_version']!r} differs from the file "
            f"name; v{version}.yaml holds criterion_version {version}"
        )
    if "superseded" in raw:
        raise PreregistrationError(
            f"{path}: a 'superseded' block rewrites history in place; the replaced version "
            f"stays in its own file v{version - 1}.yaml and this one names it under "
            "'supersedes'"
        )
    signed_at = raw["signed_at"]
    if isinstance(signed_at, str):
        try:
            signed_at = dt.date.fromisoformat(signed_at)
        except ValueError as exc:
            raise PreregistrationError(f"{path}: signed_at {signed_at!r} is no date") from exc
    if isinstance(signed_at, dt.datetime):
        signed_at = signed_at.date()
    if not isinstance(signed_at, dt.date):
        raise PreregistrationError(f"{path}: signed_at {signed_at!r} is no date")
    if signed_at > today:
        raise PreregistrationError(
            f"{path}: signed_at {signed_at} lies after today ({today}); a pre-registration "
            "is signed before training, not dated ahead"
        )
    raw["signed_at"] = signed_at
    criterion = raw["success_criterion"]
    if not isinstance(criterion, dict):
        raise PreregistrationError(f"{path}: success_criterion must be a mapping")
    for key, bound in criterion.items():
        _parse_rule(key, bound, path)
    sup = raw.get("supersedes")
    if version == 1:
        if sup is not None:
            raise PreregistrationError(
                f"{path}: version 1 supersedes nothing; drop its 'supersedes' field"
            )
    else:
        reason = sup.get("reason") if isinstance(sup, dict) else None
        if not isinstance(sup, dict) or sup.get("criterion_version") != version - 1:
            raise PreregistrationError(
                f"{path}: version {version} must state 'supersedes: {{criterion_version: "
                f"{version - 1}, reason: ...}}' (the version it replaces and why)"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise PreregistrationError(
                f"{path}: 'supersedes' needs a non-empty reason: why version {version - 1} "
                "was replaced, and whether that was decided before or after it judged a run"
            )
    return raw


def _read_ledger(model: str, root: Path | None) -> dict[int, dict[str, Any]]:
    """The ledger entries of ``model`` by criterion version (empty when there is no ledger)."""
    path = ledger_path(model, root)
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_bytes())
    if not isinstance(raw, dict) or raw.get("model") != model:
        raise PreregistrationError(f"{path} is not the signature ledger of {model!r}")
    entries: dict[int, dict[str, Any]] = {}
    for entry in raw.get("signatures") or []:
        version = entry.get("criterion_version") if isinstance(entry, dict) else None
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(version, int) or not isinstance(sha, str) or not _SHA256.match(sha):
            raise PreregistrationError(
                f"{path}: entry {entry!r} needs criterion_version and a 64-digit sha256"
            )
        if version in entries:
            raise PreregistrationError(f"{path}: criterion version {version} is signed twice")
        entries[version] = entry
    return entries


def _sign_hint(model: str) -> str:
    return f"`python -m coadv_assets.models.preregistration sign {model}`"


def _chain(
    model: str, root: Path | None, today: dt.date, *, unsigned_ok: int | None = None
) -> tuple[list[SignedVersion], dict[str, Any]]:
    """Validate every version of ``model``; return the history and the newest mapping.

    ``unsigned_ok`` names one version allowed to be absent from the ledger (for signing).
    """
    files = _version_files(model, root)
    if not files:
        raise PreregistrationError(_missing_message(model, root))
    highest = max(files)
    gaps = [v for v in range(1, highest + 1) if v not in files]
    if gaps:
        raise PreregistrationError(
            f"{preregistration_dir(model, root)}: criterion versions must run from 1 without "
            f"a gap; v{highest}.yaml is there but {', '.join(f'v{g}.yaml' for g in gaps)} "
            "is missing (a signed version is never deleted)"
        )
    ledger = _read_ledger(model, root)
    ledger_file = ledger_path(model, root)
    for version in sorted(ledger):
        if version not in files:
            raise PreregistrationError(
                f"{ledger_file} signs criterion version {version} but "
                f"{version_path(model, version, root)} is gone; a signed version is never "
                "deleted"
            )
    history: list[SignedVersion] = []
    raws: list[dict[str, Any]] = []
    for version in range(1, highest + 1):
        path = files[version]
        sha = sha256_of(path)
        entry = ledger.get(version)
        if entry is None and version != unsigned_ok:
            raise PreregistrationError(
                f"{path} is not signed: {ledger_file} holds no sha256 for criterion version "
                f"{version}; once the file is final, sign it with {_sign_hint(model)}"
            )
        if entry is not None and entry["sha256"] != sha:
            raise PreregistrationError(
                f"{path} was edited after it was signed (sha256 {sha[:16]}..., signed "
                f"{entry['sha256'][:16]}... in {ledger_file}); a signed pre-registration "
                f"is never changed: restore it and write a new version, "
                f"v{highest + 1}.yaml, that supersedes v{highest}.yaml"
            )
        raw = _read_version(path, model, version, today)
        if history and raw["signed_at"] < history[-1].signed_at:
            raise PreregistrationError(
                f"{path}: signed_at {raw['signed_at']} precedes the signature of version "
                f"{version - 1} ({history[-1].signed_at}); a later version is signed later"
            )
        earlier = tuple(
            str(e.get("sha256")) for e in (entry or {}).get("recorded_earlier_as") or []
        )
        sup = raw.get("supersedes") or {}
        history.append(
            SignedVersion(
                criterion_version=version,
                path=path,
                sha256=sha,
                signed_by=str(raw["signed_by"]),
                signed_at=raw["signed_at"],
                success_criterion=dict(raw["success_criterion"]),
                supersedes_reason=" ".join(str(sup.get("reason", "")).split()),
                recorded_earlier_as=earlier,
            )
        )
        raws.append(raw)
    for i in range(len(history) - 1):
        nxt = history[i + 1]
        history[i] = replace(
            history[i],
            superseded_by=nxt.criterion_version,
            superseded_because=nxt.supersedes_reason,
        )
    return history, raws[-1]


def load_preregistration(
    model: str,
    root: Path | None = None,
    *,
    today: dt.date | None = None,
    db_path: Path | None = None,
) -> Preregistration:
    """Read and validate the pre-registration chain of ``model``; return its newest version.

    Refuses (PreregistrationError, naming the file and the rule): no version file; a gap in
    the versions; a file that is not a YAML mapping, lacks a required field, names another
    model or another criterion version than its file name, is signed after ``today``
    (default: today in UTC) or before the version it follows, or whose criterion is not in
    the rule language; a later version without ``supersedes`` naming the previous one with a
    reason; a file missing from the signature ledger or whose bytes no longer match it. With
    ``db_path`` (the warehouse; skipped when the file does not exist) it also runs
    ``check_registry`` and records the registry's counts in ``judged_versions``.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    history, raw = _chain(model, root, today)
    newest = history[-1]
    prereg = Preregistration(
        model=model,
        criterion_version=newest.criterion_version,
        signed_by=newest.signed_by,
        signed_at=newest.signed_at,
        question=str(raw["question"]).strip(),
        success_criterion=dict(raw["success_criterion"]),
        reconciliation_plan=str(raw["reconciliation_plan"]).strip(),
        path=newest.path,
        sha256=newest.sha256,
        extra={k: v for k, v in raw.items() if k not in REQUIRED_FIELDS},
        history=tuple(history),
    )
    if db_path is not None and Path(db_path).exists():
        from coadv_assets.warehouse import connect

        with connect(Path(db_path), read_only=True) as con:
            judged = check_registry(prereg, con)
        prereg = replace(prereg, judged_versions=judged)
    return prereg


def check_registry(prereg: Preregistration, con: Any) -> dict[int, int]:
    """Refuse training when ``ml.model_registry`` holds versions of the model judged under a
    criterion version whose file now hashes differently (or that has no file); return how
    many versions were judged under each criterion version.

    A registry row matches its version when its ``preregistration_sha256`` equals the file's
    sha256 or one the ledger lists under ``recorded_earlier_as`` (the same signed version
    held in an earlier layout). Rows without a criterion version or sha256 are not checked.
    """
    from coadv_assets.models import registry

    by_version = {v.criterion_version: v for v in prereg.history}
    judged: Counter[int] = Counter()
    conflicts: dict[int, Counter[str]] = {}
    for mv in registry.versions(con, prereg.model):
        if mv.criterion_version is None:
            continue
        version = int(mv.criterion_version)
        judged[version] += 1
        signed = by_version.get(version)
        if signed is None:
            raise PreregistrationError(
                f"{registry.TABLE} holds version {mv.version} of {prereg.model!r} judged under "
                f"criterion version {version}, which has no file in {prereg.path.parent}; "
                "restore the signed file it was judged against"
            )
        sha = mv.preregistration_sha256
        if sha and sha != signed.sha256 and sha not in signed.recorded_earlier_as:
            conflicts.setdefault(version, Counter())[sha] += 1
    for version, shas in sorted(conflicts.items()):
        path = by_version[version].path
        listed = ", ".join(f"{s[:16]}... ({n})" for s, n in shas.items())
        raise PreregistrationError(
            f"{registry.TABLE} holds {sum(shas.values())} version(s) of {prereg.model!r} "
            f"judged under criterion version {version} against a pre-registration with "
            f"sha256 {listed}, but {path} now hashes to {by_version[version].sha256[:16]}...: "
            "the criterion those versions were judged by is not the one on file; restore the "
            "file as it was signed (a changed criterion is a new version file, never an edit)"
        )
    return dict(sorted(judged.items()))


def sign(model: str, root: Path | None = None, *, today: dt.date | None = None) -> Path:
    """Append the sha256 of the newest, unsigned version of ``model`` to its ledger.

    The whole chain is validated first, with only that version allowed to be unsigned.
    Refuses (PreregistrationError): nothing to sign (every version is in the ledger; an edited
    signed file is reported as such), or an unsigned version below the newest. Returns the
    file signed.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    files = _version_files(model, root)
    if not files:
        raise PreregistrationError(_missing_message(model, root))
    ledger = _read_ledger(model, root)
    unsigned = [v for v in sorted(files) if v not in ledger]
    newest = max(files)
    if not unsigned:
        _chain(model, root, today)  # reports a signed file edited since
        raise PreregistrationError(
            f"{files[newest]} is already signed; nothing to sign. A changed criterion is a "
            f"new file, v{newest + 1}.yaml, with 'supersedes: {{criterion_version: {newest}, "
            "reason: ...}'"
        )
    if unsigned != [newest]:
        names = ", ".join(files[v].name for v in unsigned if v != newest)
        raise PreregistrationError(
            f"{preregistration_dir(model, root)}: {names} unsigned below the newest version "
            f"v{newest}.yaml; versions are signed in order, one at a time"
        )
    history, _ = _chain(model, root, today, unsigned_ok=newest)
    signed = history[-1]
    path = ledger_path(model, root)
    text = path.read_text() if path.exists() else LEDGER_HEADER.format(model=model)
    if not text.endswith("\n"):
        text += "\n"
    entry = {
        "criterion_version": newest,
        "file": signed.path.name,
        "sha256": signed.sha256,
        "signed_by": signed.signed_by,
        "signed_at": signed.signed_at.isoformat(),
    }
    block = yaml.safe_dump([entry], sort_keys=False, width=1000)
    text += "".join(f"  {line}\n" for line in block.splitlines())
    path.write_text(text)
    _chain(model, root, today)  # the ledger now reads back as written
    return signed.path


def _parse_rule(key: str, bound: Any, where: Path | str) -> tuple[str, str, Any]:
    """Return (metric, kind, bound) with kind in min, max, abs_max, range."""
    if isinstance(bound, list):
        if len(bound) != 2 or not all(_is_number(b) for b in bound) or bound[0] > bound[1]:
            raise PreregistrationError(f"{where}: criterion {key!r} must be [lo, hi], lo <= hi")
        return key, "range", (float(bound[0]), float(bound[1]))
    if not _is_number(bound):
        raise PreregistrationError(f"{where}: criterion {key!r} must be a number, got {bound!r}")
    for suffix, kind in (("_abs_max", "abs_max"), ("_min", "min"), ("_max", "max")):
        if key.endswith(suffix):
            return key[: -len(suffix)], kind, float(bound)
    for prefix, kind in (("min_", "min"), ("max_", "max")):
        if key.startswith(prefix):
            return key[len(prefix) :], kind, float(bound)
    raise PreregistrationError(
        f"{where}: criterion {key!r} has no rule; name it <metric>_min, <metric>_max, "
        "<metric>_abs_max, or give [lo, hi]"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def judge(metrics: Mapping[str, float], criterion: Mapping[str, Any]) -> list[str]:
    """Return why ``metrics`` miss ``criterion`` (one sentence per miss; empty = met).

    A metric that is missing, None or NaN misses its rule. Raises PreregistrationError for a
    rule it cannot read (see the module docstring for the language).
    """
    misses = []
    for key, bound in criterion.items():
        metric, kind, value = _parse_rule(key, bound, "success_criterion")
        got = metrics.get(metric)
        if got is None or not math.isfinite(float(got)):
            misses.append(f"{metric} was not reported (criterion {key}: {bound})")
            continue
        got = float(got)
        if kind == "min" and got < value:
            misses.append(f"{metric} {got:.4g} < {value:g} (minimum)")
        elif kind == "max" and got > value:
            misses.append(f"{metric} {got:.4g} > {value:g} (maximum)")
        elif kind == "abs_max" and abs(got) > value:
            misses.append(f"|{metric}| {abs(got):.4g} > {value:g} (maximum)")
        elif kind == "range" and not value[0] <= got <= value[1]:
            misses.append(f"{metric} {got:.4g} outside [{value[0]:g}, {value[1]:g}]")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coadv_assets.models.preregistration",
        description="Sign and check model pre-registrations.",
    )
    parser.add_argument("--root", type=Path, default=None, help="model cards folder")
    sub = parser.add_subparsers(dest="command", required=True)
    p_sign = sub.add_parser("sign", help="append the newest unsigned version to the ledger")
    p_sign.add_argument("model")
    p_check = sub.add_parser("check", help="validate the chains (default: every model)")
    p_check.add_argument("models", nargs="*")
    args = parser.parse_args(argv)
    root = args.root or paths.MODEL_CARDS_DIR
    try:
        if args.command == "sign":
            signed = sign(args.model, root)
            print(f"signed {signed} ({sha256_of(signed)}) in {ledger_path(args.model, root)}")
            return 0
        models = args.models or sorted(p.name for p in root.iterdir() if p.is_dir())
        for model in models:
            prereg = load_preregistration(model, root)
            print(f"{model}: criterion version {prereg.criterion_version}, chain valid")
        return 0
    except PreregistrationError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
