"""Least squares with cluster-robust (CR1) covariance and fixed-effect absorption."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from estimators._errors import IdentificationError


@dataclass(frozen=True)
class OlsFit:
    beta: np.ndarray
    vcov: np.ndarray
    resid: np.ndarray
    n_clusters: int
    dof: int  # degrees of freedom for t inference: clusters - 1


def demean_by(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Subtract group means (columns of a 2-D array, or a 1-D array) by integer group code."""
    arr = values if values.ndim == 2 else values[:, None]
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    out = np.empty_like(arr, dtype=float)
    for j in range(arr.shape[1]):
        means = np.bincount(codes, weights=arr[:, j], minlength=n_groups) / counts
        out[:, j] = arr[:, j] - means[codes]
    return out if values.ndim == 2 else out[:, 0]


def cluster_sums(scores: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum rows of `scores` within clusters."""
    m = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_groups, len(codes))
    )
    return np.asarray(m @ scores)


def ols_cluster(
    y: np.ndarray,
    x: np.ndarray,
    clusters: np.ndarray,
    *,
    absorbed_params: int = 0,
    names: list[str] | None = None,
) -> OlsFit:
    """OLS of y on x with CR1 cluster-robust covariance.

    Small-sample factor G/(G-1) * (n-1)/(n-k), where k counts x's columns plus
    `absorbed_params` (fixed effects not nested in the clusters). Refuses with
    IdentificationError when x is rank deficient ("not identified").
    """
    n, k = x.shape
    if n <= k + absorbed_params:
        raise IdentificationError(
            f"not identified: {n} observations for {k + absorbed_params} parameters"
        )
    scale = np.sqrt((x**2).sum(axis=0))
    dead = scale < 1e-10 * max(1.0, float(np.abs(y).max(initial=0.0)))
    rank = np.linalg.matrix_rank(x[:, ~dead] / scale[~dead]) if (~dead).any() else 0
    if dead.any() or rank < k:
        label = names or [f"x{j}" for j in range(k)]
        culprit = [label[j] for j in np.flatnonzero(dead)] or label
        raise IdentificationError(
            "not identified: the design is rank deficient after removing fixed effects "
            f"(rank {rank} < {k}); no variation left in {culprit[:5]}"
        )
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    codes, uniq = _codes(clusters)
    g = len(uniq)
    if g < 2:
        raise IdentificationError("not identified: cluster-robust errors need at least 2 clusters")
    s = cluster_sums(x * resid[:, None], codes, g)
    meat = s.T @ s
    factor = g / (g - 1) * (n - 1) / (n - k - absorbed_params)
    vcov = factor * xtx_inv @ meat @ xtx_inv
    return OlsFit(beta=beta, vcov=vcov, resid=resid, n_clusters=g, dof=g - 1)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(values, return_inverse=True)
    return codes.ravel(), uniq


def nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every value of `inner` sits within a single value of `outer`."""
    ic, _ = _codes(inner)
    oc, _ = _codes(outer)
    pairs = np.unique(np.stack([ic, oc], axis=1), axis=0)
    return len(pairs) == len(np.unique(ic))
