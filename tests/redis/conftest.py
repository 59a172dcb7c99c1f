"""A real Redis server for the limiter's tests (`modelslab_core.testing.redis_process`), one per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelslab_core.testing import redis_process


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """`redis://127.0.0.1:PORT/0` of a server started for the session and stopped by its pid."""
    with redis_process() as url:
        yield url


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix of the test's own, so tests sharing the server share no state."""
    return f"test:{request.node.name}"
