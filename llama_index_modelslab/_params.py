"""The arguments of `ModelsLab` and of its calls: checked, then made `Client.create` arguments, with no I/O.

A call keyword is sent when it is a Messages request field (`modelslab_core.params.REQUEST_FIELDS`), and any
other keyword is a `TypeError` naming it and the closest valid name, so `chat(msgs, max_token=5)` fails before
a request instead of answering with the default 4096 tokens. Constructor arguments are checked the same way
(a `ValueError`, as pydantic raises for a bad value).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict, cast

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.tools import BaseTool

from modelslab_core.catalog import ModelSpec, lookup
from modelslab_core.params import REQUEST_FIELDS, MessageParams, closest_name

from ._messages import to_tool_choice, to_wire_messages, to_wire_tools

__all__ = [
    "CALL_KEYWORDS",
    "MIN_PROMPT_TOKENS",
    "Settings",
    "check_call",
    "check_fields",
    "check_room",
    "to_request",
]

logger = logging.getLogger("llama_index_modelslab")

MIN_PROMPT_TOKENS = 256
"""The least room `max_tokens` must leave in the context window: LlamaIndex's own prompt templates take
about 100-200 tokens before any context, so a smaller room fails inside a query engine instead."""

CALL_KEYWORDS: frozenset[str] = (REQUEST_FIELDS - {"messages", "stream"}) | {"extra_body"}
"""Keywords a call takes: every Messages request field but `messages` and `stream`, and `extra_body`."""

_IGNORED = frozenset({"formatted"})  # LlamaIndex passes it to completion methods; it means nothing here
_SAMPLING = ("temperature", "top_p", "top_k", "stop_sequences", "metadata")  # `Client.create` keywords
_BODY_ONLY = tuple(sorted(REQUEST_FIELDS - set(MessageParams.__annotations__) - {"stream"}))
"""Request fields the core has no keyword for (`thinking`, `service_tier`, ...): sent in the body as given."""


class Settings(TypedDict):
    """The LLM's fields that shape a request (None: the server's default)."""

    model: str
    max_tokens: int
    context_window: int | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    stop_sequences: list[str] | None
    thinking: dict[str, Any] | None
    extra_body: dict[str, Any]


def _unknown(name: str, valid: Iterable[str], what: str) -> str:
    closest = closest_name(name, valid)
    hint = f" (did you mean {closest!r}?)" if closest else ""
    return f"{name!r} is not a {what}{hint}; valid names: {', '.join(sorted(valid))}"


def check_call(kwargs: Mapping[str, Any]) -> None:
    """A `TypeError` for a call keyword that is no request field, naming the closest valid one."""
    for name in kwargs:
        if name in CALL_KEYWORDS or name in _IGNORED:
            continue
        if name == "stream":
            raise TypeError(
                "stream= is not a call keyword: the method decides (stream_chat / astream_chat / "
                "stream_complete / astream_complete stream, the others do not)"
            )
        raise TypeError(_unknown(name, CALL_KEYWORDS, "ModelsLab call keyword (a Messages request field)"))


def check_fields(kwargs: Iterable[str], fields: Iterable[str]) -> None:
    """A `ValueError` for a constructor argument that is no field, naming the closest valid one."""
    valid = {*fields, "api_key"}
    for name in kwargs:
        if name not in valid:
            raise ValueError(_unknown(name, valid, "ModelsLab argument"))


def model_spec(model: str) -> ModelSpec:
    """The catalog's figures for `model`; an unknown id gets `DEFAULT_SPEC`, said once on our logger."""
    return lookup(
        model,
        log=logger,
        advice="set ModelsLab(context_window=..., is_function_calling_model=...) to the model's real figures",
    )


def check_room(model: str, max_tokens: object, context_window: int | None) -> None:
    """A `ValueError` when `max_tokens` leaves less than `MIN_PROMPT_TOKENS` of the context window (the
    override given, else the catalog's)."""
    context_window = context_window or model_spec(model).context_window
    if isinstance(max_tokens, int) and context_window - max_tokens < MIN_PROMPT_TOKENS:
        raise ValueError(
            f"max_tokens={max_tokens} leaves no room for the prompt in the {context_window}-token context "
            f"window of {model!r} (at least {MIN_PROMPT_TOKENS} tokens must remain): lower max_tokens, or "
            "set ModelsLab(context_window=...) to the window your deployment of this model really has"
        )


def _tools(tools: Sequence[Any]) -> list[Any]:
    """Tools given as LlamaIndex tools are translated; wire dicts pass as they are."""
    return [to_wire_tools([tool])[0] if isinstance(tool, BaseTool) else tool for tool in tools]


def to_request(messages: Sequence[ChatMessage], settings: Settings, call: Mapping[str, Any]) -> MessageParams:
    """Keyword arguments for `Client.create` / `Client.stream`: the call's keywords over the settings."""
    check_call(call)
    system, wire_messages = to_wire_messages(messages, call.get("system"))
    params: dict[str, Any] = {
        "model": call.get("model", settings["model"]),
        "max_tokens": call.get("max_tokens", settings["max_tokens"]),
        "messages": wire_messages,
    }
    values = cast(Mapping[str, Any], settings)
    for name in _SAMPLING:
        if (value := call.get(name, values.get(name))) is not None:
            params[name] = value
    if system is not None:
        params["system"] = system
    if tools := call.get("tools"):
        params["tools"] = _tools(tools)
        if (choice := call.get("tool_choice")) is not None:
            params["tool_choice"] = to_tool_choice(choice, tool_required=False)
    extra = dict(settings["extra_body"] or {})
    for name in _BODY_ONLY:
        if (value := call.get(name, values.get(name))) is not None:
            extra[name] = value
    extra.update(call.get("extra_body") or {})
    if extra:
        params["extra_body"] = extra
    check_room(params["model"], params["max_tokens"], settings["context_window"])
    return cast(MessageParams, params)
