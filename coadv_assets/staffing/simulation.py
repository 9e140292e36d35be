"""Discrete-event simulation of a multi-agent queue, to check the Erlang figures.

Contacts arrive as a Poisson process, wait first come first served for one of ``agents``
agents, are handled for an exponential time, and (when ``patience`` is given) hang up when
an exponential patience runs out before an agent takes them. Serving contacts in arrival
order makes the simulation a single pass: a contact's potential start is the later of its
arrival and the earliest moment an agent is free once every earlier contact has been
placed; if that wait exceeds its patience it abandons and occupies no agent.
"""

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulatedQueue:
    """Measured figures: shares over all offered contacts after the warm-up."""

    agents: int
    contacts: int
    service_level: float
    p_abandon: float
    asa_seconds: float


def simulate_queue(
    agents: int,
    lam: float,
    aht: float,
    target_seconds: float,
    *,
    patience: float | None = None,
    contacts: int = 200_000,
    warmup: int = 5_000,
    seed: int = 0,
) -> SimulatedQueue:
    """Simulate ``contacts`` arrivals; return the figures of the ones after ``warmup``.

    ``service_level`` counts contacts answered within ``target_seconds`` over all offered
    (abandoned ones count as not answered), as ``erlang.erlang_a`` does. Refuses fewer than
    one agent or a warm-up that leaves nothing to measure.
    """
    if agents < 1:
        raise ValueError(f"the simulation needs at least one agent, got {agents}")
    if warmup >= contacts:
        raise ValueError(f"warm-up {warmup} leaves none of {contacts} contacts to measure")
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, contacts))
    handle = rng.exponential(aht, contacts)
    limit = rng.exponential(patience, contacts) if patience is not None else None
    free = [0.0] * agents  # heap of the moments each agent becomes free
    waits = np.empty(contacts)
    abandoned = np.zeros(contacts, dtype=bool)
    for i in range(contacts):
        start = max(arrivals[i], free[0])
        wait = start - arrivals[i]
        if limit is not None and wait > limit[i]:
            abandoned[i] = True
            waits[i] = limit[i]
            continue
        waits[i] = wait
        heapq.heapreplace(free, start + handle[i])
    kept = slice(warmup, contacts)
    answered = ~abandoned[kept] & (waits[kept] <= target_seconds)
    return SimulatedQueue(
        agents=agents,
        contacts=contacts - warmup,
        service_level=float(answered.mean()),
        p_abandon=float(abandoned[kept].mean()),
        asa_seconds=float(waits[kept].mean()),
    )
