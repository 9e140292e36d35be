"""The seeded simulator of PEO operations: the embedded default data of coadv.

``simulate(SimulationConfig(...))`` writes every source table of the contracts in
``dbt_project/models/staging/_peo__sources.yml`` as Parquet under
``<landing>/<table>/<load_id>.parquet`` (one initial load ``sim-<seed>-0001`` per table, and
for payroll_runs a second load ``sim-<seed>-0002`` with the correction revisions), and its
planted truths under ``<COADV_HOME>/truths/`` (see ``coadv_assets.simulation.truths``).
"""

from coadv_assets.simulation.config import (
    FunctionRollout,
    RolloutPlan,
    SimulationConfig,
    Wave,
)
from coadv_assets.simulation.runner import SimulationSummary, simulate

__all__ = [
    "FunctionRollout",
    "RolloutPlan",
    "SimulationConfig",
    "SimulationSummary",
    "Wave",
    "simulate",
]
