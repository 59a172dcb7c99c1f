"""`ClientCache`: the clients of one adapter instance, built on first use from its current settings.

An adapter (a LangChain or LlamaIndex model object) is configured once and then called from anywhere: several
threads, `asyncio.run` twice, one event loop per worker thread, after `model_copy(update=...)`, after a pickle
round trip. It keeps its clients here:

- the same settings (compared by equality) and the same injected `http_client` give the same client; a
  changed setting gives a new client on the next call, and the old one stays open (a request may still be
  running on it) until `close()` / `aclose()` or its loop's shutdown;
- an `AsyncClient`'s pool belongs to one event loop, so each loop has its own clients, closed when the loop
  shuts down its async generators (`asyncio.run` always does): a small async generator is started in the loop
  for that, whose `finally` closes them;
- pickling or copying a cache gives a new, empty one: pools, sockets and locks are never copied.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar, cast

import httpx

from .async_client import AsyncClient
from .client import AuthStyle, Client
from .limiter import LimiterChoice
from .params import Unpack

__all__ = ["ClientCache", "ClientOptions"]

ClientT = TypeVar("ClientT", Client, AsyncClient)


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of `Client` / `AsyncClient`, apart from `http_client`."""

    api_key: str | None
    base_url: str | None
    timeout: float | httpx.Timeout | None
    max_retries: int
    default_headers: Mapping[str, str] | None
    auth: AuthStyle
    max_concurrent_requests: int | None
    limiter: LimiterChoice


@dataclass
class _Built(Generic[ClientT]):
    """The clients built so far, each with the settings and injected `http_client` it was built from."""

    entries: list[tuple[Mapping[str, object], object, ClientT]] = field(default_factory=list)

    def find(self, options: Mapping[str, Any], http_client: object) -> ClientT | None:
        for built_options, built_http, client in reversed(self.entries):
            if built_http is http_client and built_options == options:
                return client
        return None

    def take_all(self) -> list[ClientT]:
        clients = [client for _, _, client in self.entries]
        self.entries.clear()
        return clients


async def _close_at_shutdown(built: _Built[AsyncClient]) -> AsyncGenerator[None, None]:
    """Suspended in its loop until `loop.shutdown_asyncgens()` closes it, which closes the loop's clients."""
    try:
        yield
    finally:
        for client in built.take_all():
            await client.aclose()


@dataclass
class _LoopClients:
    built: _Built[AsyncClient]
    closer: AsyncGenerator[None, None]  # kept here: the loop holds its async generators only weakly


class ClientCache:
    """The sync client and the per-loop async clients of one adapter instance (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: _Built[Client] = _Built()
        self._loops: dict[asyncio.AbstractEventLoop, _LoopClients] = {}

    def client(self, http_client: httpx.Client | None = None, **options: Unpack[ClientOptions]) -> Client:
        """The `Client` for these settings, built on first use."""
        client = self._sync.find(options, http_client)
        if client is None:
            with self._lock:
                if (client := self._sync.find(options, http_client)) is None:
                    client = Client(http_client=http_client, **options)
                    self._sync.entries.append((dict(options), http_client, client))
        return client

    def async_client(
        self, http_client: httpx.AsyncClient | None = None, **options: Unpack[ClientOptions]
    ) -> AsyncClient:
        """The running loop's `AsyncClient` for these settings, built on first use; call inside the loop."""
        loop = asyncio.get_running_loop()
        clients = self._loops.get(loop)
        if clients is None:
            clients = self._watch(loop)
        client = clients.built.find(options, http_client)
        if client is None:  # only this loop's thread adds to its list
            client = AsyncClient(http_client=http_client, **options)
            clients.built.entries.append((dict(options), http_client, client))
        return client

    def _watch(self, loop: asyncio.AbstractEventLoop) -> _LoopClients:
        built: _Built[AsyncClient] = _Built()
        closer = _close_at_shutdown(built)
        # Drive the generator to its `yield` right here: its first step registers it with the running loop
        # (the loop's asyncgen hooks) and awaits nothing, so it finishes at once with StopIteration.
        step = cast(Coroutine[object, None, None], closer.__anext__())
        with contextlib.suppress(StopIteration):
            step.send(None)
        clients = _LoopClients(built, closer)
        with self._lock:
            for old in [old for old in self._loops if old.is_closed()]:
                del self._loops[old]  # closed without shutdown_asyncgens: nothing can be awaited there now
            self._loops[loop] = clients
        return clients

    def close(self) -> None:
        """Close the sync clients built here (an injected `http_client` stays open)."""
        with self._lock:
            clients = self._sync.take_all()
        for client in clients:
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's async clients and the sync clients built here."""
        with self._lock:
            clients = self._loops.pop(asyncio.get_running_loop(), None)
        if clients is not None:
            await clients.closer.aclose()  # its `finally` closes the clients
        self.close()

    def __reduce__(self) -> tuple[type[ClientCache], tuple[()]]:
        return (ClientCache, ())

    def __copy__(self) -> ClientCache:
        return ClientCache()

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientCache:
        return ClientCache()

    def __eq__(self, other: object) -> bool:
        # the clients an instance happens to hold are not part of what it is: two models with equal
        # settings are equal (pydantic compares private attributes too)
        return isinstance(other, ClientCache)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"ClientCache(sync={len(self._sync.entries)}, loops={len(self._loops)})"
