"""Malformed calls into the core and both adapters: each is a `ValueError` naming the field, before any I/O.

Every case runs against the local server and checks that the server received nothing: a caller's mistake
never costs a round trip, and never turns into a vague 400 from the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from modelslab_core import AsyncClient, Client
from modelslab_core.testing import LocalServer

from .paths import MODEL, adapter_missing

USER = [{"role": "user", "content": "hi"}]
TOOL = {"name": "get_weather", "description": "Weather in a city", "input_schema": {"type": "object"}}
HUGE = "x" * (33 * 1024 * 1024)  # over the API's 32 MB request limit
KEY = "sk-test-bad-input"


@dataclass(frozen=True)
class Bad:
    """One malformed call: `call(base_url)` must raise a ValueError whose message matches `match`."""

    id: str
    call: Callable[[str], Any]
    match: str
    adapter: str = "core"


# --- the core: sync and async, create and stream ------------------------------------------------------------


def create(**overrides: Any) -> Callable[[str], Any]:
    def call(base: str) -> Any:
        options = {"api_key": KEY, "base_url": base}
        options.update({k: overrides.pop(k) for k in list(overrides) if k in CLIENT_OPTIONS})
        params = {"model": MODEL, "max_tokens": 16, "messages": USER, **overrides}
        with Client(**options) as client:
            return client.create(**params)

    return call


def astream(**overrides: Any) -> Callable[[str], Any]:
    async def run(base: str) -> None:
        async with AsyncClient(api_key=KEY, base_url=base) as client:
            params = {"model": MODEL, "max_tokens": 16, "messages": USER, **overrides}
            async with client.stream(**params) as stream:
                await stream.get_final_message()

    return lambda base: asyncio.run(run(base))


def acreate(**overrides: Any) -> Callable[[str], Any]:
    async def run(base: str) -> None:
        async with AsyncClient(api_key=KEY, base_url=base) as client:
            await client.create(**{"model": MODEL, "max_tokens": 16, "messages": USER, **overrides})

    return lambda base: asyncio.run(run(base))


def stream(**overrides: Any) -> Callable[[str], Any]:
    def call(base: str) -> Any:
        with Client(api_key=KEY, base_url=base) as client:
            params = {"model": MODEL, "max_tokens": 16, "messages": USER, **overrides}
            with client.stream(**params) as events:
                return events.get_final_message()

    return call


def client(**options: Any) -> Callable[[str], Any]:
    def call(base: str) -> Any:
        settings = {"api_key": KEY, "base_url": base, **options}
        with Client(**settings) as made:
            return made.create(model=MODEL, max_tokens=16, messages=USER)

    return call


CLIENT_OPTIONS = (
    "api_key",
    "base_url",
    "timeout",
    "max_retries",
    "default_headers",
    "max_concurrent_requests",
)


def user(content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


CORE = [
    Bad("temperature-above-1", create(temperature=1.5), r"temperature must be a number between 0 and 1"),
    Bad("temperature-str", acreate(temperature="hot"), r"temperature"),
    Bad("top_p-negative", stream(top_p=-0.1), r"top_p"),
    Bad("top_k-zero", astream(top_k=0), r"top_k must be an integer >= 1"),
    Bad("max_tokens-zero", create(max_tokens=0), r"max_tokens must be an integer >= 1"),
    Bad("max_tokens-bool", acreate(max_tokens=True), r"max_tokens"),
    Bad("max_tokens-float", stream(max_tokens=16.0), r"max_tokens"),
    Bad("model-empty", create(model=""), r"model must be a non-empty string"),
    Bad("model-int", astream(model=7), r"model"),
    Bad("messages-empty", create(messages=[]), r"messages must be a non-empty list"),
    Bad("messages-str", acreate(messages="hi"), r"messages must be a non-empty list"),
    Bad("role-system", create(messages=[{"role": "system", "content": "x"}]), r"messages\[0\]\.role"),
    Bad("content-empty-list", stream(messages=user([])), r"messages\[0\]\.content must not be an empty list"),
    Bad("content-empty-str", create(messages=user("")), r"messages\[0\]\.content must not be empty"),
    Bad(  # only "" is refused: whitespace text is sent (ModelsLab answered a recorded " ")
        "text-block-empty",
        astream(messages=user([{"type": "text", "text": ""}])),
        r"messages\[0\]\.content\[0\]\.text must be a non-empty string",
    ),
    Bad("content-int", create(messages=user(123)), r"messages\[0\]\.content must be a string or a list"),
    Bad(
        "block-type-unknown",
        create(messages=user([{"type": "video", "url": "https://x.example/v.mp4"}])),
        r"messages\[0\]\.content\[0\]\.type 'video' is not a supported block type",
    ),
    Bad(
        "image-without-source",
        acreate(messages=user([{"type": "image"}])),
        r"messages\[0\]\.content\[0\]\.source",
    ),
    Bad(
        "tool_use-input-not-object",
        create(
            messages=[
                *USER,
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t", "name": "f", "input": "x"}],
                },
            ]
        ),
        r"messages\[1\]\.content\[0\]\.input must be a JSON object",
    ),
    Bad("surrogate-in-content", create(messages=user("a\ud800b")), r"not valid UTF-8"),
    Bad("surrogate-in-system", astream(system="\udfff"), r"not valid UTF-8"),
    Bad("huge-message", create(messages=user(HUGE)), r"request body is .* MB; .* at most 32 MB"),
    Bad(
        "tool-schema-array",
        create(tools=[{**TOOL, "input_schema": {"type": "array"}}]),
        r"tools\[0\]\.input_schema must be a JSON schema with type 'object'",
    ),
    Bad(
        "tool-schema-str",
        stream(tools=[{**TOOL, "input_schema": "object"}]),
        r"tools\[0\]\.input_schema",
    ),
    Bad("tools-not-list", create(tools=TOOL), r"tools must be a list"),
    Bad("tool-name-space", acreate(tools=[{**TOOL, "name": "get weather"}]), r"tools\[0\]\.name must match"),
    Bad("tool-names-repeated", create(tools=[TOOL, TOOL]), r"tools\[1\]\.name .* must be unique"),
    Bad("tool_choice-type", create(tools=[TOOL], tool_choice={"type": "function"}), r"tool_choice must be"),
    Bad(
        "tool_choice-unknown-tool",
        astream(tools=[TOOL], tool_choice={"type": "tool", "name": "nope"}),
        r"tool_choice names tool 'nope', which is not in tools",
    ),
    Bad("tool_choice-without-tools", create(tool_choice={"type": "any"}), r"tool_choice 'any' needs tools"),
    Bad("tool_choice-str", create(tools=[TOOL], tool_choice="auto"), r"tool_choice must be"),
    Bad("stop_sequences-str", stream(stop_sequences="STOP"), r"stop_sequences must be a list"),
    Bad("stop_sequences-empty", create(stop_sequences=[""]), r"stop_sequences"),
    Bad("metadata-str", create(metadata="user-1"), r"metadata must be a dict"),
    Bad("extra_body-list", acreate(extra_body=[1]), r"extra_body must be a dict"),
    Bad("base_url-ftp", client(base_url="ftp://127.0.0.1/api"), r"base_url must be an http\(s\) URL"),
    Bad("base_url-no-scheme", client(base_url="127.0.0.1:8080/api"), r"base_url must be an http\(s\) URL"),
    Bad("base_url-no-host", client(base_url="http:///api/v7/llm"), r"base_url must be an http\(s\) URL"),
    Bad("base_url-query", client(base_url="http://127.0.0.1:9/api/v7/llm?x=1"), r"base_url .* query"),
    Bad("base_url-fragment", client(base_url="http://127.0.0.1:9/api/v7/llm#v1"), r"base_url .* fragment"),
    Bad("base_url-credentials", client(base_url="http://u:pw@127.0.0.1:9/api"), r"base_url must not hold"),
    Bad("api_key-missing", client(api_key=None), r"api_key is missing.*MODELSLAB_API_KEY"),
    Bad("api_key-blank", client(api_key="   "), r"api_key is missing"),
    Bad("api_key-line-break", client(api_key="sk-a\nb"), r"api_key holds characters"),
    Bad("header-non-ascii", client(default_headers={"x-team": "équipe"}), r"default_headers\['x-team'\]"),
    Bad("header-name", client(default_headers={"bad header": "x"}), r"default_headers: 'bad header'"),
    Bad("timeout-zero", client(timeout=0), r"timeout must be a number of seconds > 0"),
    Bad("max_retries-negative", client(max_retries=-1), r"max_retries must be an integer >= 0"),
    Bad("max_concurrent_requests-zero", client(max_concurrent_requests=0), r"max_concurrent_requests"),
]


# --- LangChain: ChatModelsLab -------------------------------------------------------------------------------


def chat_models_lab(base: str, **fields: Any) -> Any:
    from langchain_modelslab import ChatModelsLab

    return ChatModelsLab(model=MODEL, **{"api_key": KEY, "base_url": base, **fields})


def lc(
    method: str, arg: Any = "hi", fields: dict[str, Any] | None = None, **kwargs: Any
) -> Callable[[str], Any]:
    def call(base: str) -> Any:
        llm = chat_models_lab(base, **(fields or {}))
        if method == "invoke":
            return llm.invoke(arg, **kwargs)
        if method == "stream":
            return list(llm.stream(arg, **kwargs))
        if method == "ainvoke":
            return asyncio.run(llm.ainvoke(arg, **kwargs))

        async def consume() -> None:
            async for _ in llm.astream(arg, **kwargs):
                pass

        return asyncio.run(consume())

    return call


def lc_tools(tools: list[Any], **bind: Any) -> Callable[[str], Any]:
    return lambda base: chat_models_lab(base).bind_tools(tools, **bind).invoke("weather in Paris?")


def lc_video() -> list[Any]:
    from langchain_core.messages import HumanMessage

    return [HumanMessage(content=[{"type": "video", "url": "https://x.example/v.mp4"}])]


LANGCHAIN = [
    Bad("temperature-above-1", lc("invoke", fields={"temperature": 1.5}), r"temperature"),
    Bad("max_tokens-zero", lc("stream", fields={"max_tokens": 0}), r"max_tokens"),
    Bad("top_k-kwarg-zero", lc("ainvoke", top_k=0), r"top_k must be an integer >= 1"),
    Bad("temperature-kwarg", lc("astream", temperature=3), r"temperature must be a number between 0 and 1"),
    Bad("messages-empty", lc("invoke", []), r"messages must be a non-empty list"),
    Bad("block-type-unknown", lambda base: lc("ainvoke", lc_video())(base), r"type 'video'"),
    Bad("surrogate", lc("astream", "a\ud800"), r"not valid UTF-8"),
    Bad("huge-message", lc("invoke", HUGE), r"at most 32 MB"),
    Bad("stop-empty", lc("invoke", stop=[""]), r"stop_sequences"),
    Bad(
        "tool-schema-array",
        lc_tools([{**TOOL, "input_schema": {"type": "array"}}]),
        r"tools\[0\]\.input_schema must be a JSON schema with type 'object'",
    ),
    Bad("tool_choice-unknown-tool", lc_tools([TOOL], tool_choice="nope"), r"tool_choice names tool 'nope'"),
    Bad("tool_choice-type", lc_tools([TOOL], tool_choice={"type": "weird"}), r"tool_choice must be"),
    Bad("base_url-ws", lc("invoke", fields={"base_url": "ws://127.0.0.1:9"}), r"base_url must be an http"),
    Bad("api_key-missing", lc("invoke", fields={"api_key": None}), r"api_key is missing"),
    Bad("timeout-zero", lc("invoke", fields={"timeout": 0}), r"timeout"),
    Bad("max_retries-negative", lc("stream", fields={"max_retries": -1}), r"max_retries"),
]
LANGCHAIN = [Bad(b.id, b.call, b.match, "langchain") for b in LANGCHAIN]


# --- LlamaIndex: ModelsLab ----------------------------------------------------------------------------------


def models_lab(base: str, **fields: Any) -> Any:
    from llama_index_modelslab import ModelsLab

    return ModelsLab(model=MODEL, **{"api_key": KEY, "base_url": base, **fields})


def chat_message(content: str, role: str = "user") -> Any:
    from llama_index.core.base.llms.types import ChatMessage

    return ChatMessage(role=role, content=content)


def li(method: str, messages: Any = None, fields: dict[str, Any] | None = None, **kwargs: Any) -> Callable:
    def call(base: str) -> Any:
        llm = models_lab(base, **(fields or {}))
        chat = [chat_message("hi")] if messages is None else messages
        if method == "chat":
            return llm.chat(chat, **kwargs)
        if method == "stream_chat":
            return list(llm.stream_chat(chat, **kwargs))
        if method == "achat":
            return asyncio.run(llm.achat(chat, **kwargs))

        async def consume() -> None:
            async for _ in await llm.astream_chat(chat, **kwargs):
                pass

        return asyncio.run(consume())

    return call


def li_tools(**kwargs: Any) -> Callable[[str], Any]:
    def call(base: str) -> Any:
        from llama_index.core.tools import FunctionTool

        def get_weather(city: str) -> str:
            """Weather in a city."""
            return "sunny"

        tool = FunctionTool.from_defaults(fn=get_weather)
        return models_lab(base).chat_with_tools([tool], user_msg="weather in Paris?", **kwargs)

    return call


LLAMA_INDEX = [
    Bad("temperature-above-1", li("chat", fields={"temperature": 1.5}), r"temperature"),
    Bad("max_tokens-zero", li("stream_chat", fields={"max_tokens": 0}), r"max_tokens"),
    Bad(
        "temperature-kwarg",
        li("astream_chat", temperature=5),
        r"temperature must be a number between 0 and 1",
    ),
    Bad("top_k-kwarg-zero", li("achat", top_k=0), r"top_k must be an integer >= 1"),
    Bad("messages-empty", li("chat", []), r"messages must be a non-empty list"),
    Bad(
        "system-only", li("achat", [chat_message("be brief", "system")]), r"messages must be a non-empty list"
    ),
    Bad("surrogate", li("stream_chat", [chat_message("\ud800")]), r"not valid UTF-8"),
    Bad("huge-message", li("chat", [chat_message(HUGE)]), r"at most 32 MB"),
    Bad("tool_choice-type", li_tools(tool_choice={"type": "weird"}), r"tool_choice must be"),
    Bad("tool_choice-unknown-tool", li_tools(tool_choice="nope"), r"tool_choice names tool 'nope'"),
    Bad("base_url-ftp", li("chat", fields={"base_url": "ftp://127.0.0.1/api"}), r"base_url must be an http"),
    Bad("api_key-missing", li("achat", fields={"api_key": None}), r"api_key is missing"),
    Bad("timeout-zero", li("chat", fields={"timeout": 0}), r"timeout"),
]
LLAMA_INDEX = [Bad(b.id, b.call, b.match, "llama_index") for b in LLAMA_INDEX]

CASES = [pytest.param(b, id=f"{b.adapter}-{b.id}") for b in (*CORE, *LANGCHAIN, *LLAMA_INDEX)]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_a_value_error_before_any_request(server: LocalServer, bad: Bad) -> None:
    if (missing := adapter_missing(bad.adapter)) is not None:
        pytest.skip(missing)
    before = server.stats.requests
    with pytest.raises(ValueError, match=bad.match):
        bad.call(server.base_url)
    assert server.stats.requests == before, "the server received a request"


@pytest.mark.parametrize(
    "suffix",
    ["", "/", "///", "/v1", "/v1/", "/v1/messages", "/v1/messages/", "//v1//messages//"],
)
def test_base_url_forms_reach_the_api(server: LocalServer, suffix: str) -> None:
    """Paths and slashes a user may paste are normalized, and the request lands on /v1/messages."""
    before = server.stats.by_path.get("/api/v7/llm/v1/messages", 0)
    base = server.url + "/api//v7/llm" + suffix if suffix.startswith("//") else server.base_url + suffix
    with Client(api_key=KEY, base_url=f"  {base}  ") as made:
        assert made.base_url == server.base_url
        assert made.create(model=MODEL, max_tokens=16, messages=USER).text
    assert server.stats.by_path.get("/api/v7/llm/v1/messages", 0) == before + 1
