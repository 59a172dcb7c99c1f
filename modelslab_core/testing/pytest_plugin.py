"""A pytest plugin with the ``modelslab_server`` fixture.

Enable it with ``pytest_plugins = ["modelslab_core.testing.pytest_plugin"]`` in a ``conftest.py``. Options
can be passed by indirect parametrization:
``@pytest.mark.parametrize("modelslab_server", [{"fault": "crlf"}], indirect=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._server import LocalServer

__all__ = ["modelslab_server"]


@pytest.fixture
def modelslab_server(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    """A running :class:`LocalServer` on a free port, stopped after the test."""
    options = getattr(request, "param", None) or {}
    with LocalServer(**options) as server:
        yield server
