"""The state of one answer being built from Messages content, with no I/O: `StreamState`.

It merges adjacent text blocks, splits an inline `<think>...</think>` prefix off the first text (whatever the
delta boundaries), keeps tool-call arguments parsed as far as they have streamed, and keeps the LlamaIndex
blocks of each part ready, so that a snapshot per delta costs O(number of blocks), not O(text so far).

Speed: a streamed answer builds one `ChatResponse` per delta, so the per-delta path is kept as cheap as a
plain LlamaIndex LLM that sets `content` to the text so far. Blocks and responses are built with their
validating constructors, which pydantic-core runs faster than `model_construct` for these small models
(~0.9 us against ~2 us each). `ChatMessage` is the exception: its Python `__init__` and validator, and
`model_construct`, cost 1.5 to 3 us, so `assistant_message` fills the instance directly (~0.5 us).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ContentBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from modelslab_core import ThinkSplitter, split_think

from ._messages import REDACTED, partial_kwargs

__all__ = ["StreamState", "assistant_message", "split_think"]

Wire = dict[str, Any]
_MESSAGE_FIELDS = frozenset({"role", "additional_kwargs", "blocks"})
# Filling a ChatMessage directly is only right while these are all its fields and it has no private attributes
# or extras; a LlamaIndex release that changes that gets `model_construct` instead.
_DIRECT = (
    set(ChatMessage.model_fields) == _MESSAGE_FIELDS
    and not ChatMessage.__private_attributes__
    and ChatMessage.model_config.get("extra") != "allow"
)
_new_message = ChatMessage.__new__
_set = object.__setattr__


def assistant_message(blocks: list[ContentBlock], additional_kwargs: dict[str, Any]) -> ChatMessage:
    """`ChatMessage(role="assistant", blocks=blocks, additional_kwargs=additional_kwargs)`, unvalidated.

    What `ChatMessage.model_construct` does for these three fields (pydantic's documented instance
    attributes), without its generic per-field loop: built once per streamed delta, it was the largest cost.
    `blocks` must already be valid content blocks. tests/llama_index checks it equals the validated message.
    """
    if not _DIRECT:
        return ChatMessage.model_construct(
            role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=additional_kwargs
        )
    message = _new_message(ChatMessage)
    _set(
        message,
        "__dict__",
        {"role": MessageRole.ASSISTANT, "additional_kwargs": additional_kwargs, "blocks": blocks},
    )
    _set(message, "__pydantic_fields_set__", set(_MESSAGE_FIELDS))
    _set(message, "__pydantic_extra__", None)
    _set(message, "__pydantic_private__", None)
    return message


class _Part:
    """One output part: merged text (with its parsed <think> prefix), a (redacted) thinking block or a tool
    call."""

    __slots__ = (
        "blocks",
        "index",
        "kind",
        "kwargs",
        "name",
        "raw_json",
        "signature",
        "splitter",
        "text",
        "think",
    )

    def __init__(self, kind: str, index: int, splitter: ThinkSplitter | None = None) -> None:
        self.kind, self.index = kind, index
        self.splitter = splitter  # parses a <think> prefix off the first text; dropped once past it
        self.text = ""  # answer text, thinking text, or tool-call id
        self.think: str | None = None  # the <think> reasoning of a text part
        self.name = ""
        self.raw_json = ""
        self.signature: str | None = None
        self.kwargs: dict[str, Any] = {}
        self.blocks: tuple[ContentBlock, ...] = ()


class StreamState:
    """What one answer holds so far; fed by `to_stream_response` (or at once by `to_chat_response`)."""

    __slots__ = ("_order", "_parts", "_tool_calls", "id", "model", "stop_reason", "usage")

    def __init__(self) -> None:
        self._parts: dict[int, _Part] = {}  # by block index; merged text blocks share one part
        self._order: list[_Part] = []  # each part once, in answer order
        self._tool_calls: list[Wire] | None = []
        self.usage: dict[str, int] = {}
        self.stop_reason: str | None = None
        self.id = ""
        self.model = ""

    # -- feeding ---------------------------------------------------------------------------------------------

    def start(self, index: int, kind: str) -> None:
        """A content block starts; adjacent text blocks continue one part."""
        last = self._order[-1] if self._order else None
        if kind == "text" and last is not None and last.kind == "text":
            self._parts[index] = last
            return
        first_text = kind == "text" and not any(p.kind == "text" for p in self._order)
        part = _Part(kind, index, ThinkSplitter() if first_text else None)
        self._parts[index] = part
        self._order.append(part)

    def add_text(self, index: int, piece: str) -> tuple[str, str]:
        """Append text; return (new answer text, new reasoning text) after `<think>` parsing."""
        part = self._parts[index]
        splitter = part.splitter
        if splitter is None:
            new_think, new_text = "", piece
        else:
            new_think, new_text = splitter.feed(piece)
            if splitter.found and part.think is None:
                part.think = ""
            if splitter.answering:
                part.splitter = None  # past the prefix: every later delta is answer text
        return self._add(part, new_text, new_think)

    def _add(self, part: _Part, new_text: str, new_think: str) -> tuple[str, str]:
        if new_think:
            part.think = (part.think or "") + new_think
        if new_text:
            part.text += new_text
        if new_text or new_think:
            self._rebuild(part)
        return new_text, new_think

    def add_thinking(self, index: int, piece: str) -> None:
        part = self._parts[index]
        part.text += piece
        self._rebuild(part)

    def add_signature(self, index: int, signature: str) -> None:
        part = self._parts[index]
        part.signature = (part.signature or "") + signature
        self._rebuild(part)

    def set_redacted(self, index: int, data: str) -> None:
        """A `redacted_thinking` block: kept whole, to be sent back on the next turn."""
        part = self._parts[index]
        part.text = data
        self._rebuild(part)

    def set_tool(self, index: int, call_id: str, name: str, kwargs: dict[str, Any]) -> None:
        part = self._parts[index]
        part.text, part.name, part.kwargs = call_id, name, kwargs
        self._rebuild(part)

    def add_json(self, index: int, piece: str) -> None:
        part = self._parts[index]
        part.raw_json += piece
        # arguments still streaming: parse as far as they go, keep the last good parse otherwise
        if (parsed := partial_kwargs(part.raw_json)) is not None:
            part.kwargs = parsed
            self._rebuild(part)

    def stop(self, index: int) -> tuple[str, str]:
        """A block ends: release what was kept back; return it as (new answer text, new reasoning text)."""
        part = self._parts.get(index)
        if part is None or part.splitter is None:
            return "", ""
        splitter, part.splitter = part.splitter, None
        new_think, new_text = splitter.flush()  # an unclosed <think>: the rest is reasoning
        return self._add(part, new_text, new_think)

    def _rebuild(self, part: _Part) -> None:
        if part.kind == "text":
            if part.think is None:  # the usual case, once per text delta
                part.blocks = (TextBlock(text=part.text),) if part.text else ()
                return
            thinking = ThinkingBlock(content=part.think)
            part.blocks = (thinking, TextBlock(text=part.text)) if part.text else (thinking,)
        elif part.kind == "thinking":
            info = {"signature": part.signature} if part.signature else {}
            part.blocks = (ThinkingBlock(content=part.text, additional_information=info),)
        elif part.kind == "redacted_thinking":
            part.blocks = (ThinkingBlock(additional_information={REDACTED: part.text}),)
        elif part.kind == "tool_use":
            part.blocks = (
                ToolCallBlock(tool_call_id=part.text, tool_name=part.name, tool_kwargs=part.kwargs),
            )
            self._tool_calls = None  # rebuilt on demand

    # -- reading ---------------------------------------------------------------------------------------------

    def message(self) -> ChatMessage:
        """The assistant message so far: reasoning, text and tool calls, with the legacy `tool_calls` key."""
        order = self._order
        if len(order) == 1:  # a plain answer: one text part
            blocks: list[ContentBlock] = list(order[0].blocks)
        else:
            blocks = [block for part in order for block in part.blocks]
        if self._tool_calls is None:
            self._tool_calls = [
                {"type": "tool_use", "id": b.tool_call_id, "name": b.tool_name, "input": b.tool_kwargs}
                for b in blocks
                if isinstance(b, ToolCallBlock)
            ]
        kwargs = {"tool_calls": self._tool_calls} if self._tool_calls else {}
        return assistant_message(blocks, kwargs)

    def response(self, delta: str, raw: Wire, **additional: Any) -> ChatResponse:
        """A cumulative `ChatResponse` with `delta` the new text only."""
        return ChatResponse(message=self.message(), delta=delta, raw=raw, additional_kwargs=additional)

    def final(self) -> ChatResponse:
        """The closing response: raw and additional_kwargs carry the merged usage and stop_reason."""
        raw: Wire = {"id": self.id, "model": self.model, "stop_reason": self.stop_reason}
        if not self.usage:  # the server reported no usage: absent, not zero
            return self.response("", raw, stop_reason=self.stop_reason)
        usage = dict(self.usage)
        return self.response("", {**raw, "usage": usage}, usage=usage, stop_reason=self.stop_reason)
