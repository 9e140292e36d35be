"""Bühlmann–Straub credibility of expected claims per member-month, by client group.

Each group ``i`` (a risk class) has periods ``j`` (service months) with observed claims per
member-month ``X_ij`` and weight ``w_ij`` (member-months). With ``w_i = sum_j w_ij``, the
group mean ``Xbar_i``, the weighted book mean ``Xbar`` and ``r`` groups::

    s2 = sum_i sum_j w_ij (X_ij - Xbar_i)^2 / sum_i (n_i - 1)            (within groups)
    a  = (sum_i w_i (Xbar_i - Xbar)^2 - (r - 1) s2) / (w - sum_i w_i^2 / w)   (between)
    Z_i = w_i / (w_i + s2 / a)
    mu  = sum_i Z_i Xbar_i / sum_i Z_i                                    (collective mean)
    estimate_i = Z_i Xbar_i + (1 - Z_i) mu

(Bühlmann & Gisler, *A Course in Credibility Theory*, 2005, ch. 4). When the estimated
between-group variance ``a`` is not positive, every ``Z_i`` is 0 and every group gets the
book mean. A group listed without exposure gets ``Z = 0`` and the collective mean.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Credibility:
    """Structural parameters and one row per group.

    ``groups`` holds ``group``, ``exposure`` (member-months), ``periods``, ``observed_pmpm``
    (null without exposure), ``z`` and ``credible_pmpm``; ``within_variance`` is ``s2``,
    ``between_variance`` is ``a`` and ``k`` is ``s2 / a`` (inf when ``a`` <= 0).
    """

    collective_mean: float
    within_variance: float
    between_variance: float
    k: float
    groups: pl.DataFrame


def buhlmann_straub(
    cells: pl.DataFrame,
    *,
    group: str = "group",
    value: str = "pmpm",
    weight: str = "member_months",
    all_groups: list[str] | None = None,
) -> Credibility:
    """Credibility estimates from one row per (group, period) with a value and a weight.

    ``all_groups`` lists groups to report even without rows (they get the collective mean).
    Refuses missing or negative weights and values, fewer than two groups with two or more
    periods, and an empty frame, naming the column and the row count.
    """
    for col in (group, value, weight):
        if col not in cells.columns:
            raise ValueError(f"credibility input lacks column {col!r}")
    bad = cells.filter(
        pl.col(value).is_null()
        | pl.col(weight).is_null()
        | ~pl.col(value).is_finite()
        | (pl.col(weight) <= 0)
        | (pl.col(value) < 0)
    )
    if bad.height:
        raise ValueError(
            f"credibility input: {bad.height} rows have a missing or negative {value!r} or a "
            f"weight {weight!r} that is not > 0 (rule: observed cells only)"
        )
    stats = (
        cells.group_by(group)
        .agg(
            pl.col(weight).sum().alias("exposure"),
            pl.len().alias("periods"),
            ((pl.col(value) * pl.col(weight)).sum() / pl.col(weight).sum()).alias("observed"),
        )
        .sort(group)
    )
    if stats.filter(pl.col("periods") >= 2).height < 2:
        raise ValueError(
            f"credibility needs at least two groups with two periods or more; got "
            f"{stats.height} groups from {cells.height} rows"
        )
    joined = cells.join(stats.select(group, "observed"), on=group)
    within_ss = float((joined[weight] * (joined[value] - joined["observed"]) ** 2).sum())
    s2 = within_ss / float((stats["periods"] - 1).sum())
    w_i = stats["exposure"].to_numpy().astype(float)
    x_i = stats["observed"].to_numpy()
    w = w_i.sum()
    xbar = float((w_i * x_i).sum() / w)
    r = len(w_i)
    a = (float((w_i * (x_i - xbar) ** 2).sum()) - (r - 1) * s2) / (w - float((w_i**2).sum()) / w)
    if a > 0:
        k = s2 / a
        z = w_i / (w_i + k)
        mu = float((z * x_i).sum() / z.sum())
    else:
        k, z, mu = float("inf"), np.zeros(r), xbar
    out = stats.with_columns(
        pl.Series("z", z),
        pl.Series("credible_pmpm", z * x_i + (1 - z) * mu),
    ).rename({group: "group", "observed": "observed_pmpm"})
    if all_groups:
        missing = sorted(set(all_groups) - set(out["group"].to_list()))
        if missing:
            empty = pl.DataFrame(
                {
                    "group": missing,
                    "exposure": [0.0] * len(missing),
                    "periods": [0] * len(missing),
                    "observed_pmpm": [None] * len(missing),
                    "z": [0.0] * len(missing),
                    "credible_pmpm": [mu] * len(missing),
                },
                schema_overrides={"observed_pmpm": pl.Float64},
            )
            out = pl.concat(
                [
                    out.with_columns(
                        pl.col("exposure").cast(pl.Float64), pl.col("periods").cast(pl.Int64)
                    ),
                    empty.with_columns(pl.col("periods").cast(pl.Int64)),
                ],
                how="vertical_relaxed",
            ).sort("group")
    return Credibility(mu, s2, a, k, out)
