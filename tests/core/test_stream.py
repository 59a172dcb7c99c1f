"""The accumulator: events in, the final `Message` out, the grammar checked on the way (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

import modelslab_core as mc
from modelslab_core import MessageAccumulator, parse_tool_input
from modelslab_core.types import STREAM_EVENT_ADAPTER

from .conftest import block_events, end_events, error_event, start_event, text_block, text_stream


def accumulate(*raw: dict[str, Any]) -> MessageAccumulator:
    accumulator = MessageAccumulator()
    for item in raw:
        accumulator.feed(STREAM_EVENT_ADAPTER.validate_python(item))
    return accumulator


def test_text_stream() -> None:
    acc = accumulate(*text_stream("Hel", "lo", " world"))
    assert acc.complete
    message = acc.message
    assert message.text == acc.text == "Hello world"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (10, 5)
    assert message.id == "msg_1" and message.model == "m"


def test_snapshots_while_streaming() -> None:
    acc = accumulate(start_event(), *text_block(0, "a", "b")[:2])
    assert acc.text == "a"
    assert acc.message.text == "a" and acc.message.stop_reason is None
    assert not acc.complete
    acc.feed(STREAM_EVENT_ADAPTER.validate_python(text_block(0, "a", "b")[2]))
    assert acc.text == acc.message.text == "ab"


USAGE = [
    # (message_start usage, message_delta usage, expected merged fields)
    ("start only", {"input_tokens": 12, "output_tokens": 3}, None, {"input_tokens": 12, "output_tokens": 3}),
    ("delta only", {}, {"input_tokens": 12, "output_tokens": 7}, {"input_tokens": 12, "output_tokens": 7}),
    (
        "delta output only (old traffic)",
        None,
        {"output_tokens": 40},
        {"input_tokens": 10, "output_tokens": 40},
    ),
    (
        "nulls in delta keep start values",
        {"input_tokens": 12, "output_tokens": 1, "cache_read_input_tokens": 4},
        {"input_tokens": None, "output_tokens": 9, "cache_read_input_tokens": None},
        {"input_tokens": 12, "output_tokens": 9, "cache_read_input_tokens": 4},
    ),
    (
        "cumulative delta repeats everything (new traffic)",
        {
            "input_tokens": 12,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
        {
            "input_tokens": 12,
            "output_tokens": 30,
            "cache_creation_input_tokens": 5,
            "cache_read_input_tokens": 6,
        },
        {
            "input_tokens": 12,
            "output_tokens": 30,
            "cache_creation_input_tokens": 5,
            "cache_read_input_tokens": 6,
        },
    ),
    (
        "extra usage keys kept",
        {"input_tokens": 1, "output_tokens": 1, "service_tier": "standard"},
        {"output_tokens": 2, "server_tool_use": {"web_search_requests": 1}},
        {"output_tokens": 2, "service_tier": "standard", "server_tool_use": {"web_search_requests": 1}},
    ),
]


@pytest.mark.parametrize(("start", "delta", "want"), [u[1:] for u in USAGE], ids=[u[0] for u in USAGE])
def test_usage_merges_start_with_non_null_delta_fields(
    start: dict[str, Any] | None, delta: dict[str, Any] | None, want: dict[str, Any]
) -> None:
    events = [start_event(start), *text_block(0, "x"), *end_events()]
    events[-2] = {**events[-2], "usage": delta}
    if delta is None:
        del events[-2]["usage"]
    acc = accumulate(*events)
    dumped = acc.message.usage.model_dump()
    assert {k: dumped[k] for k in want} == want
    assert acc.usage == acc.message.usage


def test_usage_is_available_before_the_end() -> None:
    acc = accumulate(start_event({"input_tokens": 7, "output_tokens": 1}))
    assert (acc.usage.input_tokens, acc.usage.output_tokens) == (7, 1)


def test_stop_sequence_and_extra_delta_fields() -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "no"}
    acc = accumulate(
        start_event(),
        {
            "type": "message_delta",
            "delta": {"stop_reason": "refusal", "stop_sequence": None, "stop_details": details},
        },
        {"type": "message_stop"},
    )
    assert acc.message.content == []
    assert acc.message.stop_reason == "refusal"
    assert acc.message.model_extra == {"stop_details": details}
    acc2 = accumulate(
        start_event(),
        *text_block(0, "a"),
        {"type": "message_delta", "delta": {"stop_reason": "stop_sequence", "stop_sequence": "END"}},
        {"type": "message_stop"},
    )
    assert acc2.message.stop_sequence == "END"


# --- tools, thinking, unknown types ---

TOOL = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}


def json_delta(text: str) -> dict[str, Any]:
    return {"type": "input_json_delta", "partial_json": text}


@pytest.mark.parametrize(
    ("pieces", "want"),
    [
        ([""], {}),
        (["", "  "], {}),
        (["", '{"city": ', '"Paris"', "}"], {"city": "Paris"}),
        (['{"a": [1, ', "2]}", ""], {"a": [1, 2]}),
    ],
)
def test_tool_input_is_concatenated_and_parsed_at_block_stop(pieces: list[str], want: dict[str, Any]) -> None:
    acc = accumulate(start_event(), *block_events(0, TOOL, *map(json_delta, pieces)), *end_events("tool_use"))
    [tool] = acc.message.tool_uses
    assert tool.input == want and tool.name == "get_weather"


def test_tool_block_without_deltas_keeps_its_start_input() -> None:
    acc = accumulate(start_event(), *block_events(0, {**TOOL, "input": {"k": 1}}), *end_events("tool_use"))
    assert acc.message.tool_uses[0].input == {"k": 1}


@pytest.mark.parametrize("bad", ['{"city": ', "[1, 2]", '"text"'])
def test_closed_tool_block_with_invalid_json_is_a_validation_error(bad: str) -> None:
    acc = accumulate(start_event(), *block_events(0, TOOL, json_delta(bad)), *end_events("tool_use"))
    with pytest.raises(mc.APIResponseValidationError, match="tool_use block 0"):
        _ = acc.message


def test_open_tool_block_cut_by_max_tokens_keeps_the_partial_json() -> None:
    acc = accumulate(
        start_event(), *block_events(0, TOOL, json_delta('{"ci'))[:-1], *end_events("max_tokens")
    )
    message = acc.message
    assert message.stop_reason == "max_tokens"
    [tool] = message.tool_uses
    assert tool.input == {} and tool.model_extra == {"partial_json": '{"ci'}


@pytest.mark.parametrize(
    ("raw", "want"),
    [("", {}), ("   ", {}), ('{"a":1}', {"a": 1}), (' {"a": {"b": null}} ', {"a": {"b": None}})],
)
def test_parse_tool_input(raw: str, want: dict[str, Any]) -> None:
    assert parse_tool_input(raw) == want


@pytest.mark.parametrize("raw", ["[]", "1", "null", "{"])
def test_parse_tool_input_rejects_non_objects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_tool_input(raw)


def test_thinking_signature_and_citations() -> None:
    citation = {"type": "web_search_result_location", "url": "https://x", "cited_text": "c"}
    acc = accumulate(
        start_event(),
        *block_events(
            0,
            {"type": "thinking", "thinking": "", "signature": ""},
            {"type": "thinking_delta", "thinking": "Let me "},
            {"type": "thinking_delta", "thinking": "think."},
            {"type": "thinking_delta", "thinking": ""},
            {"type": "signature_delta", "signature": "sig=="},
        ),
        *text_block(1, "Answer"),
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "citations_delta", "citation": citation},
        },
        *end_events(),
    )
    thinking, text = acc.message.content
    assert isinstance(thinking, mc.ThinkingBlock)
    assert (thinking.thinking, thinking.signature) == ("Let me think.", "sig==")
    assert isinstance(text, mc.TextBlock) and text.citations == [citation]
    assert acc.text == "Answer"


def test_redacted_thinking_and_server_tool_result_blocks_arrive_whole() -> None:
    result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [{"type": "x"}]}
    acc = accumulate(
        start_event(),
        *block_events(0, {"type": "redacted_thinking", "data": "opaque"}),
        *block_events(
            1,
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            json_delta(""),
            json_delta('{"query": "q"}'),
        ),
        *block_events(2, result),
        *end_events(),
    )
    redacted, server_tool, search = acc.message.content
    assert isinstance(redacted, mc.RedactedThinkingBlock) and redacted.data == "opaque"
    assert isinstance(server_tool, mc.UnknownBlock) and server_tool.model_extra["input"] == {"query": "q"}
    assert isinstance(search, mc.UnknownBlock) and search.model_dump() == result


def test_unknown_delta_extends_a_string_field_of_an_unknown_block() -> None:
    acc = accumulate(
        start_event(),
        *block_events(
            0,
            {"type": "compaction", "content": ""},
            {"type": "compaction_delta", "content": "sum"},
            {"type": "compaction_delta", "content": "mary"},
        ),
        *end_events(),
    )
    [block] = acc.message.content
    assert isinstance(block, mc.UnknownBlock) and block.model_dump() == {
        "type": "compaction",
        "content": "summary",
    }


def test_unknown_delta_on_a_text_block_is_ignored() -> None:
    acc = accumulate(
        start_event(),
        *text_block(0, "hi"),
        *end_events(),
    )
    before = acc.message
    acc = accumulate(
        start_event(),
        *text_block(0, "hi")[:2],
        {"type": "content_block_delta", "index": 0, "delta": {"type": "sparkle_delta", "sparkle": "*"}},
        *text_block(0, "hi")[2:],
        *end_events(),
    )
    assert acc.message == before


def test_unknown_events_and_pings_anywhere_change_nothing() -> None:
    plain = accumulate(*text_stream("a", "b")).message
    noise = [{"type": "ping"}, {"type": "future_event", "payload": {"x": 1}}]
    events = text_stream("a", "b")
    noisy: list[dict[str, Any]] = [events[0]]
    for event in events[1:]:
        noisy += [*noise, event]
    acc = accumulate(*noisy, *noise)
    assert acc.complete and acc.message == plain


def test_whitespace_text_block_before_thinking() -> None:
    acc = accumulate(
        start_event(),
        *block_events(0, {"type": "text", "text": "\n\n"}),
        *block_events(
            1,
            {"type": "thinking", "thinking": "", "signature": ""},
            {"type": "signature_delta", "signature": "s"},
        ),
        *text_block(2, "answer"),
        *end_events(),
    )
    assert acc.message.text == "\n\nanswer"
    assert [b.type for b in acc.message.content] == ["text", "thinking", "text"]


# --- errors and grammar ---

ERROR_EVENTS = [
    ("overloaded_error", mc.OverloadedError, 529),
    ("api_error", mc.InternalServerError, 500),
    ("rate_limit_error", mc.RateLimitError, 429),
    ("invalid_request_error", mc.BadRequestError, 400),
    ("authentication_error", mc.AuthenticationError, 401),
    ("permission_error", mc.PermissionDeniedError, 403),
    ("not_found_error", mc.NotFoundError, 404),
    ("request_too_large", mc.RequestTooLargeError, 413),
    ("billing_error", mc.InsufficientCreditsError, 402),
]


@pytest.mark.parametrize(("kind", "cls", "status"), ERROR_EVENTS)
@pytest.mark.parametrize("position", ["first", "mid-stream"])
def test_error_event_raises_the_typed_error(kind: str, cls: type, status: int, position: str) -> None:
    before = [] if position == "first" else [start_event(), *text_block(0, "a")[:2]]
    event = error_event(kind, "Server says no", request_id="req_9", details=None)
    with pytest.raises(cls) as info:
        accumulate(*before, event)
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.request_id == "req_9"
    assert info.value.error_type == kind
    assert "Server says no" in str(info.value)


def test_unknown_error_type_is_a_provider_error() -> None:
    with pytest.raises(mc.APIStatusError) as info:
        accumulate(error_event("brand_new_error", "hmm"))
    assert type(info.value) is mc.ProviderError  # a failure behind 200 naming no client mistake
    assert "hmm" in str(info.value)


GRAMMAR_VIOLATIONS = [
    ("delta before message_start", [text_block(0, "a")[1]], "before message_start"),
    ("block start before message_start", [text_block(0, "a")[0]], "before message_start"),
    ("message_delta before message_start", [end_events()[0]], "before message_start"),
    ("message_stop before message_start", [end_events()[1]], "before message_start"),
    ("delta for an unknown index", [start_event(), text_block(3, "a")[1]], "never started"),
    ("stop for an unknown index", [start_event(), text_block(3, "a")[2]], "never started"),
    ("message_start twice", [start_event(), start_event()], "twice"),
    ("block started twice", [start_event(), text_block(0)[0], text_block(0)[0]], "twice"),
    (
        "text_delta on a tool block",
        [start_event(), *block_events(0, TOOL)[:1], text_block(0, "a")[1]],
        "text_delta",
    ),
    (
        "input_json_delta on a text block",
        [start_event(), text_block(0)[0], block_events(0, TOOL, json_delta("{}"))[1]],
        "input_json_delta",
    ),
    (
        "thinking_delta on a text block",
        [
            start_event(),
            text_block(0)[0],
            block_events(0, TOOL, {"type": "thinking_delta", "thinking": "x"})[1],
        ],
        "thinking_delta",
    ),
]


@pytest.mark.parametrize(
    ("events", "match"), [g[1:] for g in GRAMMAR_VIOLATIONS], ids=[g[0] for g in GRAMMAR_VIOLATIONS]
)
def test_grammar_violations_are_validation_errors(events: list[dict[str, Any]], match: str) -> None:
    with pytest.raises(mc.APIResponseValidationError, match=match):
        accumulate(*events)


def test_message_before_message_start_is_a_validation_error() -> None:
    with pytest.raises(mc.APIResponseValidationError, match="before message_start"):
        _ = MessageAccumulator().message


def test_events_after_message_stop_are_ignored() -> None:
    acc = accumulate(*text_stream("done"))
    final = acc.message
    acc = accumulate(
        *text_stream("done"),
        *text_block(0, "more"),
        start_event(),
        error_event(),
        *end_events("max_tokens", {"output_tokens": 999}),
    )
    assert acc.complete and acc.message == final
