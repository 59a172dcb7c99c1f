"""Fixtures for the local server's tests: a running server and a client that is sync or async."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from modelslab_core.testing import LocalServer
from modelslab_core.testing.pytest_plugin import modelslab_server

__all__ = ["Api", "modelslab_server"]

KEY = {"x-api-key": "test-key"}
MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"


def body(text: str | list[dict[str, Any]] = "hello", **extra: Any) -> dict[str, Any]:
    """A /v1/messages body with one user turn."""
    return {"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": text}], **extra}


@dataclass
class Api:
    """A plain httpx client on the server, sync or async behind one awaitable interface."""

    server: LocalServer
    sync: bool
    client: httpx.Client | httpx.AsyncClient

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request and read the whole response."""
        headers = {**KEY, **kwargs.pop("headers", {})}
        if isinstance(self.client, httpx.Client):
            return self.client.request(method, path, headers=headers, **kwargs)
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def post(self, path: str = "/v1/messages", **kwargs: Any) -> httpx.Response:
        """POST, /v1/messages by default."""
        return await self.request("POST", path, **kwargs)

    async def raw(self, path: str = "/v1/messages", **kwargs: Any) -> tuple[httpx.Response, list[bytes]]:
        """POST and collect the raw body chunks as they arrive."""
        headers = {**KEY, **kwargs.pop("headers", {})}
        chunks: list[bytes] = []
        if isinstance(self.client, httpx.Client):
            with self.client.stream("POST", path, headers=headers, **kwargs) as response:
                chunks.extend(response.iter_raw())
            return response, chunks
        async with self.client.stream("POST", path, headers=headers, **kwargs) as response:
            chunks.extend([chunk async for chunk in response.aiter_raw()])
        return response, chunks


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, modelslab_server: LocalServer) -> AsyncIterator[Api]:
    """A client on a fresh server, once sync and once async."""
    sync = request.param == "sync"
    if sync:
        with httpx.Client(base_url=modelslab_server.base_url, timeout=5, verify=False) as client:
            yield Api(modelslab_server, True, client)
    else:
        async with httpx.AsyncClient(base_url=modelslab_server.base_url, timeout=5, verify=False) as aclient:
            yield Api(modelslab_server, False, aclient)
