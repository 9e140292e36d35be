"""Feasibility reviews on a planted source with figures worked out by hand.

raw.events (contract key [k]):

| k  | c  | ev               | email   | _loaded_at       | lateness |
| k1 | c1 | 2024-01-01 12:00 | a@b.com | 2024-01-02 00:00 | 12 h     |
| k2 | c1 | 2024-01-02 06:00 | null    | 2024-01-03 00:00 | 18 h     |
| k3 | c2 | 2024-01-03 00:00 | c@d.org | 2024-01-04 00:00 | 24 h     |
| k3 | c2 | 2024-01-03 18:00 | null    | 2024-01-04 00:00 | 6 h      |

Three loads a day apart: median and max gap 24 h. Lateness sorted 6, 12, 18, 24: median
15 h; 95th percentile (linear) at position 0.95 x 3 = 2.85 -> 18 + 0.85 x 6 = 23.1 h.
Duplicates on k: 3 distinct of 4 rows -> 0.25. email: 2 nulls of 4 -> 0.5.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from coadv_assets.features.feasibility import load_proposal, main, review

MANIFEST: dict[str, Any] = {
    "sources": {
        "source.t.peo.events": {
            "source_name": "peo",
            "name": "events",
            "schema": "raw",
            "meta": {"key": ["k"]},
            "columns": {
                c: {"name": c, "meta": {"classification": k}}
                for c, k in [
                    ("k", "none"),
                    ("c", "none"),
                    ("ev", "none"),
                    ("email", "pii"),
                    ("_loaded_at", "none"),
                ]
            },
        }
    },
    "nodes": {},
}


@pytest.fixture()
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("create schema raw")
    connection.execute(
        "create table raw.events as select k, c, ev::timestamptz as ev, email, "
        "_loaded_at::timestamptz as _loaded_at from (values "
        "('k1', 'c1', '2024-01-01 12:00+00', 'a@b.com', '2024-01-02 00:00+00'), "
        "('k2', 'c1', '2024-01-02 06:00+00', null, '2024-01-03 00:00+00'), "
        "('k3', 'c2', '2024-01-03 00:00+00', 'c@d.org', '2024-01-04 00:00+00'), "
        "('k3', 'c2', '2024-01-03 18:00+00', null, '2024-01-04 00:00+00')"
        ") as v(k, c, ev, email, _loaded_at)"
    )
    yield connection
    connection.close()


def proposal(columns: list[str], freshness: str, table: str = "peo.events") -> dict[str, Any]:
    return {
        "name": "p",
        "grain": ["c", "day"],
        "wanted_freshness": freshness,
        "sources": [{"table": table, "columns": columns, "event_time": "ev"}],
    }


def test_feasible_proposal_and_its_figures(con) -> None:
    report = review(con, proposal(["k", "c"], "2 days"), MANIFEST)
    assert (report.verdict, report.reasons) == ("go", [])
    [src] = report.sources
    assert (src.rows, src.loads, src.median_refresh_hours, src.max_refresh_gap_hours) == (
        4,
        3,
        24.0,
        24.0,
    )
    assert src.lateness_p50_hours == pytest.approx(15.0)
    assert src.lateness_p95_hours == pytest.approx(23.1)
    assert (src.duplicate_rate, src.duplicate_key) == (0.25, ["k"])
    assert src.classes == {"k": "none", "c": "none"}


def test_pii_column_is_no_go(con) -> None:
    report = review(con, proposal(["k", "email"], "2 days"), MANIFEST)
    assert report.verdict == "no-go"
    assert report.reasons == ["no-go: peo.events.email is classified pii; PII never leaves staging"]
    assert report.sources[0].null_rates == {"k": 0.0, "email": 0.5}


def test_freshness_the_source_cannot_meet_is_no_go(con) -> None:
    report = review(con, proposal(["k", "c"], "12h"), MANIFEST)
    assert report.verdict == "no-go"
    assert report.reasons == [
        "no-go: peo.events refreshes every 24.0 h (median gap between loads), longer than "
        "the wanted freshness 12 h",
        "no-go: peo.events rows arrive 23.1 h after their event (95th percentile), later than "
        "the wanted freshness 12 h",
    ]


def test_missing_source_and_column(con) -> None:
    report = review(con, proposal(["k", "nope"], "2 days"), MANIFEST)
    assert report.reasons == ["no-go: peo.events has no column nope"]
    missing = review(con, proposal(["k"], "2 days", table="peo.ghost"), MANIFEST)
    assert missing.reasons == [
        "no-go: peo.ghost is not a declared source contract",
        "no-go: peo.ghost is not in the warehouse (raw schema)",
    ]


def test_cli_exit_codes_and_proposal_errors(
    con, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    con.execute(f"attach '{home / 'warehouse.duckdb'}' as wh")
    con.execute("create schema wh.raw")
    con.execute("create table wh.raw.events as select * from raw.events")
    con.execute("detach wh")
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(proposal(["k", "c"], "2 days")))
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(proposal(["email"], "2 days")))
    monkeypatch.setenv("COADV_HOME", str(home))
    manifest_arg = ["--manifest", str(tmp_path / "manifest.json")]
    assert main([str(good), *manifest_arg]) == 0
    assert "# Feasibility of p: GO" in capsys.readouterr().out
    assert main([str(bad), *manifest_arg]) == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\n")
    with pytest.raises(ValueError, match="missing field 'grain'"):
        load_proposal(broken)
