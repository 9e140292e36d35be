"""Real public data sets with published answers, loaded offline.

- ``load_california_prop99()``: the Prop 99 cigarette-sales panel shipped in ``data/``
  (see its README for source and licence).
- ``load_nsw_cps()``: the NSW job-training treated units with CPS controls (Dehejia & Wahba
  1999), from the ``causaldata`` distribution, with the covariates of their propensity
  specification (``NSW_CPS_COVARIATES``) added.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
NSW_CPS_COVARIATES = [
    "age", "age2", "educ", "educ2", "marr", "nodegree", "black", "hisp",
    "re74", "re75", "re74sq", "re75sq", "u74", "u75", "educ_re74",
]  # fmt: skip


def load_california_prop99() -> pd.DataFrame:
    """State, Year, PacksPerCapita, treated: 39 states x 1970-2000, California from 1989."""
    return pd.read_csv(DATA_DIR / "california_prop99.csv", sep=";")


def load_nsw_cps() -> pd.DataFrame:
    """NSW treated (185) and CPS controls with Dehejia & Wahba's propensity covariates.

    Integer-stored earnings, age and schooling are cast to float first: their squares
    overflow the source's small integer types.
    """
    import causaldata

    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    df = pd.concat([nsw[nsw["treat"] == 1], cps], ignore_index=True)
    for col in ("age", "educ", "re74", "re75", "re78"):
        df[col] = df[col].astype(float)
    return df.assign(
        age2=df["age"] ** 2,
        educ2=df["educ"] ** 2,
        re74sq=df["re74"] ** 2,
        re75sq=df["re75"] ** 2,
        u74=(df["re74"] == 0).astype(float),
        u75=(df["re75"] == 0).astype(float),
        educ_re74=df["educ"] * df["re74"],
    )


def nsw_experimental_att() -> float:
    """Experimental benchmark: NSW treated minus NSW experimental controls, mean re78."""
    import causaldata

    nsw = causaldata.nsw_mixtape.load_pandas().data
    means = nsw.groupby("treat")["re78"].mean()
    return float(means[1] - means[0])
