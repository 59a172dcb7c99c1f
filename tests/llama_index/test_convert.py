"""Unit tests of `llama_index_modelslab._convert`: pure translation, no HTTP."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    ChatResponse,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool

from llama_index_modelslab import _state
from llama_index_modelslab._convert import (
    StreamState,
    assistant_message,
    split_think,
    to_chat_response,
    to_request,
    to_stream_response,
    to_tool_choice,
    to_tool_selections,
    to_wire_messages,
    to_wire_tools,
    tool_id,
)
from llama_index_modelslab._params import Settings
from modelslab_core import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStopEvent,
    PingEvent,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    Usage,
)
from modelslab_core import TextBlock as WireText
from modelslab_core import ThinkingBlock as WireThinking
from modelslab_core import ToolUseBlock as WireToolUse
from modelslab_core.types import MessageDelta, MessageDeltaUsage

from .conftest import add

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


# --- requests -----------------------------------------------------------------------------------------------


def test_system_messages_join_and_roles_map() -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="Be brief."),
        user("hi"),
        ChatMessage(role=MessageRole.DEVELOPER, content="Use English."),
        ChatMessage(role=MessageRole.ASSISTANT, content="Hello"),
    ]
    system, wire = to_wire_messages(messages)
    assert system == "Be brief.\n\nUse English."
    assert wire == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
    ]


def test_tool_round_trip_merges_parallel_results_into_one_user_turn() -> None:
    call_a = ToolCallBlock(tool_call_id="call:1", tool_name="add", tool_kwargs={"a": 1})
    call_b = ToolCallBlock(tool_call_id="toolu_2", tool_name="mul", tool_kwargs='{"a": 2')
    messages = [
        user("go"),
        ChatMessage(role=MessageRole.ASSISTANT, blocks=[TextBlock(text="calling"), call_a, call_b]),
        ChatMessage(role=MessageRole.TOOL, content="2", additional_kwargs={"tool_call_id": "call:1"}),
        ChatMessage(role=MessageRole.TOOL, content="4", additional_kwargs={"tool_call_id": "toolu_2"}),
    ]
    before = [m.model_copy(deep=True) for m in messages]
    _, wire = to_wire_messages(messages)
    assert messages == before
    assistant, results = wire[1], wire[2]
    uses = assistant["content"][1:]
    assert [u["name"] for u in uses] == ["add", "mul"]
    assert uses[0]["id"] == tool_id("call:1", "add") != "call:1"
    assert uses[1] == {"type": "tool_use", "id": "toolu_2", "name": "mul", "input": {"a": 2}}
    assert results["role"] == "user"
    assert [r["tool_use_id"] for r in results["content"]] == [uses[0]["id"], "toolu_2"]
    assert results["content"][0]["content"] == [{"type": "text", "text": "2"}]


def test_tool_ids_are_normalized_deterministically_and_stay_distinct() -> None:
    assert tool_id("toolu_01-abc", "x") == "toolu_01-abc"
    assert tool_id("call:1", "x") == tool_id("call:1", "x")
    assert tool_id("call:1", "x") != tool_id("call.1", "x")
    assert tool_id(None, "add").startswith("toolu_add")
    for value in ("call:1", "fc.abc/def", "id with space"):
        assert set(tool_id(value, "x")) <= set(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
        )


def test_empty_text_blocks_are_dropped_but_an_empty_turn_is_refused() -> None:
    blocks = [TextBlock(text="hi"), TextBlock(text="  ")]
    _, wire = to_wire_messages([ChatMessage(role=MessageRole.USER, blocks=blocks)])
    assert wire == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    with pytest.raises(ValueError, match=r"messages\[1\] \(assistant\) has no content"):
        to_wire_messages([user("hi"), ChatMessage(role=MessageRole.ASSISTANT, content="  \n")])


def test_images_by_url_bytes_and_path(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    blocks = [
        ImageBlock(url="https://example.com/cat.jpg"),
        ImageBlock(image=PNG),
        ImageBlock(path=path),
        TextBlock(text="what is this?"),
    ]
    _, wire = to_wire_messages([ChatMessage(role=MessageRole.USER, blocks=blocks)])
    url, raw, from_path, _ = wire[0]["content"]
    assert url == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
    encoded = base64.b64encode(PNG).decode()
    assert raw["source"] == {"type": "base64", "media_type": "image/png", "data": encoded}
    assert from_path["source"] == raw["source"]


def test_a_pdf_url_is_sent_as_a_url_document_source() -> None:
    """What docs/llama-index.md says: a PDF URL goes as a `url` source (the server fetches it, not this
    process: pytest-socket refuses any download here), and so does a URL of no known type."""
    urls = ["https://example.com/report.pdf", "https://example.com/latest", "https://example.com/q3"]
    blocks = [
        DocumentBlock(url=urls[0]),  # LlamaIndex reads application/pdf off the suffix
        DocumentBlock(url=urls[1]),  # no type known: the server decides
        DocumentBlock(url=urls[2], document_mimetype="application/pdf", title="Q3"),
        TextBlock(text="Summarize."),
    ]
    _, wire = to_wire_messages([ChatMessage(role=MessageRole.USER, blocks=blocks)])
    assert wire[0]["content"][:3] == [
        {"type": "document", "source": {"type": "url", "url": urls[0]}},
        {"type": "document", "source": {"type": "url", "url": urls[1]}},
        {"type": "document", "source": {"type": "url", "url": urls[2]}, "title": "Q3"},
    ]


def test_thinking_goes_back_only_with_a_signature_and_cache_points_mark_the_previous_block() -> None:
    blocks = [
        ThinkingBlock(content="inline reasoning"),
        ThinkingBlock(content="signed", additional_information={"signature": "sig"}),
        TextBlock(text="answer"),
        CachePoint(cache_control=CacheControl(type="ephemeral")),
    ]
    _, wire = to_wire_messages([user("q"), ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)])
    assert wire[1]["content"] == [
        {"type": "thinking", "thinking": "signed", "signature": "sig"},
        {"type": "text", "text": "answer", "cache_control": {"type": "ephemeral"}},
    ]


def test_unsupported_blocks_are_a_value_error() -> None:
    message = ChatMessage(role=MessageRole.USER, blocks=[AudioBlock(audio=b"RIFF....", format="wav")])
    with pytest.raises(ValueError, match=r"messages\[0\]\.blocks\[0\] is a AudioBlock"):
        to_wire_messages([message])


def test_legacy_tool_calls_key_is_sent_when_there_are_no_tool_call_blocks() -> None:
    legacy = [{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 1}}]
    message = ChatMessage(role=MessageRole.ASSISTANT, content="", additional_kwargs={"tool_calls": legacy})
    _, wire = to_wire_messages([user("q"), message])
    assert wire[1]["content"] == legacy


def test_tools_carry_name_description_and_object_schema() -> None:
    [tool] = to_wire_tools([FunctionTool.from_defaults(add)])
    assert tool["name"] == "add"
    assert "Add two integers." in tool["description"]
    assert tool["input_schema"]["type"] == "object"
    assert set(tool["input_schema"]["properties"]) == {"a", "b"}


@pytest.mark.parametrize(
    ("choice", "required", "expected"),
    [
        (None, False, {"type": "auto"}),
        (None, True, {"type": "any"}),
        ("auto", True, {"type": "auto"}),
        ("none", False, {"type": "none"}),
        ("required", False, {"type": "any"}),
        ("add", False, {"type": "tool", "name": "add"}),
        ({"type": "function", "function": {"name": "add"}}, False, {"type": "tool", "name": "add"}),
        ({"type": "any"}, False, {"type": "any"}),
        (
            {"type": "auto", "disable_parallel_tool_use": True},
            False,
            {"type": "auto", "disable_parallel_tool_use": True},
        ),
    ],
)
def test_tool_choice(choice: Any, required: bool, expected: dict[str, Any]) -> None:
    assert to_tool_choice(choice, tool_required=required) == expected


def test_request_merges_settings_call_overrides_and_extra_body() -> None:
    settings = Settings(
        model="m",
        max_tokens=100,
        context_window=None,
        temperature=None,
        top_p=None,
        top_k=5,
        stop_sequences=None,
        thinking=None,
        extra_body={"a": 1},
    )
    call = {"max_tokens": 7, "formatted": True, "extra_body": {"b": 2}, "tools": [], "tool_choice": {"x": 1}}
    params = to_request([ChatMessage(role="system", content="S"), user("hi")], settings, call)
    assert params == {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "model": "m",
        "max_tokens": 7,
        "top_k": 5,
        "system": "S",
        "extra_body": {"a": 1, "b": 2},
    }


# --- responses ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain answer", (None, "plain answer")),
        ("<think>\nplan\n</think>\n\nanswer", ("\nplan\n", "answer")),
        ("  <think>x</think>y", ("x", "y")),
        ("<think>cut off", ("cut off", "")),
        ("a <think>not a prefix</think>", (None, "a <think>not a prefix</think>")),
    ],
)
def test_split_think(text: str, expected: tuple[str | None, str]) -> None:
    assert split_think(text) == expected


def start(usage: Usage | None = None) -> MessageStartEvent:
    return MessageStartEvent(message=Message(id="msg_1", content=[], model="m", usage=usage or Usage()))


def text_events(pieces: list[str], index: int = 0) -> list[StreamEvent]:
    return [
        ContentBlockStartEvent(index=index, content_block=WireText(text="")),
        *(ContentBlockDeltaEvent(index=index, delta=TextDelta(text=p)) for p in pieces),
        ContentBlockStopEvent(index=index),
    ]


def end(input_tokens: int | None = None, output_tokens: int | None = 9) -> list[StreamEvent]:
    usage = MessageDeltaUsage(input_tokens=input_tokens, output_tokens=output_tokens)
    return [MessageDeltaEvent(delta=MessageDelta(stop_reason="end_turn"), usage=usage), MessageStopEvent()]


def run(events: list[StreamEvent]) -> list[ChatResponse]:
    state = StreamState()
    return [r for e in events if (r := to_stream_response(e, state)) is not None]


def thinking_of(response: ChatResponse) -> str | None:
    found = [b.content for b in response.message.blocks if isinstance(b, ThinkingBlock)]
    return found[0] if found else None


THINK_TEXT = " <think>\nstep one</think>\n\nThe answer."


def test_think_split_at_every_pair_of_boundaries_matches_the_whole_answer() -> None:
    thinking, answer = split_think(THINK_TEXT)
    n = len(THINK_TEXT)
    for i in range(n + 1):
        for j in range(i, n + 1):
            pieces = [THINK_TEXT[:i], THINK_TEXT[i:j], THINK_TEXT[j:]]
            responses = run([start(), *text_events(pieces), *end()])
            last = responses[-1]
            assert last.message.content == answer, (i, j)
            assert thinking_of(last) == thinking, (i, j)
            assert "".join(r.delta or "" for r in responses) == answer
            assert "".join(r.additional_kwargs.get("thinking_delta", "") for r in responses) == thinking


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "model_construct"])
def test_assistant_message_equals_the_validated_message(
    direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_state, "_DIRECT", direct)
    blocks: list[Any] = [ThinkingBlock(content="why"), TextBlock(text="hi")]
    kwargs = {"tool_calls": []}
    built = assistant_message(list(blocks), kwargs)
    validated = ChatMessage(role=MessageRole.ASSISTANT, blocks=list(blocks), additional_kwargs=kwargs)
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert built.model_fields_set == validated.model_fields_set | {"additional_kwargs"}
    assert built.content == "hi"
    built.blocks = [TextBlock(text="changed")]  # still an ordinary, mutable ChatMessage
    assert (built.content, validated.content) == ("changed", "hi")


@pytest.mark.parametrize(
    "text", ["The answer.", "", "   ", "  <thi", "\n<think>plan</think>\n\nok", "<think>cut"]
)
def test_whole_answer_fast_path_matches_the_stream_state(text: str) -> None:
    message = Message(id="msg_1", content=[WireText(text=text)], model="m", usage=Usage(input_tokens=3))
    whole = to_chat_response(message)
    streamed = run([start(Usage(input_tokens=3)), *text_events([text]), *end(None, 0)])[-1]
    assert [b.model_dump() for b in whole.message.blocks] == [b.model_dump() for b in streamed.message.blocks]
    assert whole.message.additional_kwargs == streamed.message.additional_kwargs == {}
    assert whole.additional_kwargs["usage"] == {"input_tokens": 3, "output_tokens": 0}


def test_whole_and_streamed_answers_give_the_same_blocks() -> None:
    whole = to_chat_response(
        Message(id="msg_1", content=[WireText(text=THINK_TEXT)], model="m", usage=Usage(input_tokens=3))
    )
    streamed = run([start(), *text_events(list(THINK_TEXT)), *end()])[-1]
    assert [b.model_dump() for b in whole.message.blocks] == [b.model_dump() for b in streamed.message.blocks]


def test_streamed_responses_are_cumulative_and_the_last_has_usage() -> None:
    responses = run(
        [start(Usage(input_tokens=5, output_tokens=1)), PingEvent(), *text_events(["Hel", "lo"]), *end()]
    )
    assert [r.delta for r in responses] == ["Hel", "lo", ""]
    assert [r.message.content for r in responses[:2]] == ["Hel", "Hello"]
    last = responses[-1]
    assert last.raw is not None
    assert last.raw["usage"] == {"input_tokens": 5, "output_tokens": 9}
    assert last.additional_kwargs == {
        "usage": {"input_tokens": 5, "output_tokens": 9},
        "stop_reason": "end_turn",
    }


@pytest.mark.parametrize(
    ("start_usage", "delta_input", "expected_input"),
    [(Usage(input_tokens=12), None, 12), (Usage(), 12, 12), (Usage(input_tokens=3), 12, 12)],
    ids=["start-only", "delta-only", "delta-overrides"],
)
def test_usage_merges_message_start_and_message_delta(
    start_usage: Usage, delta_input: int | None, expected_input: int
) -> None:
    last = run([start(start_usage), *text_events(["x"]), *end(delta_input, 4)])[-1]
    assert last.raw is not None
    assert last.raw["usage"]["input_tokens"] == expected_input
    assert last.raw["usage"]["output_tokens"] == 4


def test_tool_call_streams_with_partial_arguments() -> None:
    pieces = ["", '{"a": 1', ', "b": "tw', 'o"}']
    events: list[StreamEvent] = [
        start(),
        *text_events(["I will call add."]),
        ContentBlockStartEvent(index=1, content_block=WireToolUse(id="toolu_1", name="add", input={})),
        *(ContentBlockDeltaEvent(index=1, delta=InputJSONDelta(partial_json=p)) for p in pieces),
        ContentBlockStopEvent(index=1),
        *end(),
    ]
    responses = run(events)
    partial = [to_tool_selections(r) for r in responses if r.message.additional_kwargs.get("tool_calls")]
    assert [calls[0].tool_kwargs for calls in partial[:4]] == [{}, {}, {"a": 1}, {"a": 1, "b": None}]
    last = responses[-1]
    assert last.message.content == "I will call add."
    [call] = to_tool_selections(last)
    assert (call.tool_id, call.tool_name, call.tool_kwargs) == ("toolu_1", "add", {"a": 1, "b": "two"})
    legacy = last.message.additional_kwargs["tool_calls"]
    assert legacy == [{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 1, "b": "two"}}]


def test_native_thinking_streams_as_thinking_delta_with_its_signature() -> None:
    events: list[StreamEvent] = [
        start(),
        ContentBlockStartEvent(index=0, content_block=WireThinking(thinking="")),
        ContentBlockDeltaEvent(index=0, delta=ThinkingDelta(thinking="hmm")),
        ContentBlockDeltaEvent(index=0, delta=SignatureDelta(signature="sig")),
        ContentBlockStopEvent(index=0),
        *text_events(["ok"], index=1),
        *end(),
    ]
    responses = run(events)
    assert responses[0].additional_kwargs["thinking_delta"] == "hmm"
    thinking = responses[-1].message.blocks[0]
    assert isinstance(thinking, ThinkingBlock)
    assert (thinking.content, thinking.additional_information) == ("hmm", {"signature": "sig"})


def test_whole_message_with_thinking_text_and_tool_use() -> None:
    message = Message(
        id="msg_1",
        model="m",
        content=[
            WireThinking(thinking="why", signature="s"),
            WireText(text="Let me add."),
            WireToolUse(id="toolu_9", name="add", input={"a": 1, "b": 2}),
        ],
        stop_reason="tool_use",
        usage=Usage(input_tokens=10, output_tokens=5),
    )
    response = to_chat_response(message)
    kinds = [type(b).__name__ for b in response.message.blocks]
    assert kinds == ["ThinkingBlock", "TextBlock", "ToolCallBlock"]
    assert response.additional_kwargs == {
        "usage": {"input_tokens": 10, "output_tokens": 5},
        "stop_reason": "tool_use",
    }
    assert response.raw is not None and response.raw["id"] == "msg_1"
    assert [c.tool_kwargs for c in to_tool_selections(response)] == [{"a": 1, "b": 2}]


def test_tool_selections_tolerate_string_arguments() -> None:
    block = ToolCallBlock(tool_call_id="t", tool_name="f", tool_kwargs='{"x": [1, 2')
    response = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, blocks=[block]))
    assert to_tool_selections(response)[0].tool_kwargs == {"x": [1, 2]}
