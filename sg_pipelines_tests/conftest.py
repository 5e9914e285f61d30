"""Shared fixtures. Sandbox fixtures first; other domains append theirs below."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sg_pipelines.sandbox import District, SandboxServer, generate_district

SANDBOX_STUDENTS = 60
SANDBOX_SEED = 7


@pytest.fixture
def sandbox_district() -> District:
    """A fresh small generated district (60 students), safe to mutate."""
    return generate_district(SANDBOX_STUDENTS, seed=SANDBOX_SEED)


@pytest.fixture
def sandbox(sandbox_district: District) -> Iterator[SandboxServer]:
    """A running sandbox on a loopback port serving `sandbox_district`; faults all off."""
    with SandboxServer(sandbox_district) as server:
        yield server


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[SandboxServer]:
    """One sandbox for the whole session: read-only use, and clear any faults you set."""
    with SandboxServer(generate_district(SANDBOX_STUDENTS, seed=SANDBOX_SEED)) as server:
        yield server
