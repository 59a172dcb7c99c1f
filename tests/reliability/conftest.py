"""Fixtures for the reliability suite: one local server for the session, short retry waits on request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelslab_core.testing import LocalServer

from ..retry_waits import record_retry_waits

BACKOFF_SCALE = 0.01
"""Real backoff waits are scaled by this under `short_waits` (the retry-after=0 hints stay 0)."""


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    """The local server every cell talks to; cells keep apart by giving each fault its own `;key=`."""
    with LocalServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELSLAB_API_KEY", raising=False)
    monkeypatch.delenv("MODELSLAB_BASE_URL", raising=False)


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry waits the clients asked for, in order; each is slept for `BACKOFF_SCALE` of its length.

    Only the clients' sleep between attempts is touched: the retry decisions, the delays computed, the
    timeouts and the server are all real.
    """
    return record_retry_waits(monkeypatch, BACKOFF_SCALE)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report how many fuzz examples ran and what the load tests measured."""
    from . import report

    if report.LINES:
        terminalreporter.section("reliability")
        for line in report.LINES:
            terminalreporter.write_line(line)
