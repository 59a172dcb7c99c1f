"""Translation between LangChain and the Messages wire format: pure functions, no HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from pydantic import BaseModel, TypeAdapter

from langchain_modelslab._convert import (
    normalize_tool_call_id,
    split_think,
    to_ai_message,
    to_usage_metadata,
    to_wire_messages,
    to_wire_tool,
    to_wire_tool_choice,
)
from langchain_modelslab._stream import ChunkState, to_chunk
from modelslab_core import Message, StreamEvent, ThinkSplitter, Usage

from .conftest import gather

EVENTS: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent)
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


# --- messages -> wire ---------------------------------------------------------------------------------------


def test_system_messages_are_hoisted_and_joined() -> None:
    system, messages = to_wire_messages(
        [SystemMessage("be brief"), HumanMessage("hi"), SystemMessage("and kind")]
    )
    assert system == "be brief\n\nand kind"
    assert messages == [{"role": "user", "content": "hi"}]


def test_single_system_message_stays_a_string() -> None:
    system, _ = to_wire_messages([SystemMessage("be brief"), HumanMessage("hi")])
    assert system == "be brief"


def test_system_cache_control_is_kept() -> None:
    cached = {"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}
    system, _ = to_wire_messages([SystemMessage([cached]), HumanMessage("hi")])
    assert system == [cached]


def test_tool_results_and_human_turns_merge_into_one_user_turn() -> None:
    call = {"name": "add", "args": {"a": 1}, "id": "call_1", "type": "tool_call"}
    _, messages = to_wire_messages(
        [
            HumanMessage("add"),
            AIMessage("", tool_calls=[call]),
            ToolMessage("2", tool_call_id="call_1"),
            HumanMessage("thanks"),
        ]
    )
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [{"type": "tool_use", "id": "call_1", "name": "add", "input": {"a": 1}}]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "2"},
        {"type": "text", "text": "thanks"},
    ]


def test_tool_message_error_status_sets_is_error() -> None:
    _, messages = to_wire_messages([ToolMessage("boom", tool_call_id="x", status="error")])
    assert messages[0]["content"][0]["is_error"] is True


def test_tool_message_list_content_and_image() -> None:
    content: list[Any] = [
        {"type": "text", "text": "chart"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
    ]
    _, messages = to_wire_messages([ToolMessage(content, tool_call_id="x")])
    assert messages[0]["content"][0]["content"] == [
        {"type": "text", "text": "chart"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
    ]


def test_empty_and_whitespace_text_is_dropped() -> None:
    _, messages = to_wire_messages(
        [HumanMessage([{"type": "text", "text": "  "}, {"type": "text", "text": "hi"}]), AIMessage("   ")]
    )
    assert messages == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def test_consecutive_ai_messages_merge() -> None:
    _, messages = to_wire_messages([HumanMessage("a"), AIMessage("b"), AIMessage("c")])
    assert messages[1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "b"}, {"type": "text", "text": "c"}],
    }


def test_tool_call_ids_are_normalized_deterministically_and_stay_distinct() -> None:
    first, second = normalize_tool_call_id("functions.add:0"), normalize_tool_call_id("functions_add_0")
    assert first == normalize_tool_call_id("functions.add:0")
    assert first != second
    assert second == "functions_add_0"
    call = {"name": "add", "args": {}, "id": "call:1", "type": "tool_call"}
    _, messages = to_wire_messages(
        [HumanMessage("x"), AIMessage("", tool_calls=[call]), ToolMessage("1", tool_call_id="call:1")]
    )
    use_id = messages[1]["content"][0]["id"]
    assert use_id == messages[2]["content"][0]["tool_use_id"]
    assert all(c.isalnum() or c in "_-" for c in use_id)


def test_streamed_tool_use_content_is_cleaned_and_tool_calls_win() -> None:
    """A gathered stream holds `partial_json` and an empty `input`; the request carries the real input."""
    gathered = AIMessage(
        [
            {"type": "text", "text": "I will call add.", "index": 0},
            {
                "type": "tool_use",
                "id": "t1",
                "name": "add",
                "input": {},
                "index": 1,
                "partial_json": '{"a": 1}',
            },
            {"type": "input_json_delta", "partial_json": "", "index": 1},
        ],
        tool_calls=[{"name": "add", "args": {"a": 1}, "id": "t1", "type": "tool_call"}],
    )
    _, messages = to_wire_messages([HumanMessage("x"), gathered])
    assert messages[1]["content"] == [
        {"type": "text", "text": "I will call add."},
        {"type": "tool_use", "id": "t1", "name": "add", "input": {"a": 1}},
    ]


def test_v1_blocks_in_history() -> None:
    ai = AIMessage(
        [
            {"type": "reasoning", "reasoning": "hmm"},  # no signature: dropped
            {"type": "reasoning", "reasoning": "signed", "extras": {"signature": "sig"}},
            {"type": "text", "text": "hello", "id": "lc_1", "index": 0},
            {"type": "tool_call", "id": "t1", "name": "f", "args": {"x": 1}},
        ],
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "t1", "type": "tool_call"}],
    )
    _, messages = to_wire_messages([HumanMessage("x"), ai])
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": "signed", "signature": "sig"},
        {"type": "text", "text": "hello"},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}},
    ]


@pytest.mark.parametrize(
    ("block", "source"),
    [
        (
            {"type": "image", "base64": PNG, "mime_type": "image/png"},
            {"type": "base64", "media_type": "image/png", "data": PNG},
        ),
        ({"type": "image", "url": "https://x.test/a.png"}, {"type": "url", "url": "https://x.test/a.png"}),
        (
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "base64", "media_type": "image/png", "data": PNG},
        ),
        (
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
            {"type": "url", "url": "https://x.test/a.png"},
        ),
        (
            {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
            {"type": "url", "url": "https://x.test/a.png"},
        ),
    ],
    ids=["standard-base64", "standard-url", "openai-data-uri", "openai-url", "native"],
)
def test_image_blocks(block: dict[str, Any], source: dict[str, Any]) -> None:
    _, messages = to_wire_messages([HumanMessage([block])])
    assert messages[0]["content"] == [{"type": "image", "source": source}]


def test_pdf_file_block_becomes_a_document() -> None:
    _, messages = to_wire_messages(
        [HumanMessage([{"type": "file", "base64": "JVBE", "mime_type": "application/pdf"}])]
    )
    assert messages[0]["content"] == [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}
    ]


def test_unsupported_block_type_names_it() -> None:
    with pytest.raises(ValueError, match="'audio'"):
        to_wire_messages([HumanMessage([{"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}])])


def test_image_without_data_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="image block needs"):
        to_wire_messages([HumanMessage([{"type": "image"}])])


def test_unsupported_message_type() -> None:
    with pytest.raises(ValueError, match="FunctionMessage"):
        to_wire_messages([FunctionMessage("x", name="f")])
    _, messages = to_wire_messages([ChatMessage("hi", role="user")])
    assert messages == [{"role": "user", "content": "hi"}]


# --- tools --------------------------------------------------------------------------------------------------


class Weather(BaseModel):
    """Get the weather."""

    city: str


def test_pydantic_tool() -> None:
    assert to_wire_tool(Weather) == {
        "name": "Weather",
        "description": "Get the weather.",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }


def test_messages_format_and_json_schema_tools() -> None:
    native = {"name": "f", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}
    assert to_wire_tool(native) == native
    server = {"type": "web_search_20250305", "name": "web_search"}
    assert to_wire_tool(server) == server
    schema = {
        "title": "joke",
        "description": "A joke.",
        "type": "object",
        "properties": {"a": {"type": "string"}},
    }
    assert to_wire_tool(schema)["name"] == "joke"
    assert to_wire_tool(schema)["input_schema"]["properties"] == {"a": {"type": "string"}}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("any", {"type": "any"}),
        ("required", {"type": "any"}),
        (True, {"type": "any"}),
        ("none", {"type": "none"}),
        ("Weather", {"type": "tool", "name": "Weather"}),
        ({"type": "function", "function": {"name": "Weather"}}, {"type": "tool", "name": "Weather"}),
        ({"type": "tool", "name": "Weather"}, {"type": "tool", "name": "Weather"}),
        (None, None),
        (False, None),
    ],
)
def test_tool_choice(choice: Any, expected: Any) -> None:
    assert to_wire_tool_choice(choice) == expected


def test_parallel_tool_calls_false() -> None:
    assert to_wire_tool_choice(None, False) == {"type": "auto", "disable_parallel_tool_use": True}
    assert to_wire_tool_choice("any", False) == {"type": "any", "disable_parallel_tool_use": True}


# --- responses ----------------------------------------------------------------------------------------------


def _message(content: list[dict[str, Any]], **usage: int) -> Message:
    return Message.model_validate(
        {
            "id": "msg_1",
            "model": "m",
            "content": content,
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "output_tokens": 4, **usage},
        }
    )


def test_text_answer_is_a_string_with_metadata() -> None:
    message = to_ai_message(_message([{"type": "text", "text": "hi"}]))
    assert message.content == "hi"
    assert message.response_metadata == {
        "id": "msg_1",
        "model": "m",
        "model_name": "m",
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 4},
        "model_provider": "modelslab",
    }
    assert message.usage_metadata == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


def test_usage_counts_cache_tokens_as_input() -> None:
    usage = Usage(
        input_tokens=10, output_tokens=5, cache_read_input_tokens=100, cache_creation_input_tokens=20
    )
    assert to_usage_metadata(usage) == {
        "input_tokens": 130,
        "output_tokens": 5,
        "total_tokens": 135,
        "input_token_details": {"cache_read": 100, "cache_creation": 20},
    }


def test_tool_use_answer() -> None:
    message = to_ai_message(
        _message(
            [
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "t", "name": "f", "input": {"x": 1}},
            ]
        )
    )
    assert message.tool_calls == [{"type": "tool_call", "id": "t", "name": "f", "args": {"x": 1}}]
    assert isinstance(message.content, list)
    assert [b["type"] for b in message.content_blocks] == ["text", "tool_call"]


def test_think_prefix_becomes_reasoning() -> None:
    message = to_ai_message(_message([{"type": "text", "text": "<think>\nhmm\n</think>\n\nParis."}]))
    assert message.content == "Paris."
    assert message.additional_kwargs["reasoning_content"] == "\nhmm\n"
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "\nhmm\n"},
        {"type": "text", "text": "Paris."},
    ]


def test_thinking_block_becomes_reasoning() -> None:
    message = to_ai_message(
        _message(
            [
                {"type": "thinking", "thinking": "let me see", "signature": "sig"},
                {"type": "tool_use", "id": "t", "name": "f", "input": {}},
            ]
        )
    )
    assert message.additional_kwargs["reasoning_content"] == "let me see"
    blocks = message.content_blocks
    assert blocks[0]["type"] == "reasoning" and blocks[0]["reasoning"] == "let me see"
    # the signed thinking block goes back to the server on the next turn
    _, wire = to_wire_messages([HumanMessage("x"), message])
    assert wire[1]["content"][0] == {"type": "thinking", "thinking": "let me see", "signature": "sig"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", ("", "plain")),
        ("<think>a</think>b", ("a", "b")),
        ("  <think>a</think>\n\nb", ("a", "b")),
        ("<think>cut off", ("cut off", "")),
        ("not <think>x</think>", ("", "not <think>x</think>")),
    ],
)
def test_split_think(text: str, expected: tuple[str, str]) -> None:
    assert split_think(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "<think>\nThe user said hi.\n</think>\n\nHello there!",
        "Hello <think> there",
        "<thi",
        "<think>x</thin",
        "",
    ],
)
def test_think_splitter_matches_split_think_at_every_cut(text: str) -> None:
    """Streamed in two pieces, cut at every offset (and one char at a time), the result is the same."""
    cuts = [[text[:i], text[i:]] for i in range(len(text) + 1)] + [list(text)]
    for pieces in cuts:
        splitter = ThinkSplitter()
        outputs = [splitter.feed(piece) for piece in pieces] + [splitter.flush()]
        reasoning = "".join(r for r, _ in outputs)
        answer = "".join(a for _, a in outputs)
        assert (reasoning, answer) == split_think(text), pieces


# --- stream events -> chunks --------------------------------------------------------------------------------


class _Usage:
    usage = Usage(input_tokens=3, output_tokens=9)


def _events(blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[StreamEvent]:
    raw: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "model": "m",
                "content": [],
                "usage": {"input_tokens": 3, "output_tokens": 1},
            },
        },
        {"type": "ping"},
    ]
    for index, (start, deltas) in enumerate(blocks):
        raw.append({"type": "content_block_start", "index": index, "content_block": start})
        raw.extend({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas)
        raw.append({"type": "content_block_stop", "index": index})
    raw.append({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}})
    raw.append({"type": "message_stop"})
    return [EVENTS.validate_python(event) for event in raw]


def _stream(events: list[StreamEvent], *, as_blocks: bool = False) -> list[AIMessageChunk]:
    state = ChunkState(as_blocks=as_blocks)
    return [chunk for event in events if (chunk := to_chunk(event, state, _Usage())) is not None]


def _text(*pieces: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces]


def test_text_stream_usage_once_on_the_last_chunk() -> None:
    chunks = _stream(_events([_text("Hel", "lo")]))
    assert [c.content for c in chunks] == ["Hel", "lo", ""]
    assert [c.usage_metadata is not None for c in chunks] == [False, False, True]
    last = chunks[-1]
    assert last.chunk_position == "last"
    assert last.usage_metadata == {"input_tokens": 3, "output_tokens": 9, "total_tokens": 12}
    assert last.response_metadata["model_name"] == "m"
    assert last.response_metadata["stop_reason"] == "end_turn"
    assert last.response_metadata["model_provider"] == "modelslab"
    full = gather(chunks)
    assert full.content == "Hello"
    assert full.response_metadata["model_provider"] == "modelslab"
    assert [b["type"] for b in full.content_blocks] == ["text"]


def test_plain_text_chunks_translate_the_same_without_the_provider() -> None:
    # plain text chunks skip `model_provider` (a cost per delta): their v1 blocks must not change for it
    chunks = _stream(_events([_text("Hel", "lo", "  ", "")]))
    for chunk in chunks[:-1]:
        tagged = chunk.model_copy(update={"response_metadata": {"model_provider": "modelslab"}})
        assert chunk.content_blocks == tagged.content_blocks
    reasoning = _stream(_events([_text("<think>hm", "m</think>", "Hi")]))
    assert all(
        c.response_metadata.get("model_provider") == "modelslab" for c in reasoning if c.additional_kwargs
    )
    assert gather(reasoning).content_blocks == [
        {"type": "reasoning", "reasoning": "hmm"},
        {"type": "text", "text": "Hi"},
    ]


def test_tool_call_stream() -> None:
    start = {"type": "tool_use", "id": "t1", "name": "add", "input": {}}
    deltas = [{"type": "input_json_delta", "partial_json": p} for p in ["", '{"a": ', "1}"]]
    chunks = _stream(_events([_text("I will call add."), (start, deltas)]), as_blocks=True)
    tool_chunks = [c.tool_call_chunks[0] for c in chunks if c.tool_call_chunks]
    assert tool_chunks[0] == {"type": "tool_call_chunk", "id": "t1", "name": "add", "args": "", "index": 1}
    assert [c["args"] for c in tool_chunks] == ["", '{"a": ', "1}"]
    full = gather(chunks)
    assert full.tool_calls == [{"type": "tool_call", "id": "t1", "name": "add", "args": {"a": 1}}]
    assert [b["type"] for b in full.content_blocks] == ["text", "tool_call"]


def test_tool_without_arguments_ends_with_empty_object() -> None:
    start = {"type": "tool_use", "id": "t1", "name": "now", "input": {}}
    chunks = _stream(_events([(start, [{"type": "input_json_delta", "partial_json": ""}])]), as_blocks=True)
    args = "".join(c.tool_call_chunks[0]["args"] or "" for c in chunks if c.tool_call_chunks)
    assert args == "{}"
    assert gather(chunks).tool_calls[0]["args"] == {}


@pytest.mark.parametrize("text", ["<think>a</think>\n\nb <think>c</think>", "b <think>c</think>", "<think>a"])
def test_streamed_think_split_matches_split_think_at_every_cut(text: str) -> None:
    """Through `to_chunk`, which drops the splitter once past the prefix: two pieces cut anywhere."""
    for i in range(len(text) + 1):
        full = gather(_stream(_events([_text(text[:i], text[i:]), _text("<think>x</think>y")])))
        reasoning, answer = split_think(text)
        assert full.content == answer + "<think>x</think>y", i
        assert full.additional_kwargs.get("reasoning_content", "") == reasoning, i


@pytest.mark.parametrize("as_blocks", [False, True])
def test_think_prefix_streams_as_reasoning(as_blocks: bool) -> None:
    chunks = _stream(
        _events([_text("<thi", "nk>\nwhy", " not</th", "ink>\n\n", "Paris", ".")]), as_blocks=as_blocks
    )
    full = gather(chunks)
    assert full.text == "Paris."
    assert full.additional_kwargs["reasoning_content"] == "\nwhy not"
    blocks = full.content_blocks
    assert [b["type"] for b in blocks] == ["reasoning", "text"]
    assert blocks[0]["reasoning"] == "\nwhy not"


def test_thinking_block_stream() -> None:
    thinking = (
        {"type": "thinking", "thinking": ""},
        [{"type": "thinking_delta", "thinking": "hmm"}, {"type": "signature_delta", "signature": "s"}],
    )
    chunks = _stream(_events([thinking, _text("ok")]), as_blocks=True)
    full = gather(chunks)
    assert full.additional_kwargs["reasoning_content"] == "hmm"
    assert isinstance(full.content, list)
    assert full.content[0] == {"type": "thinking", "thinking": "hmm", "signature": "s", "index": 0}
    assert full.text == "ok"


def test_unknown_events_and_deltas_are_skipped() -> None:
    events = _events([_text("a")])
    events.insert(2, EVENTS.validate_python({"type": "local_annotation", "note": "x"}))
    assert gather(_stream(events)).content == "a"


def test_whitespace_text_beside_tool_use_is_kept() -> None:
    call = {"name": "add", "args": {"a": 1}, "id": "toolu_1", "type": "tool_call"}
    with_call = AIMessage([{"type": "text", "text": " "}], tool_calls=[call])  # type: ignore[list-item]
    _, messages = to_wire_messages([HumanMessage("hi"), with_call])
    assert messages[1]["content"] == [
        {"type": "text", "text": " "},
        {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 1}},
    ]
    _, messages = to_wire_messages([HumanMessage("hi"), AIMessage([{"type": "text", "text": " "}, "ok"])])
    assert messages[1]["content"] == [{"type": "text", "text": "ok"}]  # no tool_use: blank text dropped


def test_a_reply_without_usage_reports_none_not_zero() -> None:
    message = _message([{"type": "text", "text": "hi"}]).model_copy(update={"usage": None})
    answer = to_ai_message(message)
    assert answer.usage_metadata is None
    assert "usage" not in answer.response_metadata
    assert to_usage_metadata(None) is None
