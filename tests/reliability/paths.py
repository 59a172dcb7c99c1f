"""The call paths the fault matrix drives: each is `(server, fault, **settings) -> Result`.

A path builds its own client (core `Client`/`AsyncClient`, `ChatModelsLab` or `ModelsLab`) pointed at the
local server with the fault in the `x-modelslab-fault` header, asks "count to N", and reports what the caller
got: the answer returned as whole (text and usage), the text pieces a stream handed out before it ended, and
the exception, if any. Nothing here asserts: the tests compare a `Result` with `expected.ROWS`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from modelslab_core import AsyncClient, Client, ContentBlockDeltaEvent, Message, TextDelta
from modelslab_core.testing import LocalServer

__all__ = [
    "ADAPTER_PATHS",
    "COUNT",
    "FULL_TEXT",
    "INPUT_TOKENS",
    "MODEL",
    "PATHS",
    "PROMPT",
    "Path",
    "Result",
    "adapter_missing",
]

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
COUNT = 10
PROMPT = f"count to {COUNT}"
FULL_TEXT = " ".join(str(i) for i in range(1, COUNT + 1))
INPUT_TOKENS = len(PROMPT.split())  # the local model counts whitespace tokens
OUTPUT_TOKENS = COUNT
API_KEY = "sk-test-reliability"

Kind = Literal["create", "stream"]


@dataclass
class Result:
    """What one call gave its caller."""

    text: str | None = None
    """The answer's text when the call returned normally (for streams: the accumulated whole)."""
    input_tokens: int | None = None
    output_tokens: int | None = None
    model: str | None = None
    """The model name the answer reports."""
    pieces: list[str] = field(default_factory=list)
    """Text pieces a stream handed to the caller, in order (empty ones dropped)."""
    items: int = 0
    """Items (events, chunks, responses) a stream handed to the caller, text or not."""
    error: BaseException | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Path:
    """One way to call the API: a name, whether it streams, and the function that makes the call."""

    name: str
    kind: Kind
    call: Callable[..., Result]
    adapter: str = "core"

    def __call__(self, server: LocalServer, fault: str | None, **settings: Any) -> Result:
        result = Result()
        started = time.perf_counter()
        try:
            self.call(result, _options(server, fault, settings))
        except Exception as exc:  # the test decides whether this was the right error
            result.error = exc
        result.seconds = time.perf_counter() - started
        return result


def _options(server: LocalServer, fault: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    headers = dict(settings.pop("default_headers", None) or {})
    if fault:
        headers["x-modelslab-fault"] = fault
    return {
        "api_key": settings.pop("api_key", API_KEY),
        "base_url": settings.pop("base_url", server.base_url),
        "default_headers": headers,
        **settings,
    }


def _max_tokens(options: dict[str, Any]) -> int:
    return int(options.pop("max_tokens", 256))


# --- the core ---------------------------------------------------------------------------------------------


_CALL = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}


def _core_usage(result: Result, message: Message) -> None:
    result.model = message.model
    if message.usage is not None:
        result.input_tokens, result.output_tokens = message.usage.input_tokens, message.usage.output_tokens


def _core_sync_create(result: Result, options: dict[str, Any]) -> None:
    max_tokens = _max_tokens(options)
    with Client(**options) as client:
        message = client.create(max_tokens=max_tokens, **_CALL)
    result.text = message.text
    _core_usage(result, message)


def _take(result: Result, event: object) -> None:
    result.items += 1
    if isinstance(event, ContentBlockDeltaEvent) and isinstance(event.delta, TextDelta) and event.delta.text:
        result.pieces.append(event.delta.text)


def _core_sync_stream(result: Result, options: dict[str, Any]) -> None:
    max_tokens = _max_tokens(options)
    with Client(**options) as client, client.stream(max_tokens=max_tokens, **_CALL) as stream:
        for event in stream:
            _take(result, event)
        message = stream.get_final_message()
    result.text = message.text
    _core_usage(result, message)


def _core_async_create(result: Result, options: dict[str, Any]) -> None:
    max_tokens = _max_tokens(options)

    async def run() -> None:
        async with AsyncClient(**options) as client:
            message = await client.create(max_tokens=max_tokens, **_CALL)
        result.text = message.text
        _core_usage(result, message)

    asyncio.run(run())


def _core_async_stream(result: Result, options: dict[str, Any]) -> None:
    max_tokens = _max_tokens(options)

    async def run() -> None:
        async with AsyncClient(**options) as client, client.stream(max_tokens=max_tokens, **_CALL) as stream:
            async for event in stream:
                _take(result, event)
            message = await stream.get_final_message()
        result.text = message.text
        _core_usage(result, message)

    asyncio.run(run())


# --- LangChain: ChatModelsLab -----------------------------------------------------------------------------


def _chat_models_lab(options: dict[str, Any]) -> Any:
    from langchain_modelslab import ChatModelsLab

    return ChatModelsLab(model=MODEL, max_tokens=_max_tokens(options), **options)


def _lc_usage(result: Result, message: Any) -> None:
    usage = message.usage_metadata or {}
    result.input_tokens, result.output_tokens = usage.get("input_tokens"), usage.get("output_tokens")
    result.model = message.response_metadata.get("model_name")


def _lc_invoke(result: Result, options: dict[str, Any]) -> None:
    llm = _chat_models_lab(options)
    try:
        message = llm.invoke(PROMPT)
    finally:
        llm.close()
    result.text = message.text
    _lc_usage(result, message)


