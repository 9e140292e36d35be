"""A fresh dbt manifest of the repository's project, parsed once per test module."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coadv_assets import paths


def parse_manifest(work: Path) -> dict[str, Any]:
    """Run ``dbt parse`` into ``work`` and return the manifest (fails the test on error)."""
    env = dict(os.environ, COADV_HOME=str(work / "home"), DO_NOT_TRACK="1")
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [
            str(dbt),
            "parse",
            "--profiles-dir",
            str(paths.DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=paths.DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((work / "target" / "manifest.json").read_text())


@pytest.fixture(scope="session")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return parse_manifest(tmp_path_factory.mktemp("dbt_parse"))
