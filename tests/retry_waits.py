"""The clients' waits between retries, recorded for tests (the core's and the reliability suite's)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import modelslab_core.async_client
import modelslab_core.client

PAUSE, APAUSE = modelslab_core.client._pause, modelslab_core.async_client._apause
"""The clients' own pauses, taken before any test replaces them (a test may record on top of a recorder)."""


def record_retry_waits(monkeypatch: pytest.MonkeyPatch, scale: float = 0.0) -> list[float]:
    """Record each delay the clients ask for, in order, and wait `scale` times as long (0: not at all; a
    kept request's pause still ends early when one of the process's requests is answered).

    Only the wait between attempts changes: retry decisions, computed delays and timeouts stay real.
    """
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if scale:
            time.sleep(seconds * scale)

    async def asleep(seconds: float) -> None:
        delays.append(seconds)
        if scale:
            await asyncio.sleep(seconds * scale)

    def pause(event: threading.Event, seconds: float) -> None:
        delays.append(seconds)
        if scale:
            PAUSE(event, seconds * scale)

    async def apause(future: asyncio.Future[None], seconds: float) -> None:
        delays.append(seconds)
        if scale:
            await APAUSE(future, seconds * scale)

    monkeypatch.setattr(modelslab_core.client, "_sleep", sleep)
    monkeypatch.setattr(modelslab_core.async_client, "_asleep", asleep)
    monkeypatch.setattr(modelslab_core.client, "_pause", pause)
    monkeypatch.setattr(modelslab_core.async_client, "_apause", apause)
    return delays
