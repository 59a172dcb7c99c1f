"""What `ChatModelsLab` returns and sends back (issue 13, items 4, 6, 7; issue 12, item 5)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.output_parsers import StrOutputParser
from langchain_core.tools import tool

from langchain_modelslab import ChatModelsLab
from langchain_modelslab._convert import to_ai_message, to_wire_messages
from modelslab_core import Client
from modelslab_core.testing import LocalServer

from .conftest import Recorder, gather

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus.jsonl"
_RECORDS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _stream_source(name: str) -> str:
    return next(r["source"] for r in _RECORDS if name in r["source"] and r["is_stream"])


@pytest.fixture(scope="module")
def replay() -> Iterator[LocalServer]:
    with LocalServer(replay=CORPUS) as running:
        yield running


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


# --- item 4: text-only answers are strings, tools bound or not ----------------------------------------------


_AFTER_THE_TOOL = [
    HumanMessage("add 1 and 2"),
    AIMessage(
        "", tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "toolu_1", "type": "tool_call"}]
    ),
    ToolMessage("3", tool_call_id="toolu_1"),
]


@pytest.mark.parametrize("sync", [True, False])
async def test_a_text_answer_with_tools_bound_is_a_string(server: LocalServer, sync: bool) -> None:
    """An agent's final answer: tools are bound, the model answers in text."""
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="test-key").bind_tools([add])
    answer = model.invoke(_AFTER_THE_TOOL) if sync else await model.ainvoke(_AFTER_THE_TOOL)
    assert answer.content == 'add returned "3".'
    assert answer.tool_calls == []
    assert (model | StrOutputParser()).invoke(_AFTER_THE_TOOL) == 'add returned "3".'
    if sync:
        chunks = list(model.stream(_AFTER_THE_TOOL))
    else:
        chunks = [chunk async for chunk in model.astream(_AFTER_THE_TOOL)]
    gathered = gather(chunks)
    assert gathered.text == answer.text
    assert gathered.tool_calls == answer.tool_calls


def test_an_answer_with_a_tool_call_keeps_its_blocks(server: LocalServer) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="test-key").bind_tools([add])
    answer = model.invoke("add 2 and 3")
    assert isinstance(answer.content, list)
    assert [b["type"] for b in answer.content if isinstance(b, dict)][-1] == "tool_use"
    gathered = gather(list(model.stream("add 2 and 3")))
    assert gathered.text == answer.text
    assert [(c["name"], c["args"]) for c in gathered.tool_calls] == [
        (c["name"], c["args"]) for c in answer.tool_calls
    ]


# --- item 6: streams keep thinking signatures and citations ------------------------------------------------


