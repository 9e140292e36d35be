"""Model cards generated from facts, one Markdown file per trained version.

How a model uses this module: after training and judging, build a ``CardFacts`` from what
the run computed (nothing typed by hand except the pre-registration, which is itself the
signed file) and call ``write_card(facts)``. The card lands at
``$COADV_HOME/artifacts/model_cards/<model>/<version>.md``; link it from the
materialization (``dg.MetadataValue.path``) and store its path in the registry row.

Every metric is a ``Metric`` with its unit, window and, where one exists, its interval, so
that no figure appears without them. Part of a card a model cannot fill (a forecast has no
reliability plot) is written as "not applicable" with the reason the model gives.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coadv_assets import paths
from coadv_assets.models.preregistration import Preregistration


@dataclass(frozen=True)
class Metric:
    """One figure of a card: value, unit, window, optional interval and its method."""

    name: str
    value: float
    unit: str
    window: str
    ci_low: float | None = None
    ci_high: float | None = None
    interval: str = ""

    def render(self) -> str:
        ci = (
            f"[{self.ci_low:.4g}, {self.ci_high:.4g}] ({self.interval or '95% interval'})"
            if self.ci_low is not None and self.ci_high is not None
            else "no interval computed"
        )
        return f"| {self.name} | {self.value:.4g} | {self.unit} | {self.window} | {ci} |"


@dataclass(frozen=True)
class CardFacts:
    """What a card says; every field comes from the training run or the pre-registration."""

    model: str
    version: str
    purpose: str
    trained_at: dt.datetime
    data_window: dict[str, Any]
    training_rows: dict[str, int]
    features: list[dict[str, str]]
    validation_strategy: str
    metrics: list[Metric]
    preregistration: Preregistration
    misses: list[str]
    promoted: bool
    calibration: str = ""
    reliability_plot: Path | None = None
    failure_modes: list[str] = field(default_factory=list)
    scoring_policy: str = ""
    artifact_dir: Path | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    library_versions: dict[str, str] = field(default_factory=dict)


def card_path(model: str, version: str) -> Path:
    """``$COADV_HOME/artifacts/model_cards/<model>/<version>.md`` (folder created)."""
    folder = paths.artifacts_dir() / "model_cards" / model
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{version}.md"


def render_card(f: CardFacts) -> str:
    """Return the card of ``f`` as Markdown. Refuses (ValueError) a card without metrics."""
    if not f.metrics:
        raise ValueError(f"card of {f.model} {f.version}: no metrics; a card states its figures")
    pr = f.preregistration
    status = "PROMOTED" if f.promoted else "NOT PROMOTED"
    lines = [
        f"# Model card: {f.model}, version {f.version}",
        "",
        f"Trained {f.trained_at.isoformat(timespec='seconds')}; status **{status}** against "
        f"pre-registration criterion version {pr.criterion_version}.",
        "",
        "## Purpose",
        "",
        f.purpose.strip(),
        "",
        f"Pre-registered question: {pr.question}",
        "",
        "## Training data",
        "",
        "| window | bounds |",
        "| --- | --- |",
        *[f"| {k} | {_bounds(v)} |" for k, v in f.data_window.items()],
        "",
        "Rows: " + ", ".join(f"{k} {v:,}" for k, v in f.training_rows.items()) + ".",
        "",
        "## Features",
        "",
        "| feature | source | version | type |",
        "| --- | --- | --- | --- |",
        *[
            f"| {x['name']} | {x.get('source', '')} | {x.get('version', '')} | "
            f"{x.get('type', '')} |"
            for x in f.features
        ],
        "",
        "## Validation strategy",
        "",
        f.validation_strategy.strip(),
        "",
        "## Metrics",
        "",
        "| metric | value | unit | window | interval |",
        "| --- | --- | --- | --- | --- |",
        *[m.render() for m in f.metrics],
        "",
        "## Calibration",
        "",
        f.calibration.strip() or "Not applicable: the model states no probabilities.",
        "",
    ]
    if f.reliability_plot is not None:
        lines += [f"![reliability plot]({Path(f.reliability_plot).resolve()})", ""]
    lines += [
        "## Known failure modes",
        "",
        *[f"- {m}" for m in [*pr.known_failure_modes, *f.failure_modes]],
        "",
    ]
    if not (pr.known_failure_modes or f.failure_modes):
        lines[-1:] = ["- none stated or measured", ""]
    if f.scoring_policy:
        lines += ["## Scoring policy", "", f.scoring_policy.strip(), ""]
    lines += [
        "## Reconciliation plan",
        "",
        pr.reconciliation_plan,
        "",
        "## Pre-registration judged against",
        "",
        f"`{pr.path}` (sha256 {pr.sha256[:16]}), signed by {pr.signed_by} on "
        f"{pr.signed_at.isoformat()}, criterion version {pr.criterion_version}.",
        "",
        "| rule | bound |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in pr.success_criterion.items()],
        "",
        "Judgement: "
        + ("meets every rule." if not f.misses else "misses: " + "; ".join(f.misses) + "."),
        "",
        *_history(pr),
        "## Provenance",
        "",
        *[f"- {k}: `{v}`" for k, v in f.hashes.items()],
        *[f"- library {k}: {v}" for k, v in f.library_versions.items()],
    ]
    if f.artifact_dir is not None:
        lines.append(f"- artifacts: `{f.artifact_dir}`")
    return "\n".join(lines) + "\n"


def _history(pr: Preregistration) -> list[str]:
    """The pre-registration history: every signed version, who signed it and when, why it
    was superseded, and how many versions the registry held judged under it."""
    if not pr.history:
        return []
    judged = pr.judged_versions
    lines = [
        "## Pre-registration history",
        "",
        "Every signed criterion version of this model, oldest first. Versions judged: rows of "
        + (
            "ml.model_registry judged under that criterion version when this version was trained."
            if judged is not None
            else "ml.model_registry were not read for this card."
        ),
        "",
        "| criterion version | file | sha256 | signed by | signed at | versions judged | status |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for v in pr.history:
        count = "not read" if judged is None else str(judged.get(v.criterion_version, 0))
        status = (
            f"superseded by version {v.superseded_by}: {v.superseded_because}"
            if v.superseded_by is not None
            else "in force"
        )
        lines.append(
            f"| {v.criterion_version} | `{v.path.name}` | {v.sha256[:16]} | {v.signed_by} | "
            f"{v.signed_at.isoformat()} | {count} | {status} |"
        )
    rules = [
        f"- version {v.criterion_version}: "
        + ", ".join(f"{k} {b}" for k, b in v.success_criterion.items())
        for v in pr.history
    ]
    return [*lines, "", "Criteria:", "", *rules, ""]


def _bounds(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"[{value[0] or '-inf'}, {value[1] or '+inf'})"
    return str(value)


def write_card(f: CardFacts, path: Path | None = None) -> Path:
    """Render the card of ``f`` and write it (default: ``card_path``); return the path."""
    out = path or card_path(f.model, f.version)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_card(f))
    return out
