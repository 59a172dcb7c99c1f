"""Fixtures for the LlamaIndex tests that run against the local Messages server and read what was sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from llama_index.core.tools import FunctionTool

from llama_index_modelslab import ModelsLab
from modelslab_core.testing import LocalServer


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


TOOLS = [FunctionTool.from_defaults(add), FunctionTool.from_defaults(multiply)]
"""Two tools for the tests that give the LLM tools."""
TASK = "Use add for 3 and 5, then multiply for 2 and 4."
"""A prompt that asks for both `TOOLS`."""


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    """One local Messages server for the module."""
    with LocalServer() as server:
        yield server


class Wire:
    """The JSON bodies of the requests an LLM sent, read by httpx request hooks on injected clients."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.bodies: list[dict[str, Any]] = []
        self.clients: list[httpx.Client] = []
        self.async_clients: list[httpx.AsyncClient] = []

    def _record(self, request: httpx.Request) -> None:
        if request.content:
            self.bodies.append(json.loads(request.content))

    async def _arecord(self, request: httpx.Request) -> None:
        self._record(request)

    def llm(self, **kwargs: Any) -> ModelsLab:
        """A ModelsLab on the local server whose sync and async requests are recorded here."""
        kwargs.setdefault("api_key", "test-key")
        self.clients.append(httpx.Client(event_hooks={"request": [self._record]}))
        self.async_clients.append(httpx.AsyncClient(event_hooks={"request": [self._arecord]}))
        return ModelsLab(
            base_url=self.server.base_url,
            http_client=self.clients[-1],
            async_http_client=self.async_clients[-1],
            **kwargs,
        )

    @property
    def last(self) -> dict[str, Any]:
        assert self.bodies, "no request was sent"
        return self.bodies[-1]


@pytest.fixture
async def wire(local_server: LocalServer) -> AsyncIterator[Wire]:
    """Builds LLMs whose request bodies are recorded (`wire.llm(...)`, then `wire.last`).

    Async so that its teardown closes the async clients in the loop of an async test, which owns their pools.
    """
    recorder = Wire(local_server)
    yield recorder
    for client in recorder.clients:
        client.close()
    for aclient in recorder.async_clients:
        await aclient.aclose()
