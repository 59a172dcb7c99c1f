"""The SSE decoder (framing) and `parse_event` (typed events), with no I/O."""

from __future__ import annotations

import json

import pytest

import modelslab_core as mc
from modelslab_core import ServerSentEvent, SSEDecoder, parse_event


def decode(*chunks: bytes) -> list[tuple[str, str]]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)] + decoder.flush()
    return [(e.event, e.data) for e in events]


FRAMING = [
    ("lf", b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\n", [("a", "1"), ("b", "2")]),
    ("crlf", b"event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n", [("a", "1"), ("b", "2")]),
    ("cr", b"event: a\rdata: 1\r\revent: b\rdata: 2\r\r", [("a", "1"), ("b", "2")]),
    ("mixed", b"event: a\r\ndata: 1\n\revent: b\rdata: 2\r\n\n", [("a", "1"), ("b", "2")]),
    ("comments", b": keep-alive\nevent: a\n: inside\ndata: 1\n\n:\n\n", [("a", "1")]),
    ("no event line", b"data: 1\n\ndata: 2\n\n", [("", "1"), ("", "2")]),
    ("multi-line data", b"data: a\ndata: b\ndata:\n\n", [("", "a\nb\n")]),
    ("no space after colon", b"event:a\ndata:1\n\n", [("a", "1")]),
    ("only one space stripped", b"data:  x \n\n", [("", " x ")]),
    ("field without colon", b"data\n\n", [("", "")]),
    ("unknown fields ignored", b"retry: 10\nfoo: bar\ndata: 1\n\n", [("", "1")]),
    ("blank lines between events", b"\n\n\ndata: 1\n\n\n\n", [("", "1")]),
    ("last event without blank line", b"data: 1\n\ndata: 2", [("", "1"), ("", "2")]),
    ("last event without final LF", b"data: 1\n", [("", "1")]),
    ("event name reset per event", b"event: a\ndata: 1\n\ndata: 2\n\n", [("a", "1"), ("", "2")]),
    ("utf-8", "data: héllo ✓ 😀\n\n".encode(), [("", "héllo ✓ 😀")]),
    ("done sentinel framed", b"data: 1\n\ndata: [DONE]\n\n", [("", "1"), ("", "[DONE]")]),
]


@pytest.mark.parametrize(("raw", "want"), [(r, w) for _, r, w in FRAMING], ids=[n for n, _, _ in FRAMING])
def test_framing(raw: bytes, want: list[tuple[str, str]]) -> None:
    assert decode(raw) == want


@pytest.mark.parametrize(("raw", "want"), [(r, w) for _, r, w in FRAMING], ids=[n for n, _, _ in FRAMING])
def test_any_split_gives_the_same_events(raw: bytes, want: list[tuple[str, str]]) -> None:
    for offset in range(len(raw) + 1):
        assert decode(raw[:offset], raw[offset:]) == want, offset
    assert decode(*(raw[i : i + 1] for i in range(len(raw)))) == want


def test_cr_ending_one_chunk_and_lf_starting_the_next_is_one_line_end() -> None:
    assert decode(b"data: 1\r", b"\ndata: 2\r", b"\n\r", b"\n") == [("", "1\n2")]
    assert decode(b"data: 1\r", b"\r", b"data: 2\r\n\r\n") == [("", "1"), ("", "2")]


def test_empty_chunks_do_not_break_a_split_crlf() -> None:
    assert decode(b"data: 1\r", b"", b"\ndata: 2\r\n", b"", b"\r\n") == [("", "1\n2")]


def test_flush_is_empty_when_nothing_is_pending() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n\n") == [ServerSentEvent("", "1")]
    assert decoder.flush() == []
    assert decoder.flush() == []


def test_id_field_is_kept() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 7\ndata: 1\n\n") == [ServerSentEvent("", "1", "7")]


# --- parse_event ---

PARSED = [
    ("type from JSON, no event line", "", '{"type":"message_stop"}', mc.MessageStopEvent),
    ("event name fills a missing type", "message_stop", "{}", mc.MessageStopEvent),
    ("event name fills type of a block stop", "content_block_stop", '{"index": 2}', mc.ContentBlockStopEvent),
    (
        "padded JSON",
        "content_block_stop",
        '{"type":"content_block_stop","index":0     }',
        mc.ContentBlockStopEvent,
    ),
    ("ping", "ping", '{"type": "ping"}', mc.PingEvent),
    ("JSON type wins over event name", "ping", '{"type":"message_stop"}', mc.MessageStopEvent),
    ("unknown event type kept", "future_thing", '{"type":"future_thing","x":1}', mc.UnknownEvent),
    ("unknown event name, no type", "future_thing", '{"x":1}', mc.UnknownEvent),
    (
        "error event",
        "error",
        '{"type":"error","error":{"type":"overloaded_error","message":"O"}}',
        mc.ErrorEvent,
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "cls"), [(n, d, c) for _, n, d, c in PARSED], ids=[i for i, *_ in PARSED]
)
def test_parse_event(name: str, data: str, cls: type) -> None:
    event = parse_event(ServerSentEvent(name, data))
    assert isinstance(event, cls)


def test_parse_keeps_fields_of_padded_and_named_events() -> None:
    event = parse_event(ServerSentEvent("content_block_stop", '{"index": 3   }'))
    assert isinstance(event, mc.ContentBlockStopEvent)
    assert event.index == 3
    unknown = parse_event(ServerSentEvent("", '{"type":"future_thing","x":1}'))
    assert unknown is not None and unknown.model_dump() == {"type": "future_thing", "x": 1}


@pytest.mark.parametrize("data", ["", "   ", "[DONE]", " [DONE] "])
def test_keepalives_and_done_are_skipped(data: str) -> None:
    assert parse_event(ServerSentEvent("", data)) is None
    assert parse_event(ServerSentEvent("message", data)) is None


@pytest.mark.parametrize(
    "data",
    ["not json at all", "<html><body>Bad Gateway</body></html>", '{"type":"message_stop"', "42", '{"x": 1}'],
)
def test_non_json_or_untyped_data_is_a_validation_error_quoting_it(data: str) -> None:
    with pytest.raises(mc.APIResponseValidationError) as info:
        parse_event(ServerSentEvent("", data))
    assert data[:20] in str(info.value)


def test_invalid_known_event_is_a_validation_error() -> None:
    with pytest.raises(mc.APIResponseValidationError, match="content_block_delta"):
        parse_event(ServerSentEvent("content_block_delta", '{"type":"content_block_delta","index":"x"}'))


@pytest.mark.parametrize("key", ["message", "messege"])
def test_modelslab_error_body_inside_a_data_line_is_a_typed_error(key: str) -> None:
    data = json.dumps({"status": "error", key: "Provider returned error"})
    with pytest.raises(mc.APIStatusError, match="Provider returned error") as info:
        parse_event(ServerSentEvent("", data))
    assert info.value.body == {"status": "error", key: "Provider returned error"}


def test_modelslab_queue_full_inside_a_data_line_is_a_rate_limit() -> None:
    data = '{"status":"error","message":"Queue full","retry_after":30}'
    with pytest.raises(mc.RateLimitError, match="Queue full"):
        parse_event(ServerSentEvent("message", data))
