"""`client.stream(...)` end to end over MockTransport: retries before the first event only, snapshots while
streaming, iteration without `with`, JSON answers turned into events, responses always closed."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import modelslab_core as mc

from .conftest import (
    CALL,
    SYNC,
    ClosingStream,
    Recorder,
    Reply,
    consume,
    error_event,
    json_reply,
    make_client,
    message_json,
    sse_body,
    sse_reply,
    start_event,
    stream_call,
    text_block,
    text_stream,
)

TYPES = [e["type"] for e in text_stream("Hel", "lo")]
GOOD = sse_reply(sse_body(*text_stream("Hel", "lo")))

FIRST_FAILURES: dict[str, Reply] = {
    "429 status": json_reply(
        429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}
    ),
    "529 status": json_reply(529, {"error": {"type": "overloaded_error", "message": "busy"}}),
    "HTML 502": json_reply(502, b"<html>Bad Gateway</html>"),
    "overloaded body behind 200": json_reply(
        200, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    ),
    "queue-full body behind 200": json_reply(200, {"status": "error", "message": "full", "retry_after": 1}),
    "SSE error event first": sse_reply(sse_body(error_event("overloaded_error", details=None))),
    "SSE error after ping": sse_reply(sse_body({"type": "ping"}, error_event("api_error", "boom"))),
    "connection refused": httpx.ConnectError("refused"),
    "empty body": sse_reply(b""),
    "cut before any event": sse_reply(b'event: message_start\ndata: {"type":'),
}


@SYNC
@pytest.mark.parametrize("failure", FIRST_FAILURES.values(), ids=FIRST_FAILURES.keys())
async def test_failure_before_the_first_event_is_retried(
    failure: Reply, sync: bool, delays: list[float]
) -> None:
    handler = Recorder(failure, GOOD)
    events, message = await stream_call(sync, handler)
    assert handler.count == 2 and len(delays) == 1
    assert [e.type for e in events] == TYPES
    assert message.text == "Hello"


@SYNC
async def test_failure_before_the_first_event_is_raised_once_retries_are_spent(sync: bool) -> None:
    handler = Recorder(FIRST_FAILURES["SSE error event first"])
    with pytest.raises(mc.OverloadedError):
        await stream_call(sync, handler, max_retries=2)
    assert handler.count == 3


@SYNC
@pytest.mark.parametrize(
    ("tail", "cls"),
    [
        (sse_body(error_event("overloaded_error", details=None)), mc.OverloadedError),
        (sse_body(error_event("rate_limit_error")), mc.RateLimitError),
        (b'data: {"status": "error", "message": "Provider returned error"}\n\n', mc.APIStatusError),
        (b"", mc.IncompleteStreamError),
        (b"data: <html>\n\n", mc.APIResponseValidationError),
    ],
    ids=["overloaded", "rate-limit", "modelslab-error-line", "cut", "garbage"],
)
async def test_failure_after_events_reached_the_caller_is_raised_not_retried(
    tail: bytes, cls: type, sync: bool, delays: list[float]
) -> None:
    head = sse_body(start_event(), *text_block(0, "par", "tial")[:2])
    handler = Recorder(sse_reply([head, tail]), GOOD)
    client = make_client(sync, handler, max_retries=3)
    seen: list[str] = []
    with pytest.raises(cls):
        if sync:
            with client.stream(**CALL) as stream:
                for event in stream:
                    seen.append(event.type)
        else:
            async with client.stream(**CALL) as astream:
                async for event in astream:
                    seen.append(event.type)
    assert seen == ["message_start", "content_block_start", "content_block_delta"]
    assert handler.count == 1 and delays == []


@SYNC
async def test_text_usage_and_final_message_during_and_after_iteration(sync: bool) -> None:
    events = [
        start_event({"input_tokens": 21, "output_tokens": 1}),
        *text_block(0, "Hel", "lo"),
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
    ]
    chunks = [sse_body(e) for e in events]  # one event per chunk: the caller sees each state
    client = make_client(sync, Recorder(sse_reply(chunks)))
    texts, outputs = [], []
    stream = client.stream(**CALL)
    assert stream.text == "" and stream.usage is None
    with pytest.raises(RuntimeError):
        _ = stream.current_message
    if sync:
        with stream as s:
            for _ in s:
                texts.append(s.text)
                outputs.append(s.usage.output_tokens)
            final = s.get_final_message()
    else:
        async with stream as a:
            async for _ in a:
                texts.append(a.text)
                outputs.append(a.usage.output_tokens)
            final = await a.get_final_message()
    assert texts == ["", "", "Hel", "Hello", "Hello", "Hello", "Hello"]
    assert outputs == [1, 1, 1, 1, 1, 9, 9]
    assert final.text == stream.text == "Hello"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (21, 9)
    assert final == stream.current_message


@SYNC
async def test_get_final_message_in_the_middle_of_iteration_reads_the_rest(sync: bool) -> None:
    chunks = [sse_body(e) for e in text_stream("a", "b", "c")]
    client = make_client(sync, Recorder(sse_reply(chunks)))
    seen = []
    if sync:
        with client.stream(**CALL) as s:
            for event in s:
                seen.append(event.type)
                if event.type == "content_block_delta":
                    assert s.get_final_message().text == "abc"
            assert s.get_final_text() == "abc"
    else:
        async with client.stream(**CALL) as a:
            async for event in a:
                seen.append(event.type)
                if event.type == "content_block_delta":
                    assert (await a.get_final_message()).text == "abc"
            assert await a.get_final_text() == "abc"
    assert seen == ["message_start", "ping", "content_block_start", "content_block_delta"]


@SYNC
async def test_iterating_without_with(sync: bool) -> None:
    streams: list[ClosingStream] = []
    handler = Recorder(sse_reply(sse_body(*text_stream("Hel", "lo")), chunk_size=9, streams=streams))
    client = make_client(sync, handler)
    if sync:
        stream = client.stream(**CALL)
        types = [e.type for e in stream]
        final = stream.get_final_message()
    else:
        astream = client.stream(**CALL)
        types = [e.type async for e in astream]
        final = await astream.get_final_message()
    assert types == TYPES and final.text == "Hello"
    assert streams[0].closed and handler.count == 1


@SYNC
async def test_get_final_message_without_with_or_iteration(sync: bool) -> None:
    client = make_client(sync, Recorder(GOOD))
    if sync:
        assert client.stream(**CALL).get_final_message().text == "Hello"
    else:
        assert (await client.stream(**CALL).get_final_message()).text == "Hello"


@SYNC
@pytest.mark.parametrize(
    "content",
    [
        [{"type": "text", "text": "Hello"}],
        [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x", "n": [1, 2]}},
        ],
        [],
    ],
    ids=["text", "thinking-text-tool", "empty"],
)
async def test_json_message_answered_to_a_stream_request_becomes_events(content: Any, sync: bool) -> None:
    body = message_json(content, stop_reason="tool_use", usage={"input_tokens": 3, "output_tokens": 4})
    events, message = await stream_call(sync, Recorder(json_reply(200, body)))
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    assert types.count("message_start") == 1 and types.count("message_stop") == 1
    assert types.count("content_block_start") == len(content)
    assert message.model_dump(exclude_none=True) == mc.Message.model_validate(body).model_dump(
        exclude_none=True
    )


@SYNC
@pytest.mark.parametrize("how", ["break", "exception", "complete"])
async def test_response_is_closed_after_iteration_and_on_early_exit(how: str, sync: bool) -> None:
    streams: list[ClosingStream] = []
    chunks = [sse_body(e) for e in text_stream("a", "b")]
    client = make_client(sync, Recorder(sse_reply(chunks, streams=streams)), max_concurrent_requests=1)

    class Stop(Exception):
        pass

    try:
        if sync:
            with client.stream(**CALL) as s:
                for event in s:
                    if how != "complete" and event.type == "content_block_delta":
                        if how == "break":
                            break
                        raise Stop
        else:
            async with client.stream(**CALL) as a:
                async for event in a:
                    if how != "complete" and event.type == "content_block_delta":
                        if how == "break":
                            break
                        raise Stop
    except Stop:
        pass
    assert streams[0].closed
    # the concurrency slot came back: another request goes through at once
    client._http._transport = httpx.MockTransport(Recorder(json_reply(200, message_json())))  # type: ignore[union-attr]
    result = client.create(**CALL)
    message = result if sync else await result  # type: ignore[misc]
    assert message.text == "Hello"


@SYNC
async def test_response_is_closed_when_the_stream_fails(sync: bool) -> None:
    streams: list[ClosingStream] = []
    head = sse_body(start_event())
    handler = Recorder(sse_reply([head, sse_body(error_event())], streams=streams))
    with pytest.raises(mc.OverloadedError):
        await stream_call(sync, handler)
    assert len(streams) == 1 and streams[0].closed


@SYNC
async def test_failed_attempts_are_closed_before_retrying(sync: bool) -> None:
    streams: list[ClosingStream] = []
    bad = sse_reply(sse_body(error_event()), streams=streams)
    good = sse_reply(sse_body(*text_stream()), streams=streams)
    await stream_call(sync, Recorder(bad, bad, good))
    assert len(streams) == 3 and all(s.closed for s in streams)


@SYNC
async def test_stream_request_says_stream(sync: bool) -> None:
    handler = Recorder(GOOD)
    await stream_call(sync, handler)
    [request] = handler.requests
    assert json.loads(request.content)["stream"] is True
    assert request.headers["accept"] == "text/event-stream"
    assert request.url.path.endswith("/v1/messages")


@SYNC
@pytest.mark.parametrize("chunk_size", [1, 2, 5, 64])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
async def test_any_chunking_and_line_ending_gives_the_same_events(
    chunk_size: int, newline: str, sync: bool
) -> None:
    body = sse_body(*text_stream("Hé", "llo ✓"), "data: [DONE]" + newline + newline, newline=newline)
    events, message = await stream_call(sync, Recorder(sse_reply(body, chunk_size=chunk_size)))
    assert [e.type for e in events] == TYPES and message.text == "Héllo ✓"


@SYNC
async def test_unnamed_events_and_a_last_event_without_blank_line(sync: bool) -> None:
    body = sse_body(*text_stream("o", "k"), named=False).rstrip(b"\n")
    events, message = await stream_call(sync, Recorder(sse_reply(body)))
    assert [e.type for e in events] == TYPES and message.text == "ok"


@SYNC
async def test_typed_events_are_yielded(sync: bool) -> None:
    events, _ = await stream_call(sync, Recorder(GOOD))
    assert isinstance(events[0], mc.MessageStartEvent)
    assert isinstance(events[1], mc.PingEvent)
    assert isinstance(events[3], mc.ContentBlockDeltaEvent) and isinstance(events[3].delta, mc.TextDelta)
    assert isinstance(events[-1], mc.MessageStopEvent)


@SYNC
async def test_consume_helper_sanity(sync: bool) -> None:
    client = make_client(sync, Recorder(GOOD))
    events, message = await consume(client.stream(**CALL), sync)
    assert len(events) == len(TYPES) and message.text == "Hello"
