"""Stream events -> `AIMessageChunk`s: a pure function, `to_chunk`, and the state it keeps per stream. No I/O.

The chunks gather (`chunk + chunk`) into the same message `to_ai_message` builds for the whole response:
text as a string, reasoning apart from the answer, one `tool_call_chunk` series per tool block, and usage
once, on the last chunk (`chunk_position="last"`). While tools are bound, and from the first block a string
cannot carry (thinking with its signature, citations, server-tool blocks), chunks are index-keyed blocks.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk

from modelslab_core import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    ErrorEvent,
    ImageBlock,
    InputJSONDelta,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStopEvent,
    PingEvent,
    RedactedThinkingBlock,
    SignatureDelta,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ThinkSplitter,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    UnknownDelta,
    UnknownEvent,
    Usage,
)
from modelslab_core.types import CitationsDelta

from ._convert import PROVIDER, JSONObject, never, to_usage_metadata

__all__ = ["ChunkState", "UsageSource", "to_chunk"]


class UsageSource(Protocol):
    """What `to_chunk` reads at the end: the stream's merged usage (`MessageStream.usage`)."""

    @property
    def usage(self) -> Usage | None: ...


class ChunkState:
    """What one stream's chunks depend on besides the current event."""

    __slots__ = ("as_blocks", "kinds", "next_index", "out", "splitter", "start", "stop", "tool_args")

    def __init__(self, *, as_blocks: bool) -> None:
        self.as_blocks = as_blocks  # set while tools are bound; turned on by the first block a string lacks
        self.start: Message | None = None
        self.stop: MessageDeltaEvent | None = None
        self.kinds: dict[int, str] = {}  # wire block index -> block type
        self.out: dict[tuple[int, str], int] = {}  # (wire index, "text"|"thinking"|...) -> output index
        self.next_index = 0
        self.splitter: ThinkSplitter | None = (
            ThinkSplitter()
        )  # only the first text block may open with <think>
        self.tool_args: dict[int, bool] = {}  # tool block -> got non-empty arguments

    def index(self, wire_index: int, kind: str) -> int:
        key = (wire_index, kind)
        if (found := self.out.get(key)) is None:
            found = self.out[key] = self.next_index
            self.next_index += 1
        return found


def to_chunk(event: StreamEvent, state: ChunkState, stream: UsageSource) -> AIMessageChunk | None:
    """The chunk for one stream event, or None for events that add nothing (ping, block stop, ...)."""
    if isinstance(event, ContentBlockDeltaEvent):
        delta = event.delta
        if isinstance(delta, TextDelta):
            return _text(state, event.index, delta.text)
        if isinstance(delta, InputJSONDelta):
            if not delta.partial_json:
                return None  # servers open with an empty piece: nothing to add
            state.tool_args[event.index] = True
            return _tool_args(state, event.index, delta.partial_json)
        if isinstance(delta, ThinkingDelta):
            return _pieces(state, event.index, delta.thinking, "")
        if isinstance(delta, SignatureDelta):
            state.as_blocks = True  # the signature must go back with its thinking: only a block carries it
            block = {"type": "thinking", "thinking": "", "signature": delta.signature}
            return _block_chunk(state, event.index, "thinking", block)
        if isinstance(delta, CitationsDelta):
            state.as_blocks = True
            cited: JSONObject = {"type": "text", "text": "", "citations": [delta.citation]}
            return _block_chunk(state, event.index, "text", cited)
        if isinstance(delta, UnknownDelta):
            return None  # new delta kinds reach the caller through invoke only
        never(delta)
    if isinstance(event, ContentBlockStartEvent):
        return _start(state, event)
    if isinstance(event, ContentBlockStopEvent):
        return _stop(state, event.index)
    if isinstance(event, MessageStartEvent):
        state.start = event.message
        return None
    if isinstance(event, MessageDeltaEvent):
        state.stop = event
        return None
    if isinstance(event, MessageStopEvent):
        return _last(state, stream.usage)
    if isinstance(event, (PingEvent, UnknownEvent, ErrorEvent)):
        return None  # the core raises on error events before they get here
    never(event)


def _text(state: ChunkState, wire_index: int, text: str) -> AIMessageChunk | None:
    splitter = state.splitter
    if splitter is None or state.kinds.get(wire_index) != "text":
        return _pieces(state, wire_index, "", text)
    reasoning, answer = splitter.feed(text)
    if splitter.answering:
        # Fast path: past `<think>` (or with none), the rest of the text is answer and no later block may open
        # with one: drop the splitter, as the block's stop would, so the next deltas skip it.
        state.splitter = None
    return _pieces(state, wire_index, reasoning, answer)


def _pieces(state: ChunkState, wire_index: int, reasoning: str, text: str) -> AIMessageChunk | None:
    """A chunk with a piece of reasoning and/or of answer text."""
    if not reasoning and not text:
        return None
    if not state.as_blocks:
        if not reasoning:
            # Plain answer text, built as cheaply as any chunk can be: a string chunk's `content_blocks` is
            # the same with or without our translator, so `model_provider` rides only on the chunks that
            # need it (reasoning, blocks, tool calls) and on the last one, which puts it in the gathered
            # message.
            return AIMessageChunk(content=text)
        return AIMessageChunk(
            content=text,
            additional_kwargs={"reasoning_content": reasoning},
            response_metadata={"model_provider": PROVIDER},
        )
    blocks: list[str | dict[Any, Any]] = []
    if reasoning:
        blocks.append(
            {"type": "thinking", "thinking": reasoning, "index": state.index(wire_index, "thinking")}
        )
    if text:
        blocks.append({"type": "text", "text": text, "index": state.index(wire_index, "text")})
    extra = {"reasoning_content": reasoning} if reasoning else {}
    return AIMessageChunk(
        content=blocks, additional_kwargs=extra, response_metadata={"model_provider": PROVIDER}
    )


def _block_chunk(state: ChunkState, wire_index: int, kind: str, block: JSONObject) -> AIMessageChunk:
    block["index"] = state.index(wire_index, kind)
    return AIMessageChunk(content=[block], response_metadata={"model_provider": PROVIDER})


def _start(state: ChunkState, event: ContentBlockStartEvent) -> AIMessageChunk | None:
    block = event.content_block
    state.kinds[event.index] = block.type
    plain = isinstance(block, ToolUseBlock) or (isinstance(block, TextBlock) and block.citations is None)
    if not plain:
        state.as_blocks = True  # what a string cannot carry: from here on, the chunks are blocks
    if isinstance(block, TextBlock):
        return _text(state, event.index, block.text) if block.text else None
    if isinstance(block, ThinkingBlock):
        chunk = _pieces(state, event.index, block.thinking, "")
        if chunk is None:  # an empty start still opens the block, so that its signature finds it
            chunk = _block_chunk(state, event.index, "thinking", {"type": "thinking", "thinking": ""})
        return chunk
    if isinstance(block, ToolUseBlock):
        state.tool_args[event.index] = bool(block.input)
        index = state.index(event.index, "tool_use")
        args = json.dumps(block.input) if block.input else ""
        call = tool_call_chunk(name=block.name, args=args, id=block.id, index=index)
        content: list[str | dict[Any, Any]] = []
        if state.as_blocks:
            content = [{"type": "tool_use", "id": block.id, "name": block.name, "input": {}, "index": index}]
        return AIMessageChunk(
            content=content, tool_call_chunks=[call], response_metadata={"model_provider": PROVIDER}
        )
    if isinstance(block, (RedactedThinkingBlock, ImageBlock, ToolResultBlock, UnknownBlock)):
        return _block_chunk(state, event.index, block.type, block.model_dump(exclude_none=True))
    never(block)


def _tool_args(state: ChunkState, wire_index: int, partial_json: str) -> AIMessageChunk:
    kind = state.kinds.get(wire_index, "tool_use")
    if kind != "tool_use":  # a server tool's input (server_tool_use, mcp_tool_use): no call for the caller
        block = {"type": "input_json_delta", "partial_json": partial_json}
        return _block_chunk(state, wire_index, kind, block)
    index = state.index(wire_index, "tool_use")
    call = tool_call_chunk(name=None, args=partial_json, id=None, index=index)
    content: list[str | dict[Any, Any]] = []
    if state.as_blocks:
        content = [{"type": "input_json_delta", "partial_json": partial_json, "index": index}]
    return AIMessageChunk(
        content=content, tool_call_chunks=[call], response_metadata={"model_provider": PROVIDER}
    )


def _stop(state: ChunkState, wire_index: int) -> AIMessageChunk | None:
    kind = state.kinds.get(wire_index)
    if kind == "tool_use" and not state.tool_args.get(wire_index):
        state.tool_args[wire_index] = True
        return _tool_args(state, wire_index, "{}")  # a tool without arguments: its input is {}
    if kind == "text" and state.splitter is not None:
        reasoning, answer = state.splitter.flush()
        state.splitter = None
        return _pieces(state, wire_index, reasoning, answer)
    return None


def _last(state: ChunkState, usage: Usage | None) -> AIMessageChunk:
    """The closing chunk: usage (once per stream) and the response metadata."""
    metadata: JSONObject = {"model_provider": PROVIDER}
    if state.start is not None:
        metadata.update(id=state.start.id, model=state.start.model, model_name=state.start.model)
    stop = state.stop.delta if state.stop is not None else None
    metadata["stop_reason"] = stop.stop_reason if stop else None
    metadata["stop_sequence"] = stop.stop_sequence if stop else None
    if usage is not None:  # a server that reported no usage gets none, not zeros
        metadata["usage"] = usage.model_dump(exclude_none=True)
    return AIMessageChunk(
        content=[] if state.as_blocks else "",
        usage_metadata=to_usage_metadata(usage),
        response_metadata=metadata,
        chunk_position="last",
    )
