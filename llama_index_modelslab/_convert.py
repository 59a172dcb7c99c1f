"""Translation between LlamaIndex's chat types and ModelsLab's Messages API, with no I/O.

Requests: `to_request` (messages, tools, tool_choice and settings to `Client.create` keyword arguments).
Responses: `to_chat_response` (a whole `Message`) and `to_stream_response` (one stream event plus a
`StreamState`); both feed the same `StreamState`, so a streamed answer ends as the same blocks as a whole one.
Tool calls: `to_tool_selections`, tolerant of the partial JSON of a tool call still streaming.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from modelslab_core import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)
from modelslab_core import TextBlock as WireText
from modelslab_core import ThinkingBlock as WireThinking
from modelslab_core import ToolUseBlock as WireToolUse

from ._state import StreamState, assistant_message, split_think

if TYPE_CHECKING:
    from llama_index.core.tools import BaseTool

__all__ = [
    "StreamState",
    "assistant_message",
    "split_think",
    "to_chat_response",
    "to_request",
    "to_stream_response",
    "to_tool_choice",
    "to_tool_selections",
    "to_wire_messages",
    "to_wire_tools",
    "tool_id",
]

Wire = dict[str, Any]

REQUEST_PARAMS = ("model", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "metadata")
"""Settings a call may override with a keyword argument of the same name."""

_ASSISTANT_ROLES = (MessageRole.ASSISTANT, MessageRole.CHATBOT, MessageRole.MODEL)
_TOOL_ROLES = (MessageRole.TOOL, MessageRole.FUNCTION)
_SYSTEM_ROLES = (MessageRole.SYSTEM, MessageRole.DEVELOPER)
_BAD_ID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


# --- requests -----------------------------------------------------------------------------------------------


def tool_id(value: str | None, fallback: str) -> str:
    """A tool-call id the Messages API accepts (`^[a-zA-Z0-9_-]+$`), derived deterministically.

    Ids from other providers (`call:1`, `fc.abc`) keep their readable part plus a hash of the original, so two
    ids that differ only in rejected characters stay distinct.
    """
    value = value or f"toolu_{fallback}"
    cleaned = _BAD_ID_CHARS.sub("_", value)
    if cleaned == value:
        return value
    return f"{cleaned}_{hashlib.sha256(value.encode()).hexdigest()[:8]}"


def _text(text: str) -> Wire | None:
    # Anthropic-format servers reject empty text blocks ("text content blocks must be non-empty")
    return {"type": "text", "text": text} if text.strip() else None


def _image(block: ImageBlock) -> Wire:
    if block.url is not None and not str(block.url).startswith("data:"):
        return {"type": "image", "source": {"type": "url", "url": str(block.url)}}  # not downloaded here
    data = block.resolve_image(as_base64=True).read().decode("ascii")
    media_type = block.image_mimetype or "image/jpeg"
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _kwargs(value: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = parse_partial_json(value) if value.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _blocks(message: ChatMessage, where: str) -> list[Wire]:
    """The Messages content blocks of one LlamaIndex message's blocks (tool calls included)."""
    out: list[Wire] = []
    for i, block in enumerate(message.blocks):
        wire: Wire | None
        if isinstance(block, TextBlock):
            wire = _text(block.text)
        elif isinstance(block, ImageBlock):
            wire = _image(block)
        elif isinstance(block, ToolCallBlock):
            wire = {
                "type": "tool_use",
                "id": tool_id(block.tool_call_id, block.tool_name),
                "name": block.tool_name,
                "input": _kwargs(block.tool_kwargs),
            }
        elif isinstance(block, ThinkingBlock):
            # only signed thinking goes back (Anthropic checks it); inline <think> reasoning is not resent
            signature = block.additional_information.get("signature")
            wire = None
            if block.content and signature:
                wire = {"type": "thinking", "thinking": block.content, "signature": signature}
        elif isinstance(block, CachePoint):
            if out:
                control = {"type": block.cache_control.type}
                if block.cache_control.ttl != "5m":
                    control["ttl"] = block.cache_control.ttl
                out[-1]["cache_control"] = control
            wire = None
        else:  # audio, video, documents, citations
            raise ValueError(
                f"{where}.blocks[{i}] is a {type(block).__name__}, which the Messages API does not "
                "take; use TextBlock, ImageBlock, ThinkingBlock, ToolCallBlock or CachePoint"
            )
        if wire is not None:
            out.append(wire)
    return out


def _legacy_tool_calls(message: ChatMessage) -> list[Wire]:
    """Tool calls kept only in `additional_kwargs["tool_calls"]` (messages from older code)."""
    calls = message.additional_kwargs.get("tool_calls")
    if not isinstance(calls, list):
        return []
    return [
        {
            "type": "tool_use",
            "id": tool_id(c.get("id"), c["name"]),
            "name": c["name"],
            "input": c.get("input", {}),
        }
        for c in calls
        if isinstance(c, Mapping) and isinstance(c.get("name"), str)
    ]


