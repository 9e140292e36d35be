"""Parameters of the simulated PEO: its size, its window and the AI rollout plan per function.

A rollout plan says, per operational function, in which waves teams receive AI tooling, how
large the full effect on productivity is and over how many months it ramps in. Teams are
ordered by prior productivity (plus noise) and assigned to waves in that order, so that early
adopters are the strong teams. Three shapes are expressible:

- the default staggered plan (about 30% / 30% / 20% of teams in months 12 / 18 / 24 of the
  window, the rest never treated);
- ``RolloutPlan.all_at_once()``: every team in one wave, no comparison teams;
- ``RolloutPlan.single_team()``: exactly one treated team per function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

FUNCTIONS: tuple[str, ...] = (
    "payroll_operations",
    "service_center",
    "benefits_administration",
    "onboarding",
)

DEFAULT_EFFECTS: dict[str, float] = {
    "payroll_operations": 0.12,
    "service_center": 0.18,
    "benefits_administration": 0.10,
    "onboarding": 0.15,
}


@dataclass(frozen=True)
class Wave:
    """One rollout wave: the window month (0 = first month) and its share or count of teams.

    Exactly one of ``fraction`` (share of the function's teams) or ``teams`` (a count) is set.
    """

    month: int
    fraction: float | None = None
    teams: int | None = None

    def __post_init__(self) -> None:
        if (self.fraction is None) == (self.teams is None):
            raise ValueError(f"Wave(month={self.month}): set exactly one of fraction or teams")
        if self.month < 0:
            raise ValueError(f"Wave month must be >= 0, got {self.month}")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"Wave fraction must lie in [0, 1], got {self.fraction}")
        if self.teams is not None and self.teams < 0:
            raise ValueError(f"Wave teams must be >= 0, got {self.teams}")

    def size(self, n_teams: int) -> int:
        """Return the number of teams of this wave out of ``n_teams``."""
        if self.teams is not None:
            return self.teams
        assert self.fraction is not None
        return int(round(self.fraction * n_teams))


@dataclass(frozen=True)
class FunctionRollout:
    """Rollout of one function: its waves, the full relative effect and the ramp length."""

    waves: tuple[Wave, ...]
    effect: float
    ramp_months: float = 4.0

    def __post_init__(self) -> None:
        if self.ramp_months <= 0:
            raise ValueError(f"ramp_months must be > 0, got {self.ramp_months}")
        if self.effect <= -1.0:
            raise ValueError(f"effect must be > -1 (a relative change), got {self.effect}")

    def wave_months(self, n_teams: int) -> list[int | None]:
        """Return the adoption month of each rank (best team first); None for never treated.

        Refuses plans whose waves need more teams than exist.
        """
        months: list[int | None] = []
        for wave in self.waves:
            months.extend([wave.month] * wave.size(n_teams))
        if len(months) > n_teams:
            raise ValueError(
                f"rollout waves need {len(months)} teams but the function has {n_teams}"
            )
        return months + [None] * (n_teams - len(months))


def _staggered(function: str) -> FunctionRollout:
    return FunctionRollout(
        waves=(Wave(12, fraction=0.3), Wave(18, fraction=0.3), Wave(24, fraction=0.2)),
        effect=DEFAULT_EFFECTS[function],
        ramp_months=4.0,
    )


@dataclass(frozen=True)
class RolloutPlan:
    """The rollout of AI tooling, one ``FunctionRollout`` per in-scope function."""

    payroll_operations: FunctionRollout = field(
        default_factory=lambda: _staggered("payroll_operations")
    )
    service_center: FunctionRollout = field(default_factory=lambda: _staggered("service_center"))
    benefits_administration: FunctionRollout = field(
        default_factory=lambda: _staggered("benefits_administration")
    )
    onboarding: FunctionRollout = field(default_factory=lambda: _staggered("onboarding"))

    def for_function(self, function: str) -> FunctionRollout:
        """Return the rollout of ``function``; refuses names outside ``FUNCTIONS``."""
        if function not in FUNCTIONS:
            raise KeyError(f"unknown function {function!r}; expected one of {FUNCTIONS}")
        rollout: FunctionRollout = getattr(self, function)
        return rollout

    @classmethod
    def all_at_once(cls, month: int = 12, ramp_months: float = 4.0) -> RolloutPlan:
        """Every team of every function adopts in ``month``: no comparison teams."""
        return cls(
            **{
                f: FunctionRollout((Wave(month, fraction=1.0),), DEFAULT_EFFECTS[f], ramp_months)
                for f in FUNCTIONS
            }
        )

    @classmethod
    def single_team(cls, month: int = 12, ramp_months: float = 4.0) -> RolloutPlan:
        """One treated team per function (the most productive), adopting in ``month``."""
        return cls(
            **{
                f: FunctionRollout((Wave(month, teams=1),), DEFAULT_EFFECTS[f], ramp_months)
                for f in FUNCTIONS
            }
        )


def _today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class SimulationConfig:
    """Size, window and seed of one simulation. Same config, same files, byte for byte.

    ``clients`` is the book at the start of the window before ``scale`` multiplies it;
    ``months`` is the length of the window, which ends on ``end_date`` (today in UTC by
    default, so that source freshness holds on the day of the run).
    """

    seed: int = 7
    clients: int = 1500
    months: int = 36
    teams_per_function: int = 10
    scale: float = 1.0
    end_date: dt.date = field(default_factory=_today_utc)
    rollout: RolloutPlan = field(default_factory=RolloutPlan)

    def __post_init__(self) -> None:
        if self.clients < 1:
            raise ValueError(f"clients must be >= 1, got {self.clients}")
        if self.months < 2:
            raise ValueError(f"months must be >= 2, got {self.months}")
        if self.teams_per_function < 1:
            raise ValueError(f"teams_per_function must be >= 1, got {self.teams_per_function}")
        if self.scale <= 0:
            raise ValueError(f"scale must be > 0, got {self.scale}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")

    @property
    def n_clients(self) -> int:
        """Clients in the book at the start of the window (``clients`` times ``scale``)."""
        return max(1, int(round(self.clients * self.scale)))

    @property
    def load_id(self) -> str:
        """The id of the initial load, ``sim-<seed>-0001``."""
        return f"sim-{self.seed}-0001"

    @property
    def correction_load_id(self) -> str:
        """The id of the second payroll load holding the correction revisions."""
        return f"sim-{self.seed}-0002"