def _invoke_answer(replay: LocalServer, source: str) -> AIMessage:
    """What invoke makes of a recorded stream: the core's whole message, through `to_ai_message`."""
    headers = {"x-modelslab-replay": source}
    with Client(api_key="test-key", base_url=replay.base_url, default_headers=headers) as client:
        stream = client.stream(model="m", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
        message = stream.get_final_message()
    return to_ai_message(message)


def _streamed(replay: LocalServer, source: str, *, sync: bool = True) -> AIMessageChunk:
    headers = {"x-modelslab-replay": source}
    model = ChatModelsLab(model="m", base_url=replay.base_url, api_key="test-key", default_headers=headers)
    if sync:
        return gather(list(model.stream("hi")))

    async def collect() -> list[AIMessageChunk]:
        return [chunk async for chunk in model.astream("hi")]

    return gather(asyncio.run(collect()))


def _sent_back(message: BaseMessage) -> Any:
    return to_wire_messages([HumanMessage("hi"), message])[1][1]["content"]


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
def test_a_stream_without_tools_keeps_the_thinking_signature(replay: LocalServer, sync: bool) -> None:
    source = _stream_source("test_stream_events_thinking")
    invoked, streamed = _invoke_answer(replay, source), _streamed(replay, source, sync=sync)
    thinking = [b for b in streamed.content if isinstance(b, dict) and b["type"] == "thinking"]
    assert len(thinking) == 1 and thinking[0]["signature"].startswith("EuYDCmMIDBgCKkC05Zda4P")
    assert isinstance(invoked.content, list)
    assert [b for b in invoked.content if isinstance(b, dict) and b["type"] == "thinking"] == [
        {k: v for k, v in thinking[0].items() if k != "index"}
    ]
    assert streamed.text == invoked.text
    assert streamed.additional_kwargs["reasoning_content"] == invoked.additional_kwargs["reasoning_content"]
    sent = _sent_back(streamed)
    assert sent == _sent_back(invoked)
    assert sent[0]["type"] == "thinking" and sent[0]["signature"] == thinking[0]["signature"]


@pytest.mark.parametrize(
    "name",
    [
        "test_anthropic_web_search_tool_stream",  # server tool blocks and citations_delta
        "test_anthropic_model_thinking_part_stream",
        "test_opus_46_adaptive_thinking",  # a text block before the thinking block
        "test_anthropic_model_thinking_part_redacted_stream",
    ],
)
def test_a_gathered_stream_sends_back_what_invoke_would(replay: LocalServer, name: str) -> None:
    source = _stream_source(name)
    invoked, streamed = _invoke_answer(replay, source), _streamed(replay, source)
    assert streamed.text == invoked.text
    assert _sent_back(streamed) == _sent_back(invoked)


def test_citations_reach_the_gathered_stream(replay: LocalServer) -> None:
    source = _stream_source("test_anthropic_web_search_tool_stream")
    invoked, streamed = _invoke_answer(replay, source), _streamed(replay, source)

    def citations(message: BaseMessage) -> list[Any]:
        return [c for b in message.content if isinstance(b, dict) for c in b.get("citations") or []]

    assert citations(invoked)
    assert citations(streamed) == citations(invoked)


# --- item 7: empty messages name their index; whitespace next to tool_use is sent -------------------------


@pytest.mark.parametrize("content", ["", [], [{"type": "text", "text": ""}]])
def test_an_empty_human_message_is_named_by_index(server: LocalServer, content: Any) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="test-key")
    server.stats.reset()
    with pytest.raises(ValueError, match=r"messages\[3\]\.content.*empty") as caught:
        model.invoke(
            [SystemMessage("be brief"), HumanMessage("hi"), AIMessage("hello"), HumanMessage(content)]
        )
    assert "non-empty list" not in str(caught.value)
    assert server.stats.requests == 0


def test_whitespace_text_next_to_tool_use_is_sent_as_is(server: LocalServer, recorder: Recorder) -> None:
    model = ChatModelsLab(
        model=MODEL, base_url=server.base_url, api_key="test-key", http_client=recorder.client
    )
    history = [
        HumanMessage("add 1 and 2"),
        AIMessage(
            [
                {"type": "text", "text": " "},
                {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {}},
            ],
            tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "toolu_1", "type": "tool_call"}],
        ),
        ToolMessage("3", tool_call_id="toolu_1"),
    ]
    model.bind_tools([add]).invoke(history)
    sent = recorder.bodies[0]["messages"][1]["content"]
    assert sent[0] == {"type": "text", "text": " "}
    assert sent[1]["type"] == "tool_use" and sent[1]["input"] == {"a": 1, "b": 2}


# --- issue 12, item 5: `system` as one string ---------------------------------------------------------------


def test_several_system_messages_are_sent_as_one_string() -> None:
    system, _ = to_wire_messages([SystemMessage("one"), HumanMessage("hi"), SystemMessage(["two", "three"])])
    assert system == "one\n\ntwo\n\nthree"


def test_system_blocks_only_where_cache_control_needs_them() -> None:
    cached = {"type": "text", "text": "two", "cache_control": {"type": "ephemeral"}}
    system, _ = to_wire_messages([SystemMessage("one"), SystemMessage([cached]), HumanMessage("hi")])
    assert system == [{"type": "text", "text": "one"}, cached]


def test_the_system_string_goes_out_in_the_body(server: LocalServer, recorder: Recorder) -> None:
    model = ChatModelsLab(
        model=MODEL, base_url=server.base_url, api_key="test-key", http_client=recorder.client
    )
    model.invoke([SystemMessage("You answer briefly."), SystemMessage("In English."), HumanMessage("hi")])
    assert recorder.bodies[0]["system"] == "You answer briefly.\n\nIn English."
