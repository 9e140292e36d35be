"""A small daily-partitioned asset writing to the warehouse, for the concurrent-run test.

Each partition replaces its own row of ``ops_test.tally`` through ``warehouse.connect`` and
holds the lock a little while, so that two runs started together really contend for it.
"""

import os
import time

import dagster as dg

from coadv_assets.warehouse import connect

PARTITIONS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-02-01")


@dg.asset(
    partitions_def=PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
)
def daily_tally(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    for key in context.partition_keys:
        with connect() as con:
            con.execute(
                "create schema if not exists ops_test; create table if not exists "
                "ops_test.tally (partition_date date, pid integer, written_at timestamptz)"
            )
            con.execute("delete from ops_test.tally where partition_date = ?", [key])
            time.sleep(0.3)
            con.execute(
                "insert into ops_test.tally values (?, ?, current_timestamp)", [key, os.getpid()]
            )
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


defs = dg.Definitions(assets=[daily_tally])