def _lc_take(result: Result, whole: Any, chunk: Any) -> Any:
    result.items += 1
    if chunk.text:
        result.pieces.append(chunk.text)
    return chunk if whole is None else whole + chunk


def _lc_stream(result: Result, options: dict[str, Any]) -> None:
    llm = _chat_models_lab(options)
    whole = None
    try:
        for chunk in llm.stream(PROMPT):
            whole = _lc_take(result, whole, chunk)
    finally:
        llm.close()
    if whole is not None:
        result.text = whole.text
        _lc_usage(result, whole)


def _lc_ainvoke(result: Result, options: dict[str, Any]) -> None:
    llm = _chat_models_lab(options)

    async def run() -> None:
        try:
            message = await llm.ainvoke(PROMPT)
        finally:
            await llm.aclose()
        result.text = message.text
        _lc_usage(result, message)

    asyncio.run(run())


def _lc_astream(result: Result, options: dict[str, Any]) -> None:
    llm = _chat_models_lab(options)

    async def run() -> None:
        whole = None
        try:
            async for chunk in llm.astream(PROMPT):
                whole = _lc_take(result, whole, chunk)
        finally:
            await llm.aclose()
        if whole is not None:
            result.text = whole.text
            _lc_usage(result, whole)

    asyncio.run(run())


# --- LlamaIndex: ModelsLab --------------------------------------------------------------------------------


def _models_lab(options: dict[str, Any]) -> Any:
    from llama_index_modelslab import ModelsLab

    return ModelsLab(model=MODEL, max_tokens=_max_tokens(options), **options)


def _li_messages() -> list[Any]:
    from llama_index.core.base.llms.types import ChatMessage

    return [ChatMessage(role="user", content=PROMPT)]


def _li_usage(result: Result, response: Any) -> None:
    usage = response.additional_kwargs.get("usage") or {}
    raw_usage = (response.raw or {}).get("usage") or {}
    if usage != raw_usage:  # both places must say the same (TokenCountingHandler reads raw)
        raise AssertionError(f"additional_kwargs usage {usage} != raw usage {raw_usage}")
    result.input_tokens, result.output_tokens = usage.get("input_tokens"), usage.get("output_tokens")
    result.model = (response.raw or {}).get("model")


def _li_chat(result: Result, options: dict[str, Any]) -> None:
    llm = _models_lab(options)
    try:
        response = llm.chat(_li_messages())
    finally:
        llm.client.close()
    result.text = response.message.content
    _li_usage(result, response)


def _li_take(result: Result, response: Any) -> None:
    result.items += 1
    if response.delta:
        result.pieces.append(response.delta)


def _li_stream_chat(result: Result, options: dict[str, Any]) -> None:
    llm = _models_lab(options)
    last = None
    try:
        for response in llm.stream_chat(_li_messages()):
            _li_take(result, response)
            last = response
    finally:
        llm.client.close()
    if last is not None:
        result.text = last.message.content
        _li_usage(result, last)


def _li_achat(result: Result, options: dict[str, Any]) -> None:
    llm = _models_lab(options)

    async def run() -> None:
        try:
            response = await llm.achat(_li_messages())
        finally:
            await llm.async_client.aclose()
        result.text = response.message.content
        _li_usage(result, response)

    asyncio.run(run())


def _li_astream_chat(result: Result, options: dict[str, Any]) -> None:
    llm = _models_lab(options)

    async def run() -> None:
        last = None
        try:
            async for response in await llm.astream_chat(_li_messages()):
                _li_take(result, response)
                last = response
        finally:
            await llm.async_client.aclose()
        if last is not None:
            result.text = last.message.content
            _li_usage(result, last)

    asyncio.run(run())


# --- the table of paths -----------------------------------------------------------------------------------

PATHS: tuple[Path, ...] = (
    Path("core-sync-create", "create", _core_sync_create),
    Path("core-sync-stream", "stream", _core_sync_stream),
    Path("core-async-create", "create", _core_async_create),
    Path("core-async-stream", "stream", _core_async_stream),
    Path("langchain-invoke", "create", _lc_invoke, "langchain"),
    Path("langchain-stream", "stream", _lc_stream, "langchain"),
    Path("langchain-ainvoke", "create", _lc_ainvoke, "langchain"),
    Path("langchain-astream", "stream", _lc_astream, "langchain"),
    Path("llamaindex-chat", "create", _li_chat, "llama_index"),
    Path("llamaindex-stream_chat", "stream", _li_stream_chat, "llama_index"),
    Path("llamaindex-achat", "create", _li_achat, "llama_index"),
    Path("llamaindex-astream_chat", "stream", _li_astream_chat, "llama_index"),
)
ADAPTER_PATHS = {"langchain": "langchain_modelslab", "llama_index": "llama_index_modelslab"}


def adapter_missing(adapter: str) -> str | None:
    """Why an adapter cannot be driven yet (its class does not import), or None when it can."""
    if adapter == "core":
        return None
    try:
        if adapter == "langchain":
            from langchain_modelslab import ChatModelsLab  # noqa: F401
        else:
            from llama_index_modelslab import ModelsLab  # noqa: F401
    except Exception as exc:
        return f"adapter not available: {ADAPTER_PATHS[adapter]} does not import ({exc!r})"
    return None
