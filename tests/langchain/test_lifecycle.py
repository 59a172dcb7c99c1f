"""Copies, pickles, event loops and sockets of `ChatModelsLab` (issue 13, items 5 and 14)."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
from collections.abc import Callable

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from langchain_modelslab import ChatModelsLab
from modelslab_core import APIStatusError
from modelslab_core.testing import LocalServer

from ..leaks import resource_warnings

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"


def _model(server: LocalServer) -> ChatModelsLab:
    return ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="test-key", max_retries=0)


# --- item 5: pickle and deepcopy --------------------------------------------------------------------------


@pytest.mark.parametrize("used", [False, True], ids=["fresh", "after-a-call"])
def test_pickle_and_deepcopy_work_before_and_after_use(server: LocalServer, used: bool) -> None:
    model = _model(server)
    if used:
        assert model.invoke("What is 1 + 1?").content == "1 + 1 = 2."
        asyncio.run(model.ainvoke("What is 1 + 1?"))
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model), copy.copy(model)):
        assert isinstance(twin, ChatModelsLab)
        assert twin.model_dump() == model.model_dump()
        assert twin.invoke("What is 2 + 2?").content == "2 + 2 = 4."
        assert asyncio.run(twin.ainvoke("What is 3 + 3?")).content == "3 + 3 = 6."
        twin.close()
    model.close()


def test_a_chain_deep_copies_and_pickles(server: LocalServer) -> None:
    chain = ChatPromptTemplate.from_messages([("human", "What is {a} + {b}?")]) | _model(server)
    chain = chain | StrOutputParser()
    assert chain.invoke({"a": 1, "b": 2}) == "1 + 2 = 3."
    assert copy.deepcopy(chain).invoke({"a": 2, "b": 2}) == "2 + 2 = 4."
    assert pickle.loads(pickle.dumps(chain)).invoke({"a": 3, "b": 2}) == "3 + 2 = 5."


def test_a_changed_setting_takes_effect_on_the_next_call(server: LocalServer) -> None:
    model = _model(server)
    assert model.invoke("count to 9").content == "1 2 3 4 5 6 7 8 9"
    model.stop = [" 4"]
    model.default_headers = {"x-modelslab-fault": "error-body-200"}
    with pytest.raises(APIStatusError):  # the header reached the server: it answered with its error body
        model.invoke("count to 9")
    model.default_headers = None
    assert model.invoke("count to 9").content == "1 2 3"
    model.close()


# --- item 14: sockets closed with their loops; close / aclose and context managers -------------------------


def _resource_warnings(run: Callable[[], object]) -> list[str]:
    """The ResourceWarnings (unclosed sockets, transports, loops) raised while `run()` runs and after gc."""
    with resource_warnings() as leaked:
        run()
    return leaked


def test_asyncio_run_twice_leaves_no_unclosed_socket(server: LocalServer) -> None:
    def run() -> None:
        model = _model(server)
        assert asyncio.run(model.ainvoke("hi")).content
        assert asyncio.run(model.ainvoke("hi")).content

    assert _resource_warnings(run) == []


def test_one_loop_per_thread_leaves_no_unclosed_socket(server: LocalServer) -> None:
    def run() -> None:
        model = _model(server)
        answers: list[str] = []

        def worker(i: int) -> None:
            answers.append(asyncio.run(model.ainvoke(f"What is {i} + 1?")).text)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == sorted(f"{i} + 1 = {i + 1}." for i in range(4))
        model.close()

    assert _resource_warnings(run) == []


def test_sync_context_manager_closes_the_sync_client(server: LocalServer) -> None:
    def run() -> None:
        with _model(server) as model:
            assert model.invoke("hi").content
            client = model._sync_client()
        assert client._http.is_closed

    assert _resource_warnings(run) == []


def test_async_context_manager_closes_the_loop_clients(server: LocalServer) -> None:
    async def main() -> None:
        async with _model(server) as model:
            assert (await model.ainvoke("hi")).content
            assert model.invoke("hi").content
            async_client, sync_client = model._async_client(), model._sync_client()
        assert async_client._http.is_closed and sync_client._http.is_closed

    assert _resource_warnings(lambda: asyncio.run(main())) == []


def test_a_closed_model_can_be_used_again(server: LocalServer) -> None:
    model = _model(server)
    model.invoke("hi")
    model.close()
    assert model.invoke("What is 1 + 1?").content == "1 + 1 = 2."
    model.close()
