"""Erlang C (M/M/n) and Erlang A (M/M/n+M) queue formulas, numerically stable.

Units: arrival rate ``lam`` in contacts per second, ``aht`` (mean handle time) and
``patience`` (mean time a caller waits before hanging up) in seconds, ``target_seconds`` the
answer-time target. Offered load ``a = lam × aht`` is in Erlangs.

Erlang C uses the Erlang B recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, which never
overflows, and ``C = n B / (n - a (1 - B))``. Erlang A is computed exactly from the
birth-death chain of the number of contacts in the system (birth ``lam``, death
``min(k, n)/aht + max(k - n, 0)/patience``), with the stationary law in log space; an arrival
that finds ``q`` contacts waiting reaches an agent after a sum of exponential stages with
rates ``n/aht + i/patience`` (i = q..0) unless its own patience runs out first, and the
probability of that happening within the target is computed by uniformization.

Service level is "answered within the target, over all offered contacts": a contact that
abandons counts as not answered, whatever its wait. With abandonment absent this is the
classic Erlang C service level.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

_TAIL_LOG = -40.0  # stationary states below exp(-40) of the largest are dropped


@dataclass(frozen=True)
class QueueFigures:
    """Steady-state figures of one queue with ``agents`` agents.

    ``service_level`` is the share of offered contacts answered within the target;
    ``p_wait`` the share that waits at all; ``p_abandon`` the share that hangs up
    (0 under Erlang C); ``asa_seconds`` the mean wait in queue of all offered contacts;
    ``occupancy`` the share of agent time spent handling.
    """

    model: str
    agents: int
    offered_erlangs: float
    service_level: float
    p_wait: float
    p_abandon: float
    asa_seconds: float
    occupancy: float


def _check(lam: float, aht: float, target_seconds: float) -> None:
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"arrival rate must be a finite number >= 0, got {lam}")
    if not (math.isfinite(aht) and aht > 0):
        raise ValueError(f"mean handle time must be > 0 seconds, got {aht}")
    if not (math.isfinite(target_seconds) and target_seconds >= 0):
        raise ValueError(f"answer-time target must be >= 0 seconds, got {target_seconds}")


def erlang_b(agents: int, offered: float) -> float:
    """Blocking probability of M/M/n/n with ``agents`` servers and ``offered`` Erlangs."""
    if agents < 0 or offered < 0:
        raise ValueError(f"agents ({agents}) and offered load ({offered}) must be >= 0")
    b = 1.0
    for k in range(1, agents + 1):
        b = offered * b / (k + offered * b)
    return b


def erlang_c_wait_probability(agents: int, offered: float) -> float:
    """Probability that a contact waits (Erlang C); 1.0 when ``offered >= agents``."""
    if offered >= agents:
        return 1.0
    b = erlang_b(agents, offered)
    return agents * b / (agents - offered * (1.0 - b))


def erlang_c(agents: int, lam: float, aht: float, target_seconds: float) -> QueueFigures:
    """Erlang C figures; an unstable queue (load >= agents) gets service level 0, ASA inf."""
    _check(lam, aht, target_seconds)
    a = lam * aht
    pw = erlang_c_wait_probability(agents, a)
    if a >= agents:
        return QueueFigures("erlang_c", agents, a, 0.0, 1.0, 0.0, math.inf, 1.0)
    sl = 1.0 - pw * math.exp(-(agents - a) * target_seconds / aht)
    asa = pw * aht / (agents - a)
    return QueueFigures("erlang_c", agents, a, sl, pw, 0.0, asa, a / agents if agents else 0.0)


def _stationary(agents: int, lam: float, aht: float, patience: float) -> np.ndarray:
    """Stationary law of the number in an M/M/n+M system, truncated where negligible."""
    mu, theta = 1.0 / aht, 1.0 / patience
    a = lam * aht
    k = np.arange(agents + 1)
    log_head = k * math.log(a) - special.gammaln(k + 1)  # a > 0: the caller handles lam == 0
    logs = list(log_head)
    top = max(logs)
    j = 1
    while True:
        step = math.log(lam) - math.log(agents * mu + j * theta) if lam > 0 else -math.inf
        nxt = logs[-1] + step
        logs.append(nxt)
        top = max(top, nxt)
        if (nxt < top + _TAIL_LOG and step < 0) or not math.isfinite(nxt):
            break
        j += 1
        if j > 1_000_000:
            raise ValueError("Erlang A stationary law did not converge; patience is too long")
    arr = np.array(logs)
    arr = np.exp(arr - arr.max())
    return arr / arr.sum()


def _answered_within(
    agents: int, aht: float, patience: float, t: float, queue_max: int
) -> np.ndarray:
    """P(reach an agent within t | q contacts ahead), q = 0..queue_max (uniformization)."""
    mu, theta = 1.0 / aht, 1.0 / patience
    q = np.arange(queue_max + 1)
    nu = agents * mu + q * theta  # rate at which the head of the queue moves, q ahead
    # Survive own patience through each stage: product of nu_i / (nu_i + theta), i = 0..q.
    survive = np.exp(np.cumsum(np.log(nu) - np.log(nu + theta)))
    if t <= 0:
        return np.zeros(queue_max + 1)
    beta = nu + theta  # stage rates including own abandonment; distinct when theta > 0
    rate = float(beta.max())
    mean = rate * t
    m_max = int(mean + 12.0 * math.sqrt(mean) + 30)
    weights = stats.poisson.pmf(np.arange(m_max + 1), mean)
    # state: number of stages left (0 = reached an agent); start with q + 1 stages left.
    n_states = queue_max + 2
    dist = np.zeros((queue_max + 1, n_states))
    dist[q, q + 1] = 1.0
    move = np.concatenate([[0.0], beta / rate])  # prob. of leaving state s at a jump
    done = np.zeros(queue_max + 1)
    for m in range(m_max + 1):
        done += weights[m] * dist[:, 0]
        leaving = dist * move[None, :]
        dist = dist - leaving
        dist[:, :-1] += leaving[:, 1:]
    return survive * np.minimum(done, 1.0)


def erlang_a(
    agents: int, lam: float, aht: float, target_seconds: float, patience: float
) -> QueueFigures:
    """Erlang A figures for M/M/n+M with exponential patience of mean ``patience`` seconds.

    Refuses a patience that is not > 0. Exact up to the truncation of states below
    exp(-40) of the most likely one.
    """
    _check(lam, aht, target_seconds)
    if not (patience > 0):
        raise ValueError(f"mean patience must be > 0 seconds, got {patience}")
    if agents < 1:
        raise ValueError(f"Erlang A needs at least one agent, got {agents}")
    a = lam * aht
    if lam == 0:
        return QueueFigures("erlang_a", agents, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    pi = _stationary(agents, lam, aht, patience)
    queue = np.maximum(np.arange(len(pi)) - agents, 0)
    p_wait = float(pi[agents:].sum())
    mean_queue = float((queue * pi).sum())
    p_abandon = mean_queue / (lam * patience)  # abandonment rate theta E[Q] over lam
    asa = mean_queue / lam  # Little's law on the queue
    waiting = pi[agents:]
    reach = _answered_within(agents, aht, patience, target_seconds, len(waiting) - 1)
    sl = float(pi[:agents].sum() + (waiting * reach).sum())
    occupancy = a * (1.0 - p_abandon) / agents
    return QueueFigures("erlang_a", agents, a, sl, p_wait, p_abandon, asa, occupancy)


def required_agents(
    lam: float,
    aht: float,
    target_seconds: float,
    service_level: float,
    *,
    patience: float | None = None,
    max_abandon: float | None = None,
    max_agents: int = 5000,
) -> QueueFigures:
    """The fewest agents meeting ``service_level`` (and ``max_abandon`` under Erlang A).

    Erlang C when ``patience`` is None, Erlang A otherwise. Returns the figures at that
    staffing (agents 0 when there are no arrivals). Refuses a target outside (0, 1) and
    raises ValueError when ``max_agents`` do not suffice.
    """
    _check(lam, aht, target_seconds)
    if not 0 < service_level < 1:
        raise ValueError(f"service-level target must lie in (0, 1), got {service_level}")
    if lam == 0:
        model = "erlang_c" if patience is None else "erlang_a"
        return QueueFigures(model, 0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    a = lam * aht

    def figures(n: int) -> QueueFigures:
        if patience is None:
            return erlang_c(n, lam, aht, target_seconds)
        return erlang_a(n, lam, aht, target_seconds, patience)

    def meets(fig: QueueFigures) -> bool:
        return fig.service_level >= service_level and (
            max_abandon is None or fig.p_abandon <= max_abandon
        )

    # Both criteria improve with every added agent, so bisect between a failing and a
    # meeting staffing level.
    low = max(1, math.floor(a)) if patience is None else 0  # known or assumed to fail
    high = max(low + 1, math.ceil(a) + 1)
    while not meets(figures(high)):
        low, high = high, 2 * high
        if high > max_agents:
            raise ValueError(
                f"{max_agents} agents do not reach service level {service_level} at {a:.1f} Erlangs"
            )
    if low >= 1 and meets(figures(low)):
        low = 0
    while high - low > 1:
        mid = (low + high) // 2
        if mid >= 1 and meets(figures(mid)):
            high = mid
        else:
            low = mid
    return figures(high)
