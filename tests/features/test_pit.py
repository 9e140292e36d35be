"""Point-in-time joins on hand-built feature histories; expected values worked out below."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from coadv_assets.features.pit import (
    FeatureRef,
    build_training_set,
    rebuild_from_manifest,
    write,
)


def t(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# tenant, client, event_ts, available_at, x, segment
FEATURE_ROWS = [
    # c1: Jan value, a correction of Jan ingested Mar 1, a Feb value available Feb 10 00:00.
    ("A", "c1", t("2024-01-01"), t("2024-01-05"), 1.0, "s"),
    ("A", "c1", t("2024-01-01"), t("2024-03-01"), 1.5, "s"),
    ("A", "c1", t("2024-02-01"), t("2024-02-10"), 2.0, "m"),
    # c2: correction of the Jan value ingested Feb 15.
    ("A", "c2", t("2024-01-01"), t("2024-01-05"), 10.0, "s"),
    ("A", "c2", t("2024-01-01"), t("2024-02-15"), 11.0, "s"),
    # c3: a single old value (TTL test).
    ("A", "c3", t("2024-01-01"), t("2024-01-02"), 5.0, "l"),
    # c4: same event_ts, later available_at wins.
    ("A", "c4", t("2024-01-01"), t("2024-01-02"), 7.0, "s"),
    ("A", "c4", t("2024-01-01"), t("2024-01-03"), 9.0, "s"),
    # c5: full tie on event_ts and available_at: smallest x wins (declared-column order).
    ("A", "c5", t("2024-01-01"), t("2024-01-02"), 7.0, "s"),
    ("A", "c5", t("2024-01-01"), t("2024-01-02"), 3.0, "z"),
    ("A", "c5", t("2024-01-01"), t("2024-01-02"), 3.0, "a"),
    # canary: tenant B reuses client id c1 with a recent, striking value.
    ("B", "c1", t("2024-02-20"), t("2024-02-20"), 999.0, "canary"),
]

LABEL_ROWS = [
    # tenant, client, label_ts, y
    ("A", "c1", t("2024-02-09"), 0),  # Feb value not yet available, correction not yet -> 1.0
    ("A", "c1", t("2024-02-10"), 1),  # Feb value available exactly at label time -> 2.0
    ("A", "c1", t("2024-03-02"), 0),  # latest event wins -> 2.0 (not canary 999)
    ("A", "c2", t("2024-02-01"), 1),  # correction ingested later is not used -> 10.0
    ("A", "c2", t("2024-02-20"), 0),  # correction known by now -> 11.0
    ("A", "c3", t("2024-01-31"), 1),  # age exactly 30 days, TTL 30 d inclusive -> 5.0
    ("A", "c3", t("2024-02-01"), 0),  # age 31 days -> stale -> null
    ("A", "c4", t("2024-01-10"), 1),  # -> 9.0
    ("A", "c5", t("2024-01-10"), 0),  # -> 3.0, segment "a"
    ("A", "c9", t("2024-01-10"), 0),  # no history -> null
    ("B", "c1", t("2024-03-01"), 1),  # tenant B's own row -> 999.0
]


def feature_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "tenant_id": pl.String,
            "client_id": pl.String,
            "event_ts": pl.Datetime("us", "UTC"),
            "available_at": pl.Datetime("us", "UTC"),
            "x": pl.Float64,
            "segment": pl.String,
        },
        orient="row",
    )


def labels_frame(rows: list[tuple] = LABEL_ROWS) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "tenant": pl.String,
            "client": pl.String,
            "label_ts": pl.Datetime("us", "UTC"),
            "y": pl.Int64,
        },
        orient="row",
    )


REF = FeatureRef(
    table="marts.feat_test",
    entity_key=("client_id",),
    tenant_key="tenant_id",
    event_ts="event_ts",
    available_at="available_at",
    columns=("x", "segment"),
    version="v1",
    name="feat_test",
)
REF_TTL = replace(REF, ttl=timedelta(days=30))


def make_con(rows: list[tuple] = FEATURE_ROWS) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA marts")
    frame = feature_frame(rows)  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute("CREATE TABLE marts.feat_test AS SELECT * FROM frame")
    return con


def build(
    con: duckdb.DuckDBPyConnection,
    labels: pl.DataFrame | str | None = None,
    ref: FeatureRef = REF,
):
    return build_training_set(
        con,
        labels_frame() if labels is None else labels,
        [ref],
        entity_key="client",
        label_ts_col="label_ts",
        tenant_key="tenant",
    )


def value(frame: pl.DataFrame, tenant: str, client: str, ts: datetime, col: str = "x"):
    row = frame.filter(
        (pl.col("tenant") == tenant) & (pl.col("client") == client) & (pl.col("label_ts") == ts)
    )
    assert row.height == 1
    return row.get_column(col)[0]


def test_expected_values_row_by_row() -> None:
    frame = build(make_con()).frame
    assert frame.height == len(LABEL_ROWS)
    assert frame.columns == [
        "tenant",
        "client",
        "label_ts",
        "y",
        "x",
        "segment",
        "feat_test__age_days",
    ]
    assert value(frame, "A", "c1", t("2024-02-09")) == 1.0
    assert value(frame, "A", "c1", t("2024-02-09"), "feat_test__age_days") == 39.0
    assert value(frame, "A", "c1", t("2024-03-02")) == 2.0
    assert value(frame, "A", "c4", t("2024-01-10")) == 9.0
    assert value(frame, "A", "c9", t("2024-01-10")) is None
    assert value(frame, "A", "c9", t("2024-01-10"), "feat_test__age_days") is None


def test_correction_ingested_after_label_time_is_not_used() -> None:
    frame = build(make_con()).frame
    assert value(frame, "A", "c2", t("2024-02-01")) == 10.0
    assert value(frame, "A", "c2", t("2024-02-20")) == 11.0


def test_value_available_exactly_at_label_time_is_used() -> None:
    frame = build(make_con()).frame
    assert value(frame, "A", "c1", t("2024-02-10")) == 2.0
    assert value(frame, "A", "c1", t("2024-02-10"), "feat_test__age_days") == 9.0


def test_value_older_than_ttl_is_null_and_counted() -> None:
    ts = build(make_con(), ref=REF_TTL)
    assert value(ts.frame, "A", "c3", t("2024-01-31")) == 5.0  # 30 days: inclusive
    assert value(ts.frame, "A", "c3", t("2024-02-01")) is None
    assert value(ts.frame, "A", "c3", t("2024-02-01"), "segment") is None
    assert value(ts.frame, "A", "c3", t("2024-02-01"), "feat_test__age_days") == 31.0
    # 2024 is a leap year: Feb 1 -> Mar 2 is 30 days, kept.
    assert value(ts.frame, "A", "c1", t("2024-03-02")) == 2.0
    feat = ts.manifest["features"][0]
    # stale (> 30 d): c1@Feb09 (39 d), c2@Feb01 (31 d), c2@Feb20 (50 d), c3@Feb01 (31 d)
    assert feat["rows_stale"] == 4
    assert feat["rows_matched"] == 10
    assert feat["rows_missing"] == 1  # c9
    assert feat["ttl_seconds"] == 30 * 86400.0
    assert ts.frame.get_column("x").null_count() == 5


def test_ties_follow_the_documented_rule_whatever_the_row_order() -> None:
    outputs = []
    for seed in range(5):
        rows = pl.Series(range(len(FEATURE_ROWS))).shuffle(seed=seed).to_list()
        ts = build(make_con([FEATURE_ROWS[i] for i in rows]))
        outputs.append(ts.manifest["output_sha256"])
        # full tie on (event_ts, available_at): smallest x, then smallest segment
        assert value(ts.frame, "A", "c5", t("2024-01-10")) == 3.0
        assert value(ts.frame, "A", "c5", t("2024-01-10"), "segment") == "a"
    assert len(set(outputs)) == 1


def test_output_sorted_and_independent_of_label_order() -> None:
    con = make_con()
    a = build(con, labels_frame())
    b = build(con, labels_frame(LABEL_ROWS[::-1]))
    assert a.frame.equals(b.frame)
    assert a.manifest["output_sha256"] == b.manifest["output_sha256"]
    assert a.frame.get_column("label_ts").is_sorted()


def test_tenant_canary_never_crosses() -> None:
    frame = build(make_con()).frame
    tenant_a = frame.filter(pl.col("tenant") == "A")
    assert 999.0 not in tenant_a.get_column("x").to_list()
    assert "canary" not in tenant_a.get_column("segment").to_list()
    assert value(frame, "B", "c1", t("2024-03-01")) == 999.0


def test_missing_declared_column_raises_naming_table_and_column() -> None:
    con = make_con()
    bad = FeatureRef(
        table="marts.feat_test",
        entity_key=("client_id",),
        tenant_key="tenant_id",
        event_ts="event_ts",
        available_at="available_at",
        columns=("x", "headcount"),
        version="v1",
    )
    with pytest.raises(ValueError, match=r"marts\.feat_test.*'headcount'"):
        build_training_set(
            con,
            labels_frame(),
            [bad],
            entity_key="client",
            label_ts_col="label_ts",
            tenant_key="tenant",
        )


def test_tenant_key_on_one_side_only_is_refused() -> None:
    con = make_con()
    with pytest.raises(ValueError, match="tenant"):
        build_training_set(con, labels_frame(), [REF], entity_key="client", label_ts_col="label_ts")


def test_rebuild_from_manifest_is_byte_identical(tmp_path: Path) -> None:
    con = make_con()
    ts = build(con)
    paths = write(ts, tmp_path)
    manifest = json.loads(paths["manifest"].read_text())
    assert manifest["label_window"] == {
        "min": "2024-01-10T00:00:00+00:00",
        "max": "2024-03-02T00:00:00+00:00",
    }
    assert manifest["row_counts"] == {"labels": 11, "output": 11}
    assert set(manifest["input_fingerprints"]) == {"labels", "marts.feat_test"}
    rebuilt = rebuild_from_manifest(con, paths["manifest"])

    on_disk = hashlib.sha256(paths["training_set"].read_bytes()).hexdigest()
    assert on_disk == manifest["output_sha256"] == rebuilt.manifest["output_sha256"]
    assert rebuilt.frame.equals(ts.frame)


def test_rebuild_from_label_table(tmp_path: Path) -> None:
    con = make_con()
    lbl = labels_frame()  # noqa: F841
    con.execute("CREATE TABLE marts.lbl_test AS SELECT * FROM lbl")
    ts = build(con, "marts.lbl_test")
    paths = write(ts, tmp_path)
    assert rebuild_from_manifest(con, paths["manifest"]).frame.equals(ts.frame)


def test_rows_that_cannot_matter_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    con = make_con()
    paths = write(build(con), tmp_path)
    # a correction ingested after the last label and a row of an unlabelled client
    con.execute(
        "INSERT INTO marts.feat_test VALUES "
        "('A', 'c1', '2024-02-01', '2024-06-01', 2.5, 'm'), "
        "('A', 'zz', '2024-01-01', '2024-01-01', 1.0, 's')"
    )
    rebuild_from_manifest(con, paths["manifest"])


def test_rebuild_refuses_when_inputs_changed(tmp_path: Path) -> None:
    con = make_con()
    paths = write(build(con), tmp_path)
    con.execute("UPDATE marts.feat_test SET x = 2.25 WHERE client_id = 'c1' AND x = 2.0")
    with pytest.raises(ValueError, match=r"inputs changed.*marts\.feat_test"):
        rebuild_from_manifest(con, paths["manifest"])


def test_non_utc_session_is_refused() -> None:
    con = make_con()
    con.execute("SET TimeZone = 'America/New_York'")
    with pytest.raises(ValueError, match="UTC"):
        build(con)
