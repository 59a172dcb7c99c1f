"""The core client's arguments for one `ChatModelsLab` call: fields overlaid with call-time ones. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_messages
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from modelslab_core import CountTokensParams, Message, StreamEvent

from ._convert import JSONObject, to_ai_message, to_wire_messages, to_wire_tool
from ._fields import default_max_tokens, header_digest
from ._results import to_chat_result, warn_if_cut
from ._stream import ChunkState, UsageSource, to_chunk

if TYPE_CHECKING:
    from .chat_models import ChatModelsLab

__all__ = ["Call", "count_params", "identifying_params", "prepare", "request_params"]

_CALL_KEYS = ("max_tokens", "temperature", "top_p", "top_k", "tools", "tool_choice", "metadata")
"""Call-time arguments that are Messages request fields the core takes by name."""

_SENT_FIELDS = ("model", "base_url", "auth", "max_tokens", "temperature", "top_p", "top_k", "thinking")


def identifying_params(llm: ChatModelsLab) -> dict[str, Any]:
    """Every setting that changes what is sent (the LLM-cache key, traces); never the key."""
    params = {name: getattr(llm, name) for name in _SENT_FIELDS}
    return {
        **params,
        "stop_sequences": llm.stop,  # not "stop": LangChain overwrites that key with the call's stop
        "model_kwargs": llm.model_kwargs,
        "default_headers": header_digest(llm.default_headers),
        "streaming": llm.streaming,
    }


def request_params(
    llm: ChatModelsLab, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
) -> JSONObject:
    """Keyword arguments for the core's `create` / `stream`; consumes the call-time `kwargs` it uses."""
    system, wire_messages = to_wire_messages(messages)
    model = kwargs.pop("model", None) or llm.model
    params: JSONObject = {
        "model": model,
        "messages": wire_messages,
        "system": system,
        "max_tokens": llm.max_tokens,
        "temperature": llm.temperature,
        "top_p": llm.top_p,
        "top_k": llm.top_k,
        "stop_sequences": (stop if stop is not None else llm.stop) or None,
    }
    kwargs.pop("stream_usage", None)
    params.update((key, kwargs.pop(key)) for key in _CALL_KEYS if key in kwargs)
    if params["max_tokens"] is None:  # the field's default, or a call's max_tokens=None: the model's limit
        params["max_tokens"] = default_max_tokens(model)
    thinking = {"thinking": llm.thinking} if llm.thinking is not None else {}
    extra = {**thinking, **llm.model_kwargs, **kwargs.pop("extra_body", {}), **kwargs}
    params["extra_body"] = extra or None
    return params


def count_params(
    llm: ChatModelsLab, messages: Sequence[Any], tools: Sequence[Any] | None
) -> CountTokensParams:
    """Keyword arguments for the core's `count_tokens`."""
    system, wire_messages = to_wire_messages(convert_to_messages(messages))
    wire_tools = [to_wire_tool(tool) for tool in tools] if tools else None
    return {"model": llm.model, "messages": wire_messages, "system": system, "tools": wire_tools}


@dataclass
class Call:
    """One call's request and what its answer needs: the same for sync and async, invoke and stream."""

    params: JSONObject
    default_max_tokens: bool
    """The caller set no `max_tokens`: an answer cut there is worth a warning."""
    stream_usage: bool
    chunks: ChunkState

    def result(self, message: Message) -> ChatResult:
        """The `ChatResult` of a whole answer."""
        return to_chat_result(self._checked(to_ai_message(message)))

    def chunk(self, event: StreamEvent, stream: UsageSource) -> ChatGenerationChunk | None:
        """The generation chunk of one stream event, or None for events that add nothing."""
        chunk = to_chunk(event, self.chunks, stream)
        if chunk is None:
            return None
        if not self.stream_usage:
            chunk.usage_metadata = None
        return ChatGenerationChunk(message=self._checked(chunk))

    def _checked(self, message: AIMessage | AIMessageChunk) -> Any:
        if self.default_max_tokens:
            warn_if_cut(message, self.params["model"], self.params["max_tokens"])
        return message


def prepare(
    llm: ChatModelsLab, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
) -> Call:
    """The `Call` for `llm` with these messages and call-time arguments."""
    default_max_tokens = kwargs.get("max_tokens", llm.max_tokens) is None
    stream_usage = bool(kwargs.get("stream_usage", llm.stream_usage))
    params = request_params(llm, messages, stop, kwargs)
    return Call(params, default_max_tokens, stream_usage, ChunkState(as_blocks=bool(params.get("tools"))))
