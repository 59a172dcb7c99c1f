"""Every record of the wire corpus, replayed through the real client over `httpx.MockTransport`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modelslab_core as mc
from modelslab_core import MessageAccumulator, SSEDecoder, parse_event

from .corpus import ERROR_CLASS, RECORDS, STREAMS, expected, record_id

MESSAGES = [{"role": "user", "content": "hi"}]


def _transport(record: dict[str, Any], chunk_size: int | None = None) -> httpx.MockTransport:
    body = record["response_body"].encode("utf-8")

    def handler(request: httpx.Request) -> httpx.Response:
        kind = "text/event-stream" if record["is_stream"] else "application/json"
        if chunk_size is None:
            return httpx.Response(record["status"], content=body, headers={"content-type": kind})
        pieces = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
        return httpx.Response(record["status"], content=iter(pieces), headers={"content-type": kind})

    return httpx.MockTransport(handler)


async def _replay(record: dict[str, Any], sync: bool) -> mc.Message | int:
    transport = _transport(record)
    kwargs: dict[str, Any] = {"api_key": "test-key", "base_url": "http://127.0.0.1:9", "max_retries": 0}
    call: dict[str, Any] = {"model": "m", "max_tokens": 16, "messages": MESSAGES}
    if sync:
        with mc.Client(http_client=httpx.Client(transport=transport), **kwargs) as client:
            if record["meta"]["endpoint"] == "count_tokens":
                return client.count_tokens(model="m", messages=MESSAGES)
            if record["is_stream"]:
                with client.stream(**call) as stream:
                    return stream.get_final_message()
            return client.create(**call)
    async with mc.AsyncClient(http_client=httpx.AsyncClient(transport=transport), **kwargs) as aclient:
        if record["meta"]["endpoint"] == "count_tokens":
            return await aclient.count_tokens(model="m", messages=MESSAGES)
        if record["is_stream"]:
            async with aclient.stream(**call) as astream:
                return await astream.get_final_message()
        return await aclient.create(**call)


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
@pytest.mark.parametrize("record", RECORDS, ids=[f"{i}-{record_id(r)}" for i, r in enumerate(RECORDS)])
async def test_replay_matches_recording(record: dict[str, Any], sync: bool) -> None:
    want = expected(record)
    if "error" in want:
        with pytest.raises(mc.APIStatusError) as info:
            await _replay(record, sync)
        assert type(info.value).__name__ == ERROR_CLASS[want["error"]]
        assert info.value.error_type == want["error"]
        assert str(info.value)  # quotes the server's message
        return
    message = await _replay(record, sync)
    assert isinstance(message, mc.Message)
    assert message.text == want["text"]
    assert [block.input for block in message.tool_uses] == want["tools"]
    assert message.stop_reason == want["stop_reason"]
    assert message.usage.input_tokens == want["input_tokens"]
    assert message.usage.output_tokens == want["output_tokens"]


def test_corpus_is_complete() -> None:
    assert len(RECORDS) == 65
    assert sum(r["meta"]["endpoint"] == "messages" for r in RECORDS) == 64


def _accumulate(chunks: list[bytes]) -> mc.Message:
    decoder, accumulator = SSEDecoder(), MessageAccumulator()
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            if (event := parse_event(sse)) is not None:
                accumulator.feed(event)
    for sse in decoder.flush():
        if (event := parse_event(sse)) is not None:
            accumulator.feed(event)
    assert accumulator.complete
    return accumulator.message


def _dump(message: mc.Message) -> str:
    return json.dumps(message.model_dump(mode="json"), sort_keys=True)


SMALL_STREAMS = [r for r in STREAMS if len(r["response_body"]) < 2000 and "error" not in expected(r)]


@pytest.mark.parametrize("record", SMALL_STREAMS[:4], ids=record_id)
def test_every_byte_split_gives_the_same_message(record: dict[str, Any]) -> None:
    body = record["response_body"].encode("utf-8")
    whole = _dump(_accumulate([body]))
    for offset in range(1, len(body)):
        assert _dump(_accumulate([body[:offset], body[offset:]])) == whole, offset


COMPLETE_STREAMS = [r for r in STREAMS if "error" not in expected(r)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), index=st.integers(0, len(COMPLETE_STREAMS) - 1))
def test_random_splits_give_the_same_message(data: st.DataObject, index: int) -> None:
    body = COMPLETE_STREAMS[index]["response_body"].encode("utf-8")
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(body) - 1)), max_size=40)))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert _dump(_accumulate(chunks)) == _dump(_accumulate([body]))


@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
def test_client_stream_survives_any_chunking(chunk_size: int) -> None:
    record = next(r for r in STREAMS if "tool_use" in r["response_body"] and "error" not in expected(r))
    client = mc.Client(
        api_key="test-key",
        base_url="http://127.0.0.1:9",
        http_client=httpx.Client(transport=_transport(record, chunk_size)),
    )
    with client.stream(model="m", max_tokens=16, messages=MESSAGES) as stream:
        message = stream.get_final_message()
    assert [block.input for block in message.tool_uses] == expected(record)["tools"]
