"""The LlamaIndex adapter over the core's tolerant reading (issue 12): one catalog, absent usage, model id."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler

import llama_index_modelslab
import llama_index_modelslab.catalog
import modelslab_core.catalog
from llama_index_modelslab import ModelsLab
from modelslab_core.testing import LocalServer


def test_the_catalog_is_the_core_one() -> None:
    names = ("CATALOG", "CATALOG_IDS", "DEFAULT_SPEC", "ModelSpec", "lookup", "find", "normalize_model_id")
    for name in names:
        assert getattr(llama_index_modelslab.catalog, name) is getattr(modelslab_core.catalog, name), name
    assert llama_index_modelslab.lookup is modelslab_core.catalog.lookup


def test_metadata_of_an_id_added_to_the_core_catalog() -> None:
    metadata = ModelsLab("mistralai-Mistral-Small-24B-Instruct-2501", api_key="k").metadata
    assert (metadata.context_window, metadata.is_function_calling_model) == (32_768, True)
    assert ModelsLab("mistralai/Mixtral-8x7B-Instruct-v0.1").metadata.is_function_calling_model is False


# --- a reply without model or usage (the local server's `bare-reply`, as ModelsLab's own example) ---

BARE_MODEL = "meta-llama-Llama-3.3-70B-Instruct-Turbo"
COUNT = [ChatMessage(role="user", content="count to 3")]


def bare_llm(server: LocalServer, counter: TokenCountingHandler | None = None) -> ModelsLab:
    return ModelsLab(
        BARE_MODEL,
        api_key="test-key",
        base_url=server.base_url,
        max_retries=0,
        default_headers={"x-modelslab-fault": "bare-reply"},
        callback_manager=CallbackManager([counter] if counter else []),
    )


def assert_bare(response: ChatResponse) -> None:
    assert isinstance(response.raw, dict)
    assert "usage" not in response.raw and "usage" not in response.additional_kwargs  # absent, not zero
    assert response.raw["model"] == BARE_MODEL  # the requested id, since the reply names none


@pytest.mark.parametrize("sync", [True, False], ids=["chat", "achat"])
def test_bare_chat(local_server: LocalServer, sync: bool) -> None:
    llm = bare_llm(local_server)
    response = llm.chat(COUNT) if sync else asyncio.run(llm.achat(COUNT))
    assert response.message.content == "1 2 3"
    assert_bare(response)


@pytest.mark.parametrize("sync", [True, False], ids=["stream_chat", "astream_chat"])
def test_bare_stream_chat(local_server: LocalServer, sync: bool) -> None:
    llm = bare_llm(local_server)

    async def collect() -> list[ChatResponse]:
        return [response async for response in await llm.astream_chat(COUNT)]

    responses = list(llm.stream_chat(COUNT)) if sync else asyncio.run(collect())
    assert responses[-1].message.content == "1 2 3"
    assert all("usage" not in r.additional_kwargs for r in responses)
    assert_bare(responses[-1])


def test_token_counting_handler_copes_with_no_usage(local_server: LocalServer) -> None:
    counter = TokenCountingHandler()
    bare_llm(local_server, counter).chat(COUNT)
    assert len(counter.llm_token_counts) == 1  # counted by LlamaIndex's own tokenizer, without failing
