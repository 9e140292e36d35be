"""The book of clients: who they are, when they signed, and their hidden propensities.

``clients`` (times ``scale``) clients are in the book at the window start, with signup dates
spread over the previous years (tenure exponential, mean 3.5 years, capped at 20). New clients
sign during the window at 17.5% of the opening book a year, about the rate at which clients
are lost, so that the book stays roughly stable. Worksite size at the start of the client's
history is lognormal (median 10, sigma 1.15: mean about 19, a few with 200+).

Hidden per-client quantities (never exported): annual headcount growth, health risk ``z``
(drives claims cost), contact propensity (lognormal, mean 1) and payroll-exception
propensity (normal on the logit scale, sd 0.5).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from coadv_assets.simulation.names import business_names, capitalized, emails, person_names
from coadv_assets.simulation.timeline import Timeline, to_date, to_instant

INDUSTRIES = {
    "construction": 0.14,
    "professional_services": 0.20,
    "healthcare": 0.14,
    "retail": 0.12,
    "hospitality": 0.11,
    "manufacturing": 0.10,
    "technology": 0.12,
    "nonprofit": 0.07,
}
PAY_FREQUENCIES = {"biweekly": 0.43, "weekly": 0.27, "semimonthly": 0.20, "monthly": 0.10}
SALES_CHANNELS = {"broker": 0.55, "direct": 0.25, "referral": 0.20}
STATES = {
    "CA": 0.14,
    "TX": 0.12,
    "FL": 0.10,
    "NY": 0.08,
    "GA": 0.06,
    "IL": 0.05,
    "NC": 0.05,
    "AZ": 0.05,
    "CO": 0.05,
    "WA": 0.05,
    "NJ": 0.04,
    "PA": 0.04,
    "OH": 0.03,
    "MA": 0.03,
    "VA": 0.03,
    "TN": 0.03,
    "UT": 0.03,
    "NV": 0.02,
}
NEW_CLIENT_RATE = 0.175


def choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    """Return ``n`` keys of ``weights`` drawn with probabilities proportional to the values."""
    keys = np.array(list(weights), dtype=object)
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def build_clients(n_start: int, timeline: Timeline, rng: np.random.Generator) -> pl.DataFrame:
    """Return one row per client, sorted by signup, with exported and hidden columns.

    Exported: client_id, client_name, contact_name, contact_email, industry, state,
    pay_frequency, sales_channel, signup_date, _loaded_at. Hidden: idx, signup_day,
    domain, size0, growth, risk_z, contact_propensity, exception_effect, biweekly_phase.
    """
    tenure_days = np.minimum(rng.exponential(3.5 * 365.25, n_start), 20 * 365.25)
    old_signups = timeline.window_start_day - 1 - np.floor(tenure_days).astype(np.int64)
    n_window_days = timeline.end_day - timeline.window_start_day
    rate = n_start * NEW_CLIENT_RATE / 365.25
    n_new = int(rng.poisson(rate * n_window_days))
    new_signups = timeline.window_start_day + rng.integers(0, n_window_days, n_new)
    signup = np.sort(np.concatenate([old_signups, new_signups]))
    n = len(signup)
    industry = choice(rng, INDUSTRIES, n)
    names, domains = business_names(rng, industry)
    first, last = person_names(rng, n)
    contact_missing = rng.random(n) < 0.04
    contact_name = capitalized(first) + " " + capitalized(last)
    contact_email = emails(first, last, domains.to_numpy())
    size0 = np.clip(np.round(np.exp(rng.normal(np.log(10.0), 1.15, n))), 2, 2500)
    return pl.DataFrame(
        {
            "idx": np.arange(n),
            "client_id": [f"C{i + 1:06d}" for i in range(n)],
            "client_name": names,
            "contact_name": contact_name.set(pl.Series(contact_missing), None),
            "contact_email": contact_email.set(pl.Series(contact_missing), None),
            "industry": industry.astype(str),
            "state": choice(rng, STATES, n).astype(str),
            "pay_frequency": choice(rng, PAY_FREQUENCIES, n).astype(str),
            "sales_channel": choice(rng, SALES_CHANNELS, n).astype(str),
            "signup_date": to_date(signup, "signup_date"),
            "_loaded_at": to_instant(signup + 1, 5 * 3600, "_loaded_at"),
            "signup_day": signup,
            "domain": domains,
            "size0": size0.astype(np.int64),
            "growth": rng.normal(0.03, 0.12, n),
            "risk_z": rng.normal(0.0, 1.0, n),
            "contact_propensity": np.exp(rng.normal(-(0.35**2) / 2, 0.35, n)),
            "exception_effect": rng.normal(0.0, 0.5, n),
            "biweekly_phase": rng.integers(0, 2, n),
        }
    )
