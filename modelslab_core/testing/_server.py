"""Run the server in a background thread (:class:`LocalServer`) or in the foreground (:func:`serve`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ._app import PREFIX, SERVER_HEADER, App, ServerStats
from ._faults import parse_faults
from ._http import HTTPServer
from ._queue import AccountQueue

__all__ = ["LocalServer", "serve"]

_TIMEOUT = 5.0


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class LocalServer:
    """The local ModelsLab Messages server, run on a free port in a background thread with its own event loop.

    ``with LocalServer() as server:`` starts it and stops it; point a client at ``server.base_url``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        fault: str | None = None,
        replay: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        queue_limit: int | None = None,
        latency_ms: float = 0,
    ) -> None:
        """Configure the server; nothing listens until :meth:`start`.

        ``api_key``: the one key accepted (None: any non-empty key). ``fault``: a fault applied to requests
        that send no ``x-modelslab-fault`` header. ``replay``: a JSONL corpus to serve instead of the model.
        ``queue_limit``: ModelsLab's account queue, at most that many requests in service per API key, the
        rest refused at once with a 429; ``latency_ms``: how long each request is held (streams spread it).
        """
        self._app = App(
            api_key=api_key, fault=fault, replay=replay, queue_limit=queue_limit, latency=latency_ms / 1000
        )
        self._http = HTTPServer(self._app, host, port, [("server", SERVER_HEADER)])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        """The host the server listens on."""
        return self._http.host

    @property
    def port(self) -> int:
        """The port the server listens on (0 before start when a free port was asked for)."""
        return self._http.port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:8123``."""
        return _url(self.host, self.port)

    @property
    def base_url(self) -> str:
        """The base URL a client takes, e.g. ``http://127.0.0.1:8123/api/v7/llm``."""
        return self.url + PREFIX

    @property
    def queue(self) -> AccountQueue:
        """The account queue: its limit (`set_limit` changes it), refusals and peak in service per key."""
        return self._app.queue

    @property
    def stats(self) -> ServerStats:
        """Request counters (per path, per fault key, peak in flight); ``stats.reset()`` zeroes them."""
        return self._app.stats

    @property
    def fault(self) -> str | None:
        """The fault applied to requests without an ``x-modelslab-fault`` header; assignable while running."""
        return self._app.fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        parse_faults(value or "")
        self._app.fault = value

    def start(self) -> LocalServer:
        """Start listening; returns self. Raises OSError if the port cannot be bound."""
        if self._thread is not None:
            raise RuntimeError("LocalServer is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="modelslab-local-server", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._http.start(), loop).result(_TIMEOUT)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_TIMEOUT)
            loop.close()
            raise
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Stop the server, aborting open connections; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        try:
            asyncio.run_coroutine_threadsafe(self._http.close(), loop).result(_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_TIMEOUT)
            loop.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.base_url if self._thread is not None else "stopped"
        return f"<LocalServer {state}>"


async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str | None = None,
    fault: str | None = None,
    replay: str | Path | None = None,
    ready: Callable[[str], None] | None = None,
    queue_limit: int | None = None,
    latency_ms: float = 0,
) -> None:
    """Serve in the current event loop until cancelled; ``ready(base_url)`` is called once listening."""
    app = App(api_key=api_key, fault=fault, replay=replay, queue_limit=queue_limit, latency=latency_ms / 1000)
    http = HTTPServer(app, host, port, [("server", SERVER_HEADER)])
    await http.start()
    try:
        if ready is not None:
            ready(_url(host, http.port) + PREFIX)
        await asyncio.Event().wait()
    finally:
        await http.close()
