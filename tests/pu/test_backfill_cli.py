"""Monthly backfill of baselines and readouts from the Dagster CLI, and its idempotence."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from coadv_assets.warehouse import connect

from .conftest import synthetic_marts, write_marts

CLI_DEFS = Path(__file__).with_name("cli_defs.py")


def _backfill(home: Path, first: str, last: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "COADV_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "DO_NOT_TRACK": "1",
    }
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "asset",
            "materialize",
            "-f",
            str(CLI_DEFS),
            "--select",
            "cr_baselines,tau_readouts",
            "--partition-range",
            f"{first}...{last}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _state(home: Path) -> dict[str, object]:
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        return {
            "readouts": con.sql(
                "select month, function, version, count(*) as n, min(computed_at) "
                "from pu.tau_readouts group by all order by all"
            ).fetchall(),
            "baselines": con.sql(
                "select as_of_month, function, version, status, published_at "
                "from pu.baselines order by all"
            ).fetchall(),
        }


def test_three_month_backfill_then_rerun_writes_no_new_version(tmp_path):
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    write_marts(home / "warehouse.duckdb", synthetic_marts(dt.date(2023, 1, 1), 24))

    first = _backfill(home, "2024-04-01", "2024-06-01")
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    state = _state(home)
    months = sorted({row[0] for row in state["readouts"]})
    assert months == [dt.date(2024, 4, 1), dt.date(2024, 5, 1), dt.date(2024, 6, 1)]
    assert len(state["readouts"]) == 3 * 4  # one readout version per month and function
    assert {row[3] for row in state["baselines"]} == {"published"}
    assert len(state["baselines"]) == 3 * 4
    for month in ("2024-04", "2024-05", "2024-06"):
        doc = home / "artifacts" / "readouts" / "onboarding" / month / "readout.md"
        assert "## Answer" in doc.read_text()
        assert (doc.parent / "c_r_baseline.png").stat().st_size > 1000
        assert (doc.parent / "event_study.png").exists()

    second = _backfill(home, "2024-04-01", "2024-06-01")
    assert second.returncode == 0, (second.stdout + second.stderr)[-3000:]
    assert _state(home) == state  # same versions, same timestamps: nothing rewritten


def test_a_month_before_the_data_window_records_no_data(tmp_path):
    from coadv_assets.pu import monthly, store
    from coadv_assets.pu.panel import add_clocks

    marts = synthetic_marts(dt.date(2023, 1, 1), 14)
    with connect(tmp_path / "w.duckdb") as con:
        store.ensure_tables(con)
        panels = {f: add_clocks(marts.filter(marts["function"] == f)) for f in ("onboarding",)}
        summary, new = monthly.publish_baselines(con, panels, [dt.date(2022, 12, 1)])
        rows = con.sql("select function, status, record from pu.baselines").fetchall()
    assert summary == {"2022-12/onboarding": {"status": "no_data"}} and new == 0
    assert rows[0][:2] == ("onboarding", "no_data")
