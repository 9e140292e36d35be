"""Staffing demand: agents per queue, day and hour of the forecast horizon (Erlang C and A).

Real-time contacts (phone and chat) of each forecast day are spread over the hours by the
queue's observed hourly profile (last 182 days, UTC); each hour is staffed to the service
target with Erlang C and Erlang A (patience: the censored-exponential estimate, abandoned
contacts over total seconds waited by real-time contacts). Scheduled agents divide by
1 - shrinkage. The gate simulates each queue's busiest hour with the recommended agents.
"""

import dagster as dg
import polars as pl

from coadv_assets import lineage
from coadv_assets.defs.forecast import contact_forecast
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:service-forecasting"
MODEL_NAME = "staffing_demand"


class StaffingConfig(dg.Config):
    """Service target and shrinkage; shares, not percent."""

    service_level: float = 0.80
    target_seconds: float = 60.0
    shrinkage: float = 0.30


PROFILE_SQL = """
select queue, extract(hour from opened_at) as hour, count(*) as contacts,
    count(case when channel in ('phone', 'chat') then 1 end) as realtime,
    count(case when channel in ('phone', 'chat') and abandoned then 1 end) as abandoned,
    sum(case when channel in ('phone', 'chat') then wait_seconds end) as waited,
    avg(case when channel in ('phone', 'chat') then handle_seconds end) as aht
from staging.stg_peo__contacts
where opened_at >= (select max(opened_at) from staging.stg_peo__contacts) - interval 182 day
group by 1, 2
"""


