"""Load on loopback: 1,000 concurrent streams and 1,000 concurrent whole answers, core and both adapters.

The server runs in a subprocess (`python -m modelslab_core.testing --port 0`), so it does not share this
process's GIL or file descriptors: every socket in `/proc/self/fd` during a run is a client connection. Each
run asserts zero errors and whole answers, one request per call (nothing retried), the server's peak of
requests in flight within the cap (`max_concurrent_requests`, else the pool's 100 connections), the sockets
open at any moment within the same bound, and no file descriptor or asyncio task left behind. Each request
has a 5 s timeout: calls queued behind the pool must not spend it waiting (they all timed out before the core
queued them on its own semaphore).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from modelslab_core import AsyncClient
from modelslab_core.testing import server_process

from .paths import MODEL, adapter_missing
from .report import note

CALLS = 1000
POOL = 100  # the core's connection pool size when no cap is given
KEY = "sk-test-load"
LATENCY = "slow-headers:0.01"
"""Every answer waits 10 ms, as a real model would, so that requests pile up and the caps are exercised."""


@dataclass
class Remote:
    """The server subprocess: its base URL and its `/_local/*` control endpoints."""

    base_url: str
    root: str

    def stats(self) -> dict[str, Any]:
        with httpx.Client() as http:
            result: dict[str, Any] = http.get(self.root + "/_local/stats").json()
            return result

    def reset(self) -> None:
        with httpx.Client() as http:
            http.post(self.root + "/_local/reset").raise_for_status()


@pytest.fixture(scope="module")
def remote() -> Iterator[Remote]:
    with server_process() as base_url:
        assert base_url.startswith("http://127.0.0.1:"), base_url
        yield Remote(base_url, base_url.removesuffix("/api/v7/llm"))


def open_fds() -> list[str]:
    result = []
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed between listdir and readlink
            result.append(os.readlink(f"/proc/self/fd/{name}"))
    return result


def sockets() -> int:
    return sum(target.startswith("socket:") for target in open_fds())


# --- one call per implementation and kind: returns (text, input tokens, output tokens) ----------------------

Call = Callable[[Any, str], Awaitable[tuple[str, int, int]]]


async def core_stream(client: AsyncClient, prompt: str) -> tuple[str, int, int]:
    async with client.stream(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": prompt}]) as s:
        message = await s.get_final_message()
    return message.text, message.usage.input_tokens, message.usage.output_tokens


async def core_create(client: AsyncClient, prompt: str) -> tuple[str, int, int]:
    message = await client.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": prompt}])
    return message.text, message.usage.input_tokens, message.usage.output_tokens


async def lc_astream(llm: Any, prompt: str) -> tuple[str, int, int]:
    whole = None
    async for chunk in llm.astream(prompt):
        whole = chunk if whole is None else whole + chunk
    usage = whole.usage_metadata
    return whole.text, usage["input_tokens"], usage["output_tokens"]


async def lc_ainvoke(llm: Any, prompt: str) -> tuple[str, int, int]:
    message = await llm.ainvoke(prompt)
    return message.text, message.usage_metadata["input_tokens"], message.usage_metadata["output_tokens"]


def _li_messages(prompt: str) -> list[Any]:
    from llama_index.core.base.llms.types import ChatMessage

    return [ChatMessage(role="user", content=prompt)]


async def li_astream_chat(llm: Any, prompt: str) -> tuple[str, int, int]:
    last = None
    async for response in await llm.astream_chat(_li_messages(prompt)):
        last = response
    usage = last.raw["usage"]
    return last.message.content, usage["input_tokens"], usage["output_tokens"]


async def li_achat(llm: Any, prompt: str) -> tuple[str, int, int]:
    response = await llm.achat(_li_messages(prompt))
    usage = response.additional_kwargs["usage"]
    return response.message.content, usage["input_tokens"], usage["output_tokens"]


def make(adapter: str, base_url: str, cap: int | None) -> Any:
    options = {
        "api_key": KEY,
        "base_url": base_url,
        "max_concurrent_requests": cap,
        "max_retries": 0,
        "timeout": 5.0,  # per request: a call waiting for a free connection must not time out meanwhile
        "default_headers": {"x-modelslab-fault": LATENCY},
    }
    if adapter == "core":
        return AsyncClient(**options)
    if adapter == "langchain":
        from langchain_modelslab import ChatModelsLab

        return ChatModelsLab(model=MODEL, max_tokens=64, **options)
    from llama_index_modelslab import ModelsLab

    return ModelsLab(model=MODEL, max_tokens=64, **options)


async def close(adapter: str, made: Any) -> None:
    if adapter in ("core", "langchain"):
        await made.aclose()
    else:
        await made.async_client.aclose()


RUNS = [
    pytest.param("langchain", lc_astream, None, id="langchain-astream-pool"),
    pytest.param("langchain", lc_ainvoke, 16, id="langchain-ainvoke-cap16"),
    pytest.param("core", core_stream, 16, id="core-stream-cap16"),
    pytest.param("core", core_create, 8, id="core-create-cap8"),
    pytest.param("llama_index", li_astream_chat, 16, id="llamaindex-astream_chat-cap16"),
    pytest.param("llama_index", li_achat, 16, id="llamaindex-achat-cap16"),
]


@pytest.mark.parametrize(("adapter", "call", "cap"), RUNS)
async def test_a_thousand_concurrent_calls(
    remote: Remote, adapter: str, call: Call, cap: int | None, request: pytest.FixtureRequest
) -> None:
    if (missing := adapter_missing(adapter)) is not None:
        pytest.skip(missing)
    bound = cap or POOL
    made = make(adapter, remote.base_url, cap)
    await asyncio.sleep(0)
    fds_before, tasks_before = sorted(open_fds()), len(asyncio.all_tasks())
    remote.reset()
    baseline = sockets()  # the event loop's self-pipe, servers of other tests: not connections of this run
    peak_sockets = 0

    async def sample() -> None:
        nonlocal peak_sockets
        while True:
            peak_sockets = max(peak_sockets, sockets() - baseline)
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    prompts = [f"count to {1 + i % 9}" for i in range(CALLS)]
    results = await asyncio.gather(*(call(made, p) for p in prompts), return_exceptions=True)
    seconds = time.perf_counter() - started
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    await close(adapter, made)
    await asyncio.sleep(0)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} errors, first: {errors[0]!r}"
    for prompt, (text, input_tokens, output_tokens) in zip(prompts, results, strict=True):  # type: ignore[misc]
        n = int(prompt.rsplit(" ", 1)[1])
        assert (text, input_tokens, output_tokens) == (" ".join(map(str, range(1, n + 1))), 3, n)
    stats = remote.stats()
    assert stats["by_path"] == {"/api/v7/llm/v1/messages": CALLS}  # one request per call, none retried
    assert 1 < stats["peak_in_flight"] <= bound
    assert peak_sockets <= bound  # connections open at any one time
    assert sorted(open_fds()) == fds_before, "file descriptors left open"
    assert len(asyncio.all_tasks()) == tasks_before, "asyncio tasks left behind"
    note(
        f"load {request.node.callspec.id}: {CALLS} calls in {seconds:.1f}s, 0 errors, server peak in flight "
        f"{stats['peak_in_flight']} (bound {bound}), peak open connections {peak_sockets}"
    )
