"""Point-in-time training sets: our builder against Feast's DuckDB offline store.

Usage (from the repository root)::

    .tools/bin/uv sync --frozen --group bench     # installs feast into .venv (once)
    .venv/bin/python -m coadv_assets.bench.feature_store [--entities 50000]
        [--rows-per-entity 100] [--labels 200000] [--seed 0] [--workdir DIR]

Data (seeded, synthetic): ``entities x rows_per_entity`` feature rows (5,000,000 by
default) of one entity key and three features, of which 5% are corrections: the same
``event_ts`` re-delivered with other values and a ``available_at`` 1 to 30 days later.
Every (entity, event_ts, available_at) is unique and every instant has its own second, so
no tie is left to storage order. 200,000 label events at random instants.

Both builders answer the same question on the same data, conventions aligned:

- as of the label instant: the latest row with ``event_ts <= label_ts`` (Feast: its
  timestamp field) and, in the aligned run, ``available_at <= label_ts`` (Feast:
  ``filter_by_created_timestamp=True`` on its created-timestamp column); among rows of
  the same ``event_ts`` the latest ``available_at`` wins (both);
- TTL 30 days, inclusive (``label_ts - event_ts <= ttl``); a stale latest row gives nulls.
  Feast's own TTL cannot run here: with the ibis 12 and sqlglot 30.30 that the locked
  ``bench`` group resolves, compiling its ``event_ts + ttl`` interval raises a TypeError
  inside sqlglot. The Feast view is therefore declared without TTL, carries the row's
  event instant as one more feature (``event_epoch``), and the TTL is applied to its result
  in polars, inside the timed section. Feast's TTL drops stale rows before taking the
  latest; as every older row is staler still, that gives the same nulls. Known
  shortcoming, removed by a sqlglot that compiles Feast's interval (then set ``ttl=TTL``
  on the view and drop the post-filter).

Both run once on ten labels first (warm-up), then once timed. Timed: our builder over a
DuckDB table (the warehouse form; it also fingerprints its
inputs for the manifest), Feast's ``get_historical_features(...).to_arrow()`` over the
Parquet file its DuckDB offline store reads. Loading the data is not timed. Feast then runs
once more with its default (no created-timestamp cut-off), and the script counts the label
rows whose value is a correction ingested after the label time: the leak the issue names.
"""

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from coadv_assets.features.manifest import FeatureRef
from coadv_assets.features.pit import build_training_set

TTL = dt.timedelta(days=30)
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
FEATURES = ("f1", "f2", "f3")