@dg.asset(
    group_name="staffing",
    kinds={"python", "duckdb"},
    owners=[OWNER],
    deps=[contact_forecast, dg.AssetKey(["staging", "stg_peo__contacts"])],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "promotion_gate",
            asset="staffing_plan",
            blocking=True,
            description="Simulated busiest hours meet the target with the recommendation only.",
        )
    ],
    description=(
        "Agents per queue, day and hour for the forecast horizon (ml.staffing_plan): Erlang C "
        "and Erlang A to the service target, scheduled agents after shrinkage."
    ),
)
def staffing_plan(
    context: dg.AssetExecutionContext, config: StaffingConfig, warehouse: WarehouseResource
):
    from coadv_assets.forecasting import plots, recording
    from coadv_assets.models import cards, registry
    from coadv_assets.models.preregistration import (
        PreregistrationError,
        judge,
        load_preregistration,
    )
    from coadv_assets.staffing import erlang
    from coadv_assets.staffing.simulation import simulate_queue

    try:
        prereg = load_preregistration(MODEL_NAME, db_path=warehouse.db_path)
    except PreregistrationError as exc:
        raise dg.Failure(description=str(exc)) from exc
    with connect(warehouse.db_path, read_only=True) as con:
        profile = con.sql(PROFILE_SQL).pl()
        forecast = con.sql(
            "select queue, date, mean from ml.contact_forecast where model_version = ("
            "select version from ml.model_registry where model = 'contact_volume_forecast' "
            "and promoted order by trained_at desc limit 1)"
        ).pl()
    if forecast.is_empty():
        raise dg.Failure(description="ml.contact_forecast holds no promoted forecast to staff")
    queues = profile.group_by("queue").agg(
        (pl.col("realtime").sum() / pl.col("contacts").sum()).alias("realtime_share"),
        (pl.col("waited").sum() / pl.col("abandoned").sum()).alias("patience"),
        ((pl.col("aht") * pl.col("realtime")).sum() / pl.col("realtime").sum()).alias("aht"),
    )
    hours = profile.with_columns(
        (pl.col("realtime") / pl.col("realtime").sum().over("queue")).alias("hour_share")
    ).select("queue", "hour", "hour_share")
    plan = (
        forecast.join(queues, on="queue")
        .join(hours, on="queue")
        .with_columns(
            (pl.col("mean") * pl.col("realtime_share") * pl.col("hour_share") / 3600).alias("lam")
        )
    )
    c_agents, a_agents, a_sl, a_ab = [], [], [], []
    for lam, aht, patience in plan.select("lam", "aht", "patience").iter_rows():
        c = erlang.required_agents(lam, aht, config.target_seconds, config.service_level)
        a = erlang.required_agents(
            lam, aht, config.target_seconds, config.service_level, patience=patience
        )
        c_agents.append(c.agents)
        a_agents.append(a.agents)
        a_sl.append(a.service_level)
        a_ab.append(a.p_abandon)
    plan = plan.with_columns(
        pl.Series("agents_erlang_c", c_agents),
        pl.Series("agents_erlang_a", a_agents),
        pl.Series("service_level_erlang_a", a_sl),
        pl.Series("p_abandon_erlang_a", a_ab),
    ).with_columns(
        (pl.col("agents_erlang_a") / (1 - config.shrinkage)).ceil().alias("scheduled_agents")
    )
    daily = plan.group_by("queue", "date").agg(
        pl.col("agents_erlang_c").max().alias("peak_agents_erlang_c"),
        pl.col("agents_erlang_a").max().alias("peak_agents_erlang_a"),
        pl.col("scheduled_agents").max().alias("scheduled_agents_peak"),
        pl.col("agents_erlang_a").sum().alias("agent_hours_erlang_a"),
        (pl.col("agents_erlang_a").sum() / (1 - config.shrinkage)).alias("scheduled_hours"),
    )
    # Gate: each queue's busiest hour simulated with the recommendation and one fewer.
    sims = []
    for row in (
        plan.sort("lam", descending=True).unique("queue", keep="first").iter_rows(named=True)
    ):
        n = row["agents_erlang_a"]
        args = (row["lam"], row["aht"], config.target_seconds)
        at = simulate_queue(n, *args, patience=row["patience"], contacts=100_000, warmup=2_000)
        fewer = simulate_queue(
            max(n - 1, 1), *args, patience=row["patience"], contacts=100_000, warmup=2_000
        )
        below = erlang.erlang_a(max(n - 1, 1), *args, row["patience"]).service_level
        sims.append(
            {
                "queue": row["queue"],
                "agents": n,
                "analytic": row["service_level_erlang_a"],
                "analytic_one_fewer": below,
                "simulated": at.service_level,
                "simulated_one_fewer": fewer.service_level,
            }
        )
    sim = pl.DataFrame(sims)
    metrics = {
        "simulated_service_level_margin": float(sim["simulated"].min() - config.service_level),
        "simulated_service_level_margin_one_fewer": float(
            sim["simulated_one_fewer"].max() - config.service_level
        ),
        "analytic_margin_one_fewer": float(sim["analytic_one_fewer"].max() - config.service_level),
        "analytic_vs_simulated": float((sim["analytic"] - sim["simulated"]).abs().max()),
    }
    misses = judge(metrics, prereg.success_criterion)
    code = lineage.code_version(__file__, erlang.__file__)
    version = registry.version_id(
        MODEL_NAME, forecast.height, float(forecast["mean"].sum()), config.model_dump(), code
    )
    artifact_dir = registry.model_artifact_dir(MODEL_NAME, version)
    plot = plots.staffing_plot(daily, artifact_dir / "staffing.png", f"{MODEL_NAME} {version}")
    window = {"forecast": [str(forecast["date"].min()), str(forecast["date"].max())]}
    with connect(warehouse.db_path) as con:
        con.execute("create schema if not exists ml")
        out = plan.select(
            "queue",
            "date",
            "hour",
            "lam",
            "aht",
            "patience",
            "agents_erlang_c",
            "agents_erlang_a",
            "service_level_erlang_a",
            "p_abandon_erlang_a",
            "scheduled_agents",
        ).with_columns(model_version=pl.lit(version))
        con.register("incoming", out.to_arrow())
        con.execute("create or replace table ml.staffing_plan as select * from incoming")
        con.unregister("incoming")
        card = recording.record(
            con,
            prereg,
            version=version,
            purpose="Agents per queue, day and hour to meet the service target.",
            data_window=window,
            rows={"queue_day_hours": plan.height},
            features=[
                {
                    "name": "contact_forecast",
                    "source": "ml.contact_forecast",
                    "version": "promoted",
                    "type": "numeric",
                }
            ],
            validation=str(prereg.extra.get("validation", "")),
            metrics=metrics,
            card_metrics=[
                cards.Metric(k, v, "share", "busiest hour per queue") for k, v in metrics.items()
            ],
            misses=misses,
            artifact_dir=artifact_dir,
            code_version=code,
        )
    yield dg.MaterializeResult(
        metadata={
            "version": version,
            "promoted": not misses,
            **{k: dg.MetadataValue.float(v) for k, v in metrics.items()},
            "queues": dg.MetadataValue.md(str(queues)),
            "simulation": dg.MetadataValue.md(str(sim)),
            "staffing_plot": dg.MetadataValue.md(recording.image_md(plot, "staffing")),
            "card": dg.MetadataValue.path(str(card)),
            "dagster/row_count": plan.height,
        }
    )
    yield dg.AssetCheckResult(
        check_name="promotion_gate",
        passed=not misses,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(misses) or "meets the pre-registered criterion",
    )


defs = dg.Definitions(assets=[staffing_plan])
