"""Accumulate stream events into the final `Message`, checking the event grammar on the way. No I/O.

Grammar (GRAMMAR.md section 1): `message_start (block_start delta* block_stop)* message_delta+ message_stop`,
with `ping` and unknown event types allowed anywhere. Text pieces are kept in lists and joined only when a
snapshot is asked for, so accumulating n deltas costs O(n), not O(n^2).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import APIResponseValidationError, error_from_body, quote
from .types import (
    CitationsDelta,
    ContentBlock,
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    ErrorEvent,
    InputJSONDelta,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStopEvent,
    SignatureDelta,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    UnknownBlock,
    UnknownDelta,
    Usage,
)

__all__ = ["MessageAccumulator", "parse_tool_input"]

_TOOL_BLOCKS = ("tool_use", "server_tool_use", "mcp_tool_use")
_LOOSE_PIECES = (
    256  # a str costs ~50 bytes beyond its text: join pieces in groups to keep memory near text size
)


def parse_tool_input(partial_json: str) -> dict[str, Any]:
    """The final `input` of a tool block from its concatenated `input_json_delta`s ("" means `{}`)."""
    if not partial_json.strip():
        return {}
    value = json.loads(partial_json)
    if not isinstance(value, dict):
        raise ValueError(f"tool input is not a JSON object: {quote(partial_json)}")
    return value


class _Block:
    """One content block being streamed: its start payload and the pieces its deltas added."""

    __slots__ = ("chunks", "citations", "closed", "extra", "index", "pieces", "signature", "start")

    def __init__(self, index: int, start: ContentBlock) -> None:
        self.index = index
        self.start = start
        self.pieces: list[str] = []  # the latest deltas, loose
        self.chunks: list[str] = []  # earlier deltas, joined in groups of _LOOSE_PIECES
        self.signature: list[str] = []
        self.citations: list[dict[str, Any]] = []
        self.extra: dict[str, list[str]] = {}
        self.closed = False

    def joined(self) -> str:
        """All the text the deltas added; joined once, so later snapshots start from the joined string."""
        if self.pieces:
            self.chunks.append("".join(self.pieces))
            self.pieces.clear()
        if len(self.chunks) > 1:
            self.chunks[:] = ["".join(self.chunks)]
        return self.chunks[0] if self.chunks else ""

    def _append(self, text: str) -> None:
        pieces = self.pieces
        pieces.append(text)
        if len(pieces) >= _LOOSE_PIECES:
            self.chunks.append("".join(pieces))
            pieces.clear()

    def add(self, delta: Any) -> None:
        kind = self.start.type
        if isinstance(delta, TextDelta) and kind == "text":
            self._append(delta.text)
        elif isinstance(delta, InputJSONDelta) and kind in _TOOL_BLOCKS:
            self._append(delta.partial_json)
        elif isinstance(delta, ThinkingDelta) and kind == "thinking":
            self._append(delta.thinking)
        elif isinstance(delta, SignatureDelta) and kind == "thinking":
            self.signature.append(delta.signature)
        elif isinstance(delta, CitationsDelta) and kind == "text":
            self.citations.append(delta.citation)
        elif isinstance(delta, UnknownDelta):
            # new delta kinds extend a string field of their block (compaction_delta -> content)
            for key, value in (delta.model_extra or {}).items():
                if isinstance(value, str):
                    self.extra.setdefault(key, []).append(value)
        else:
            raise APIResponseValidationError(
                f"stream sent a {delta.type} for content block {self.index}, which is of type {kind}"
            )

    def build(self) -> ContentBlock:
        start = self.start
        if isinstance(start, TextBlock):
            citations = (start.citations or []) + self.citations if self.citations else start.citations
            return start.model_copy(update={"text": start.text + self.joined(), "citations": citations})
        if isinstance(start, ThinkingBlock):
            signature = "".join(self.signature) if self.signature else start.signature
            return start.model_copy(
                update={"thinking": start.thinking + self.joined(), "signature": signature}
            )
        if start.type in _TOOL_BLOCKS:
            return self._build_tool(start)
        if self.extra:
            fields = start.model_dump()
            for key, pieces in self.extra.items():
                fields[key] = (fields.get(key) or "") + "".join(pieces)
            return UnknownBlock.model_validate(fields)
        return start

    def _build_tool(self, start: ContentBlock) -> ContentBlock:
        raw = self.joined()
        if not self.chunks:  # no input_json_delta at all: the start payload is the whole block
            return start
        try:
            tool_input = parse_tool_input(raw)
        except ValueError as exc:
            if self.closed:
                raise APIResponseValidationError(
                    f"tool_use block {self.index} closed with invalid JSON input: {quote(raw)}"
                ) from exc
            # still open (the stream was cut, e.g. stop_reason max_tokens): keep what came, raw
            return start.model_copy(update={"input": {}, "partial_json": raw})
        return start.model_copy(update={"input": tool_input})


class MessageAccumulator:
    """Feed it every event of one stream; `message` is the message so far, final once `complete`."""

    __slots__ = ("_blocks", "_delta_extra", "_start", "_stop_reason", "_stop_sequence", "_usage", "complete")

    def __init__(self) -> None:
        self._start: Message | None = None
        self._blocks: dict[int, _Block] = {}
        self._usage: dict[str, Any] | None = None  # None until the server reports usage
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None
        self._delta_extra: dict[str, Any] = {}
        self.complete = False

    @property
    def started(self) -> bool:
        return self._start is not None

    def feed(self, event: StreamEvent) -> None:
        """Apply one event; raise the typed API error for an `error` event, and on grammar violations."""
        if self.complete:
            return  # anything after message_stop (a stray trailer) changes nothing
        if isinstance(event, ContentBlockDeltaEvent):
            self._block(event.index, event.type).add(event.delta)
        elif isinstance(event, MessageStartEvent):
            if self._start is not None:
                raise APIResponseValidationError("stream sent message_start twice")
            self._start = event.message
            usage = event.message.usage
            self._usage = usage.model_dump() if usage is not None else None
            self._stop_reason, self._stop_sequence = event.message.stop_reason, event.message.stop_sequence
        elif isinstance(event, ContentBlockStartEvent):
            self._require_start(event.type)
            if event.index in self._blocks:
                raise APIResponseValidationError(f"stream started content block {event.index} twice")
            self._blocks[event.index] = _Block(event.index, event.content_block)
        elif isinstance(event, ContentBlockStopEvent):
            self._block(event.index, event.type).closed = True
        elif isinstance(event, MessageDeltaEvent):
            self._require_start(event.type)
            self._stop_reason = event.delta.stop_reason or self._stop_reason
            self._stop_sequence = event.delta.stop_sequence or self._stop_sequence
            self._delta_extra.update(event.delta.model_extra or {})
            if event.usage is not None:
                fields = event.usage.model_dump(exclude_none=True)
                fields.update({k: v for k, v in (event.usage.model_extra or {}).items() if v is not None})
                if fields:
                    self._usage = {**(self._usage or {}), **fields}
        elif isinstance(event, MessageStopEvent):
            self._require_start(event.type)
            self.complete = True
        elif isinstance(event, ErrorEvent):
            raise error_from_body(200, event.model_dump(), request_id=event.request_id)
        # ping and unknown events carry nothing for the message

    @property
    def message(self) -> Message:
        """A snapshot of the message so far (the final message once `complete`)."""
        if self._start is None:
            raise APIResponseValidationError("stream ended before message_start")
        content = [self._blocks[i].build() for i in sorted(self._blocks)]
        return self._start.model_copy(
            update={
                "content": content,
                "stop_reason": self._stop_reason,
                "stop_sequence": self._stop_sequence,
                "usage": self.usage,
                **self._delta_extra,
            }
        )

    @property
    def text(self) -> str:
        """The text of all text blocks so far."""
        return "".join(
            block.start.text + block.joined()
            for _, block in sorted(self._blocks.items())
            if isinstance(block.start, TextBlock)
        )

    @property
    def usage(self) -> Usage | None:
        """Usage so far: `message_start`'s, overlaid with every non-null `message_delta` field; None while
        the server has reported none."""
        return Usage.model_validate(self._usage) if self._usage is not None else None

    def _require_start(self, kind: str) -> None:
        if self._start is None:
            raise APIResponseValidationError(f"stream sent {kind} before message_start")

    def _block(self, index: int, kind: str) -> _Block:
        block = self._blocks.get(index)  # a block exists only after message_start
        if block is None:
            self._require_start(kind)
            raise APIResponseValidationError(
                f"stream sent {kind} for content block {index}, which never started"
            )
        return block
