"""The dbt project as Dagster sees it, and its manifest.

The manifest is generated at set-up (``make setup`` runs ``dbt parse``), not at import, so
that loading the code location never shells out; a missing manifest is generated once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from coadv_assets import paths

DBT_TARGET = os.environ.get("COADV_DBT_TARGET", "duckdb")
# The manifest the code location is built from lives apart from dbt's default target/, so
# that a `dbt build` run by hand (or by a test) never rewrites it under a loading process.
MANIFEST_TARGET = Path("target") / "dagster"


def dbt_env() -> dict[str, str]:
    """Environment for dbt subprocesses: absolute COADV_HOME, no usage statistics."""
    env = dict(os.environ)
    env["COADV_HOME"] = str(paths.coadv_home())
    env["DO_NOT_TRACK"] = "1"
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (DbtCliResource needs it on PATH or named)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def get_dbt_project() -> DbtProject:
    return DbtProject(
        project_dir=paths.DBT_PROJECT_DIR,
        profiles_dir=paths.DBT_PROJECT_DIR,
        target=DBT_TARGET,
        target_path=MANIFEST_TARGET,
    )


def ensure_manifest(force: bool = False) -> Path:
    """Return the manifest path, running ``dbt parse`` first when it is missing (or forced).

    Raises RuntimeError with dbt's output when parsing fails.
    """
    project = get_dbt_project()
    manifest = Path(project.manifest_path)
    if manifest.exists() and not force:
        return manifest
    # Parse into a private folder, then move the manifest into place atomically: concurrent
    # parses (parallel tests, two runs) never leave a half-written file for a reader.
    (paths.DBT_PROJECT_DIR / "target").mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="parse-", dir=paths.DBT_PROJECT_DIR / "target"))
    try:
        result = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--target",
                DBT_TARGET,
                "--target-path",
                str(scratch),
            ],
            cwd=paths.DBT_PROJECT_DIR,
            env=dbt_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        produced = scratch / "manifest.json"
        if result.returncode != 0 or not produced.exists():
            raise RuntimeError(
                f"dbt parse failed in {paths.DBT_PROJECT_DIR} (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        manifest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(produced, manifest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return manifest
