"""Credibility-weighted expected claims per pricing group from pooled group-month experience.

Input: one row per pricing group (industry x size band) and service month of
``marts.agg_claims_pricing_group_month``: ``industry``, ``size_band``, ``service_month``,
``member_months``, ``earned_premium``, ``paid_amount`` (null when suppressed) and
``suppressed``. Claims per member-month of the unsuppressed group-months with members enter
Bühlmann–Straub (periods = months, weights = member-months); every row, suppressed or not,
counts in the group's premium and member-months. A group's expected claims are its
credible claims per member-month times its member-months: claims and premium of the same
months, so the common trend of both cancels in the book's MLR.
"""

import polars as pl

from coadv_assets.pricing.credibility import Credibility, buhlmann_straub

GROUP_MONTH_COLUMNS = (
    "industry",
    "size_band",
    "service_month",
    "member_months",
    "earned_premium",
    "paid_amount",
    "suppressed",
)


def group_key() -> pl.Expr:
    """``industry|size_band``, the name of a pricing group."""
    return pl.col("industry") + "|" + pl.col("size_band")


def credible_book(group_months: pl.DataFrame) -> tuple[Credibility, pl.DataFrame, pl.DataFrame]:
    """Return (credibility, book, cells).

    ``book`` has one row per group, sorted: ``group``, ``premium``, ``member_months``,
    ``observed_pmpm`` (null without usable months), ``credible_pmpm``, ``z`` and
    ``expected_claims``. ``cells`` are the group-months that entered the credibility.
    """
    missing = [c for c in GROUP_MONTH_COLUMNS if c not in group_months.columns]
    if missing:
        raise ValueError(f"group-month experience lacks columns {missing}")
    rows = group_months.with_columns(
        group=group_key(), member_months=pl.col("member_months").cast(pl.Float64)
    )
    cells = (
        rows.filter(~pl.col("suppressed") & (pl.col("member_months") > 0))
        .select("group", "service_month", "paid_amount", "member_months")
        .with_columns(pmpm=pl.col("paid_amount") / pl.col("member_months"))
        .sort("group", "service_month")
    )
    book = (
        rows.group_by("group")
        .agg(
            pl.col("earned_premium").sum().alias("premium"),
            pl.col("member_months").sum(),
        )
        .filter(pl.col("member_months") > 0)
        .sort("group")
    )
    cred = buhlmann_straub(cells, all_groups=book["group"].to_list())
    book = book.join(
        cred.groups.select("group", "observed_pmpm", "credible_pmpm", "z"), on="group"
    ).with_columns(expected_claims=pl.col("credible_pmpm") * pl.col("member_months"))
    return cred, book.sort("group"), cells
