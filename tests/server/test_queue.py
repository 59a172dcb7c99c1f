"""The local server's imitation of ModelsLab's account queue: N in service per key, the rest refused."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from modelslab_core.testing import LocalServer, server_process

BODY = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


async def fire(base_url: str, keys: list[str], *, stream: bool = False) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=10) as http:
        calls = [
            http.post(f"{base_url}/v1/messages", json={**BODY, "stream": stream}, headers={"x-api-key": key})
            for key in keys
        ]
        return list(await asyncio.gather(*calls))


def test_requests_past_the_limit_are_refused_with_the_platform_error_page() -> None:
    with LocalServer(queue_limit=2, latency_ms=200) as server:
        replies = asyncio.run(fire(server.base_url, ["a"] * 5))
        statuses = sorted(reply.status_code for reply in replies)
        assert statuses == [200, 200, 429, 429, 429]
        refused = next(reply for reply in replies if reply.status_code == 429).json()
        assert (
            refused["status"] == "error"
            and refused["retry_after"] == 30
            and "queue limit" in refused["message"]
        )
        assert server.queue.counters() == {"queue_refused": 3, "peak_in_service": 2, "queue_limit": 2}


def test_the_limit_is_per_api_key() -> None:
    with LocalServer(queue_limit=1, latency_ms=200) as server:
        replies = asyncio.run(fire(server.base_url, ["a", "b", "c"]))
        assert [reply.status_code for reply in replies] == [200, 200, 200]


def test_a_stream_holds_its_slot_until_its_last_piece() -> None:
    with LocalServer(queue_limit=1, latency_ms=400) as server:
        url, headers = f"{server.base_url}/v1/messages", {"x-api-key": "a"}

        async def run() -> tuple[int, int, int]:
            async with httpx.AsyncClient(timeout=10) as http:
                stream_body = {**BODY, "stream": True}
                async with http.stream("POST", url, json=stream_body, headers=headers) as first:
                    pieces = first.aiter_bytes()
                    await pieces.__anext__()  # the stream has begun; its pieces are spread over 400 ms
                    during = (await http.post(url, json=BODY, headers=headers)).status_code
                    async for _ in pieces:
                        pass
                after = (await http.post(url, json=BODY, headers=headers)).status_code
                return first.status_code, during, after

        assert asyncio.run(run()) == (200, 429, 200)


def test_set_limit_changes_it_while_running() -> None:
    with LocalServer(queue_limit=5, latency_ms=200) as server:
        server.queue.set_limit(1)
        statuses = sorted(reply.status_code for reply in asyncio.run(fire(server.base_url, ["a"] * 3)))
        assert statuses == [200, 429, 429]


def test_bad_queue_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="queue_limit"):
        LocalServer(queue_limit=0)
    with pytest.raises(ValueError, match="latency"):
        LocalServer(latency_ms=-1)


def test_the_command_line_flags_and_the_stats_endpoint() -> None:
    with server_process(["--queue-limit", "1", "--latency-ms", "200"]) as base_url:
        statuses = sorted(reply.status_code for reply in asyncio.run(fire(base_url, ["a"] * 3)))
        assert statuses == [200, 429, 429]
        root = base_url.removesuffix("/api/v7/llm")
        stats = json.loads(httpx.get(f"{root}/_local/stats").text)
        assert stats["queue_refused"] == 2 and stats["peak_in_service"] == 1 and stats["queue_limit"] == 1
