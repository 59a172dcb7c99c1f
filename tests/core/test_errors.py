"""Every way the server can fail maps to one typed error, the same class however it arrived."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import modelslab_core as mc

from .conftest import (
    SYNC,
    Recorder,
    call,
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

SAYS = "The server's own words"

# status -> (class, the error.type the API documents for it; None when there is none)
STATUSES: dict[int, tuple[type[mc.APIStatusError], str | None]] = {
    400: (mc.BadRequestError, "invalid_request_error"),
    401: (mc.AuthenticationError, "authentication_error"),
    402: (mc.InsufficientCreditsError, "billing_error"),
    403: (mc.PermissionDeniedError, "permission_error"),
    404: (mc.NotFoundError, "not_found_error"),
    413: (mc.RequestTooLargeError, "request_too_large"),
    429: (mc.RateLimitError, "rate_limit_error"),
    500: (mc.InternalServerError, "api_error"),
    503: (mc.ServiceUnavailableError, None),
    529: (mc.OverloadedError, "overloaded_error"),
    418: (mc.APIStatusError, None),
}


def shapes(kind: str | None, status: int) -> dict[str, dict[str, Any]]:
    """ModelsLab's three error shapes (plus the legacy misspelling), carrying `SAYS` and `kind`."""
    named = kind or "unlisted_error"
    return {
        "legacy": {"status": "error", "message": SAYS},
        "legacy-messege": {"status": "error", "messege": SAYS},
        "openapi": {"error": {"message": SAYS, "type": named, "code": status}},
        "anthropic": {"type": "error", "error": {"type": named, "message": SAYS}, "request_id": "req_body"},
    }


CASES = [
    pytest.param(status, shape, id=f"{status}-{shape}")
    for status in STATUSES
    for shape in ("legacy", "legacy-messege", "openapi", "anthropic")
]


async def fail(sync: bool, handler: Any, stream: bool = False, **options: Any) -> mc.ModelsLabError:
    """The error a create (or a stream read to its end) raises; nothing else may escape."""
    options.setdefault("max_retries", 0)
    try:
        if stream:
            await stream_call(sync, handler, **options)
        else:
            await call(sync, handler, **options)
    except mc.ModelsLabError as exc:
        assert not isinstance(exc, httpx.HTTPError)
        return exc
    raise AssertionError("no error raised")


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize(("status", "shape"), CASES)
async def test_error_behind_each_status(status: int, shape: str, stream: bool, sync: bool) -> None:
    cls, kind = STATUSES[status]
    body = shapes(kind, status)[shape]
    exc = await fail(sync, Recorder(json_reply(status, body, {"request-id": "req_hdr"})), stream)
    assert type(exc) is cls
    assert isinstance(exc, mc.APIStatusError)
    assert exc.status_code == status
    assert exc.body == body
    assert exc.request_id == "req_hdr"
    assert SAYS in str(exc) and SAYS in exc.message


TYPED = [pytest.param(status, shape, id=f"{status}-{shape}") for status, (_, kind) in STATUSES.items() if kind
         for shape in ("openapi", "anthropic")]  # fmt: skip


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize(("status", "shape"), TYPED)
async def test_typed_error_body_behind_http_200_is_the_same_class(
    status: int, shape: str, stream: bool, sync: bool
) -> None:
    cls, kind = STATUSES[status]
    body = shapes(kind, status)[shape]
    exc = await fail(sync, Recorder(json_reply(200, body)), stream)
    assert type(exc) is cls
    assert isinstance(exc, mc.APIStatusError)
    assert exc.status_code == status and exc.error_type == kind and exc.body == body
    assert SAYS in str(exc)


