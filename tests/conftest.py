"""Cassette wiring for the whole suite (pytest-recording + vcrpy).

* Cassettes live in ``<repo>/cassettes/<test module path under tests/>/`` and hold the real endpoint URL.
* The record mode comes from pytest-recording's ``--record-mode`` flag only (default ``none``: a missing
  cassette fails instead of reaching the network).
* Recording with ``MODELSLAB_API_KEY`` set goes to the live API (sockets are then enabled for the run).
  Recording without it starts a :class:`LocalServer` and routes every request for ``modelslab.com`` to it,
  with ``MODELSLAB_API_KEY`` set to a fake value meanwhile; the ``server`` header in each cassette says
  which server answered (``modelslab-local/<version>`` for the local one).

The routing rewrites requests in httpcore's connection pools, below httpx's transports. It cannot patch
``httpx.HTTPTransport.handle_request`` itself: vcrpy keeps the original method it captured when ``vcr.patch``
was imported and installs its recorder around that one (see ``vcr/patch.py`` and
``vcr/stubs/httpx_stubs.py``), so a patch at that level is bypassed while a cassette is active. At the pool
level the recorder has already seen ``https://modelslab.com/...`` and records that URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpcore
import pytest

from modelslab_core import limiter
from modelslab_core.testing import LocalServer

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "cassettes"
TESTS = ROOT / "tests"
LIVE_HOST = b"modelslab.com"
FAKE_KEY = "local-server-key"
_UUID4 = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)
_UUID_PLACEHOLDER = b"00000000-0000-4000-8000-000000000000"


def _recording(config: pytest.Config) -> bool:
    return (config.getoption("--record-mode", default=None) or "none") != "none"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Recording live needs the network that the default options (pytest-socket) block."""
    if _recording(config) and os.environ.get("MODELSLAB_API_KEY"):
        config.option.force_enable_socket = True


def scrub_request(request: Any) -> Any:
    """Replace random uuid4 strings in a request body, so bodies match on replay (vcrpy copies first)."""
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body:
        request.body = _UUID4.sub(_UUID_PLACEHOLDER, body)
    return request


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """vcrpy options for every cassette; the record mode is left to ``--record-mode``."""
    return {
        "filter_headers": ["x-api-key", "authorization"],
        "match_on": ["method", "scheme", "host", "port", "path", "body"],
        "before_record_request": scrub_request,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """``<repo>/cassettes/<module path under tests/>``, e.g. ``cassettes/langchain/test_chat_models``."""
    module = Path(request.path).resolve()
    try:
        relative = module.relative_to(TESTS).with_suffix("")
    except ValueError:
        relative = Path(module.stem)
    return str(CASSETTES / relative)


def _to_local(request: httpcore.Request, port: int) -> httpcore.Request:
    url = httpcore.URL(scheme=b"http", host=b"127.0.0.1", port=port, target=request.url.target)
    return httpcore.Request(
        request.method, url, headers=request.headers, content=request.stream, extensions=request.extensions
    )


@contextmanager
def route_to_local_server(server: LocalServer) -> Iterator[None]:
    """Send every request for modelslab.com (any scheme) to ``server`` instead, keeping the path."""
    sync_handle = httpcore.ConnectionPool.handle_request
    async_handle = httpcore.AsyncConnectionPool.handle_async_request

    def handle_request(self: httpcore.ConnectionPool, request: httpcore.Request) -> httpcore.Response:
        if request.url.host == LIVE_HOST:
            request = _to_local(request, server.port)
        return sync_handle(self, request)

    async def handle_async_request(
        self: httpcore.AsyncConnectionPool, request: httpcore.Request
    ) -> httpcore.Response:
        if request.url.host == LIVE_HOST:
            request = _to_local(request, server.port)
        return await async_handle(self, request)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpcore.ConnectionPool, "handle_request", handle_request)
        patch.setattr(httpcore.AsyncConnectionPool, "handle_async_request", handle_async_request)
        yield


@pytest.fixture(scope="session", autouse=True)
def recording_server(pytestconfig: pytest.Config) -> Iterator[LocalServer | None]:
    """When recording without MODELSLAB_API_KEY: the local server that answers instead of the live API."""
    if not _recording(pytestconfig) or os.environ.get("MODELSLAB_API_KEY"):
        yield None
        return
    with LocalServer() as server, route_to_local_server(server), pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELSLAB_API_KEY", FAKE_KEY)
        yield server


@pytest.fixture(autouse=True)
def _fresh_account_limiters() -> Iterator[None]:
    """Each test starts with no learnt account limit: the process-wide limiters are per account key."""
    yield
    limiter.forget_accounts()
