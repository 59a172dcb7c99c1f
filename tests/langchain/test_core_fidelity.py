"""`ChatModelsLab` over the core's tolerant reading (issue 12): a reply without `model` or `usage`.

ModelsLab's own function-calling example answers without either; the local server's `bare-reply` fault
does the same. The adapter then reports no `usage_metadata` (absent, not zeros) and the requested id as
`model_name`.
"""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_modelslab import ChatModelsLab
from modelslab_core.testing import LocalServer

from .conftest import gather

MODEL = "meta-llama-Llama-3.3-70B-Instruct-Turbo"
BARE = {"x-modelslab-fault": "bare-reply"}


def chat(server: LocalServer, fault: dict[str, str] | None = BARE) -> ChatModelsLab:
    return ChatModelsLab(
        model=MODEL, base_url=server.base_url, api_key="test-key", max_retries=0, default_headers=fault
    )


@pytest.mark.parametrize("sync", [True, False], ids=["invoke", "ainvoke"])
def test_bare_reply_has_no_usage_and_the_requested_model(server: LocalServer, sync: bool) -> None:
    llm = chat(server)
    message = llm.invoke("count to 3") if sync else asyncio.run(llm.ainvoke("count to 3"))
    assert isinstance(message, AIMessage) and message.text == "1 2 3"
    assert message.usage_metadata is None  # the server sent none: not zeros
    assert "usage" not in message.response_metadata
    assert message.response_metadata["model_name"] == MODEL


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
def test_bare_stream_has_no_usage_and_the_requested_model(server: LocalServer, sync: bool) -> None:
    llm = chat(server)

    async def collect() -> list[AIMessageChunk]:
        return [chunk async for chunk in llm.astream("count to 3")]

    chunks = list(llm.stream("count to 3")) if sync else asyncio.run(collect())
    assert all(chunk.usage_metadata is None for chunk in chunks)
    last = chunks[-1]
    assert last.chunk_position == "last" and last.response_metadata["model_name"] == MODEL
    assert "usage" not in last.response_metadata
    whole = gather(chunks)
    assert whole.text == "1 2 3" and whole.usage_metadata is None


def test_a_normal_reply_still_reports_usage(server: LocalServer) -> None:
    message = chat(server, None).invoke("count to 3")
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] == 3
    chunks = list(chat(server, None).stream("count to 3"))
    assert [c for c in chunks if c.usage_metadata is not None] == [chunks[-1]]
