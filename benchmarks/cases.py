"""What is measured: one callable per case, all sending the same request and getting the same reply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
KEY = "bench-key"


HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}


def prompt(deltas: int) -> str:
    """A prompt the local server answers with exactly `deltas` text deltas ("1 2 3 ... N")."""
    return f"count to {deltas}"


def request(deltas: int) -> dict[str, Any]:
    """The request every case sends: the prompt for `deltas` deltas, with room for all of them."""
    return {
        "model": MODEL,
        "max_tokens": deltas * 2,
        "messages": [{"role": "user", "content": prompt(deltas)}],
    }


@dataclass
class Case:
    name: str
    group: str
    run: Callable[[], Any] | None = None
    arun: Callable[[], Awaitable[Any]] | None = None


def raw_cases(base_url: str, deltas: int) -> list[Case]:
    url, body, headers = base_url + "/v1/messages", request(deltas), HEADERS
    sync, aclient = httpx.Client(), httpx.AsyncClient()

    def stream() -> int:
        n = 0
        with sync.stream(
            "POST", url, content=json.dumps({**body, "stream": True}), headers=headers
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    json.loads(line[5:])
                    n += 1
        return n

    async def ainvoke() -> Any:
        return (await aclient.post(url, content=json.dumps(body), headers=headers)).json()

    async def astream() -> int:
        n = 0
        payload = json.dumps({**body, "stream": True})
        async with aclient.stream("POST", url, content=payload, headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    json.loads(line[5:])
                    n += 1
        return n

    return [
        Case("raw httpx invoke", "raw", run=_raw_invoke(base_url, deltas)),
        Case("raw httpx stream", "raw", run=stream),
        Case("raw httpx ainvoke", "raw", arun=ainvoke),
        Case("raw httpx astream", "raw", arun=astream),
    ]


def core_cases(base_url: str, deltas: int) -> list[Case]:
    from modelslab_core import AsyncClient, Client

    client, aclient = Client(KEY, base_url=base_url), AsyncClient(KEY, base_url=base_url)
    call = request(deltas)

    def stream() -> Any:
        with client.stream(**call) as s:
            for _ in s:
                pass
            return s.current_message

    async def astream() -> Any:
        async with aclient.stream(**call) as s:
            async for _ in s:
                pass
            return s.current_message

    return [
        Case("core Client.create", "core", run=lambda: client.create(**call)),
        Case("core Client.stream", "core", run=stream),
        Case("core AsyncClient.create", "core", arun=lambda: aclient.create(**call)),
        Case("core AsyncClient.stream", "core", arun=astream),
    ]


def _drain(iterator: Any) -> int:
    n = 0
    for _ in iterator:
        n += 1
    return n


async def _adrain(iterator: Any) -> int:
    n = 0
    async for _ in iterator:
        n += 1
    return n


def _raw_invoke(base_url: str, deltas: int) -> Callable[[], Any]:
    """One raw httpx POST + `.json()`: the wire's floor, alone and inside the floors that include the wire."""
    client, body = httpx.Client(), request(deltas)
    return lambda: client.post(base_url + "/v1/messages", content=json.dumps(body), headers=HEADERS).json()


def langchain_cases(base_url: str, deltas: int, pieces: list[str]) -> list[Case]:
    from langchain_modelslab import ChatModelsLab

    from .floors import langchain_floor

    floor = langchain_floor(pieces)
    wired = langchain_floor(pieces, wire=_raw_invoke(base_url, deltas))
    model = ChatModelsLab(model=MODEL, api_key=KEY, base_url=base_url, max_tokens=deltas * 2)
    text = prompt(deltas)
    return [
        Case("LangChain floor invoke", "langchain", run=lambda: floor.invoke(text)),
        Case("LangChain floor stream", "langchain", run=lambda: _drain(floor.stream(text))),
        Case("LangChain floor + raw httpx invoke", "langchain", run=lambda: wired.invoke(text)),
        Case("ChatModelsLab.invoke", "langchain", run=lambda: model.invoke(text)),
        Case("ChatModelsLab.stream", "langchain", run=lambda: _drain(model.stream(text))),
        Case("ChatModelsLab.ainvoke", "langchain", arun=lambda: model.ainvoke(text)),
        Case("ChatModelsLab.astream", "langchain", arun=lambda: _adrain(model.astream(text))),
        Case("ChatModelsLab.abatch (8)", "langchain", arun=lambda: model.abatch([text] * 8)),
    ]


def anthropic_cases(base_url: str, deltas: int) -> list[Case]:
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError:
        return []
    model = ChatAnthropic(model=MODEL, api_key=KEY, base_url=base_url, max_tokens=deltas * 2)  # type: ignore[call-arg]
    text = prompt(deltas)
    return [
        Case("ChatAnthropic.invoke", "anthropic", run=lambda: model.invoke(text)),
        Case("ChatAnthropic.stream", "anthropic", run=lambda: _drain(model.stream(text))),
    ]


def llama_index_cases(base_url: str, deltas: int, pieces: list[str]) -> list[Case]:
    from llama_index.core.base.llms.types import ChatMessage

    from llama_index_modelslab import ModelsLab

    from .floors import llama_index_floor

    floor = llama_index_floor(pieces)
    wired = llama_index_floor(pieces, wire=_raw_invoke(base_url, deltas))
    llm = ModelsLab(model=MODEL, api_key=KEY, base_url=base_url, max_tokens=deltas * 2)
    messages = [ChatMessage(role="user", content=prompt(deltas))]

    async def astream(target: Any) -> int:
        return await _adrain(await target.astream_chat(messages))

    return [
        Case("LlamaIndex floor chat", "llama_index", run=lambda: floor.chat(messages)),
        Case("LlamaIndex floor stream_chat", "llama_index", run=lambda: _drain(floor.stream_chat(messages))),
        Case("LlamaIndex floor + raw httpx chat", "llama_index", run=lambda: wired.chat(messages)),
        Case("ModelsLab.chat", "llama_index", run=lambda: llm.chat(messages)),
        Case("ModelsLab.stream_chat", "llama_index", run=lambda: _drain(llm.stream_chat(messages))),
        Case("ModelsLab.achat", "llama_index", arun=lambda: llm.achat(messages)),
        Case("ModelsLab.astream_chat", "llama_index", arun=lambda: astream(llm)),
    ]


async def concurrent_throughput(base_url: str, n: int, pool: int, use_adapter: bool) -> float:
    """Calls per second with `n` ainvoke calls in flight over a pool of `pool` connections."""
    import time

    body = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "say hello"}]}
    if use_adapter:
        from langchain_modelslab import ChatModelsLab

        model = ChatModelsLab(
            model=MODEL, api_key=KEY, base_url=base_url, max_tokens=64, max_concurrent_requests=pool
        )

        async def one() -> Any:
            return await model.ainvoke("say hello")
    else:
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        client = httpx.AsyncClient(limits=limits, timeout=60)

        async def one() -> Any:
            response = await client.post(base_url + "/v1/messages", content=json.dumps(body), headers=HEADERS)
            return response.json()

    await asyncio.gather(*(one() for _ in range(min(n, 16))))  # warm the pool
    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - start)
