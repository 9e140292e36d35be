"""Fingerprints and code versions: what makes a published figure reproducible.

A fingerprint is the SHA-256 of a frame's rows in a canonical order and text form (CSV with
a fixed float format), so it changes exactly when a value, a row or a column changes. The
code version is the SHA-256 of the source files that computed a figure, plus the git commit
when the checkout has one.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import polars as pl

from coadv_assets import paths


def frame_fingerprint(frame: pl.DataFrame) -> str:
    """SHA-256 of ``frame``'s rows sorted by every column, columns in name order."""
    canonical = frame.select(sorted(frame.columns))
    canonical = canonical.sort(canonical.columns, nulls_last=True)
    text = canonical.write_csv(float_precision=10, null_value="<null>")
    return hashlib.sha256(text.encode()).hexdigest()


def code_version(*modules: str | Path) -> str:
    """SHA-256 (first 16 hex digits) of the given source files' bytes, in the order given."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def git_commit() -> str | None:
    """The checkout's HEAD commit, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=paths.REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def compiled_sql(model_name: str) -> str | None:
    """The compiled SQL of a dbt model from the latest dbt invocation, or None if absent.

    dbt writes it under ``target/compiled/`` when run by hand and under each Dagster
    invocation's own ``target/<invocation>/compiled/``; the most recently written copy wins.
    """
    target = paths.DBT_PROJECT_DIR / "target"
    if not target.exists():
        return None
    matches = [p for p in target.rglob(f"{model_name}.sql") if "compiled" in p.parts]
    if not matches:
        return None
    return max(matches, key=lambda p: p.stat().st_mtime_ns).read_text()
