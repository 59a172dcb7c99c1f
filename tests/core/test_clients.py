"""`ClientCache`: one client per settings, one set per event loop, closed with its loop, never copied."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
from collections.abc import Iterator

import pytest

from modelslab_core import AsyncClient, AuthenticationError, Client
from modelslab_core.clients import ClientCache, ClientOptions
from modelslab_core.testing import LocalServer

from ..leaks import resource_warnings

CALL = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture
def options(server: LocalServer) -> ClientOptions:
    return {"api_key": "test-key", "base_url": server.base_url, "max_retries": 0}


@pytest.fixture
def no_resource_warnings() -> Iterator[None]:
    """Turn every ResourceWarning (an unclosed socket or transport) into a failure of the test."""
    with resource_warnings() as leaked:
        yield
    assert leaked == []


def test_same_settings_same_client_changed_settings_new_client(options: ClientOptions) -> None:
    cache = ClientCache()
    first = cache.client(**options)
    assert cache.client(**options) is first
    changed = cache.client(**{**options, "default_headers": {"x-team": "a"}})
    assert changed is not first
    assert cache.client(**options) is first  # the earlier settings still have their client
    cache.close()


def test_a_changed_setting_is_sent_on_the_next_call() -> None:
    with LocalServer(api_key="test-key") as strict:
        cache = ClientCache()
        options: ClientOptions = {"api_key": "test-key", "base_url": strict.base_url, "max_retries": 0}
        cache.client(**options).create(**CALL)
        with pytest.raises(AuthenticationError):
            cache.client(**{**options, "api_key": "wrong-key"}).create(**CALL)
        cache.close()


def test_an_injected_http_client_is_part_of_the_key(options: ClientOptions) -> None:
    import httpx

    cache = ClientCache()
    with httpx.Client() as http:
        assert cache.client(http, **options) is not cache.client(**options)
        assert cache.client(http, **options) is cache.client(http, **options)
        cache.close()
        assert not http.is_closed  # injected: used as is, never closed here


def test_each_loop_has_its_own_async_client(options: ClientOptions) -> None:
    cache = ClientCache()

    async def get() -> tuple[AsyncClient, AsyncClient]:
        return cache.async_client(**options), cache.async_client(**options)

    a1, a2 = asyncio.run(get())
    b1, _ = asyncio.run(get())
    assert a1 is a2
    assert b1 is not a1


def test_asyncio_run_twice_leaves_no_open_socket(options: ClientOptions, no_resource_warnings: None) -> None:
    cache = ClientCache()

    async def call() -> str:
        message = await cache.async_client(**options).create(**CALL)
        return message.content[0].type

    assert asyncio.run(call()) == "text"
    assert asyncio.run(call()) == "text"


def test_one_loop_per_thread_leaves_no_open_socket(
    options: ClientOptions, no_resource_warnings: None
) -> None:
    cache = ClientCache()
    answers: list[int] = []

    async def burst() -> None:
        client = cache.async_client(**options)
        replies = await asyncio.gather(*(client.create(**CALL) for _ in range(5)))
        answers.append(len(replies))

    def worker() -> None:
        for _ in range(3):
            asyncio.run(burst())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [5] * 12


def test_aclose_closes_the_loop_clients_and_the_sync_ones(options: ClientOptions) -> None:
    cache = ClientCache()
    sync = cache.client(**options)

    async def main() -> AsyncClient:
        client = cache.async_client(**options)
        await client.create(**CALL)
        await cache.aclose()
        return client

    closed = asyncio.run(main())
    assert closed._http.is_closed
    assert sync._http.is_closed


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_copies_are_empty_caches(options: ClientOptions, how: str) -> None:
    cache = ClientCache()
    client = cache.client(**options)
    asyncio.run(_touch(cache, options))
    twin = {
        "pickle": lambda: pickle.loads(pickle.dumps(cache)),
        "copy": lambda: copy.copy(cache),
        "deepcopy": lambda: copy.deepcopy(cache),
    }[how]()
    assert isinstance(twin, ClientCache)
    assert twin.client(**options) is not client
    assert isinstance(twin.client(**options), Client)
    cache.close()
    twin.close()


async def _touch(cache: ClientCache, options: ClientOptions) -> None:
    cache.async_client(**options)


def test_caches_compare_equal_so_models_with_equal_settings_do() -> None:
    assert ClientCache() == ClientCache()
    assert ClientCache() != object()


def test_every_client_shares_one_tls_context(options: ClientOptions) -> None:
    """The CA bundle is loaded once per process, not again for each client, event loop or thread."""
    cache = ClientCache()

    def tls(client: Client | AsyncClient) -> int:
        return id(client._http._transport._pool._ssl_context)  # type: ignore[attr-defined]

    async def loop_client() -> int:
        return tls(cache.async_client(**options))

    with Client(**options) as sync_client:
        contexts = {tls(sync_client), tls(cache.client(**options))}
    contexts |= {asyncio.run(loop_client()), asyncio.run(loop_client())}
    cache.close()
    assert len(contexts) == 1
