"""`ModelsLab` end to end in LlamaIndex, replayed from cassettes.

The cassettes were recorded against the default base URL; without MODELSLAB_API_KEY the recording was routed
to the local rule-based server (see tests/conftest.py), whose answers the assertions below spell out.
Re-record with `pytest tests/llama_index/test_adapter.py --record-mode=rewrite`.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from llama_index.core import Document, SummaryIndex
from llama_index.core.agent.workflow import (
    AgentStream,
    FunctionAgent,
    ReActAgent,
    ToolCall,
    ToolCallResult,
)
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ImageBlock, TextBlock, ThinkingBlock
from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from llama_index_modelslab import ModelsLab
from modelslab_core import APIStatusError, OverloadedError

from .conftest import TASK, TOOLS

pytestmark = pytest.mark.vcr

R1 = "deepseek-ai/DeepSeek-R1"
CAPITAL = [ChatMessage(role="user", content="What is the capital of France?")]
COUNT = [ChatMessage(role="user", content="Count to 12.")]


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> ModelsLab:
    """A ModelsLab on the default base URL; on replay the key is a placeholder (cassettes hold none)."""
    if not os.environ.get("MODELSLAB_API_KEY"):
        monkeypatch.setenv("MODELSLAB_API_KEY", "replay-key")
    return ModelsLab(max_tokens=512)


def usage_of(response: ChatResponse) -> dict[str, Any]:
    assert isinstance(response.raw, dict)
    usage = response.raw["usage"]
    assert isinstance(usage, dict) and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert response.additional_kwargs["usage"] == usage
    return usage


# --- chat and completion ------------------------------------------------------------------------------------


def test_chat(llm: ModelsLab) -> None:
    response = llm.chat(CAPITAL)
    assert response.message.content == "The capital of France is Paris."
    assert response.additional_kwargs["stop_reason"] == "end_turn"
    usage_of(response)


async def test_achat(llm: ModelsLab) -> None:
    response = await llm.achat(CAPITAL)
    assert response.message.content == "The capital of France is Paris."
    usage_of(response)


def test_stream_chat(llm: ModelsLab) -> None:
    responses = list(llm.stream_chat(COUNT))
    expected = " ".join(str(i) for i in range(1, 13))
    assert len(responses) >= 12
    assert "".join(r.delta or "" for r in responses) == expected
    assert [r.message.content for r in responses[:2]] == ["1", "1 2"]  # cumulative
    assert responses[-1].message.content == expected
    assert usage_of(responses[-1])["output_tokens"] == 12


async def test_astream_chat(llm: ModelsLab) -> None:
    gen = await llm.astream_chat(COUNT)
    responses = [r async for r in gen]
    assert "".join(r.delta or "" for r in responses) == responses[-1].message.content
    assert responses[-1].message.content == " ".join(str(i) for i in range(1, 13))
    assert usage_of(responses[-1])["output_tokens"] == 12


def test_complete_and_stream_complete(llm: ModelsLab) -> None:
    assert llm.complete("What is 6 * 7?").text == "6 * 7 = 42."
    chunks = list(llm.stream_complete("What is 6 * 7?"))
    assert "".join(c.delta or "" for c in chunks) == chunks[-1].text == "6 * 7 = 42."


async def test_acomplete_and_astream_complete(llm: ModelsLab) -> None:
    assert (await llm.acomplete("What is 6 * 7?")).text == "6 * 7 = 42."
    chunks = [c async for c in await llm.astream_complete("What is 6 * 7?")]
    assert chunks[-1].text == "6 * 7 = 42."


def test_reasoning_model_think_prefix_becomes_a_thinking_block(llm: ModelsLab) -> None:
    llm.model = R1
    whole = llm.chat([ChatMessage(role="user", content="Hello there")])
    streamed = list(llm.stream_chat([ChatMessage(role="user", content="Hello there")]))
    for response in (whole, streamed[-1]):
        thinking, _ = response.message.blocks
        assert isinstance(thinking, ThinkingBlock) and "I will answer directly." in (thinking.content or "")
        assert response.message.content == "Hello! I am the ModelsLab local test model. How can I help?"
    assert "<think>" not in "".join(r.delta or "" for r in streamed)
    assert "I will answer" in "".join(r.additional_kwargs.get("thinking_delta", "") for r in streamed)


def test_image_url_is_sent_as_a_url_source_not_downloaded(llm: ModelsLab) -> None:
    image = ImageBlock(url="https://example.com/cat.png")
    message = ChatMessage(role="user", blocks=[image, TextBlock(text="What is in this picture?")])
    response = llm.chat([message])
    assert response.message.content is not None
    assert response.message.content.startswith("I see 1 image.")


# --- query and chat engines ---------------------------------------------------------------------------------

DOCS = [Document(text="ModelsLab serves Qwen, Llama and DeepSeek models through one Messages API.")]


def test_summary_index_streaming_query(llm: ModelsLab) -> None:
    engine = SummaryIndex.from_documents(DOCS).as_query_engine(llm=llm, streaming=True)
    response = engine.query("Which models does ModelsLab serve?")
    assert isinstance(response, StreamingResponse)
    text = "".join(response.response_gen)
    assert text.startswith("You said: Context information is below.")
    assert "Which models does ModelsLab serve?" in text


async def test_summary_index_streaming_aquery(llm: ModelsLab) -> None:
    engine = SummaryIndex.from_documents(DOCS).as_query_engine(llm=llm, streaming=True)
    response = await engine.aquery("Which models does ModelsLab serve?")
    assert isinstance(response, AsyncStreamingResponse)
    text = "".join([token async for token in response.async_response_gen()])
    assert "ModelsLab serves Qwen, Llama and DeepSeek" in text


def test_chat_engine(llm: ModelsLab) -> None:
    engine = SummaryIndex.from_documents(DOCS).as_chat_engine(chat_mode="condense_plus_context", llm=llm)
    first = engine.chat("Hello")
    assert str(first) == "Hello! I am the ModelsLab local test model. How can I help?"
    assert "ModelsLab serves Qwen" in first.sources[0].content  # the retrieved context
    streamed = engine.stream_chat("What is the capital of France?")
    text = "".join(streamed.response_gen)
    assert "Paris" in text
    assert len(engine.chat_history) == 4


# --- tools, agents and structured output --------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
async def test_function_agent_with_two_tools(llm: ModelsLab, streaming: bool) -> None:
    agent = FunctionAgent(tools=list(TOOLS), llm=llm, streaming=streaming)
    handler = agent.run(user_msg=TASK)
    calls: list[ToolCall] = []
    results: list[ToolCallResult] = []
    deltas: list[str] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            results.append(event)
        elif isinstance(event, ToolCall):
            calls.append(event)
        elif isinstance(event, AgentStream):
            deltas.append(event.delta)
    output = await handler
    assert sorted((r.tool_name, r.tool_kwargs["a"], r.tool_kwargs["b"]) for r in results) == [
        ("add", 3, 5),
        ("multiply", 2, 4),
    ]
    assert sorted(str(r.tool_output.content) for r in results) == ["8", "8"]
    assert output.response.content == 'add returned "8"; multiply returned "8".'
    if streaming:
        assert "".join(deltas).endswith('multiply returned "8".')


def test_chat_with_tools_and_predict_and_call(llm: ModelsLab) -> None:
    response = llm.chat_with_tools(TOOLS, user_msg="Please multiply 6 and 7.", tool_required=True)
    [call] = llm.get_tool_calls_from_response(response)
    assert (call.tool_name, call.tool_kwargs) == ("multiply", {"a": 6, "b": 7})
    assert response.message.additional_kwargs["tool_calls"][0]["name"] == "multiply"
    output = llm.predict_and_call(TOOLS, user_msg="Please add 6 and 7.", tool_choice="add")
    assert output.response == "13"


async def test_react_agent(llm: ModelsLab) -> None:
    agent = ReActAgent(tools=list(TOOLS), llm=llm)
    output = await agent.run(user_msg="Use multiply to compute 6 times 7")
    # Thought / Action / Action Input parsed from the text, the tool run, its Observation answered
    [call] = output.tool_calls
    assert (call.tool_name, call.tool_kwargs) == ("multiply", {"a": 6, "b": 7})
    assert call.tool_output.raw_output == 42
    assert output.response.content == "The tool returned 42."


class Person(BaseModel):
    """A person."""

    name: str
    age: int


PERSON = PromptTemplate('Make up a person named "{name}" who is {age} years old.')


def test_structured_predict(llm: ModelsLab) -> None:
    person = llm.structured_predict(Person, PERSON, name="Ada", age="36")
    assert person == Person(name="Ada", age=36)


async def test_astructured_predict(llm: ModelsLab) -> None:
    person = await llm.astructured_predict(Person, PERSON, name="Ada", age="36")
    assert person == Person(name="Ada", age=36)


def test_stream_structured_predict(llm: ModelsLab) -> None:
    partials = list(llm.stream_structured_predict(Person, PERSON, name="Grace", age="85"))
    assert len(partials) > 1
    assert partials[-1].model_dump() == {"name": "Grace", "age": 85}


# --- instrumentation ----------------------------------------------------------------------------------------


def never_called(text: str) -> list[int]:
    raise AssertionError("token counts must come from the API's usage, not from a tokenizer")


def test_token_counting_handler_uses_the_recorded_usage(llm: ModelsLab) -> None:
    counter = TokenCountingHandler(tokenizer=never_called)
    llm.callback_manager = CallbackManager([counter])
    whole = llm.chat(CAPITAL)
    streamed = list(llm.stream_chat(COUNT))
    usages = [usage_of(whole), usage_of(streamed[-1])]
    assert counter.prompt_llm_token_count == sum(u["input_tokens"] for u in usages)
    assert counter.completion_llm_token_count == sum(u["output_tokens"] for u in usages)
    assert len(counter.llm_token_counts) == 2


# --- failures and server variations -------------------------------------------------------------------------


def faulty(fault: str) -> ModelsLab:
    """A ModelsLab whose requests ask the local server for `fault` (the header is recorded, not matched)."""
    return ModelsLab(max_tokens=512, max_retries=0, default_headers={"x-modelslab-fault": fault})


@pytest.mark.parametrize("fault", ["usage-start-only", "usage-delta-only"])
@pytest.mark.usefixtures("llm")
async def test_stream_usage_whichever_event_carries_it(fault: str) -> None:
    responses = [r async for r in await faulty(fault).astream_chat(COUNT)]
    usage = usage_of(responses[-1])
    assert (usage["input_tokens"], usage["output_tokens"]) == (3, 12)


@pytest.mark.usefixtures("llm")
def test_error_body_behind_http_200_is_a_typed_error() -> None:
    with pytest.raises(APIStatusError, match="Provider returned error"):
        faulty("error-body-200").chat(CAPITAL)
    with pytest.raises(APIStatusError, match="Provider returned error"):
        list(faulty("error-body-200-sse").stream_chat(COUNT))


@pytest.mark.usefixtures("llm")
async def test_sse_error_event_mid_stream_raises_a_typed_error() -> None:
    received: list[ChatResponse] = []
    with pytest.raises(OverloadedError, match="Overloaded"):
        async for response in await faulty("sse-error").astream_chat(COUNT):
            received.append(response)
    assert received == []  # the local server sends the error right after the first content_block_start