def _turn(message: ChatMessage, where: str) -> tuple[str, list[Wire]]:
    if message.role in _TOOL_ROLES:
        result: Wire = {
            "type": "tool_result",
            "tool_use_id": tool_id(message.additional_kwargs.get("tool_call_id"), "result"),
        }
        if content := _blocks(message, where):
            result["content"] = content
        return "user", [result]
    blocks = _blocks(message, where)
    if message.role in _ASSISTANT_ROLES:
        if not any(block["type"] == "tool_use" for block in blocks):
            blocks.extend(_legacy_tool_calls(message))
        return "assistant", blocks
    return "user", blocks


def to_wire_messages(messages: Sequence[ChatMessage]) -> tuple[str | None, list[Wire]]:
    """The `system` prompt and the `messages` of a request.

    System and developer messages join into `system`; tool results become `tool_result` blocks of a user turn;
    consecutive turns of one role merge (parallel tool results must share one user turn); empty turns drop.
    """
    system: list[str] = []
    turns: list[Wire] = []
    for i, message in enumerate(messages):
        if message.role in _SYSTEM_ROLES:
            if text := (message.content or "").strip():
                system.append(text)
            continue
        role, blocks = _turn(message, f"messages[{i}]")
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return ("\n\n".join(system) or None), turns


def to_wire_tools(tools: Sequence[BaseTool]) -> list[Wire]:
    """LlamaIndex tools as Messages `tools` (name, description, JSON schema)."""
    return [
        {
            "name": tool.metadata.get_name(),
            "description": tool.metadata.description,
            "input_schema": tool.metadata.get_parameters_dict(),
        }
        for tool in tools
    ]


def to_tool_choice(
    tool_choice: str | Mapping[str, Any] | None, *, tool_required: bool, allow_parallel_tool_calls: bool
) -> Wire:
    """The Messages `tool_choice` for LlamaIndex's arguments.

    None means "any" when a tool is required, else "auto" (structured output passes None with
    tool_required=True); "auto" / "none" / "any" ("required" too) name a mode; any other string names a tool;
    a dict is taken as is (OpenAI's `{"type": "function", "function": {"name": ...}}` is translated).
    """
    choice: Wire
    if tool_choice is None:
        choice = {"type": "any" if tool_required else "auto"}
    elif isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        if tool_choice.get("type") == "function" and isinstance(function, Mapping):
            choice = {"type": "tool", "name": function.get("name")}
        else:
            choice = dict(tool_choice)
    elif tool_choice in ("auto", "none", "any"):
        choice = {"type": tool_choice}
    elif tool_choice == "required":
        choice = {"type": "any"}
    else:
        choice = {"type": "tool", "name": tool_choice}
    if not allow_parallel_tool_calls and choice.get("type") != "none":
        choice.setdefault("disable_parallel_tool_use", True)
    return choice


def to_request(
    messages: Sequence[ChatMessage], settings: Mapping[str, Any], call: Mapping[str, Any]
) -> dict[str, Any]:
    """Keyword arguments for `Client.create` / `Client.stream`.

    `settings` are the LLM's fields (None means "server default"); `call` holds the call's keyword arguments:
    any of `REQUEST_PARAMS`, `tools` and `tool_choice` in wire form, and `extra_body`. Other keyword arguments
    (LlamaIndex passes some along, such as `formatted`) are not request parameters and are ignored.
    """
    system, wire_messages = to_wire_messages(messages)
    params: dict[str, Any] = {"messages": wire_messages}
    for name in REQUEST_PARAMS:
        value = call.get(name, settings.get(name))
        if value is not None:
            params[name] = value
    if system is not None:
        params["system"] = system
    if call.get("tools"):
        params["tools"] = call["tools"]
        if call.get("tool_choice") is not None:
            params["tool_choice"] = call["tool_choice"]
    extra = {**(settings.get("extra_body") or {}), **(call.get("extra_body") or {})}
    if extra:
        params["extra_body"] = extra
    return params


# --- responses ----------------------------------------------------------------------------------------------


def _counts(usage: Mapping[str, Any]) -> dict[str, int]:
    """The token counts of a usage object (None and non-integer fields dropped)."""
    return {k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)}


def _merge_usage(state: StreamState, usage: Mapping[str, Any]) -> None:
    state.usage.update(_counts(usage))