@SYNC
@pytest.mark.parametrize("position", ["first", "mid-stream"])
@pytest.mark.parametrize("status", [s for s, (_, kind) in STATUSES.items() if kind])
async def test_sse_error_event_is_the_same_class(status: int, position: str, sync: bool) -> None:
    cls, kind = STATUSES[status]
    before = [] if position == "first" else [start_event(), *text_block(0, "a")[:2]]
    body = sse_body(*before, error_event(kind or "", SAYS, request_id="req_evt", details=None))
    exc = await fail(sync, Recorder(sse_reply(body)), stream=True)
    assert type(exc) is cls
    assert isinstance(exc, mc.APIStatusError)
    assert (exc.status_code, exc.error_type, exc.request_id) == (status, kind, "req_evt")
    assert SAYS in str(exc)


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("key", ["message", "messege"])
async def test_untyped_error_body_behind_http_200_is_a_provider_error(
    key: str, stream: bool, sync: bool
) -> None:
    body = {"status": "error", key: "Provider returned error"}
    exc = await fail(sync, Recorder(json_reply(200, body)), stream)
    assert type(exc) is mc.ProviderError
    assert isinstance(exc, mc.APIStatusError)
    assert exc.status_code == 200 and exc.body == body
    assert "Provider returned error" in str(exc)


@SYNC
async def test_untyped_error_inside_an_sse_data_line(sync: bool) -> None:
    body = sse_body('data: {"status":"error","message":"Provider returned error"}\n\n')
    exc = await fail(sync, Recorder(sse_reply(body)), stream=True)
    assert isinstance(exc, mc.APIStatusError) and "Provider returned error" in str(exc)


# --- request ids ---


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("status", [200, 529])
async def test_request_id_from_header_or_body(status: int, stream: bool, sync: bool) -> None:
    envelope = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    exc = await fail(sync, Recorder(json_reply(status, envelope, {"request-id": "req_hdr"})), stream)
    assert isinstance(exc, mc.APIStatusError) and exc.request_id == "req_hdr" and "req_hdr" in str(exc)
    exc = await fail(sync, Recorder(json_reply(status, {**envelope, "request_id": "req_body"})), stream)
    assert isinstance(exc, mc.APIStatusError) and exc.request_id == "req_body" and "req_body" in str(exc)
    exc = await fail(sync, Recorder(json_reply(status, envelope)), stream)
    assert isinstance(exc, mc.APIStatusError) and exc.request_id is None


@SYNC
async def test_sse_error_event_takes_the_request_id_header_when_its_body_has_none(sync: bool) -> None:
    body = sse_body(start_event(), error_event())
    exc = await fail(sync, Recorder(sse_reply(body, headers={"request-id": "req_hdr"})), stream=True)
    assert isinstance(exc, mc.OverloadedError) and exc.request_id == "req_hdr"


# --- answers that are not the Messages API ---

HTML = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 500 + b"</body></html>"


@SYNC
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("status", [502, 200, 413])
async def test_html_page_is_a_validation_error_quoting_the_first_bytes(
    status: int, stream: bool, sync: bool
) -> None:
    exc = await fail(sync, Recorder(json_reply(status, HTML)), stream=stream and status != 200)
    assert type(exc) is mc.APIResponseValidationError
    assert exc.status_code == status
    assert "<html><head><title>502 Bad Gateway" in str(exc)
    assert len(str(exc)) < 400  # quoted, not dumped whole


@SYNC
@pytest.mark.parametrize("body", [{"foo": 1}, [], {"id": "msg_1", "content": "nope"}, "just a string", None])
async def test_json_that_is_not_a_message_is_a_validation_error(body: Any, sync: bool) -> None:
    exc = await fail(sync, Recorder(json_reply(200, body)))
    assert type(exc) is mc.APIResponseValidationError
    assert json.dumps(body)[:10] in str(exc)


@SYNC
async def test_json_that_is_not_a_message_answered_to_a_stream(sync: bool) -> None:
    exc = await fail(sync, Recorder(json_reply(200, {"foo": 1})), stream=True)
    assert type(exc) is mc.APIResponseValidationError and "foo" in str(exc)


@SYNC
@pytest.mark.parametrize(
    ("method", "body"), [("count_tokens", {"tokens": 3}), ("list_models", {"models": []})]
)
async def test_other_endpoints_validate_too(method: str, body: Any, sync: bool) -> None:
    params: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(mc.APIResponseValidationError):
        await call(
            sync, Recorder(json_reply(200, body)), method, params=params if method == "count_tokens" else {}
        )


