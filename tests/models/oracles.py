"""The planted-truth oracle of each classifier, joined to its test-window predictions.

``oracle_frame(con, truths_dir, model)`` returns ``label``, ``prediction`` and ``oracle``
(the simulator's true probability of the same event, known at the scoring instant) for the
test rows of the promoted version. Run as a script, it prints the figures of a warehouse:

    .venv/bin/python tests/models/oracles.py $COADV_HOME
"""

import sys
from pathlib import Path

import duckdb
import polars as pl

MODELS = ("renewal_propensity", "churn", "payroll_exception")


def _predictions(con: duckdb.DuckDBPyConnection, model: str) -> pl.DataFrame:
    return con.sql(
        "select p.entity_id, p.client_id, p.score_ts, p.label, p.prediction "
        "from ml.test_predictions as p inner join ml.model_registry as r "
        "on p.model = r.model and p.model_version = r.version "
        "where r.model = ? and r.promoted",
        params=[model],
    ).pl()


def oracle_frame(con: duckdb.DuckDBPyConnection, truths: Path, model: str) -> pl.DataFrame:
    """Test rows of the promoted version of ``model`` with their oracle probability.

    churn: the hazard of the first horizon month M (drawn by the simulator from the three
    complete months before M, all known at the scoring instant) held for three months,
    1 - (1 - h_M)^3. The hazards of M+1 and M+2 depend on service after the scoring instant.
    """
    preds = _predictions(con, model)
    if model == "renewal_propensity":
        truth = pl.read_parquet(truths / "renewal_probabilities.parquet")
        return preds.join(
            truth.select("contract_id", pl.col("p_renew_true").alias("oracle")),
            left_on="entity_id",
            right_on="contract_id",
        )
    if model == "churn":
        truth = pl.read_parquet(truths / "churn_hazard.parquet")
        preds = preds.with_columns(month=pl.col("score_ts").dt.replace_time_zone(None).dt.date())
        return preds.join(
            truth.select("client_id", "month", "hazard_true"), on=["client_id", "month"], how="left"
        ).with_columns(oracle=1 - (1 - pl.col("hazard_true")) ** 3)
    if model == "payroll_exception":
        truth = pl.read_parquet(truths / "payroll_exception_probabilities.parquet")
        return preds.join(
            truth.select("run_id", pl.col("p_exception_true").alias("oracle"), "exception"),
            left_on="entity_id",
            right_on="run_id",
        )
    raise ValueError(f"no oracle for model {model!r}; known: {', '.join(MODELS)}")


def main(home: Path) -> None:
    from sklearn.metrics import roc_auc_score

    from coadv_assets.models.metrics import calibration_fit

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    print(
        f"{'model':<20} {'rows':>7} {'events':>7} {'AUC':>6} {'oracle':>7} {'gap':>6} {'slope':>6}"
    )
    for model in MODELS:
        f = oracle_frame(con, home / "truths", model)
        y, p, o = f["label"].to_numpy(), f["prediction"].to_numpy(), f["oracle"].to_numpy()
        ours, best = roc_auc_score(y, p), roc_auc_score(y, o)
        slope = calibration_fit(y, p).slope
        print(
            f"{model:<20} {f.height:>7} {int(y.sum()):>7} {ours:>6.3f} {best:>7.3f} "
            f"{ours - best:>+6.3f} {slope:>6.2f}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
