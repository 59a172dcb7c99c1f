"""The local server's request handling: routing, auth, validation, faults, replay and request statistics."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from ._faults import ErrorReply, Plan, parse_faults, plan
from ._http import Request, Response, Send
from ._model import RequestError, count_input_tokens, generate, reply_to_json, validate
from ._queue import AccountQueue, queue_full
from ._replay import ReplayCorpus
from ._sse import BARE_FIELDS, stream_bytes

__all__ = ["PREFIX", "SERVER_HEADER", "App", "ServerStats"]

PREFIX = "/api/v7/llm"
"""The path prefix of the API: a client's base URL is the server URL plus this."""


def _version() -> str:
    try:
        return metadata.version("modelslab-integrations")
    except metadata.PackageNotFoundError:
        return "0"


SERVER_HEADER = f"modelslab-local/{_version()}"
"""The value of the ``server`` header on every response."""

MODELS = (
    ("Qwen/Qwen2.5-VL-72B-Instruct-together", "qwen"),
    ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "meta-llama"),
    ("meta-llama/Llama-3.1-70B-Instruct", "meta-llama"),
    ("deepseek-ai/DeepSeek-R1", "deepseek-ai"),
    ("gemini-2.5-pro", "google"),
)
_CREATED = 1735689600  # 2025-01-01: a fixed date keeps recordings stable
_JSON = ("content-type", "application/json")
_SSE = ("content-type", "text/event-stream; charset=utf-8")
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_ERROR_BODY_200 = {"status": "error", "message": "Provider returned error"}


class ServerStats:
    """Request counters of a running server; safe to read and reset from any thread.

    ``by_fault`` counts requests per fault key (``rate-limit-once`` or ``rate-limit-once;key=abc``), so a test
    can assert how many attempts a client made; ``peak_in_flight`` is the largest number of requests that were
    being answered at the same time. ``/_local/*`` requests are not counted.
    """

    def __init__(self) -> None:
        """Start with every counter at zero."""
        self._lock = threading.Lock()
        self._by_path: dict[str, int] = {}
        self._by_fault: dict[str, int] = {}
        self._requests = 0
        self._in_flight = 0
        self._peak = 0

    @property
    def requests(self) -> int:
        """Requests received."""
        with self._lock:
            return self._requests

    @property
    def by_path(self) -> dict[str, int]:
        """Requests received per path (a copy)."""
        with self._lock:
            return dict(self._by_path)

    @property
    def by_fault(self) -> dict[str, int]:
        """Requests received per fault key (a copy)."""
        with self._lock:
            return dict(self._by_fault)

    @property
    def in_flight(self) -> int:
        """Requests being answered right now."""
        with self._lock:
            return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests answered at the same time since start or the last reset."""
        with self._lock:
            return self._peak

    def reset(self) -> None:
        """Zero every counter; ``-once`` faults fire again afterwards."""
        with self._lock:
            self._by_path.clear()
            self._by_fault.clear()
            self._requests = 0
            self._peak = self._in_flight

    def as_dict(self) -> dict[str, object]:
        """The counters as a JSON-ready dict (what ``GET /_local/stats`` returns)."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_path": dict(self._by_path),
                "by_fault": dict(self._by_fault),
                "in_flight": self._in_flight,
                "peak_in_flight": self._peak,
            }

    def enter(self, path: str, fault_keys: Sequence[str]) -> dict[str, int]:
        """Count a request in; return how many earlier requests carried each of its fault keys."""
        with self._lock:
            self._requests += 1
            self._by_path[path] = self._by_path.get(path, 0) + 1
            seen = {key: self._by_fault.get(key, 0) for key in fault_keys}
            for key in fault_keys:
                self._by_fault[key] = seen[key] + 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return seen

    def leave(self) -> None:
        """Count a request out."""
        with self._lock:
            self._in_flight -= 1


