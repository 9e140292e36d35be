"""Least squares on the probability simplex, the inner problem of synthetic control."""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls


def simplex_lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin_w ||a w - b||^2 subject to w >= 0 and sum(w) = 1.

    Solved as a non-negative least-squares problem (Lawson-Hanson active set) with the sum
    constraint appended as a heavily weighted row; the weight makes the constraint hold to
    about 1e-10 and the result is then renormalised.
    """
    scale = float(np.linalg.norm(a)) + float(np.linalg.norm(b)) + 1.0
    big = 1e4 * scale
    a_aug = np.vstack([a, np.full((1, a.shape[1]), big)])
    b_aug = np.concatenate([b, [big]])
    w, _ = nnls(a_aug, b_aug, maxiter=50 * a.shape[1])
    total = w.sum()
    return w / total if total > 0 else np.full(a.shape[1], 1.0 / a.shape[1])