def make_data(
    entities: int, rows_per_entity: int, labels: int, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (feature rows, label events); see the module docstring."""
    rng = np.random.default_rng(seed)
    total = entities * rows_per_entity
    n_corr = total // 20
    n_base = total - n_corr
    per = n_base // entities
    n_base = per * entities
    n_corr = total - n_base
    entity = np.repeat(np.arange(entities, dtype=np.int64), per)
    # Strictly increasing event instants per entity: gaps of 1 s to ~14 days.
    gaps = rng.integers(1, 14 * 86400, size=n_base)
    first = rng.integers(0, 30 * 86400, size=entities)
    offsets = np.cumsum(gaps.reshape(entities, per), axis=1) + first[:, None]
    event_s = offsets.reshape(-1)
    avail_s = event_s + rng.integers(0, 3 * 86400, size=n_base)
    pick = rng.choice(n_base, size=n_corr, replace=False)
    c_event = event_s[pick]
    c_avail = avail_s[pick] + rng.integers(86400, 30 * 86400, size=n_corr)
    frame = pl.DataFrame(
        {
            "entity_id": np.concatenate([entity, entity[pick]]),
            "event_s": np.concatenate([event_s, c_event]),
            "avail_s": np.concatenate([avail_s, c_avail]),
            "f1": rng.normal(size=total),
            "f2": rng.normal(size=total) * 100.0,
            "f3": rng.integers(0, 1_000_000, size=total),
        }
    )
    # One correction per picked row at most (choice without replacement), so
    # (entity, event, available) is unique.
    start = pl.lit(START)
    features = frame.select(
        "entity_id",
        event_ts=start + pl.duration(seconds=pl.col("event_s")),
        available_at=start + pl.duration(seconds=pl.col("avail_s")),
        event_epoch=pl.col("event_s") + int(START.timestamp()),
        f1="f1",
        f2="f2",
        f3="f3",
    )
    horizon = int(event_s.max())
    label_entity = rng.integers(0, entities, size=labels * 2)
    label_s = rng.integers(30 * 86400, horizon, size=labels * 2)
    label_frame = (
        pl.DataFrame({"entity_id": label_entity, "label_s": label_s})
        .unique(maintain_order=True)
        .head(labels)
        .select(
            "entity_id",
            event_timestamp=start + pl.duration(seconds=pl.col("label_s")),
        )
    )
    return features, label_frame


def run_ours(db: Path, labels: pl.DataFrame) -> tuple[float, pl.DataFrame]:
    ref = FeatureRef(
        table="bench.features",
        entity_key=("entity_id",),
        event_ts="event_ts",
        available_at="available_at",
        columns=FEATURES,
        version="bench",
        ttl=TTL,
        name="bench",
    )
    con = duckdb.connect(str(db))
    con.execute("set TimeZone = 'UTC'")
    try:
        t0 = time.perf_counter()
        ts = build_training_set(
            con, labels, [ref], entity_key="entity_id", label_ts_col="event_timestamp"
        )
        elapsed = time.perf_counter() - t0
    finally:
        con.close()
    return elapsed, ts.frame.select("entity_id", "event_timestamp", *FEATURES)


def feast_store(repo: Path, parquet: Path):
    """A local Feast repository over the Parquet file with the DuckDB offline store."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.infra.offline_stores.duckdb import DuckDBOfflineStoreConfig
    from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
    from feast.repo_config import RepoConfig
    from feast.types import Float64, Int64

    repo.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(
        project="bench",
        registry=str(repo / "registry.db"),
        provider="local",
        offline_store=DuckDBOfflineStoreConfig(),
        online_store=SqliteOnlineStoreConfig(path=str(repo / "online.db")),
        entity_key_serialization_version=3,
        repo_path=str(repo),
    )
    store = FeatureStore(config=config)
    entity = Entity(name="entity", join_keys=["entity_id"], value_type=ValueType.INT64)
    source = FileSource(
        path=str(parquet), timestamp_field="event_ts", created_timestamp_column="available_at"
    )
    view = FeatureView(
        name="bench",
        entities=[entity],
        ttl=dt.timedelta(0),  # no TTL in Feast: see the module docstring
        schema=[
            Field(name="entity_id", dtype=Int64),
            Field(name="event_epoch", dtype=Int64),
            Field(name="f1", dtype=Float64),
            Field(name="f2", dtype=Float64),
            Field(name="f3", dtype=Int64),
        ],
        source=source,
    )
    store.apply([entity, view])
    return store


def run_feast(store, labels: pl.DataFrame, aligned: bool) -> tuple[float, pl.DataFrame]:
    entity_df = labels.to_pandas()
    refs = [f"bench:{f}" for f in ("event_epoch", *FEATURES)]
    t0 = time.perf_counter()
    job = store.get_historical_features(
        entity_df=entity_df, features=refs, filter_by_created_timestamp=aligned
    )
    frame = pl.from_arrow(job.to_arrow())
    assert isinstance(frame, pl.DataFrame)
    age = pl.col("event_timestamp").dt.epoch("s") - pl.col("event_epoch")
    fresh = age <= int(TTL.total_seconds())
    frame = frame.with_columns(
        pl.col("event_timestamp").dt.convert_time_zone("UTC"),
        *[pl.when(fresh).then(pl.col(f)).alias(f) for f in FEATURES],
    )
    elapsed = time.perf_counter() - t0
    return elapsed, frame.select("entity_id", "event_timestamp", *FEATURES)


def compare(ours: pl.DataFrame, theirs: pl.DataFrame) -> tuple[int, int]:
    """Return (label rows whose three values agree, null included, label rows)."""
    joined = ours.join(
        theirs, on=["entity_id", "event_timestamp"], how="full", suffix="_feast", coalesce=True
    )
    same = pl.lit(True)
    for f in FEATURES:
        same = same & pl.col(f).eq_missing(pl.col(f"{f}_feast"))
    agree = int(joined.select(same.sum()).item())
    return agree, joined.height


def leaked_rows(db: Path, leaky: pl.DataFrame) -> int:
    """Label rows whose Feast-default value exists only in rows ingested after the label."""
    con = duckdb.connect(str(db), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    try:
        con.register("leaky", leaky)
        return int(
            con.sql(
                "select count(*) from leaky as l where l.f1 is not null "
                "and not exists (select 1 from bench.features as f where "
                "f.entity_id = l.entity_id and f.f1 = l.f1 "
                "and f.available_at <= l.event_timestamp)"
            ).fetchall()[0][0]
        )
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--rows-per-entity", type=int, default=100)
    parser.add_argument("--labels", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        import feast
    except ImportError:
        print(
            "feast is not installed. Install the benchmark dependencies with\n"
            "    .tools/bin/uv sync --frozen --group bench\n"
            "(or `uv sync --frozen --group bench`), then run this script again.",
            file=sys.stderr,
        )
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="feature_store_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    features, labels = make_data(args.entities, args.rows_per_entity, args.labels, args.seed)
    parquet = work / "features.parquet"
    features.write_parquet(parquet)
    db = work / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema bench")
    con.execute(f"create table bench.features as select * from read_parquet('{parquet}')")
    con.close()
    print(
        f"data: {features.height:,} feature rows ({args.entities:,} entities), "
        f"{labels.height:,} label events, TTL {TTL.days} d; prepared in "
        f"{time.perf_counter() - t0:.1f} s under {work}"
    )
    print(f"feast {feast.__version__}, duckdb {duckdb.__version__}, polars {pl.__version__}")

    run_ours(db, labels.head(10))  # warm-up, as for Feast
    ours_s, ours = run_ours(db, labels)
    print(f"ours  (DuckDB table, point in time on event_ts and available_at): {ours_s:8.2f} s")
    store = feast_store(work / "feast_repo", parquet)
    run_feast(store, labels.head(10), aligned=True)  # warm-up: registry, ibis compile
    feast_s, aligned = run_feast(store, labels, aligned=True)
    print(f"feast (DuckDB offline store over Parquet, created-timestamp cut-off): {feast_s:8.2f} s")
    print(f"ratio feast / ours: {feast_s / ours_s:.2f}x")
    agree, total = compare(ours, aligned)
    print(f"values agree row by row: {agree:,} of {total:,} label rows ({agree / total:.4%})")
    default_s, leaky = run_feast(store, labels, aligned=False)
    leaks = leaked_rows(db, leaky)
    agree_default, _ = compare(ours, leaky)
    print(
        f"feast default (no cut-off): {default_s:.2f} s; agrees on {agree_default:,} rows; "
        f"{leaks:,} label rows ({leaks / total:.2%}) got a value ingested after their label "
        "time (a correction or a late row)"
    )
    return 0 if agree == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
