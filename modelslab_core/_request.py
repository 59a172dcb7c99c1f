"""Request building and validation, with no I/O.

Every check here runs before a request is sent, and every failure is a `ValueError` that names the field and
says what is allowed, so a caller's mistake never costs a network round trip or surfaces as a vague 400.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

logger = logging.getLogger("modelslab_core")

DEFAULT_BASE_URL = "https://modelslab.com/api/v7/llm"
MAX_BODY_BYTES = 32 * 1024 * 1024  # the Messages API's documented request limit (413 above it)

_ROLES = ("user", "assistant")
_BLOCK_TYPES = frozenset(
    {
        "text",
        "image",
        "document",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "search_result",
        "server_tool_use",
        "web_search_tool_result",
    }
)
_TOOL_CHOICES = ("auto", "any", "tool", "none")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 section 5.6.2
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # header values may hold tabs, nothing else below 0x20


def resolve_api_key(api_key: str | None) -> str:
    """The key given, else `MODELSLAB_API_KEY`; a clear error when there is none."""
    key = api_key if api_key is not None else os.environ.get("MODELSLAB_API_KEY")
    if not key or not key.strip():
        raise ValueError(
            "api_key is missing: pass api_key=... or set the MODELSLAB_API_KEY environment variable "
            "(keys are at https://modelslab.com/dashboard/api-keys)"
        )
    key = key.strip()
    if not _header_safe(key):  # not echoed: the message must not carry the key
        raise ValueError(
            "api_key holds characters an HTTP header cannot carry (non-ASCII or control characters); "
            "check that the key was copied whole and alone"
        )
    return key


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """`default_headers` as a dict, or a ValueError naming the header that HTTP cannot carry."""
    result = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValueError(f"default_headers: {name!r} is not a valid HTTP header name")
        if not isinstance(value, str) or not _header_safe(value):  # the value may be a credential: not echoed
            raise ValueError(
                f"default_headers[{name!r}] must be a string of printable ASCII characters (no line breaks)"
            )
        result[name] = value
    return result


def _header_safe(value: str) -> bool:
    return value.isascii() and not _CONTROL.search(value)


def resolve_base_url(base_url: str | None) -> str:
    """Normalize the base URL: env fallback, trailing slashes and a pasted `/v1/messages` removed."""
    url = base_url if base_url is not None else os.environ.get("MODELSLAB_BASE_URL") or DEFAULT_BASE_URL
    parts = urlsplit(url.strip())
    if parts.username is not None or parts.password is not None:  # not echoed: it holds a credential
        raise ValueError("base_url must not hold user:password@; pass the API key as api_key")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}")
    # request paths are appended to the base URL: after a query or fragment they would be lost
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query string or fragment, got {base_url!r}")
    path = re.sub("/{2,}", "/", parts.path).rstrip("/")
    for suffix in ("/v1/messages", "/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
    url = f"{parts.scheme}://{parts.netloc}{path}"
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        logger.warning("base_url %s uses plain http: the API key would travel unencrypted", url)
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}, got {value!r}")
    return value


def _block(path: str, block: Any) -> Any:
    if isinstance(block, BaseModel):
        block = block.model_dump(mode="json", exclude_none=True)
    if not isinstance(block, Mapping):
        raise ValueError(f"{path} must be a content block (a dict with a 'type'), got {type(block).__name__}")
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        raise ValueError(
            f"{path}.type {kind!r} is not a supported block type; use one of {sorted(_BLOCK_TYPES)}"
        )
    if kind == "text":
        text = block.get("text")
        # only "" is refused: ModelsLab answered a recorded request with " " next to a tool_use block
        if not isinstance(text, str) or not text:
            raise ValueError(f"{path}.text must be a non-empty string (drop empty text blocks), got {text!r}")
    elif kind == "image":
        source = block.get("source")
        if not isinstance(source, Mapping) or source.get("type") not in ("base64", "url"):
            raise ValueError(
                f"{path}.source must be {{'type': 'base64', 'media_type', 'data'}} "
                "or {{'type': 'url', 'url'}}"
            )
    elif kind == "tool_use":
        if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
            raise ValueError(f"{path} needs string 'id' and 'name'")
        if not isinstance(block.get("input"), Mapping):
            raise ValueError(f"{path}.input must be a JSON object (dict), got {block.get('input')!r}")
    elif kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
        raise ValueError(f"{path}.tool_use_id must be the id of the tool_use block it answers")
    return dict(block)


def _content(path: str, content: Any) -> Any:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence) and not isinstance(content, (bytes, bytearray)):
        if not content:
            raise ValueError(f"{path} must not be an empty list")
        return [_block(f"{path}[{i}]", block) for i, block in enumerate(content)]
    raise ValueError(f"{path} must be a string or a list of content blocks, got {type(content).__name__}")


def _messages(messages: Any) -> list[dict[str, Any]]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise ValueError(
            "messages must be a non-empty list of {'role': 'user' | 'assistant', 'content': ...}"
        )
    result = []
    for i, message in enumerate(messages):
        if isinstance(message, BaseModel):
            message = message.model_dump(mode="json", exclude_none=True)
        if not isinstance(message, Mapping):
            raise ValueError(f"messages[{i}] must be a dict with 'role' and 'content'")
        role = message.get("role")
        if role not in _ROLES:
            raise ValueError(
                f"messages[{i}].role must be 'user' or 'assistant', got {role!r} "
                "(pass system prompts as system=)"
            )
        if "content" not in message:
            raise ValueError(f"messages[{i}].content is missing")
        content = message["content"]
        if isinstance(content, str) and not content and not (i == len(messages) - 1 and role == "assistant"):
            # the API accepts empty content only in a final assistant turn (a prefill)
            raise ValueError(f"messages[{i}].content must not be empty, got {content!r}")
        result.append({**message, "content": _content(f"messages[{i}].content", content)})
    return result


def _tools(tools: Any) -> tuple[list[dict[str, Any]], set[str]]:
    if isinstance(tools, (str, Mapping)) or not isinstance(tools, Sequence):
        raise ValueError("tools must be a list of {'name', 'description', 'input_schema'} dicts")
    result, names = [], set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise ValueError(f"tools[{i}] must be a dict, got {type(tool).__name__}")
        name = tool.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise ValueError(f"tools[{i}].name must match ^[a-zA-Z0-9_-]{{1,128}}$, got {name!r}")
        if name in names:
            raise ValueError(
                f"tools[{i}].name {name!r} is used by an earlier tool; tool names must be unique"
            )
        schema = tool.get("input_schema")
        custom = "type" not in tool or schema is not None  # server tools carry only a type
        if custom and (not isinstance(schema, Mapping) or schema.get("type") != "object"):
            raise ValueError(
                f"tools[{i}].input_schema must be a JSON schema with type 'object', got {schema!r}"
            )
        names.add(name)
        result.append(dict(tool))
    return result, names


def _tool_choice(choice: Any, names: set[str] | None) -> dict[str, Any]:
    if not isinstance(choice, Mapping) or choice.get("type") not in _TOOL_CHOICES:
        raise ValueError(f"tool_choice must be {{'type': one of {list(_TOOL_CHOICES)}}}, got {choice!r}")
    if choice["type"] != "none" and names is None:
        raise ValueError(f"tool_choice {choice['type']!r} needs tools=[...]")
    if choice["type"] == "tool" and choice.get("name") not in (names or set()):
        raise ValueError(
            f"tool_choice names tool {choice.get('name')!r}, which is not in tools: {sorted(names or ())}"
        )
    return dict(choice)


def build_body(
    *,
    model: Any,
    max_tokens: Any,
    messages: Any,
    system: Any = None,
    temperature: Any = None,
    top_p: Any = None,
    top_k: Any = None,
    stop_sequences: Any = None,
    tools: Any = None,
    tool_choice: Any = None,
    metadata: Any = None,
    extra_body: Any = None,
    stream: bool = False,
    count_only: bool = False,
) -> dict[str, Any]:
    """The JSON body of a Messages request, or a `ValueError` naming what is wrong."""
    if not isinstance(model, str) or not model.strip():
        raise ValueError(
            f"model must be a non-empty string such as 'Qwen/Qwen2.5-VL-72B-Instruct-together', got {model!r}"
        )
    body: dict[str, Any] = {"model": model, "messages": _messages(messages)}
    if not count_only:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be an integer >= 1, got {max_tokens!r}")
        body["max_tokens"] = max_tokens
    if system is not None:
        body["system"] = system if isinstance(system, str) else _content("system", system)
    if temperature is not None:
        body["temperature"] = _number("temperature", temperature, 0, 1)
    if top_p is not None:
        body["top_p"] = _number("top_p", top_p, 0, 1)
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be an integer >= 1, got {top_k!r}")
        body["top_k"] = top_k
    if stop_sequences is not None:
        if isinstance(stop_sequences, str) or not all(isinstance(s, str) and s for s in stop_sequences):
            raise ValueError(f"stop_sequences must be a list of non-empty strings, got {stop_sequences!r}")
        body["stop_sequences"] = list(stop_sequences)
    names = None
    if tools is not None:
        body["tools"], names = _tools(tools)
    if tool_choice is not None:
        body["tool_choice"] = _tool_choice(tool_choice, names)
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise ValueError(f"metadata must be a dict such as {{'user_id': '...'}}, got {metadata!r}")
        body["metadata"] = dict(metadata)
    if stream:
        body["stream"] = True
    if extra_body is not None:
        if not isinstance(extra_body, Mapping):
            raise ValueError(f"extra_body must be a dict, got {type(extra_body).__name__}")
        body.update(extra_body)
    return body


COUNT_FIELDS = ("model", "messages", "system", "tools", "tool_choice", "extra_body")
"""What `count_tokens` takes: ModelsLab documents `model`, `messages` and `system`; `tools` (with its
`tool_choice`) and `extra_body` are sent only when the caller passes them."""


def build_count_body(params: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a count_tokens request: documented fields only, or a `TypeError` naming the stray one."""
    for name in params:
        if name not in COUNT_FIELDS:
            raise TypeError(
                f"count_tokens() got {name!r}, which it does not count: it takes {', '.join(COUNT_FIELDS)} "
                f"(drop {name!r}; sampling settings and max_tokens do not change the input tokens)"
            )
    return build_body(count_only=True, max_tokens=None, **params)


def encode_body(body: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON bytes of `body`; text that cannot be sent (lone surrogates, bytes) is a ValueError."""
    try:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        context = exc.object[max(0, exc.start - 20) : exc.end + 20]
        raise ValueError(f"request text is not valid UTF-8 ({exc.reason}) near {context!r}") from None
    except TypeError as exc:
        raise ValueError(f"request holds a value that is not JSON: {exc}") from None
    if len(data) > MAX_BODY_BYTES:
        raise ValueError(f"request body is {len(data) / 1e6:.1f} MB; the Messages API accepts at most 32 MB")
    return data
