"""Renewal rate changes by client group: revenue neutral, capped, book MLR in a band.

Inputs per group ``g``: earned premium ``P_g`` and expected claims ``E_g`` (credible claims
per member-month times member-months) over the same experience year. A rate change ``r_g``
multiplies the group's premium by ``1 + r_g``; members respond by leaving at the retention
elasticity ``e`` (configured): the group keeps ``1 - e r_g`` of its members, and with them
of its premium and its claims. Definitions used everywhere below::

    revenue change = sum_g P_g (1 + r_g)(1 - e r_g) / sum_g P_g - 1
    book MLR       = sum_g E_g (1 - e r_g) / sum_g P_g (1 + r_g)(1 - e r_g)

Revenue neutral means ``|revenue change| <= revenue_tolerance``: the book's premium over the
next year at unchanged membership mix response equals this year's. With ``e = 0`` revenue
neutrality pins the book's MLR at ``sum E / sum P`` and only the mix of changes can vary.
Caps: ``cap_low <= r_g <= cap_high``. Among the changes meeting every constraint the
optimiser picks the one closest (premium-weighted squares) to each group's indicated change
``E_g / (P_g × band midpoint) - 1``.

When no change meets every constraint, each constraint family is relaxed in turn (the
others kept): the MLR band to the nearest attainable MLR, revenue neutrality to the
smallest attainable revenue change, the caps by the smallest common widening factor; the
families whose relaxation restores feasibility are reported as binding, with what each
relaxation gives.
"""

from dataclasses import dataclass, field

import numpy as np

_TOL = 1e-6


@dataclass(frozen=True)
class PricingConfig:
    """Constraints of the rate action; shares, not percent."""

    mlr_band: tuple[float, float] = (0.82, 0.87)
    cap_low: float = -0.10
    cap_high: float = 0.15
    revenue_tolerance: float = 0.0005
    retention_elasticity: float = 0.3


@dataclass(frozen=True)
class RateAction:
    """The result: rate changes per group and each constraint with its status.

    ``constraints`` maps a constraint to ``{"satisfied": bool, "value": ..., "bound": ...}``
    as recomputed from ``changes``; ``feasible`` is true when all are satisfied;
    ``binding`` names the families to relax when infeasible and ``relaxations`` what each
    relaxation gives.
    """

    changes: np.ndarray
    feasible: bool
    revenue_change: float
    book_mlr: float
    book_mlr_before: float
    constraints: dict[str, dict[str, object]]
    binding: list[str] = field(default_factory=list)
    relaxations: dict[str, dict[str, object]] = field(default_factory=dict)
    message: str = ""


def revenue_change(r: np.ndarray, premium: np.ndarray, elasticity: float) -> float:
    """Share change of the book's premium after the changes and the membership response."""
    return float((premium * (1 + r) * (1 - elasticity * r)).sum() / premium.sum() - 1)


def book_mlr(r: np.ndarray, premium: np.ndarray, claims: np.ndarray, elasticity: float) -> float:
    """Book MLR after the changes and the membership response."""
    keep = 1 - elasticity * r
    return float((claims * keep).sum() / (premium * (1 + r) * keep).sum())


def check_constraints(
    r: np.ndarray, premium: np.ndarray, claims: np.ndarray, cfg: PricingConfig
) -> dict[str, dict[str, object]]:
    """Each constraint's value, bound and whether ``r`` meets it (tolerance 1e-6)."""
    rev = revenue_change(r, premium, cfg.retention_elasticity)
    mlr = book_mlr(r, premium, claims, cfg.retention_elasticity)
    lo, hi = cfg.mlr_band
    return {
        "revenue_neutrality": {
            "value": rev,
            "bound": [-cfg.revenue_tolerance, cfg.revenue_tolerance],
            "satisfied": abs(rev) <= cfg.revenue_tolerance + _TOL,
        },
        "mlr_band": {"value": mlr, "bound": [lo, hi], "satisfied": lo - _TOL <= mlr <= hi + _TOL},
        "caps": {
            "value": [float(r.min()), float(r.max())],
            "bound": [cfg.cap_low, cfg.cap_high],
            "satisfied": bool((r >= cfg.cap_low - _TOL).all() and (r <= cfg.cap_high + _TOL).all()),
        },
    }


