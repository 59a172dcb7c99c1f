"""Faithful to what ModelsLab documents, tolerant of what it may send (issue 12, the core's items).

Each section is one item: replies without `model` / `usage` (1), `X-RateLimit-Reset` (2), the HTTP-200
"Provider returned error" (3), a string `error.code` (4), whitespace text (7) and count_tokens' body (8).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

import modelslab_core as mc
from modelslab_core.errors import error_from_body
from modelslab_core.retry import MAX_HONOURED_RETRY_AFTER, RetryPolicy, retry_after_seconds

from .conftest import (
    CALL,
    SYNC,
    Recorder,
    block_events,
    call,
    json_reply,
    make_client,
    message_json,
    resolve,
    sse_body,
    sse_reply,
    stream_call,
    text_block,
    text_stream,
)

MODEL = "Qwen/Qwen2.5-72B-Instruct-Turbo"
ASKED = {**CALL, "model": MODEL}

# ModelsLab's function-calling example response (docs-v2 llm-api): no `model`, no `usage`, no `stop_sequence`.
BARE_TOOL_REPLY: dict[str, Any] = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "content": [
        {"type": "text", "text": "Let me check the weather."},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "Paris"}},
    ],
    "stop_reason": "tool_use",
}


# --- 1. replies without model, usage, stop_sequence or id ---------------------------------------------------


@SYNC
async def test_reply_without_model_or_usage_is_read(sync: bool) -> None:
    message = await call(sync, Recorder(json_reply(200, BARE_TOOL_REPLY)), params=ASKED)
    assert message.model == MODEL  # the requested id, since the reply names none
    assert message.usage is None  # absent, not zero
    assert message.stop_sequence is None and message.stop_reason == "tool_use"
    assert message.tool_uses[0].input == {"location": "Paris"}


@SYNC
@pytest.mark.parametrize("missing", ["id", "model", "usage", "stop_sequence"])
async def test_each_field_may_be_missing_or_null(missing: str, sync: bool) -> None:
    for body in (
        {k: v for k, v in message_json().items() if k != missing},
        {**message_json(), missing: None},
    ):
        message = await call(sync, Recorder(json_reply(200, body)), params=ASKED)
        assert message.text == "Hello"
        assert message.model == (MODEL if missing == "model" else "m")  # a model the reply names wins
        assert (message.usage is None) is (missing == "usage")
        assert message.id == (None if missing == "id" else "msg_1")


def _bare_start() -> dict[str, Any]:
    return {"type": "message_start", "message": {"type": "message", "role": "assistant", "content": []}}


@SYNC
async def test_stream_without_model_or_usage(sync: bool) -> None:
    body = sse_body(
        _bare_start(),
        *text_block(0, "Hel", "lo"),
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
        {"type": "message_stop"},
    )
    client = make_client(sync, Recorder(sse_reply(body)))
    stream = client.stream(**ASKED)
    if sync:
        with stream as s:
            events = list(s)
            final, usage = s.get_final_message(), s.usage
    else:
        async with stream as s:
            events = [event async for event in s]
            final, usage = await s.get_final_message(), s.usage
    start = events[0]
    assert isinstance(start, mc.MessageStartEvent) and start.message.model == MODEL
    assert final.text == "Hello" and final.model == MODEL and final.id is None
    assert final.usage is None and usage is None


@SYNC
async def test_stream_with_usage_only_in_message_delta(sync: bool) -> None:
    body = sse_body(
        _bare_start(),
        *text_block(0, "Hi"),
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"input_tokens": 4, "output_tokens": 2},
        },
        {"type": "message_stop"},
    )
    _, final = await stream_call(sync, Recorder(sse_reply(body)), params=ASKED)
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (4, 2)


@SYNC
async def test_bare_json_answered_to_a_stream(sync: bool) -> None:
    events, final = await stream_call(sync, Recorder(json_reply(200, BARE_TOOL_REPLY)), params=ASKED)
    assert isinstance(events[0], mc.MessageStartEvent) and events[0].message.model == MODEL
    assert final.usage is None and final.model == MODEL
    assert final.tool_uses[0].input == {"location": "Paris"}


def test_accumulator_keeps_usage_absent() -> None:
    accumulator = mc.MessageAccumulator()
    for event in [_bare_start(), *block_events(0, {"type": "text", "text": "x"}), {"type": "message_stop"}]:
        accumulator.feed(mc.types.STREAM_EVENT_ADAPTER.validate_python(event))
    assert accumulator.usage is None and accumulator.message.usage is None
    assert accumulator.message.model is None  # the accumulator alone knows no request


# --- 2. X-RateLimit-Reset -----------------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
EPOCH = int(NOW.timestamp())


@pytest.mark.parametrize(
    ("headers", "want"),
    [
        ({"X-RateLimit-Reset": str(EPOCH + 7)}, 7.0),
        ({"x-ratelimit-reset": str(EPOCH + 2.5)}, 2.5),
        ({"X-RateLimit-Reset": str(EPOCH - 30)}, 0.0),  # already past: no wait
        ({"X-RateLimit-Reset": "12"}, 12.0),  # too small to be a Unix time: a number of seconds
        ({"X-RateLimit-Reset": "soon"}, None),
        ({"X-RateLimit-Reset": str(EPOCH + 7), "Retry-After": "3"}, 3.0),  # the standard header wins
        ({"X-RateLimit-Reset": str(EPOCH + 7), "X-RateLimit-Remaining": "0"}, 7.0),
        ({"X-RateLimit-Reset": str(EPOCH + 7), "X-RateLimit-Remaining": "3"}, None),  # not what limited us
    ],
)
def test_x_ratelimit_reset_is_read(headers: dict[str, str], want: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW) == want


def test_x_ratelimit_reset_comes_before_the_body_hint() -> None:
    assert retry_after_seconds({"X-RateLimit-Reset": str(EPOCH + 4)}, {"retry_after": 30}, now=NOW) == 4.0


def test_x_ratelimit_reset_is_capped_like_the_other_hints() -> None:
    far = {"X-RateLimit-Reset": str(EPOCH + int(MAX_HONOURED_RETRY_AFTER) + 600)}
    delay = RetryPolicy().delay(0, far, now=NOW, rand=0.0)
    assert delay == RetryPolicy().initial_delay  # our own backoff instead of a ten-minute wait
    near = {"X-RateLimit-Reset": str(EPOCH + 9)}
    assert RetryPolicy().delay(0, near, now=NOW) == 9.0


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
async def test_clients_wait_until_the_reset(stream: bool, sync: bool, delays: list[float]) -> None:
    reset = int(datetime.now(timezone.utc).timestamp()) + 20
    limited = json_reply(
        429,
        {"status": "error", "message": "queue full"},
        {"X-RateLimit-Reset": str(reset), "X-RateLimit-Remaining": "0"},
    )
    answer = sse_reply(sse_body(*text_stream())) if stream else json_reply(200, message_json())
    handler = Recorder(limited, answer)
    if stream:
        await stream_call(sync, handler)
    else:
        await call(sync, handler)
    assert handler.count == 2 and len(delays) == 1
    assert 15.0 <= delays[0] <= 20.0  # reset - now, whatever the second we are in


# --- 3. HTTP 200 "Provider returned error" ------------------------------------------------------------------

PROVIDER = {"status": "error", "message": "Provider returned error"}


def test_provider_error_has_its_own_class_in_the_tree() -> None:
    assert issubclass(mc.ProviderError, mc.APIStatusError)
    assert "ProviderError" in (mc.errors.__doc__ or "")
    exc = error_from_body(200, PROVIDER)
    assert type(exc) is mc.ProviderError
    assert exc.status_code == 200 and exc.body == PROVIDER
    assert "Provider returned error" in str(exc)


def test_provider_error_is_retried_like_a_5xx() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.should_retry(error_from_body(200, PROVIDER), 0)
    assert not policy.should_retry(error_from_body(200, PROVIDER), 2)
    assert not policy.should_retry(error_from_body(200, PROVIDER), 0, {"x-should-retry": "false"})


CLIENT_MISTAKES = [
    ({"status": "error", "message": "Invalid API key provided"}, mc.AuthenticationError, 401),
    (
        {"status": "error", "message": "Insufficient credits: top up your wallet"},
        mc.InsufficientCreditsError,
        402,
    ),
    ({"status": "error", "messege": "Invalid request: messages is required"}, mc.BadRequestError, 400),
    (
        {"error": {"message": "Invalid request body", "type": "invalid_request_error"}},
        mc.BadRequestError,
        400,
    ),
]


@pytest.mark.parametrize(("body", "cls", "status"), CLIENT_MISTAKES)
def test_200_bodies_naming_a_client_mistake_keep_their_4xx_class(
    body: dict[str, Any], cls: type[mc.APIStatusError], status: int
) -> None:
    exc = error_from_body(200, body)
    assert type(exc) is cls and exc.status_code == status
    assert not RetryPolicy().should_retry(exc, 0)


@SYNC
@pytest.mark.parametrize(
    ("shape", "stream"),
    [("json", False), ("json", True), ("sse", True)],
    ids=["create", "stream", "stream-sse"],
)
async def test_provider_error_once_is_retried(
    shape: str, stream: bool, sync: bool, delays: list[float]
) -> None:
    failing = (
        sse_reply(sse_body(f"data: {json.dumps(PROVIDER)}\n\n"))
        if shape == "sse"
        else json_reply(200, PROVIDER)
    )
    answer = sse_reply(sse_body(*text_stream())) if stream else json_reply(200, message_json())
    handler = Recorder(failing, answer)
    if stream:
        _, message = await stream_call(sync, handler)
    else:
        message = await call(sync, handler)
    assert message.text == "Hello" and handler.count == 2 and len(delays) == 1


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
async def test_provider_error_every_time_gives_up_after_max_retries(stream: bool, sync: bool) -> None:
    handler = Recorder(json_reply(200, PROVIDER))
    with pytest.raises(mc.ProviderError, match="Provider returned error"):
        if stream:
            await stream_call(sync, handler, max_retries=2)
        else:
            await call(sync, handler, max_retries=2)
    assert handler.count == 3


@SYNC
async def test_provider_error_after_text_reached_the_caller_is_not_retried(sync: bool) -> None:
    head = sse_body(*text_stream("a", "b")[:4])
    tail = f"data: {json.dumps(PROVIDER)}\n\n".encode()
    handler = Recorder(sse_reply([head, tail]))
    client = make_client(sync, handler, max_retries=2)
    seen: list[Any] = []
    with pytest.raises(mc.ProviderError):
        if sync:
            with client.stream(**CALL) as s:  # type: ignore[union-attr]
                seen.extend(s)
        else:
            async with client.stream(**CALL) as s:  # type: ignore[union-attr]
                async for event in s:
                    seen.append(event)
    assert handler.count == 1 and seen  # the caller had events: no second request


@SYNC
@pytest.mark.parametrize(("body", "cls", "status"), CLIENT_MISTAKES[:3])
async def test_200_client_mistakes_are_not_retried(
    body: dict[str, Any], cls: type[mc.APIStatusError], status: int, sync: bool
) -> None:
    handler = Recorder(json_reply(200, body))
    with pytest.raises(cls):
        await call(sync, handler, max_retries=2)
    assert handler.count == 1


# --- 4. error.code as a string ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "cls", "status"),
    [
        ({"error": {"message": "no key", "code": "401"}}, mc.AuthenticationError, 401),
        ({"error": {"message": "slow down", "type": "server_busy", "code": "429"}}, mc.RateLimitError, 429),
        ({"status": "error", "message": "no", "code": "402"}, mc.InsufficientCreditsError, 402),
        ({"error": {"message": "odd", "code": " 503 "}}, mc.ServiceUnavailableError, 503),
    ],
)
def test_string_error_code_decides_behind_http_200(
    body: dict[str, Any], cls: type[mc.APIStatusError], status: int
) -> None:
    exc = error_from_body(200, body)
    assert type(exc) is cls and exc.status_code == status


@pytest.mark.parametrize("code", ["abc", "200", "", "4O1", True])
def test_a_code_that_is_no_error_status_is_ignored(code: Any) -> None:
    exc = error_from_body(200, {"error": {"message": "weird", "code": code}})
    assert exc.status_code == 200


def test_the_http_status_wins_over_a_string_code() -> None:
    exc = error_from_body(503, {"error": {"message": "no key", "code": "401"}})
    assert type(exc) is mc.ServiceUnavailableError and exc.status_code == 503


@SYNC
async def test_string_code_inside_an_sse_data_line(sync: bool) -> None:
    body = sse_body('data: {"error": {"message": "bad key", "code": "401"}}\n\n')
    with pytest.raises(mc.AuthenticationError):
        await stream_call(sync, Recorder(sse_reply(body)), max_retries=2)


# --- 7. whitespace-only text --------------------------------------------------------------------------------

# A recorded exchange in the corpus (llm-anthropic test_tools #1) sent " " beside a tool_use block: answered.
TOOL_TURN = [
    {"role": "user", "content": "weather in Paris?"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": " "},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        ],
    },
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
]


def test_whitespace_text_next_to_tool_use_is_sent() -> None:
    from modelslab_core._request import build_body

    body = build_body(model="m", max_tokens=8, messages=TOOL_TURN)
    assert body["messages"][1]["content"][0] == {"type": "text", "text": " "}
    assert build_body(model="m", max_tokens=8, messages=[{"role": "user", "content": "\n"}])["messages"]


def test_the_recorded_request_with_a_space_builds() -> None:
    from modelslab_core._request import build_body

    from .corpus import RECORDS

    record = next(r for r in RECORDS if r["source"].endswith("test_anthropic/test_tools.yaml#1"))
    sent = record["request_body"]
    assert record["status"] == 200 and '"text": " "' in json.dumps(sent["messages"])
    body = build_body(model=sent["model"], max_tokens=sent["max_tokens"], messages=sent["messages"])
    assert body["messages"] == sent["messages"]


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": [{"type": "text", "text": ""}]}],
        [{"role": "user", "content": ""}],
    ],
)
def test_empty_text_is_still_refused(messages: list[dict[str, Any]]) -> None:
    from modelslab_core._request import build_body

    with pytest.raises(ValueError, match="empty"):
        build_body(model="m", max_tokens=8, messages=messages)


# --- 8. count_tokens sends documented fields only -----------------------------------------------------------


def _count_handler() -> Recorder:
    return Recorder(json_reply(200, {"input_tokens": 9}))


@SYNC
async def test_count_tokens_body_is_model_messages_system(sync: bool) -> None:
    handler = _count_handler()
    client = make_client(sync, handler)
    count = await resolve(client.count_tokens(model="m", messages=CALL["messages"], system="be brief"))
    assert count == 9
    assert json.loads(handler.requests[0].content) == {
        "model": "m",
        "messages": CALL["messages"],
        "system": "be brief",
    }


@SYNC
async def test_count_tokens_sends_tools_only_when_given(sync: bool) -> None:
    handler = _count_handler()
    client = make_client(sync, handler)
    tool = {"name": "t", "description": "d", "input_schema": {"type": "object", "properties": {}}}
    await resolve(client.count_tokens(model="m", messages=CALL["messages"], tools=[tool]))
    assert set(json.loads(handler.requests[0].content)) == {"model", "messages", "tools"}


@SYNC
@pytest.mark.parametrize(
    "extra", [{"temperature": 0.5}, {"max_tokens": 10}, {"metadata": {"user_id": "u"}}, {"stream": True}]
)
async def test_count_tokens_refuses_fields_it_does_not_count(extra: dict[str, Any], sync: bool) -> None:
    handler = _count_handler()
    client = make_client(sync, handler)
    with pytest.raises(TypeError, match=f"count_tokens.*{next(iter(extra))}"):
        await resolve(client.count_tokens(model="m", messages=CALL["messages"], **extra))
    assert handler.count == 0  # refused before any request


def test_count_tokens_docstring_says_what_is_counted() -> None:
    for method in (mc.Client.count_tokens, mc.AsyncClient.count_tokens):
        doc = method.__doc__ or ""
        assert "system" in doc and "tools" in doc and "messages" in doc