class App:
    """Answers requests; one instance per server."""

    def __init__(
        self,
        *,
        api_key: str | None,
        fault: str | None,
        replay: str | Path | None,
        queue_limit: int | None = None,
        latency: float = 0.0,
    ) -> None:
        """Configure the expected key (None: any), a default fault, an optional replay corpus, and the
        account queue (`queue_limit` requests in service per key, each held `latency` seconds)."""
        self.api_key = api_key
        self.queue = AccountQueue(queue_limit, latency)
        self.fault = fault
        parse_faults(fault or "")  # fail at start-up, not on the first request
        self.replay = ReplayCorpus(replay) if replay is not None else None
        self.stats = ServerStats()
        self._ids = itertools.count(1)

    async def __call__(self, request: Request, send: Send) -> None:
        """Handle one request: count it while it is in flight and send exactly one response."""
        request_id = f"req_local_{next(self._ids):08d}"
        common = [("server", SERVER_HEADER), ("request-id", request_id)]

        async def reply(response: Response) -> None:
            await send(replace(response, headers=[*common, *response.headers]))

        if request.path.startswith("/_local/"):
            await reply(self._local(request))
            return
        header = request.headers.get("x-modelslab-fault", self.fault) or ""
        try:
            faults = parse_faults(header)
        except ValueError as exc:
            await reply(_error(400, "invalid_request_error", f"x-modelslab-fault: {exc}", request_id))
            return
        seen = self.stats.enter(request.path, [f.key for f in faults])
        try:
            account = _presented_key(request)
            if not self.queue.admit(account):
                assert self.queue.limit is not None
                await reply(queue_full(self.queue.limit, request_id))
                return
            try:
                response, wait = self.queue.hold(await self._answer(request, plan(faults, seen), request_id))
                if wait:
                    await asyncio.sleep(wait)
                await reply(response)
            finally:
                self.queue.leave(account)
        finally:
            self.stats.leave()

    def _local(self, request: Request) -> Response:
        if request.path == "/_local/stats" and request.method == "GET":
            counters = {**self.stats.as_dict(), **self.queue.counters()}
            return Response(200, [_JSON], json.dumps(counters).encode())
        if request.path == "/_local/reset" and request.method == "POST":
            self.stats.reset()
            self.queue.reset()
            return Response(200, [_JSON], b'{"ok":true}')
        return _error(404, "not_found_error", f"Not found: {request.method} {request.path}", "")

    async def _answer(self, request: Request, fate: Plan, request_id: str) -> Response:
        if fate.head_delay:
            await asyncio.sleep(fate.head_delay)
        route = (request.method, request.path.removeprefix(PREFIX))
        known = {"/v1/messages": "POST", "/v1/messages/count_tokens": "POST", "/v1/models": "GET"}
        if route[1] not in known or not request.path.startswith(PREFIX):
            return _error(404, "not_found_error", f"Not found: {request.path}", request_id)
        if route[0] != known[route[1]]:
            return _error(405, "invalid_request_error", f"Method {route[0]} not allowed", request_id)
        if (denied := self._auth(request)) is not None:
            return _error(401, "authentication_error", denied, request_id)
        if fate.error is not None:
            return _fault_error(fate.error, request_id)
        if fate.body == "html-502":
            return Response(502, [("content-type", "text/html")], _HTML_502)
        if self.replay is not None and route[0] == "POST":
            return self._replay(request, request_id)
        if route[1] == "/v1/models":
            return _json_response(_models(), fate)
        try:
            body = validate(_parse(request.body), count_tokens=route[1].endswith("count_tokens"))
        except RequestError as exc:
            return _error(400, "invalid_request_error", str(exc), request_id)
        stream = body.get("stream") is True and route[1] == "/v1/messages"
        if fate.body == "error-body-200" or (fate.body == "error-body-200-sse" and not stream):
            return Response(200, [_JSON], json.dumps(_ERROR_BODY_200).encode())
        if fate.body == "error-body-200-sse":
            return Response(200, [_SSE], stream=[f"data: {json.dumps(_ERROR_BODY_200)}\n\n".encode()])
        if route[1].endswith("count_tokens"):
            return _json_response({"input_tokens": count_input_tokens(body)}, fate)
        reply = generate(body)
        if not stream:
            payload = reply_to_json(reply)
            if fate.bare:
                payload = {k: v for k, v in payload.items() if k not in BARE_FIELDS}
            return _json_response(payload, fate)
        pieces = stream_bytes(reply, fate.stream)
        drop = len(pieces) // 2 if fate.drop else None
        return Response(
            200, [_SSE, ("cache-control", "no-cache")], stream=pieces, pause=fate.pause, drop_after=drop
        )

    def _auth(self, request: Request) -> str | None:
        """Why the request is not authenticated, or None if it is."""
        key = _presented_key(request)
        if not key:
            return "x-api-key header is required (or Authorization: Bearer <key>)"
        if self.api_key is not None and key != self.api_key:
            return "invalid x-api-key"
        return None

    def _replay(self, request: Request, request_id: str) -> Response:
        assert self.replay is not None
        record = self.replay.select(request.headers.get("x-modelslab-replay"), request.body)
        if record is None:
            message = f"x-modelslab-replay: no record {request.headers.get('x-modelslab-replay')!r}"
            return _error(404, "not_found_error", message, request_id)
        headers = [(k, v) for k, v in record.headers if k not in ("content-length", "transfer-encoding")]
        if record.is_stream:
            return Response(record.status, headers, stream=[record.body])
        return Response(record.status, headers, record.body)


def _presented_key(request: Request) -> str:
    """The API key a request presents, by `x-api-key` or `Authorization: Bearer`; "" for none."""
    key = request.headers.get("x-api-key", "")
    authorization = request.headers.get("authorization", "")
    if not key and authorization[:7].lower() == "bearer ":
        key = authorization[7:].strip()
    return key


def _parse(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        raise RequestError("Request body is not valid JSON") from None


def _models() -> dict[str, object]:
    data = [{"id": name, "object": "model", "created": _CREATED, "owned_by": owner} for name, owner in MODELS]
    return {"object": "list", "data": data}


def _json_response(payload: object, fate: Plan) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    if fate.body == "malformed-json":
        return Response(200, [_JSON], body[: len(body) // 2])
    return Response(200, [_JSON], body, drop_after=len(body) // 2 if fate.drop else None)


def _error(status: int, kind: str, message: str, request_id: str) -> Response:
    envelope: dict[str, object] = {"type": "error", "error": {"type": kind, "message": message}}
    if request_id:
        envelope["request_id"] = request_id
    return Response(status, [_JSON], json.dumps(envelope).encode())


def _fault_error(error: ErrorReply, request_id: str) -> Response:
    response = _error(error.status, error.error_type, error.message, request_id)
    if error.retry_after is None:
        return response
    if error.reset:  # Unix seconds, whole, as ModelsLab's CLI parses it; remaining 0 as its test sets it
        reset = str(math.ceil(time.time() + error.retry_after))
        limits = [("x-ratelimit-reset", reset), ("x-ratelimit-remaining", "0")]
        return Response(response.status, [*response.headers, *limits], response.body)
    seconds = f"{error.retry_after:g}"
    return Response(response.status, [*response.headers, ("retry-after", seconds)], response.body)
