"""Every injected fault, as a plain httpx client sees it (sync and async)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from modelslab_core import Message, MessageAccumulator, SSEDecoder, parse_event
from modelslab_core.testing import FAULTS, LocalServer

from .conftest import KEY, Api, body
from .grammar import check, frames


def fault(name: str) -> dict[str, str]:
    return {"x-modelslab-fault": name}


def normal_payloads(raw: bytes, eol: str = "\n") -> list[dict[str, Any]]:
    return [json.loads(data) for _, data in frames(raw, eol)]


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [("rate-limit-once", 429, "rate_limit_error"), ("overloaded-once", 529, "overloaded_error")],
)
async def test_once_faults_fail_then_succeed(api: Api, name: str, status: int, kind: str) -> None:
    first = await api.post(json=body(), headers=fault(name))
    assert first.status_code == status and first.headers["retry-after"] == "0"
    assert first.json()["error"]["type"] == kind and first.json()["type"] == "error"
    for _ in range(2):
        assert (await api.post(json=body(), headers=fault(name))).status_code == 200
    assert api.server.stats.by_fault == {name: 3}


async def test_once_fault_keys_are_independent(api: Api) -> None:
    for key in ("a", "b"):
        assert (await api.post(json=body(), headers=fault(f"rate-limit-once;key={key}"))).status_code == 429
    assert (await api.post(json=body(), headers=fault("rate-limit-once;key=a"))).status_code == 200
    assert api.server.stats.by_fault == {"rate-limit-once;key=a": 2, "rate-limit-once;key=b": 1}


async def test_once_fault_options(api: Api) -> None:
    header = fault("overloaded-once;key=t;times=2;retry-after=1.5")
    statuses = [(await api.post(json=body(), headers=header)).status_code for _ in range(3)]
    assert statuses == [529, 529, 200]
    api.server.stats.reset()
    response = await api.post(json=body(), headers=header)
    assert response.status_code == 529 and response.headers["retry-after"] == "1.5"


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [
        ("server-error", 500, "api_error"),
        ("rate-limit", 429, "rate_limit_error"),
        ("overloaded", 529, "overloaded_error"),
    ],
)
async def test_persistent_errors(api: Api, name: str, status: int, kind: str) -> None:
    for _ in range(3):
        response = await api.post(json=body(stream=True), headers=fault(name))
        assert response.status_code == status and response.json()["error"]["type"] == kind
    assert api.server.stats.by_fault[name] == 3


async def test_server_error_once(api: Api) -> None:
    codes = [(await api.post(json=body(), headers=fault("server-error-once"))).status_code for _ in range(2)]
    assert codes == [500, 200]


@pytest.mark.parametrize("stream", [False, True])
async def test_error_body_200(api: Api, stream: bool) -> None:
    response = await api.post(json=body(stream=stream), headers=fault("error-body-200"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "error", "message": "Provider returned error"}


async def test_error_body_200_inside_sse(api: Api) -> None:
    response, chunks = await api.raw(json=body(stream=True), headers=fault("error-body-200-sse"))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert b"".join(chunks) == b'data: {"status": "error", "message": "Provider returned error"}\n\n'


async def test_sse_error(api: Api) -> None:
    _, chunks = await api.raw(json=body("count to 10", stream=True), headers=fault("sse-error"))
    events = frames(b"".join(chunks))
    names = [name for name, _ in events]
    assert names.count("content_block_delta") == 2 and names[-1] == "error" and "message_stop" not in names
    assert json.loads(events[-1][1]) == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded", "details": None},
    }
    assert events[-1][1].endswith(" }")


@pytest.mark.parametrize("stream", [False, True])
async def test_drop_mid_stream(api: Api, stream: bool) -> None:
    received: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        if api.sync:
            assert isinstance(api.client, httpx.Client)
            with api.client.stream(
                "POST", "/v1/messages", json=body(stream=stream), headers={**KEY, **fault("drop-mid-stream")}
            ) as r:
                received.extend(r.iter_raw())
        else:
            assert isinstance(api.client, httpx.AsyncClient)
            async with api.client.stream(
                "POST", "/v1/messages", json=body(stream=stream), headers={**KEY, **fault("drop-mid-stream")}
            ) as ar:
                async for chunk in ar.aiter_raw():
                    received.append(chunk)
    data = b"".join(received)
    assert data.startswith(b"event: message_start" if stream else b'{"id":')
    # the server still answers on a new connection
    assert (await api.post(json=body())).status_code == 200


async def test_truncated_stream(api: Api) -> None:
    response, chunks = await api.raw(json=body(stream=True), headers=fault("truncated-stream"))
    kinds = [p["type"] for p in normal_payloads(b"".join(chunks))]
    assert response.status_code == 200 and kinds[-1] == "message_delta" and "message_stop" not in kinds


async def test_slow_headers(api: Api) -> None:
    started = time.perf_counter()
    assert (await api.post(json=body(), headers=fault("slow-headers:0.1"))).status_code == 200
    assert time.perf_counter() - started >= 0.1
    with pytest.raises(httpx.ReadTimeout):
        await api.post(json=body(), headers=fault("slow-headers:1"), timeout=0.05)


async def test_slow_stream_pauses_between_events(api: Api) -> None:
    started = time.perf_counter()
    _, chunks = await api.raw(json=body("count to 3", stream=True), headers=fault("slow-stream:0.01"))
    elapsed = time.perf_counter() - started
    events = check(b"".join(chunks))
    assert elapsed >= 0.01 * (len(events) - 1)
    assert len(chunks) >= len(events) // 2  # the pauses are visible: events do not arrive in one piece


@pytest.mark.parametrize("stream", [False, True])
async def test_malformed_json(api: Api, stream: bool) -> None:
    response, chunks = await api.raw(json=body(stream=stream), headers=fault("malformed-json"))
    assert response.status_code == 200
    raw = b"".join(chunks)
    if not stream:
        with pytest.raises(ValueError):
            json.loads(raw)
        return
    bad = []
    for _, data in frames(raw):
        try:
            json.loads(data)
        except ValueError:
            bad.append(data)
    assert len(bad) == 1 and bad[0].startswith('{"type":"content_block_delta"')


async def test_html_502(api: Api) -> None:
    response = await api.post(json=body(), headers=fault("html-502"))
    assert response.status_code == 502 and response.headers["content-type"] == "text/html"
    assert b"<h1>502 Bad Gateway</h1>" in response.content


async def test_unknown_events(api: Api) -> None:
    _, chunks = await api.raw(json=body("count to 3", stream=True), headers=fault("unknown-events"))
    _, plain = await api.raw(json=body("count to 3", stream=True))
    payloads = normal_payloads(b"".join(chunks))
    unknown = [p for p in payloads if p["type"] == "local_annotation"]
    odd = [
        p
        for p in payloads
        if p["type"] == "content_block_delta" and p["delta"]["type"] == "local_unknown_delta"
    ]
    assert len(unknown) == 2 and len(odd) == 1
    assert [p for p in payloads if p not in unknown and p not in odd] == normal_payloads(b"".join(plain))


async def test_crlf(api: Api) -> None:
    _, chunks = await api.raw(json=body(stream=True), headers=fault("crlf"))
    raw = b"".join(chunks)
    assert raw.count(b"\r\n") == 2 * raw.count(b"data: ") + raw.count(b"event: ")
    check(raw, eol="\r\n")


async def test_done_trailer(api: Api) -> None:
    _, chunks = await api.raw(json=body(stream=True), headers=fault("done-trailer"))
    raw = b"".join(chunks)
    assert raw.endswith(
        b'event: message_stop\ndata: {"type":"message_stop"' + raw.rsplit(b'"message_stop"', 1)[1]
    )
    assert raw.endswith(b"}\n\ndata: [DONE]\n\n")
    check(raw[: -len(b"data: [DONE]\n\n")])


async def test_no_event_lines(api: Api) -> None:
    _, chunks = await api.raw(json=body(stream=True), headers=fault("no-event-lines"))
    raw = b"".join(chunks)
    assert b"event:" not in raw
    check(raw, event_lines=False)


async def test_usage_faults(api: Api) -> None:
    request = body("count to 4", stream=True)
    _, chunks = await api.raw(json=request, headers=fault("usage-start-only"))
    payloads = check(b"".join(chunks))
    assert payloads[0]["message"]["usage"]["input_tokens"] == 3
    assert payloads[-2]["usage"] == {"output_tokens": 4}
    _, chunks = await api.raw(json=request, headers=fault("usage-delta-only"))
    payloads = check(b"".join(chunks))
    assert payloads[0]["message"]["usage"]["input_tokens"] == 0
    assert payloads[0]["message"]["usage"]["output_tokens"] == 0
    assert payloads[-2]["usage"]["input_tokens"] == 3 and payloads[-2]["usage"]["output_tokens"] == 4


async def test_faults_combine(api: Api) -> None:
    _, chunks = await api.raw(json=body(stream=True), headers=fault("crlf, usage-start-only, done-trailer"))
    raw = b"".join(chunks)
    assert raw.endswith(b"data: [DONE]\r\n\r\n")
    payloads = check(raw[: -len(b"data: [DONE]\r\n\r\n")], eol="\r\n")
    assert "input_tokens" not in payloads[-2]["usage"]


async def test_stream_faults_leave_json_replies_alone(api: Api) -> None:
    expected = (await api.post(json=body())).json()
    for name in ("sse-error", "truncated-stream", "unknown-events", "crlf", "done-trailer", "no-event-lines"):
        assert (await api.post(json=body(), headers=fault(name))).json() == expected


@pytest.mark.parametrize("header", ["no-such-fault", "slow-stream:soon", "rate-limit-once;colour=red"])
async def test_bad_fault_header(api: Api, header: str) -> None:
    response = await api.post(json=body(), headers=fault(header))
    assert response.status_code == 400 and "x-modelslab-fault" in response.json()["error"]["message"]


def test_fault_list_is_complete() -> None:
    required = [
        "rate-limit-once",
        "overloaded-once",
        "server-error",
        "error-body-200",
        "sse-error",
        "drop-mid-stream",
        "truncated-stream",
        "slow-headers",
        "slow-stream",
        "malformed-json",
        "html-502",
        "unknown-events",
        "crlf",
        "done-trailer",
        "usage-start-only",
        "usage-delta-only",
        "no-event-lines",
        "bare-reply",
        "rate-limit-reset",
        "rate-limit-reset-once",
        "provider-error-once",
    ]
    assert set(required) <= set(FAULTS)


@pytest.mark.parametrize("modelslab_server", [{"fault": "overloaded-once"}], indirect=True)
async def test_instance_fault_and_header_override(api: Api) -> None:
    assert (await api.post(json=body())).status_code == 529
    assert (await api.post(json=body())).status_code == 200
    assert (await api.post(json=body(), headers=fault("server-error"))).status_code == 500
    api.server.fault = "html-502"
    assert (await api.post(json=body())).status_code == 502
    api.server.fault = None
    assert (await api.post(json=body())).status_code == 200
    assert api.server.stats.by_fault == {"overloaded-once": 2, "server-error": 1, "html-502": 1}


async def test_peak_in_flight(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.server.base_url, headers=KEY, verify=False) as client:
        replies = await asyncio.gather(
            *(client.post("/v1/messages", json=body(), headers=fault("slow-headers:0.1")) for _ in range(5))
        )
    assert [r.status_code for r in replies] == [200] * 5
    stats = api.server.stats
    # the server counts a request out after its reply is written, so the client can read a reply first
    for _ in range(500):  # up to 5 s
        if not stats.in_flight:
            break
        await asyncio.sleep(0.01)
    assert stats.peak_in_flight == 5 and stats.in_flight == 0
    assert stats.requests == 5 and stats.by_path == {"/api/v7/llm/v1/messages": 5}
    stats.reset()
    assert stats.as_dict() == {
        "requests": 0,
        "by_path": {},
        "by_fault": {},
        "in_flight": 0,
        "peak_in_flight": 0,
    }


async def test_stats_over_http(api: Api) -> None:
    await api.post(json=body(), headers=fault("rate-limit-once;key=z"))
    stats = (await api.request("GET", api.server.url + "/_local/stats")).json()
    assert stats["by_fault"] == {"rate-limit-once;key=z": 1} and stats["requests"] == 1
    assert (await api.request("POST", api.server.url + "/_local/reset")).json() == {"ok": True}
    assert api.server.stats.requests == 0
    assert (await api.post(json=body(), headers=fault("rate-limit-once;key=z"))).status_code == 429


def test_stop_aborts_a_slow_stream() -> None:
    server = LocalServer(fault="slow-stream:10").start()
    client = httpx.Client(base_url=server.base_url, headers=KEY)
    with client.stream("POST", "/v1/messages", json=body(stream=True)) as response:
        chunks = response.iter_raw()
        next(chunks)
        started = time.perf_counter()
        server.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            list(chunks)
    assert time.perf_counter() - started < 5  # aborted, not waited out (the pause is 10 s)
    client.close()


@pytest.mark.parametrize(
    "name",
    ["crlf", "no-event-lines", "done-trailer", "usage-start-only", "usage-delta-only", "unknown-events"],
)
async def test_tolerable_stream_faults_accumulate_to_the_json_reply(api: Api, name: str) -> None:
    request = body("Use add on 2 and 3", tools=[{"name": "add", "input_schema": {"type": "object"}}])
    expected = Message.model_validate((await api.post(json=request)).json())
    _, chunks = await api.raw(json={**request, "stream": True}, headers=fault(name))
    decoder, accumulator = SSEDecoder(), MessageAccumulator()
    for sse in [event for chunk in chunks for event in decoder.feed(chunk)] + decoder.flush():
        if (event := parse_event(sse)) is not None:
            accumulator.feed(event)
    assert accumulator.complete and accumulator.message == expected


# --- what ModelsLab itself may send (issue 12) ---------------------------------------------------------


async def test_bare_reply_has_no_model_usage_or_stop_sequence(api: Api) -> None:
    normal = (await api.post(json=body("count to 3"))).json()
    bare = (await api.post(json=body("count to 3"), headers=fault("bare-reply"))).json()
    assert set(normal) - set(bare) == {"model", "usage", "stop_sequence"}
    assert {k: v for k, v in normal.items() if k in bare} == bare  # the rest is the normal reply


async def test_bare_reply_stream(api: Api) -> None:
    _, chunks = await api.raw(json=body("count to 3", stream=True), headers=fault("bare-reply"))
    payloads = [json.loads(data) for _, data in frames(b"".join(chunks))]
    kinds = [p["type"] for p in payloads]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    start = payloads[0]["message"]
    assert "model" not in start and "usage" not in start and "stop_sequence" not in start
    assert "usage" not in payloads[-2] and payloads[-2]["delta"] == {"stop_reason": "end_turn"}
    decoder, accumulator = SSEDecoder(), MessageAccumulator()
    for sse in [event for chunk in chunks for event in decoder.feed(chunk)] + decoder.flush():
        if (event := parse_event(sse)) is not None:
            accumulator.feed(event)
    assert accumulator.complete and accumulator.message.text == "1 2 3" and accumulator.usage is None


@pytest.mark.parametrize("name", ["rate-limit-reset", "rate-limit-reset-once"])
async def test_rate_limit_reset_sends_the_reset_time(api: Api, name: str) -> None:
    before = time.time()
    response = await api.post(json=body(), headers=fault(f"{name};retry-after=5"))
    after = time.time()
    assert response.status_code == 429 and response.json()["error"]["type"] == "rate_limit_error"
    assert "retry-after" not in response.headers  # only the header ModelsLab's CLI reads
    reset = int(response.headers["x-ratelimit-reset"])  # Unix seconds, an integer
    assert before + 5 <= reset <= after + 6
    assert response.headers["x-ratelimit-remaining"] == "0"
    again = await api.post(json=body(), headers=fault(f"{name};retry-after=5"))
    assert again.status_code == (200 if name.endswith("-once") else 429)


@pytest.mark.parametrize("stream", [False, True])
async def test_provider_error_once(api: Api, stream: bool) -> None:
    header = fault("provider-error-once")
    response, chunks = await api.raw(json=body(stream=stream), headers=header)
    assert response.status_code == 200
    provider = {"status": "error", "message": "Provider returned error"}
    if stream:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert b"".join(chunks) == b"data: " + json.dumps(provider).encode() + b"\n\n"
    else:
        assert json.loads(b"".join(chunks)) == provider
    second = await api.post(json=body(stream=stream), headers=header)
    assert second.status_code == 200 and b"Provider returned error" not in second.content
    assert api.server.stats.by_fault == {"provider-error-once": 2}


async def test_whitespace_text_beside_a_tool_call_is_accepted(api: Api) -> None:
    tool = {"name": "add", "input_schema": {"type": "object"}}
    messages = [
        {"role": "user", "content": "Use add on 2 and 3"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": " "},
                {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 2, "b": 3}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "5"}]},
    ]
    request = {"model": "m", "max_tokens": 64, "messages": messages, "tools": [tool]}
    response = await api.post(json=request)
    assert response.status_code == 200, response.text
    assert (await api.post(json=body(" \n"))).status_code == 200