def to_chat_response(message: Message) -> ChatResponse:
    """A whole answer as a `ChatResponse`: raw is the message as JSON, usage is in additional_kwargs."""
    raw = message.model_dump(mode="json")
    if message.usage is None:  # the server reported none: absent, not zero
        del raw["usage"]
    content = message.content
    if (
        len(content) == 1
        and type(content[0]) is WireText
        and not content[0].text.lstrip().startswith("<think>")
    ):
        # The usual answer, one text block and no inline reasoning: the blocks `StreamState` would build, made
        # directly (this is half the adapter's own cost of a `chat` call otherwise).
        text = content[0].text
        chat_message = assistant_message([TextBlock(text=text)] if text else [], {})
        usage = _counts(raw.get("usage") or {})
    else:
        chat_message, usage = _whole_answer(message, raw.get("usage") or {})
    extra: dict[str, Any] = {"usage": usage} if message.usage is not None else {}
    return ChatResponse(
        message=chat_message,
        raw=raw,
        additional_kwargs={**extra, "stop_reason": message.stop_reason},
    )


def _whole_answer(message: Message, usage: Mapping[str, Any]) -> tuple[ChatMessage, dict[str, int]]:
    """A whole answer's message and usage, built by feeding its blocks to a `StreamState` like a stream."""
    state = StreamState()
    for index, block in enumerate(message.content):
        if isinstance(block, WireText):
            state.start(index, "text")
            state.add_text(index, block.text)
        elif isinstance(block, WireThinking):
            state.start(index, "thinking")
            state.add_thinking(index, block.thinking)
            if block.signature:
                state.add_signature(index, block.signature)
        elif isinstance(block, WireToolUse):
            state.start(index, "tool_use")
            state.set_tool(index, block.id, block.name, block.input)
        state.stop(index)  # other block types (redacted thinking, server tools) stay in `raw` only
    _merge_usage(state, usage)
    return state.message(), dict(state.usage)


def to_stream_response(event: StreamEvent, state: StreamState) -> ChatResponse | None:
    """Apply one stream event to `state`; return the cumulative response it produces, if any.

    Text, reasoning and tool-call deltas each give a response; `message_delta` gives the closing one, whose
    `raw["usage"]` and `additional_kwargs["usage"]` hold the merged input and output tokens.
    """
    if isinstance(event, ContentBlockDeltaEvent):
        delta, index = event.delta, event.index
        if isinstance(delta, TextDelta):
            text, think = state.add_text(index, delta.text)
            if not (text or think):
                return None
            extra = {"thinking_delta": think} if think else {}
            return state.response(text, {"type": "text_delta", "text": delta.text}, **extra)
        if isinstance(delta, ThinkingDelta):
            state.add_thinking(index, delta.thinking)
            raw = {"type": "thinking_delta", "thinking": delta.thinking}
            return state.response("", raw, thinking_delta=delta.thinking)
        if isinstance(delta, InputJSONDelta):
            state.add_json(index, delta.partial_json)
            return state.response("", {"type": "input_json_delta", "partial_json": delta.partial_json})
        if isinstance(delta, SignatureDelta):
            state.add_signature(index, delta.signature)
        return None
    if isinstance(event, ContentBlockStartEvent):
        block = event.content_block
        state.start(event.index, block.type)
        if isinstance(block, WireToolUse):
            state.set_tool(event.index, block.id, block.name, block.input)
            return state.response("", {"type": "content_block_start", "name": block.name})
        if isinstance(block, WireText) and block.text:
            text, think = state.add_text(event.index, block.text)
            if text or think:
                return state.response(text, {"type": "text"}, **({"thinking_delta": think} if think else {}))
        return None
    if isinstance(event, ContentBlockStopEvent):
        text, think = state.stop(event.index)
        if not (text or think):
            return None
        extra = {"thinking_delta": think} if think else {}
        return state.response(text, {"type": "content_block_stop"}, **extra)
    if isinstance(event, MessageDeltaEvent):
        if event.usage is not None:
            _merge_usage(state, event.usage.model_dump(exclude_none=True))
        state.stop_reason = event.delta.stop_reason or state.stop_reason
        return state.final()
    if isinstance(event, MessageStartEvent):
        state.id, state.model = event.message.id or "", event.message.model or ""
        if event.message.usage is not None:
            _merge_usage(state, event.message.usage.model_dump(exclude_none=True))
    return None  # message_stop, ping and unknown events change nothing; errors are raised by the core


def to_tool_selections(response: ChatResponse) -> list[ToolSelection]:
    """The tool calls of a (possibly partial) response; arguments still streaming parse as far as they go."""
    return [
        ToolSelection(
            tool_id=block.tool_call_id or block.tool_name,
            tool_name=block.tool_name,
            tool_kwargs=_kwargs(block.tool_kwargs),
        )
        for block in response.message.blocks
        if isinstance(block, ToolCallBlock)
    ]
