"""MLR pricing redistribution: credible claims by client group and the renewal rate action.

Experience: marts.agg_claims_pricing_group_month, claims pooled to client group (industry x
size band: small < 30 enrolled members, mid 30-99, large >= 100, on the mean enrolled members
of the experience year) and service month, for the clients in force, over the 12 service
months ending four months before the last one (run-out for claims paid late). Pooling keeps
the claims of small clients, whose client-months agg_claims_client_month suppresses; the
clients that have left are not in the book (they are not renewed, and their last covered
months carry premium without the claims paid after they left). Claims per member-month of
the unsuppressed group-months, weighted by member-months, give the Bühlmann–Straub estimates
(coadv_assets.pricing.experience); claims and premiums are of the same months, so their
common trend cancels in the book's MLR.
"""

import dagster as dg
import polars as pl

from coadv_assets import lineage
from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:benefits-pricing"
MODEL_NAME = "mlr_pricing"

GROUP_MONTHS_SQL = """
select industry, size_band, service_month, member_months, earned_premium, paid_amount,
    suppressed
from marts.agg_claims_pricing_group_month
order by industry, size_band, service_month
"""


class PricingRunConfig(dg.Config):
    """Constraints of the rate action (shares, not percent)."""

    mlr_low: float = 0.82
    mlr_high: float = 0.87
    cap_low: float = -0.10
    cap_high: float = 0.15
    revenue_tolerance: float = 0.0005
    retention_elasticity: float = 0.3


@dg.asset(
    group_name="pricing",
    kinds={"python", "scipy", "duckdb"},
    owners=[OWNER],
    deps=[dg.AssetKey(["marts", "agg_claims_pricing_group_month"])],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "promotion_gate",
            asset="mlr_rate_action",
            blocking=True,
            description=(
                "The rate action meets the signed pre-registration: every constraint holds, "
                "recomputed from the rate changes, and the optimisation is feasible; a "
                "version that misses is recorded unpromoted and ml.mlr_rate_action keeps the "
                "last promoted action."
            ),
        )
    ],
    description=(
        "Credibility-weighted claims per member-month by industry x size band and the "
        "renewal rate change per group (ml.mlr_rate_action): revenue neutral, capped, book "
        "MLR in band; when infeasible, what binds and what relaxing each gives."
    ),
)
def mlr_rate_action(
    context: dg.AssetExecutionContext, config: PricingRunConfig, warehouse: WarehouseResource
):
    from coadv_assets.forecasting import recording
    from coadv_assets.models import cards, registry
    from coadv_assets.models.preregistration import (
        PreregistrationError,
        judge,
        load_preregistration,
    )
    from coadv_assets.pricing import credibility, experience, optimiser

    try:
        prereg = load_preregistration(MODEL_NAME, db_path=warehouse.db_path)
    except PreregistrationError as exc:
        raise dg.Failure(description=str(exc)) from exc
    with connect(warehouse.db_path, read_only=True) as con:
        group_months = con.sql(GROUP_MONTHS_SQL).pl()
    cred, book, cells = experience.credible_book(group_months)
    cfg = optimiser.PricingConfig(
        (config.mlr_low, config.mlr_high),
        config.cap_low,
        config.cap_high,
        config.revenue_tolerance,
        config.retention_elasticity,
    )
    action = optimiser.optimise(book["premium"].to_numpy(), book["expected_claims"].to_numpy(), cfg)
    recheck = optimiser.check_constraints(
        action.changes, book["premium"].to_numpy(), book["expected_claims"].to_numpy(), cfg
    )
    violated = sum(
        1 for k, c in action.constraints.items() if c["satisfied"] and not recheck[k]["satisfied"]
    )
    metrics = {
        "constraints_violated": float(violated) if action.feasible else float("nan"),
        "revenue_change": action.revenue_change,
        "credibility_groups": float((cred.groups["z"] > 0).sum()),
        "book_mlr_before": action.book_mlr_before,
        "book_mlr_after": action.book_mlr,
        "credibility_k": cred.k,
    }
    misses = judge(metrics, prereg.success_criterion)
    if not action.feasible:
        misses.append(action.message)
    result = book.with_columns(rate_change=pl.Series(action.changes))
    code = lineage.code_version(
        __file__, optimiser.__file__, credibility.__file__, experience.__file__
    )
    version = registry.version_id(
        MODEL_NAME, cells.height, float(cells["paid_amount"].sum()), config.model_dump(), code
    )
    artifact_dir = registry.model_artifact_dir(MODEL_NAME, version)
    artifact_dir.mkdir(parents=True, exist_ok=True)
    window = {"experience": [str(cells["service_month"].min()), str(cells["service_month"].max())]}
    with connect(warehouse.db_path) as con:
        con.execute("create schema if not exists ml")
        if not misses:  # a version that misses is recorded, and the last promoted action stays
            con.register("incoming", result.with_columns(model_version=pl.lit(version)).to_arrow())
            con.execute("create or replace table ml.mlr_rate_action as select * from incoming")
            con.unregister("incoming")
        card = recording.record(
            con,
            prereg,
            version=version,
            purpose="Renewal rate changes by client group that redistribute the plan's cost.",
            data_window=window,
            rows={"group_months": cells.height, "groups": book.height},
            features=[
                {
                    "name": "paid_per_member_month",
                    "source": "marts.agg_claims_pricing_group_month",
                    "version": "1",
                    "type": "numeric",
                }
            ],
            validation=str(prereg.extra.get("validation", "")),
            metrics=metrics,
            card_metrics=[
                cards.Metric(k, float(v), "share" if "mlr" in k else "value", "experience year")
                for k, v in metrics.items()
            ],
            misses=misses,
            artifact_dir=artifact_dir,
            code_version=code,
        )
    yield dg.MaterializeResult(
        metadata={
            "version": version,
            "promoted": not misses,
            "feasible": action.feasible,
            "message": action.message,
            "book_mlr_before": action.book_mlr_before,
            "book_mlr_after": action.book_mlr,
            "revenue_change": action.revenue_change,
            "constraints": dg.MetadataValue.json(action.constraints),
            "binding": dg.MetadataValue.json(action.binding),
            "relaxations": dg.MetadataValue.json(action.relaxations),
            "rate_action": dg.MetadataValue.md(str(result)),
            "card": dg.MetadataValue.path(str(card)),
        }
    )
    yield dg.AssetCheckResult(
        check_name="promotion_gate",
        passed=not misses,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(misses) or "every constraint holds",
    )


defs = dg.Definitions(assets=[mlr_rate_action])
