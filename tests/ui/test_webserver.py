"""The UI in a real browser: dagster-webserver on a loopback port over the code location,
the asset graph and one materialization page (with an embedded plot) in headless Chromium.

The prepared instance holds one reported materialization of ``renewal_model`` whose
metadata embeds a calibration plot, so that the page exercises figures in metadata without
running the graph. Screenshots go to ``$COADV_UI_SCREENSHOTS`` (default: the test's
temporary directory).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
LOCATION = "coadv_assets.definitions"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ERROR_TEXTS = (
    "Unexpected GraphQL error",
    "An unexpected error",
    "Something went wrong",
    "Could not load",
    "PythonError",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="chromium not found at /usr/bin/chromium (apt-get install chromium, as root)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(home: Path) -> None:
    """Record one materialization of renewal_model with a calibration plot in its metadata."""
    import dagster as dg

    from coadv_assets.models.plots import reliability_plot
    from coadv_assets.monitoring.plots import png_markdown

    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, 2000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    plot = reliability_plot(y, p, home / "artifacts" / "reliability.png", title="UI test")
    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME is the prepared one
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key="renewal_model",
                metadata={
                    "auc": 0.81,
                    "reliability_plot": dg.MetadataValue.md(png_markdown(plot, "reliability")),
                },
            )
        )


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("ui_home")
    (home / "dagster").mkdir()
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "COADV_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DO_NOT_TRACK": "1",
    }
    old = {k: os.environ.get(k) for k in ("COADV_HOME", "DAGSTER_HOME")}
    os.environ.update({k: env[k] for k in old})
    try:
        _prepare(home)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    port = _free_port()
    log = (home / "webserver.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-m",
            "coadv_assets.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"webserver did not start:\n{(home / 'webserver.log').read_text()}")
            time.sleep(1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _screenshot_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("COADV_UI_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _open(page, url: str, wait_for: str) -> str:
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # the dialog shows on first load only
        page.get_by_role("button", name="Skip").first.click(timeout=10_000)
    page.get_by_text(wait_for).first.wait_for(timeout=120_000)
    page.wait_for_load_state("networkidle", timeout=120_000)
    text = page.inner_text("body")
    found = [e for e in ERROR_TEXTS if e in text]
    assert not found, f"{url} shows {found}"
    return text


def test_asset_graph_and_materialization_page_render(webserver: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = _screenshot_dir(tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            text = _open(page, f"{webserver}/asset-groups", "Global asset lineage")
            for group in ("ingestion", "staging", "marts", "features", "models", "pu"):
                assert group in text, f"group {group} missing from the asset graph"
            _open(page, f"{webserver}/locations/{LOCATION}/asset-groups/models", "renewal_model")
            page.screenshot(path=str(shots / "asset_graph.png"))
            text = _open(page, f"{webserver}/assets/renewal_model?view=events", "reliability_plot")
            assert "0.81" in text
            page.screenshot(path=str(shots / "materialization.png"), full_page=True)
            page.get_by_text("[Show Markdown]").first.click()
            image = page.locator("img[alt='reliability']").first
            image.wait_for(timeout=60_000)
            assert image.evaluate("img => img.naturalWidth") == 500  # the 5 in x 100 dpi PNG
            page.screenshot(path=str(shots / "materialization_plot.png"))
        finally:
            browser.close()
    assert (shots / "asset_graph.png").stat().st_size > 10_000