def _solve(
    objective,
    premium: np.ndarray,
    claims: np.ndarray,
    cfg: PricingConfig,
    *,
    use: tuple[str, ...],
    start: np.ndarray,
) -> np.ndarray:
    from scipy.optimize import minimize

    e = cfg.retention_elasticity
    lo, hi = cfg.mlr_band
    cons = []
    if "revenue_neutrality" in use:
        cons += [
            {
                "type": "ineq",
                "fun": lambda r: cfg.revenue_tolerance - revenue_change(r, premium, e),
            },
            {
                "type": "ineq",
                "fun": lambda r: cfg.revenue_tolerance + revenue_change(r, premium, e),
            },
        ]
    if "mlr_band" in use:
        cons += [
            {"type": "ineq", "fun": lambda r: book_mlr(r, premium, claims, e) - lo},
            {"type": "ineq", "fun": lambda r: hi - book_mlr(r, premium, claims, e)},
        ]
    bounds = (
        [(cfg.cap_low, cfg.cap_high)] * len(premium)
        if "caps" in use
        else [(-0.9, 3.0)] * len(premium)
    )
    best = None
    for x0 in (start, np.zeros_like(start)):
        x0 = np.clip(x0, *bounds[0])
        res = minimize(
            objective,
            x0,
            method="SLSQP",
            bounds=bounds,
            constraints=cons,
            options={"maxiter": 500, "ftol": 1e-12},
        )
        if best is None or (res.success and (not best.success or res.fun < best.fun)):
            best = res
    return np.asarray(best.x)


def optimise(
    premium: np.ndarray, claims: np.ndarray, cfg: PricingConfig = PricingConfig()
) -> RateAction:
    """The rate action for groups with ``premium`` and expected ``claims`` (same order).

    Refuses groups with no premium or negative claims, a band or caps in the wrong order.
    """
    premium = np.asarray(premium, dtype=float)
    claims = np.asarray(claims, dtype=float)
    if premium.shape != claims.shape or premium.ndim != 1 or len(premium) == 0:
        raise ValueError("premium and claims must be equal-length, non-empty vectors")
    if (premium <= 0).any() or (claims < 0).any():
        raise ValueError(
            f"{int((premium <= 0).sum())} groups have no premium and {int((claims < 0).sum())} "
            "negative claims; every group needs premium > 0 and claims >= 0"
        )
    if not cfg.mlr_band[0] < cfg.mlr_band[1] or not cfg.cap_low < 0 < cfg.cap_high:
        raise ValueError(f"MLR band {cfg.mlr_band} or caps ({cfg.cap_low}, {cfg.cap_high}) invalid")
    target = sum(cfg.mlr_band) / 2
    indicated = claims / (premium * target) - 1
    weight = premium / premium.sum()

    def closeness(r: np.ndarray) -> float:
        return float((weight * (r - indicated) ** 2).sum())

    all_families = ("revenue_neutrality", "mlr_band", "caps")
    r = _solve(closeness, premium, claims, cfg, use=all_families, start=indicated)
    checks = check_constraints(r, premium, claims, cfg)
    before = book_mlr(np.zeros_like(premium), premium, claims, cfg.retention_elasticity)
    feasible = all(c["satisfied"] for c in checks.values())
    action = dict(
        changes=r,
        feasible=feasible,
        revenue_change=revenue_change(r, premium, cfg.retention_elasticity),
        book_mlr=book_mlr(r, premium, claims, cfg.retention_elasticity),
        book_mlr_before=before,
        constraints=checks,
    )
    if feasible:
        return RateAction(**action, message="every constraint holds")
    relaxations = _relax(premium, claims, cfg, indicated)
    binding = [name for name, rel in relaxations.items() if rel["restores_feasibility"]]
    failing = [name for name, c in checks.items() if not c["satisfied"]]
    message = (
        f"no rate action meets every constraint (failing at the closest attempt: "
        f"{', '.join(failing)}); "
        + (
            "relaxing any one of " + ", ".join(binding) + " restores feasibility"
            if binding
            else "no single relaxation restores feasibility"
        )
    )
    return RateAction(**action, binding=binding, relaxations=relaxations, message=message)


