"""Bad input is a `ValueError` naming the field before any I/O; configuration and headers on the wire."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

import modelslab_core as mc
from modelslab_core._request import DEFAULT_BASE_URL, build_body, encode_body

from .conftest import API_KEY, BASE_URL, CALL, SYNC, Recorder, json_reply, make_client, message_json, resolve

USER = [{"role": "user", "content": "hi"}]
TOOLS = [{"name": "get_weather", "description": "d", "input_schema": {"type": "object", "properties": {}}}]

# (id, overrides of CALL, a regex the ValueError must match)
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("temperature > 1", {"temperature": 1.5}, r"temperature must be a number between 0 and 1"),
    ("temperature < 0", {"temperature": -0.1}, r"temperature .* between 0 and 1"),
    ("temperature bool", {"temperature": True}, r"temperature"),
    ("temperature str", {"temperature": "0.5"}, r"temperature"),
    ("temperature nan", {"temperature": float("nan")}, r"temperature"),
    ("top_p > 1", {"top_p": 2}, r"top_p must be a number between 0 and 1"),
    ("top_p < 0", {"top_p": -1}, r"top_p"),
    ("max_tokens 0", {"max_tokens": 0}, r"max_tokens must be an integer >= 1"),
    ("max_tokens negative", {"max_tokens": -5}, r"max_tokens"),
    ("max_tokens bool", {"max_tokens": True}, r"max_tokens"),
    ("max_tokens str", {"max_tokens": "16"}, r"max_tokens"),
    ("max_tokens float", {"max_tokens": 16.0}, r"max_tokens"),
    ("top_k 0", {"top_k": 0}, r"top_k"),
    ("model empty", {"model": ""}, r"model must be a non-empty string"),
    ("model None", {"model": None}, r"model"),
    ("messages empty", {"messages": []}, r"messages must be a non-empty list"),
    ("messages str", {"messages": "hi"}, r"messages must be a non-empty list"),
    ("messages dict", {"messages": {"role": "user", "content": "hi"}}, r"messages"),
    (
        "role system",
        {"messages": [{"role": "system", "content": "be nice"}]},
        r"messages\[0\]\.role .*system=",
    ),
    ("role missing", {"messages": [{"content": "x"}]}, r"messages\[0\]\.role"),
    ("role tool", {"messages": [*USER, {"role": "tool", "content": "x"}]}, r"messages\[1\]\.role"),
    ("content missing", {"messages": [{"role": "user"}]}, r"messages\[0\]\.content is missing"),
    ("content bytes", {"messages": [{"role": "user", "content": b"hi"}]}, r"messages\[0\]\.content must be"),
    ("content None", {"messages": [{"role": "user", "content": None}]}, r"messages\[0\]\.content"),
    (
        "content empty list",
        {"messages": [{"role": "user", "content": []}]},
        r"content must not be an empty list",
    ),
    (
        "empty text block",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
        r"messages\[0\]\.content\[0\]\.text must be a non-empty string",
    ),
    (
        "unknown block type",
        {"messages": [{"role": "user", "content": [{"type": "video", "url": "x"}]}]},
        r"content\[0\]\.type 'video' is not a supported block type",
    ),
    (
        "block not a dict",
        {"messages": [{"role": "user", "content": ["hi"]}]},
        r"content\[0\] must be a content block",
    ),
    (
        "image without source",
        {"messages": [{"role": "user", "content": [{"type": "image"}]}]},
        r"content\[0\]\.source",
    ),
    (
        "tool_use input not an object",
        {
            "messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "n", "input": "x"}]}
            ]
        },
        r"\.input must be a JSON object",
    ),
    (
        "tool_result without id",
        {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]},
        r"tool_use_id",
    ),
    (
        "tool schema array",
        {"tools": [{"name": "t", "input_schema": {"type": "array"}}]},
        r"tools\[0\]\.input_schema",
    ),
    ("tool schema missing", {"tools": [{"name": "t"}]}, r"tools\[0\]\.input_schema"),
    ("tool schema str", {"tools": [{"name": "t", "input_schema": "object"}]}, r"tools\[0\]\.input_schema"),
    (
        "tool bad name",
        {"tools": [{"name": "get weather", "input_schema": {"type": "object"}}]},
        r"tools\[0\]\.name",
    ),
    ("tools a dict", {"tools": TOOLS[0]}, r"tools must be a list"),
    ("tool_choice str", {"tools": TOOLS, "tool_choice": "auto"}, r"tool_choice must be"),
    ("tool_choice bad type", {"tools": TOOLS, "tool_choice": {"type": "sometimes"}}, r"tool_choice must be"),
    (
        "tool_choice unknown tool",
        {"tools": TOOLS, "tool_choice": {"type": "tool", "name": "nope"}},
        r"tool_choice names tool 'nope', which is not in tools",
    ),
    ("tool_choice without tools", {"tool_choice": {"type": "any"}}, r"tool_choice 'any' needs tools"),
    ("stop_sequences str", {"stop_sequences": "END"}, r"stop_sequences must be a list of non-empty strings"),
    ("stop_sequences empty item", {"stop_sequences": ["END", ""]}, r"stop_sequences"),
    ("metadata list", {"metadata": ["u"]}, r"metadata must be a dict"),
    ("extra_body list", {"extra_body": [1]}, r"extra_body must be a dict"),
]


@pytest.mark.parametrize(("overrides", "match"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_build_body_rejects(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_body(**{**CALL, **overrides})


@SYNC
@pytest.mark.parametrize("method", ["create", "stream"])
@pytest.mark.parametrize(("overrides", "match"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
async def test_client_rejects_before_any_request(
    overrides: dict[str, Any], match: str, method: str, sync: bool
) -> None:
    handler = Recorder(json_reply(200, message_json()))
    client = make_client(sync, handler)
    with pytest.raises(ValueError, match=match):
        await resolve(getattr(client, method)(**{**CALL, **overrides}))
    assert handler.count == 0


# text that cannot be sent: found when the body is encoded, still before any I/O
UNSENDABLE = [
    ("lone surrogate", {"messages": [{"role": "user", "content": "bad \ud800 text"}]}, r"not valid UTF-8"),
    ("surrogate in system", {"system": "x\udfff"}, r"not valid UTF-8"),
    ("not JSON", {"metadata": {"user_id": object()}}, r"not JSON"),
    ("huge body", {"messages": [{"role": "user", "content": "x" * (32 * 1024 * 1024 + 1)}]}, r"32 MB"),
]


@pytest.mark.parametrize(("overrides", "match"), [c[1:] for c in UNSENDABLE], ids=[c[0] for c in UNSENDABLE])
def test_encode_body_rejects(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        encode_body(build_body(**{**CALL, **overrides}))


@SYNC
@pytest.mark.parametrize(("overrides", "match"), [c[1:] for c in UNSENDABLE], ids=[c[0] for c in UNSENDABLE])
async def test_unsendable_text_is_rejected_before_any_request(
    overrides: dict[str, Any], match: str, sync: bool
) -> None:
    handler = Recorder(json_reply(200, message_json()))
    client = make_client(sync, handler)
    with pytest.raises(ValueError, match=match):
        await resolve(client.create(**{**CALL, **overrides}))
    with pytest.raises(ValueError, match=match):
        if sync:
            with client.stream(**{**CALL, **overrides}):
                pass
        else:
            async with client.stream(**{**CALL, **overrides}):
                pass
    assert handler.count == 0


def test_valid_body_keeps_every_field() -> None:
    body = build_body(
        model="m",
        max_tokens=5,
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]},
        ],
        system="be brief",
        temperature=0,
        top_p=1,
        top_k=3,
        stop_sequences=["END"],
        tools=TOOLS,
        tool_choice={"type": "tool", "name": "get_weather"},
        metadata={"user_id": "u"},
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 1024}},
        stream=True,
    )
    assert body["temperature"] == 0 and body["top_p"] == 1 and body["top_k"] == 3
    assert body["stop_sequences"] == ["END"] and body["tools"] == TOOLS and body["stream"] is True
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert json.loads(encode_body(body)) == body


def test_pydantic_blocks_and_unicode_are_accepted() -> None:
    body = build_body(
        model="m", max_tokens=1, messages=[{"role": "user", "content": [mc.TextBlock(text="héllo ✓")]}]
    )
    assert body["messages"][0]["content"] == [{"type": "text", "text": "héllo ✓"}]
    assert "héllo ✓".encode() in encode_body(body)


def test_count_tokens_body_has_no_max_tokens() -> None:
    body = build_body(model="m", max_tokens=None, messages=USER, count_only=True)
    assert "max_tokens" not in body


# --- configuration ---


@SYNC
async def test_missing_api_key_names_the_variable(sync: bool) -> None:
    cls = mc.Client if sync else mc.AsyncClient
    for key in (None, "", "   "):
        with pytest.raises(ValueError, match="MODELSLAB_API_KEY"):
            cls(api_key=key, base_url=BASE_URL)


@SYNC
async def test_api_key_from_environment(sync: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELSLAB_API_KEY", "env-key")
    handler = Recorder(json_reply(200, message_json()))
    client = make_client(sync, handler, api_key=None)
    await resolve(client.create(**CALL))
    assert handler.requests[0].headers["x-api-key"] == "env-key"
    client = make_client(sync, handler, api_key="explicit")
    await resolve(client.create(**CALL))
    assert handler.requests[1].headers["x-api-key"] == "explicit"


BASE_URLS = [
    (None, DEFAULT_BASE_URL),
    ("https://modelslab.com/api/v7/llm", DEFAULT_BASE_URL),
    ("https://modelslab.com/api/v7/llm/", DEFAULT_BASE_URL),
    ("https://modelslab.com/api/v7/llm///", DEFAULT_BASE_URL),
    ("https://modelslab.com/api/v7/llm/v1", DEFAULT_BASE_URL),
    ("https://modelslab.com/api/v7/llm/v1/", DEFAULT_BASE_URL),
    ("https://modelslab.com/api/v7/llm/v1/messages", DEFAULT_BASE_URL),
    ("https://modelslab.com/api/v7/llm/v1/messages/", DEFAULT_BASE_URL),
    ("  https://proxy.example/llm  ", "https://proxy.example/llm"),
    ("http://localhost:8080", "http://localhost:8080"),
]


@SYNC
@pytest.mark.parametrize(("given", "want"), BASE_URLS)
async def test_base_url_normalization(given: str | None, want: str, sync: bool) -> None:
    handler = Recorder(json_reply(200, message_json()))
    client = make_client(sync, handler, base_url=given)
    assert client.base_url == want
    await resolve(client.create(**CALL))
    assert str(handler.requests[0].url) == want + "/v1/messages"


@SYNC
async def test_base_url_from_environment(sync: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELSLAB_BASE_URL", "https://env.example/llm/v1/messages/")
    handler = Recorder(json_reply(200, message_json()))
    client = make_client(sync, handler, base_url=None)
    assert client.base_url == "https://env.example/llm"
    await resolve(client.create(**CALL))
    assert str(handler.requests[0].url) == "https://env.example/llm/v1/messages"
    assert make_client(sync, handler, base_url="https://given.example").base_url == "https://given.example"


@pytest.mark.parametrize(
    "bad", ["ftp://modelslab.com/api", "modelslab.com/api/v7/llm", "", "https://", "ws://x"]
)
@pytest.mark.parametrize("cls", [mc.Client, mc.AsyncClient])
def test_invalid_base_url(bad: str, cls: type) -> None:
    with pytest.raises(ValueError, match="base_url must be an http"):
        cls(api_key=API_KEY, base_url=bad)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://modelslab.example/llm", True),
        ("http://10.0.0.5:8080", True),
        ("https://modelslab.example/llm", False),
        ("http://localhost:8080", False),
        ("http://127.0.0.1:9", False),
        ("http://[::1]:9", False),
    ],
)
def test_plain_http_to_a_remote_host_warns(url: str, warned: bool, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="modelslab_core"):
        mc.Client(api_key=API_KEY, base_url=url).close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "plain http" in r.getMessage()]
    assert bool(warnings) is warned
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("option", "bad"),
    [
        ("auth", "basic"),
        ("max_concurrent_requests", 0),
        ("max_concurrent_requests", True),
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", "60"),
    ],
)
@pytest.mark.parametrize("cls", [mc.Client, mc.AsyncClient])
def test_invalid_options(option: str, bad: Any, cls: type) -> None:
    with pytest.raises(ValueError, match=option):
        cls(api_key=API_KEY, base_url=BASE_URL, **{option: bad})


# --- headers on the wire ---


@SYNC
@pytest.mark.parametrize("auth", ["x-api-key", "bearer", None])
async def test_auth_styles(auth: str | None, sync: bool) -> None:
    handler = Recorder(json_reply(200, message_json()))
    options = {"auth": auth} if auth else {}
    await resolve(make_client(sync, handler, **options).create(**CALL))
    headers = handler.requests[0].headers
    if auth == "bearer":
        assert headers["authorization"] == f"Bearer {API_KEY}" and "x-api-key" not in headers
    else:
        assert headers["x-api-key"] == API_KEY and "authorization" not in headers


@SYNC
async def test_standard_and_default_headers_are_sent(sync: bool) -> None:
    handler = Recorder(json_reply(200, message_json()), json_reply(200, {"input_tokens": 7}))
    client = make_client(
        sync, handler, default_headers={"X-Team": "search", "anthropic-version": "2099-01-01"}
    )
    await resolve(client.create(**CALL))
    assert await resolve(client.count_tokens(model="m", messages=USER)) == 7
    for request in handler.requests:
        assert request.headers["x-team"] == "search"
        assert request.headers["anthropic-version"] == "2099-01-01"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("modelslab-integrations/")
    assert handler.requests[1].url.path.endswith("/v1/messages/count_tokens")
    assert "max_tokens" not in json.loads(handler.requests[1].content)


@SYNC
async def test_anthropic_version_default(sync: bool) -> None:
    handler = Recorder(json_reply(200, message_json()))
    await resolve(make_client(sync, handler).create(**CALL))
    request = handler.requests[0]
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["accept"] == "application/json"
    assert request.method == "POST"
    assert json.loads(request.content) == CALL
