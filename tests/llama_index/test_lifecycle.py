"""`ModelsLab` over its life: settings changed after use, copies and pickles, closing, loops and threads."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
from collections.abc import Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage

from llama_index_modelslab import ModelsLab
from modelslab_core import APITimeoutError, AuthenticationError, InternalServerError
from modelslab_core.testing import LocalServer

from ..leaks import resource_warnings

HI = [ChatMessage(role="user", content="Hello")]
ANSWER = "Hello! I am the ModelsLab local test model. How can I help?"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def requests(server: LocalServer) -> int:
    return sum(n for path, n in server.stats.by_path.items() if path.endswith("/v1/messages"))


# --- item 5: settings changed after a first call take effect ------------------------------------------------


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_default_headers_changed_after_a_call_are_sent(server: LocalServer, sync: bool) -> None:
    llm = ModelsLab(api_key="test-key", base_url=server.base_url, max_retries=0)

    async def chat() -> str | None:
        response = llm.chat(HI) if sync else await llm.achat(HI)
        return response.message.content

    assert await chat() == ANSWER
    llm.default_headers = {"x-modelslab-fault": "server-error"}
    with pytest.raises(InternalServerError):
        await chat()
    llm.default_headers = None
    assert await chat() == ANSWER
    llm.close()


def test_max_retries_changed_after_a_call_is_used(server: LocalServer) -> None:
    llm = ModelsLab(
        api_key="test-key",
        base_url=server.base_url,
        max_retries=0,
        default_headers={"x-modelslab-fault": "server-error-once;key=retries"},
    )
    with pytest.raises(InternalServerError):
        llm.chat(HI)
    server.stats.reset()  # re-arms the -once fault
    llm.max_retries = 1
    assert llm.chat(HI).message.content == ANSWER
    assert server.stats.by_fault["server-error-once;key=retries"] == 2
    llm.close()


async def test_timeout_changed_after_a_call_is_used(server: LocalServer) -> None:
    llm = ModelsLab(api_key="test-key", base_url=server.base_url, max_retries=0, timeout=30)
    assert (await llm.achat(HI)).message.content == ANSWER
    slow = {"x-modelslab-fault": "slow-headers:0.5"}
    llm.default_headers = slow
    assert (await llm.achat(HI)).message.content == ANSWER  # 0.5 s is well within 30 s
    llm.timeout = 0.05
    with pytest.raises(APITimeoutError):
        await llm.achat(HI)


def test_base_url_and_api_key_changed_after_a_call_are_used(server: LocalServer) -> None:
    llm = ModelsLab(api_key="test-key", base_url=server.base_url)
    llm.chat(HI)
    with LocalServer(api_key="the-other-key") as other:
        llm.base_url = other.base_url
        with pytest.raises(AuthenticationError):
            llm.chat(HI)
        llm.api_key = "the-other-key"
        assert llm.chat(HI).message.content == ANSWER
        assert requests(other) == 2
    assert requests(server) == 1
    llm.close()


def test_model_copy_with_new_settings_uses_them_and_leaves_the_original(server: LocalServer) -> None:
    llm = ModelsLab(api_key="test-key", base_url=server.base_url, max_retries=0)
    llm.chat(HI)
    faulty = llm.model_copy(update={"default_headers": {"x-modelslab-fault": "server-error"}})
    with pytest.raises(InternalServerError):
        faulty.chat(HI)
    assert llm.chat(HI).message.content == ANSWER
    faulty.close()
    llm.close()


# --- item 6: deepcopy and pickle, before and after use ------------------------------------------------------


@pytest.mark.parametrize("used", ["unused", "sync", "async"])
def test_deepcopy_and_pickle_work_before_and_after_use(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, used: str
) -> None:
    monkeypatch.setenv("MODELSLAB_API_KEY", "env-key")
    llm = ModelsLab(base_url=server.base_url, max_tokens=64)
    if used == "sync":
        llm.chat(HI)
    elif used == "async":
        asyncio.run(llm.achat(HI))
    copied = copy.deepcopy(llm)
    restored = pickle.loads(pickle.dumps(llm))
    for other in (copied, restored):
        assert other.max_tokens == 64 and other.base_url == server.base_url
        assert other.chat(HI).message.content == ANSWER
        assert asyncio.run(other.achat(HI)).message.content == ANSWER
    assert llm.chat(HI).message.content == ANSWER  # the original still works
    for each in (llm, copied, restored):
        each.close()


def test_a_rebuilt_instance_reads_the_key_from_the_environment(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELSLAB_API_KEY", raising=False)
    llm = ModelsLab(api_key="explicit-key", base_url=server.base_url)
    llm.chat(HI)
    monkeypatch.setenv("MODELSLAB_API_KEY", "env-key")
    for rebuilt in (pickle.loads(pickle.dumps(llm)), ModelsLab.from_dict(llm.to_dict())):
        assert rebuilt.api_key is not None and rebuilt.api_key.get_secret_value() == "env-key"
        assert rebuilt.chat(HI).message.content == ANSWER
        rebuilt.close()
    llm.close()
    assert "explicit-key" not in str(pickle.dumps(llm))  # the key is not written into the pickle


# --- item 10: close, context managers, one client per live loop, no leaked sockets --------------------------


def test_with_closes_the_pool_and_the_llm_stays_usable(server: LocalServer) -> None:
    with ModelsLab(api_key="test-key", base_url=server.base_url) as llm:
        client = llm.client
        llm.chat(HI)
    assert client._http.is_closed
    assert llm.chat(HI).message.content == ANSWER  # a new pool
    assert llm.client is not client
    llm.close()


async def test_async_with_closes_the_loops_pool(server: LocalServer) -> None:
    async with ModelsLab(api_key="test-key", base_url=server.base_url) as llm:
        client = llm.async_client
        await asyncio.gather(*(llm.achat(HI) for _ in range(5)))
        assert llm.async_client is client  # one client for the loop, whatever the burst
    assert client._http.is_closed


def test_asyncio_run_twice_closes_each_loops_pool(server: LocalServer) -> None:
    llm = ModelsLab(api_key="test-key", base_url=server.base_url)

    async def burst() -> object:
        await asyncio.gather(*(llm.achat(HI) for _ in range(4)))
        return llm.async_client

    first = asyncio.run(burst())
    second = asyncio.run(burst())
    assert first is not second
    assert first._http.is_closed and second._http.is_closed  # type: ignore[attr-defined]


def test_threads_running_asyncio_run_bursts_leak_no_socket(server: LocalServer) -> None:
    llm = ModelsLab(api_key="test-key", base_url=server.base_url, max_tokens=32)
    errors: list[BaseException] = []

    async def burst() -> None:
        await asyncio.gather(*(llm.achat(HI) for _ in range(4)))
        async for _ in await llm.astream_chat(HI):
            pass

    def work() -> None:
        try:
            for _ in range(3):
                asyncio.run(burst())
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    with resource_warnings() as leaked:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert leaked == []
    assert requests(server) == 8 * 3 * 5
