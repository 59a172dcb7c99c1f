"""Fixtures for the LangChain tests that run against the local Messages server and read what was sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessageChunk

from modelslab_core.testing import LocalServer


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """One local Messages server for the module."""
    with LocalServer() as running:
        yield running


class Recorder:
    """An `httpx.Client` (a real one, sending to the local server) that keeps each request it sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.client = httpx.Client(event_hooks={"request": [self.requests.append]})

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON body of each request sent, in order."""
        return [json.loads(request.content) for request in self.requests]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A `Recorder` to pass as `http_client=recorder.client`; closed after the test."""
    recorder = Recorder()
    yield recorder
    recorder.client.close()


def gather(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    """The chunks of one stream added up in order (`chunk + chunk`), as a caller gathers them."""
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole = whole + chunk
    return whole
