"""The clients' waits between retries, recorded for tests (the core's and the reliability suite's)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import modelslab_core.async_client
import modelslab_core.client


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
            event.wait(seconds * scale)

    async def apause(future: asyncio.Future[None], seconds: float) -> None:
        delays.append(seconds)
        if scale:
            await asyncio.wait({future}, timeout=seconds * scale)

    monkeypatch.setattr(modelslab_core.client, "_sleep", sleep)
    monkeypatch.setattr(modelslab_core.async_client, "_asleep", asleep)
    monkeypatch.setattr(modelslab_core.client, "_pause", pause)
    monkeypatch.setattr(modelslab_core.async_client, "_apause", apause)
    return delays
