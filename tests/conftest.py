"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_stale_dagster_state_storage() -> Iterator[None]:
    """Start each test without a Dagster definitions-state storage in context.

    Opening a DagsterInstance puts its state storage into a context variable that outlives
    the instance when the instance is not closed; a later test that loads definitions in the
    same worker then fails with "Attempted to resolve undefined DagsterInstance weakref".
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield
