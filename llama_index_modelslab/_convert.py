"""Translation between LlamaIndex's chat types and ModelsLab's Messages API, with no I/O.

Requests: `to_request` (in `_params`: arguments checked, then made `Client.create` keyword arguments) over
`to_wire_messages` (in `_messages`). Responses: `to_chat_response` (a whole `Message`) and
`to_stream_response` (one stream event plus a `StreamState`); both feed the same `StreamState`, so a streamed
answer ends as the same blocks as a whole one. Tool calls: `to_tool_selections`, tolerant of the partial JSON
of a tool call still streaming, and `to_single_tool_call` for LlamaIndex's one-call-at-a-time default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection

from modelslab_core import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    RedactedThinkingBlock,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)
from modelslab_core import TextBlock as WireText
from modelslab_core import ThinkingBlock as WireThinking
from modelslab_core import ToolUseBlock as WireToolUse

from ._messages import to_tool_choice, to_wire_messages, to_wire_tools, tool_id, tool_kwargs
from ._params import to_request
from ._state import StreamState, assistant_message, split_think

__all__ = [
    "StreamState",
    "asingle_tool_calls",
    "assistant_message",
    "split_think",
    "to_chat_response",
    "to_request",
    "to_single_tool_call",
    "to_stream_response",
    "to_tool_choice",
    "to_tool_selections",
    "to_wire_messages",
    "to_wire_tools",
    "tool_id",
]

Wire = dict[str, Any]


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
        elif isinstance(block, RedactedThinkingBlock):
            state.start(index, "redacted_thinking")
            state.set_redacted(index, block.data)
        state.stop(index)  # other block types (server tools) stay in `raw` only
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
        if isinstance(block, RedactedThinkingBlock):
            state.set_redacted(event.index, block.data)
            return None
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
            tool_kwargs=tool_kwargs(block.tool_kwargs),
        )
        for block in response.message.blocks
        if isinstance(block, ToolCallBlock)
    ]


def to_single_tool_call(response: ChatResponse) -> ChatResponse:
    """`response` with its first tool call only (LlamaIndex's `allow_parallel_tool_calls=False`), in place.

    Applied to the answer rather than asked of the server: `disable_parallel_tool_use` is not part of what
    ModelsLab documents, so it is sent only when a caller puts it in `tool_choice`.
    """
    message = response.message
    calls = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    if len(calls) > 1:
        message.blocks = [b for b in message.blocks if not isinstance(b, ToolCallBlock) or b is calls[0]]
    legacy = message.additional_kwargs.get("tool_calls")
    if isinstance(legacy, list) and len(legacy) > 1:
        message.additional_kwargs = {**message.additional_kwargs, "tool_calls": legacy[:1]}
    return response


async def asingle_tool_calls(responses: AsyncIterator[ChatResponse]) -> ChatResponseAsyncGen:
    """`to_single_tool_call` over a stream of responses."""
    async for response in responses:
        yield to_single_tool_call(response)
