"""Helpers for the core's unit tests: the `httpx.MockTransport` seam, one runner for sync and async clients,
SSE body builders, and no real sleeping between retries."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

import modelslab_core as mc

from ..retry_waits import record_retry_waits

API_KEY = "sk-test-Zq8vW2nX5-DO-NOT-LEAK"
BASE_URL = "http://127.0.0.1:9"
MESSAGES = [{"role": "user", "content": "hi"}]
CALL: dict[str, Any] = {"model": "m", "max_tokens": 16, "messages": MESSAGES}
SYNC = pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])

Reply = Callable[[httpx.Request], httpx.Response] | BaseException


# --- retries never wait ---


@pytest.fixture(autouse=True)
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry delays the clients asked for, in order (nothing actually sleeps)."""
    return record_retry_waits(monkeypatch)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELSLAB_API_KEY", raising=False)
    monkeypatch.delenv("MODELSLAB_BASE_URL", raising=False)


# --- canned answers ---


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    kind = "application/json" if not isinstance(body, bytes) else "text/html"

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": kind, **(headers or {})})

    return reply


def sse_body(*events: dict[str, Any] | str, named: bool = True, newline: str = "\n") -> bytes:
    """An SSE body: a dict becomes `event: <type>` + `data: <json>` + blank line; a str is sent as is."""
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(event)
            continue
        lines = [f"event: {event['type']}"] if named else []
        lines.append("data: " + json.dumps(event))
        out.append(newline.join(lines) + newline + newline)
    return "".join(out).encode()


class ClosingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in chunks that remembers whether the client closed it."""

    def __init__(self, chunks: Iterable[bytes], fail: BaseException | None = None) -> None:
        self.chunks = list(chunks)
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail is not None:
            raise self.fail

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk
        if self.fail is not None:
            raise self.fail

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse_reply(
    body: bytes | list[bytes],
    status: int = 200,
    headers: dict[str, str] | None = None,
    chunk_size: int | None = None,
    fail: BaseException | None = None,
    streams: list[ClosingStream] | None = None,
) -> Reply:
    def reply(request: httpx.Request) -> httpx.Response:
        if isinstance(body, list):  # the chunks as given
            stream = ClosingStream(body, fail)
        else:
            size = chunk_size or len(body) or 1
            stream = ClosingStream([body[i : i + size] for i in range(0, len(body), size)], fail)
        if streams is not None:
            streams.append(stream)
        return httpx.Response(
            status, stream=stream, headers={"content-type": "text/event-stream", **(headers or {})}
        )

    return reply


class Recorder:
    """A MockTransport handler: answers with `replies` in order (the last repeats), records each request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    @property
    def count(self) -> int:
        return len(self.requests)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, BaseException):
            raise type(reply)(str(reply))
        return reply(request)


# --- one runner for both clients ---


def make_client(sync: bool, handler: Callable[..., Any], **options: Any) -> mc.Client | mc.AsyncClient:
    transport = httpx.MockTransport(handler)
    kwargs: dict[str, Any] = {"api_key": API_KEY, "base_url": BASE_URL, **options}
    if sync:
        return mc.Client(http_client=httpx.Client(transport=transport), **kwargs)
    return mc.AsyncClient(http_client=httpx.AsyncClient(transport=transport), **kwargs)


async def resolve(value: Any) -> Any:
    """`value`, awaited when the async client returned a coroutine."""
    return await value if inspect.isawaitable(value) else value


async def call(sync: bool, handler: Callable[..., Any], method: str = "create", **options: Any) -> Any:
    """Run one client method (`create`, `count_tokens`, `list_models`) through a fresh client."""
    params = options.pop("params", CALL if method == "create" else {})
    client = make_client(sync, handler, **options)
    return await resolve(getattr(client, method)(**params))


async def consume(stream: Any, sync: bool) -> tuple[list[Any], mc.Message]:
    """All events of a `client.stream(...)` object, used as a context manager, and the final message."""
    if sync:
        with stream as s:
            events = list(s)
            return events, s.get_final_message()
    async with stream as s:
        events = [event async for event in s]
        return events, await s.get_final_message()


async def stream_call(
    sync: bool, handler: Callable[..., Any], **options: Any
) -> tuple[list[Any], mc.Message]:
    params = options.pop("params", CALL)
    client = make_client(sync, handler, **options)
    return await consume(client.stream(**params), sync)


# --- events ---


def message_json(content: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": content if content is not None else [{"type": "text", "text": "Hello"}],
        "model": "m",
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
        **fields,
    }


def start_event(usage: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    message = message_json([], stop_reason=None, **fields)
    if usage is None:
        message["usage"] = {"input_tokens": 10, "output_tokens": 1}
    elif usage == {}:
        del message["usage"]
    else:
        message["usage"] = usage
    return {"type": "message_start", "message": message}


def block_events(index: int, block: dict[str, Any], *deltas: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"type": "content_block_start", "index": index, "content_block": block},
        *({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas),
        {"type": "content_block_stop", "index": index},
    ]


def text_block(index: int, *pieces: str) -> list[dict[str, Any]]:
    return block_events(
        index, {"type": "text", "text": ""}, *({"type": "text_delta", "text": p} for p in pieces)
    )


def end_events(stop_reason: str = "end_turn", usage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": usage if usage is not None else {"output_tokens": 5},
        },
        {"type": "message_stop"},
    ]


def text_stream(*pieces: str) -> list[dict[str, Any]]:
    return [start_event(), {"type": "ping"}, *text_block(0, *(pieces or ("Hel", "lo"))), *end_events()]


def error_event(kind: str = "overloaded_error", message: str = "Overloaded", **extra: Any) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, **extra}