# --- transport failures ---

TRANSPORT = [
    (httpx.ConnectError("connection refused"), mc.APIConnectionError),
    (httpx.ConnectTimeout("connect timed out"), mc.APITimeoutError),
    (httpx.ReadTimeout("read timed out"), mc.APITimeoutError),
    (httpx.WriteTimeout("write timed out"), mc.APITimeoutError),
    (httpx.PoolTimeout("pool timed out"), mc.APITimeoutError),
    (httpx.RemoteProtocolError("peer closed connection"), mc.APIConnectionError),
    (httpx.ReadError("connection reset"), mc.APIConnectionError),
]


@SYNC
@pytest.mark.parametrize("method", ["create", "stream", "count_tokens", "list_models"])
@pytest.mark.parametrize(("error", "cls"), TRANSPORT, ids=[type(e).__name__ for e, _ in TRANSPORT])
async def test_no_httpx_exception_escapes(error: Exception, cls: type, method: str, sync: bool) -> None:
    handler = Recorder(error)
    if method == "stream":
        exc = await fail(sync, handler, stream=True)
    else:
        params: dict[str, Any] = {}
        if method == "count_tokens":
            params = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        with pytest.raises(mc.ModelsLabError) as info:
            await call(
                sync, handler, method, max_retries=0, **({"params": params} if method != "create" else {})
            )
        exc = info.value
    assert type(exc) is cls
    assert isinstance(exc.__cause__, httpx.HTTPError)


@SYNC
@pytest.mark.parametrize(
    ("error", "cls"),
    [(httpx.ReadError("reset"), mc.APIConnectionError), (httpx.ReadTimeout("t"), mc.APITimeoutError)],
)
async def test_transport_failure_mid_stream_is_mapped_and_not_retried(
    error: Exception, cls: type, sync: bool
) -> None:
    head = sse_body(*text_stream("a", "b")[:4])
    handler = Recorder(sse_reply(head, fail=error))
    client = make_client(sync, handler)
    seen: list[Any] = []
    with pytest.raises(cls):
        if sync:
            with client.stream(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]) as s:
                seen.extend(s)
        else:
            async with client.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]
            ) as s:
                async for event in s:
                    seen.append(event)
    assert len(seen) == 4 and handler.count == 1


@SYNC
async def test_empty_stream_body_is_incomplete(sync: bool) -> None:
    exc = await fail(sync, Recorder(sse_reply(b"")), stream=True)
    assert type(exc) is mc.IncompleteStreamError


@SYNC
async def test_stream_cut_before_message_stop_is_incomplete(sync: bool) -> None:
    body = sse_body(*text_stream("a")[:-1])
    exc = await fail(sync, Recorder(sse_reply(body)), stream=True)
    assert type(exc) is mc.IncompleteStreamError and "message_stop" in str(exc)


def test_error_tree() -> None:
    for cls in (mc.APIConnectionError, mc.APIResponseValidationError, mc.APIStatusError):
        assert issubclass(cls, mc.ModelsLabError)
    assert issubclass(mc.APITimeoutError, mc.APIConnectionError)
    assert issubclass(mc.IncompleteStreamError, mc.APIConnectionError)
    for cls, _ in STATUSES.values():
        assert issubclass(cls, mc.APIStatusError)
    assert issubclass(mc.ServiceUnavailableError, mc.InternalServerError)
    assert issubclass(mc.OverloadedError, mc.InternalServerError)


def test_no_message_falls_back_to_quoting_the_body() -> None:
    exc = mc.errors.error_from_body(500, {"status": "error"}, raw=b'{"status": "error"}')
    assert type(exc) is mc.InternalServerError and '{"status": "error"}' in str(exc)


def test_error_message_of_a_valid_message_behind_500() -> None:
    # a 500 whose body happens to be a Message is still a failure
    body = message_json()
    exc = mc.errors.error_from_body(500, body)
    assert type(exc) is mc.InternalServerError and exc.body == body
