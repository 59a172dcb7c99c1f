"""Endpoints, auth, validation and the HTTP layer of the local server, through a plain httpx client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from modelslab_core.testing import MODELS, SERVER_HEADER, LocalServer

from .conftest import MODEL, Api, body
from .grammar import check


def _envelope(response: httpx.Response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["type"] == "error" and payload["error"]["type"] == kind
    assert payload["request_id"] == response.headers["request-id"]
    assert payload["request_id"].startswith("req_")
    return str(payload["error"]["message"])


async def test_models(api: Api) -> None:
    response = await api.request("GET", "/v1/models")
    assert response.status_code == 200
    payload = response.json()
    assert payload["object"] == "list"
    assert [m["id"] for m in payload["data"]] == [name for name, _ in MODELS]
    assert "deepseek-ai/DeepSeek-R1" in [m["id"] for m in payload["data"]]
    for model in payload["data"]:
        assert set(model) == {"id", "object", "created", "owned_by"} and model["object"] == "model"


async def test_count_tokens_matches_usage(api: Api) -> None:
    request = body(
        "one two three", system=[{"type": "text", "text": "be brief", "cache_control": {"type": "x"}}]
    )
    counted = await api.post(
        "/v1/messages/count_tokens", json={k: v for k, v in request.items() if k != "max_tokens"}
    )
    assert counted.status_code == 200 and counted.json() == {"input_tokens": 5}
    reply = (await api.post(json=request)).json()
    assert reply["usage"]["input_tokens"] == 5


async def test_every_response_names_the_server(api: Api) -> None:
    ok = await api.post(json=body())
    error = await api.post(json={})
    stream, _ = await api.raw(json=body(stream=True))
    ids = set()
    for response in (ok, error, stream):
        assert response.headers["server"] == SERVER_HEADER
        assert SERVER_HEADER.startswith("modelslab-local/")
        ids.add(response.headers["request-id"])
    assert len(ids) == 3
    assert ok.headers["content-type"] == "application/json"
    assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"


@pytest.mark.parametrize(
    "headers",
    [{"x-api-key": "anything"}, {"x-api-key": "", "authorization": "Bearer anything"}],
    ids=["x-api-key", "bearer"],
)
async def test_any_key_is_accepted_by_default(api: Api, headers: dict[str, str]) -> None:
    assert (await api.post(json=body(), headers=headers)).status_code == 200


async def test_missing_key_is_401(api: Api) -> None:
    response = await api.post(json=body(), headers={"x-api-key": ""})
    assert "x-api-key" in _envelope(response, 401, "authentication_error")


@pytest.mark.parametrize("modelslab_server", [{"api_key": "right"}], indirect=True)
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"x-api-key": "wrong"}, 401),
        ({"x-api-key": "right"}, 200),
        ({"x-api-key": "", "authorization": "Bearer right"}, 200),
        ({"x-api-key": "", "authorization": "Bearer wrong"}, 401),
    ],
)
async def test_configured_key(api: Api, headers: dict[str, str], status: int) -> None:
    response = await api.post(json=body(), headers=headers)
    assert response.status_code == status
    if status == 401:
        _envelope(response, 401, "authentication_error")


INVALID: list[tuple[Any, str]] = [
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}, "model"),
    (body(model=7), "model"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    (body(max_tokens=0), "max_tokens"),
    (body(max_tokens="10"), "max_tokens"),
    (body(temperature=1.5), "temperature"),
    (body(temperature=-0.1), "temperature"),
    (body(top_p=2), "top_p"),
    ({"model": MODEL, "max_tokens": 5}, "messages"),
    (body() | {"messages": []}, "messages"),
    (body() | {"messages": "hi"}, "messages"),
    (body() | {"messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
    (body() | {"messages": [{"role": "user"}]}, "messages.0.content"),
    (body(stream="yes"), "stream"),
    (body(stop_sequences="x"), "stop_sequences"),
    (body(tool_choice={"type": "sometimes"}), "tool_choice"),
    (
        body(tools=[{"name": "a", "input_schema": {}}], tool_choice={"type": "tool", "name": "b"}),
        "tool_choice",
    ),
    ([1, 2], "JSON object"),
]


@pytest.mark.parametrize(("payload", "field"), INVALID, ids=[f"{f}-{i}" for i, (_, f) in enumerate(INVALID)])
async def test_validation(api: Api, payload: Any, field: str) -> None:
    response = await api.post(json=payload)
    assert field in _envelope(response, 400, "invalid_request_error")


async def test_malformed_json_body(api: Api) -> None:
    response = await api.post(content=b'{"model": ', headers={"content-type": "application/json"})
    assert "not valid JSON" in _envelope(response, 400, "invalid_request_error")


async def test_temperature_and_top_p_bounds_are_inclusive(api: Api) -> None:
    for value in (0, 1, 0.5):
        assert (await api.post(json=body(temperature=value, top_p=value))).status_code == 200


async def test_unknown_path_and_method(api: Api) -> None:
    _envelope(await api.post("/v1/complete", json=body()), 404, "not_found_error")
    _envelope(await api.request("GET", "/v1/messages"), 405, "invalid_request_error")


def test_start_and_stop_with_open_connections() -> None:
    # how fast start and stop are is measured by `make bench`; here only that stop does not wait on clients
    started = time.perf_counter()
    with LocalServer() as server:
        up = time.perf_counter() - started
        assert httpx.get(server.base_url + "/v1/models", headers={"x-api-key": "k"}).status_code == 200
        # an open keep-alive connection and a request still in flight must not slow the stop down
        client = httpx.Client()
        client.get(server.base_url + "/v1/models", headers={"x-api-key": "k"})
        stopping = time.perf_counter()
    down = time.perf_counter() - stopping
    client.close()
    assert up < 5 and down < 5, (up, down)  # a hang guard, not a speed target
    assert "stopped" in repr(server)


def test_urls() -> None:
    with LocalServer() as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.base_url == f"http://127.0.0.1:{server.port}/api/v7/llm"
        assert server.port > 0 and server.host == "127.0.0.1"


def test_bad_fault_is_rejected_at_start() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        LocalServer(fault="no-such-fault")


def _raw_exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_keep_alive_and_chunked_request_body(modelslab_server: LocalServer) -> None:
    data = json.dumps(body("hello")).encode()
    path = "/api/v7/llm/v1/messages"
    first = (
        f"POST {path} HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\ncontent-length: {len(data)}\r\n\r\n".encode()
        + data
    )
    second = (
        f"POST {path} HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\ntransfer-encoding: chunked\r\n"
        "connection: close\r\n\r\n"
        f"{len(data[:10]):x}\r\n".encode()
        + data[:10]
        + f"\r\n{len(data[10:]):x}\r\n".encode()
        + data[10:]
        + b"\r\n0\r\n\r\n"
    )
    raw = _raw_exchange(modelslab_server.port, first + second)
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert raw.count(b"Hello! I am the ModelsLab local test model.") == 2
    assert modelslab_server.stats.requests == 2


def test_http10_stream_is_close_delimited(modelslab_server: LocalServer) -> None:
    data = json.dumps(body("hello", stream=True)).encode()
    head = f"POST /api/v7/llm/v1/messages HTTP/1.0\r\nx-api-key: k\r\ncontent-length: {len(data)}\r\n\r\n"
    raw = _raw_exchange(modelslab_server.port, head.encode() + data)
    head_bytes, _, stream = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head_bytes.lower()
    assert check(stream)[-1] == {"type": "message_stop"}


def test_garbage_request_line(modelslab_server: LocalServer) -> None:
    raw = _raw_exchange(modelslab_server.port, b"HELLO\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400 ") and f"server: {SERVER_HEADER}".encode() in raw


def test_command_line_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "modelslab_core.testing", "--port", "0", "--api-key", "cli-key"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v7/llm"), line
        root = base_url.removesuffix("/api/v7/llm")
        with httpx.Client(base_url=base_url, headers={"x-api-key": "cli-key"}) as client:
            assert (
                client.post("/v1/messages", json=body("What is 6 * 7?")).json()["content"][0]["text"]
                == "6 * 7 = 42."
            )
            assert client.post("/v1/messages", json=body(), headers={"x-api-key": "other"}).status_code == 401
            stats = httpx.get(root + "/_local/stats").json()
            assert stats["requests"] == 2 and stats["by_path"] == {"/api/v7/llm/v1/messages": 2}
            assert httpx.post(root + "/_local/reset").status_code == 200
            assert httpx.get(root + "/_local/stats").json()["requests"] == 0
    finally:
        process.terminate()
        process.wait(5)
