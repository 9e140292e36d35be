"""Validation on real public data: our estimators beside the published figures.

Each asset runs the same estimator code that produces the readouts of `τ` on a public panel
with a published answer, writes ours and the reference side by side to
``validation.reproductions``, and fails its check when ours leaves the stated tolerance.
"""

import dagster as dg
import polars as pl

from coadv_assets.warehouse import WarehouseResource, connect

OWNER = "team:causal-inference"

# Callaway & Sant'Anna (2021), mpdta, log teen employment: simple aggregation of the
# group-time ATTs with never-treated controls and no covariates, as the R `did` package
# reports it (aggte(type = "simple")): ATT -0.0400, SE 0.0120.
MPDTA_PUBLISHED_ATT = -0.0400
MPDTA_PUBLISHED_SE = 0.0120
MPDTA_TOLERANCE_ATT = 0.0005  # published figure is rounded to four decimals
MPDTA_TOLERANCE_SE = 0.0015  # analytic vs bootstrap standard errors differ in the 4th decimal


def _record(con, rows: list[dict]) -> None:
    con.execute("create schema if not exists validation")
    con.execute(
        """
        create table if not exists validation.reproductions (
            study varchar, quantity varchar, ours double, published double,
            tolerance double, within_tolerance boolean, source varchar,
            recorded_at timestamptz default current_timestamp
        )
        """
    )
    frame = pl.DataFrame(rows)
    con.register("incoming", frame.to_arrow())
    con.execute(
        "delete from validation.reproductions where (study, quantity) in "
        "(select study, quantity from incoming)"
    )
    con.execute(
        "insert into validation.reproductions (study, quantity, ours, published, tolerance, "
        "within_tolerance, source) select study, quantity, ours, published, tolerance, "
        "within_tolerance, source from incoming"
    )
    con.unregister("incoming")


@dg.asset(
    group_name="validation",
    kinds={"python", "duckdb"},
    owners=[OWNER],
    pool="warehouse",
    check_specs=[
        dg.AssetCheckSpec(
            "reproduces_published_att",
            asset="mpdta_staggered_did",
            description="Our simple overall ATT and SE are within tolerance of the published.",
        )
    ],
    description=(
        "Callaway & Sant'Anna (2021) minimum-wage panel (mpdta, 500 counties, 2003-2007): "
        "the staggered difference-in-differences of the readouts, run on real data, beside "
        "the published simple overall ATT -0.0400 (SE 0.0120) with never-treated controls."
    ),
)
def mpdta_staggered_did(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    import moderndid

    from estimators import did

    data = moderndid.load_mpdta()
    result = did.staggered(
        data,
        unit="countyreal",
        time="year",
        outcome="lemp",
        first_treated="first.treat",
        control="never",
    )
    att_ok = abs(result.estimate - MPDTA_PUBLISHED_ATT) <= MPDTA_TOLERANCE_ATT
    se_ok = abs(result.std_error - MPDTA_PUBLISHED_SE) <= MPDTA_TOLERANCE_SE
    source = "Callaway & Sant'Anna (2021); R did::aggte(type='simple')"
    with connect(warehouse.db_path) as con:
        _record(
            con,
            [
                {
                    "study": "mpdta",
                    "quantity": "simple_att",
                    "ours": result.estimate,
                    "published": MPDTA_PUBLISHED_ATT,
                    "tolerance": MPDTA_TOLERANCE_ATT,
                    "within_tolerance": att_ok,
                    "source": source,
                },
                {
                    "study": "mpdta",
                    "quantity": "simple_att_se",
                    "ours": result.std_error,
                    "published": MPDTA_PUBLISHED_SE,
                    "tolerance": MPDTA_TOLERANCE_SE,
                    "within_tolerance": se_ok,
                    "source": source,
                },
            ],
        )
    table = (
        "| quantity | ours | published | tolerance |\n|---|---|---|---|\n"
        f"| simple ATT (log employment) | {result.estimate:.4f} | {MPDTA_PUBLISHED_ATT:.4f} | "
        f"±{MPDTA_TOLERANCE_ATT} |\n"
        f"| standard error | {result.std_error:.4f} | {MPDTA_PUBLISHED_SE:.4f} | "
        f"±{MPDTA_TOLERANCE_SE} |\n"
        f"| 95% interval | [{result.ci_low:.4f}, {result.ci_high:.4f}] | | |"
    )
    yield dg.MaterializeResult(
        metadata={
            "ours_att": result.estimate,
            "ours_se": result.std_error,
            "ours_ci_low": result.ci_low,
            "ours_ci_high": result.ci_high,
            "published_att": MPDTA_PUBLISHED_ATT,
            "published_se": MPDTA_PUBLISHED_SE,
            "n_obs": result.n_obs,
            "comparison": dg.MetadataValue.md(table),
        }
    )
    yield dg.AssetCheckResult(
        check_name="reproduces_published_att",
        passed=att_ok and se_ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "att_diff": result.estimate - MPDTA_PUBLISHED_ATT,
            "se_diff": result.std_error - MPDTA_PUBLISHED_SE,
        },
    )


defs = dg.Definitions(assets=[mpdta_staggered_did])