def _relax(
    premium: np.ndarray, claims: np.ndarray, cfg: PricingConfig, indicated: np.ndarray
) -> dict[str, dict[str, object]]:
    """What relaxing each constraint family (keeping the others) gives."""
    e = cfg.retention_elasticity
    lo, hi = cfg.mlr_band
    out: dict[str, dict[str, object]] = {}

    def summary(r: np.ndarray, cfg_used: PricingConfig, **extra: object) -> dict[str, object]:
        checks = check_constraints(r, premium, claims, cfg_used)
        return {
            "restores_feasibility": all(c["satisfied"] for c in checks.values()),
            "book_mlr": book_mlr(r, premium, claims, e),
            "revenue_change": revenue_change(r, premium, e),
            "max_abs_change": float(np.abs(r).max()),
            **extra,
        }

    # MLR band: the attainable MLR nearest the band, under revenue neutrality and caps.
    def band_gap(r: np.ndarray) -> float:
        m = book_mlr(r, premium, claims, e)
        return max(lo - m, 0.0, m - hi) ** 2 * 1e4

    r = _solve(band_gap, premium, claims, cfg, use=("revenue_neutrality", "caps"), start=indicated)
    nearest = book_mlr(r, premium, claims, e)
    widened = PricingConfig(
        mlr_band=(min(lo, nearest), max(hi, nearest)),
        cap_low=cfg.cap_low,
        cap_high=cfg.cap_high,
        revenue_tolerance=cfg.revenue_tolerance,
        retention_elasticity=e,
    )
    out["mlr_band"] = summary(r, widened, relaxed_to=list(widened.mlr_band))

    # Revenue neutrality: the smallest revenue change compatible with the band and caps.
    def revenue_gap(r: np.ndarray) -> float:
        return revenue_change(r, premium, e) ** 2 * 1e4

    r = _solve(revenue_gap, premium, claims, cfg, use=("mlr_band", "caps"), start=indicated)
    needed = abs(revenue_change(r, premium, e))
    loose = PricingConfig(
        mlr_band=cfg.mlr_band,
        cap_low=cfg.cap_low,
        cap_high=cfg.cap_high,
        revenue_tolerance=max(cfg.revenue_tolerance, needed),
        retention_elasticity=e,
    )
    out["revenue_neutrality"] = summary(r, loose, relaxed_to=loose.revenue_tolerance)

    # Caps: the smallest common widening factor (up to 5x) that restores feasibility.
    def attempt(scale: float) -> tuple[np.ndarray, PricingConfig, bool]:
        c = PricingConfig(
            cfg.mlr_band, cfg.cap_low * scale, cfg.cap_high * scale, cfg.revenue_tolerance, e
        )
        rr = _solve(
            lambda x: float(((x - indicated) ** 2 * premium).sum() / premium.sum()),
            premium,
            claims,
            c,
            use=("revenue_neutrality", "mlr_band", "caps"),
            start=indicated,
        )
        return (
            rr,
            c,
            all(v["satisfied"] for v in check_constraints(rr, premium, claims, c).values()),
        )

    r5, c5, ok5 = attempt(5.0)
    if not ok5:
        out["caps"] = summary(r5, c5, relaxed_to=[c5.cap_low, c5.cap_high], widening_factor=5.0)
    else:
        low_s, high_s, best = 1.0, 5.0, (r5, c5)
        for _ in range(12):
            mid = (low_s + high_s) / 2
            rr, cc, ok = attempt(mid)
            if ok:
                high_s, best = mid, (rr, cc)
            else:
                low_s = mid
        out["caps"] = summary(
            best[0],
            best[1],
            relaxed_to=[best[1].cap_low, best[1].cap_high],
            widening_factor=round(high_s, 3),
        )
    return out
