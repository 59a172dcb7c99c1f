"""Wire models of the Messages API: responses, content blocks, usage and stream events.

Every model keeps the API's own field names and allows extra fields, so that what a newer server adds
(`stop_details`, `service_tier`, ...) is kept rather than dropped. Block, delta and event types this module
does not know are parsed into `Unknown*` models instead of failing: the spec says new types will appear
("your code should handle unknown event types gracefully").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, TypeAdapter

__all__ = [
    "Base64ImageSource",
    "CitationsDelta",
    "ContentBlock",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "Delta",
    "ErrorDetail",
    "ErrorEvent",
    "ImageBlock",
    "InputJSONDelta",
    "Message",
    "MessageDelta",
    "MessageDeltaEvent",
    "MessageDeltaUsage",
    "MessageStartEvent",
    "MessageStopEvent",
    "ModelInfo",
    "PingEvent",
    "RedactedThinkingBlock",
    "SignatureDelta",
    "StopReason",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolResultBlock",
    "ToolUseBlock",
    "URLImageSource",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
]

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


def _other_than(known: frozenset[str]) -> AfterValidator:
    """A `type` that names none of the modelled kinds: a malformed known block must fail, not turn unknown."""

    def check(kind: str) -> str:
        if kind in known:
            raise ValueError(f"malformed {kind!r} object")
        return kind

    return AfterValidator(check)


# Unions below are tagged by the `type` string (parsed in Rust, no Python call per event) and fall back,
# left to right, to an `Unknown*` model for types the spec may add later.


# --- content blocks -----------------------------------------------------------------------------------------


class TextBlock(_Wire):
    """A text block; `citations` appear when the server cites sources."""

    type: Literal["text"] = "text"
    text: str
    citations: list[dict[str, Any]] | None = None


class Base64ImageSource(_Wire):
    type: Literal["base64"] = "base64"
    media_type: str
    data: str


class URLImageSource(_Wire):
    type: Literal["url"] = "url"
    url: str


class ImageBlock(_Wire):
    type: Literal["image"] = "image"
    source: Annotated[Base64ImageSource | URLImageSource, Discriminator("type")]


class ToolUseBlock(_Wire):
    """The model asks for a tool call; `input` is always a JSON object."""

    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]


class ToolResultBlock(_Wire):
    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str | list[dict[str, Any]] | None = None
    is_error: bool | None = None


class ThinkingBlock(_Wire):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Wire):
    type: Literal["redacted_thinking"] = "redacted_thinking"
    data: str


_BLOCK_TYPES = frozenset({"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"})


class UnknownBlock(_Wire):
    """A block type this client does not model (server tools, compaction, ...), kept with all its fields."""

    type: Annotated[str, _other_than(_BLOCK_TYPES)]


ContentBlock = Annotated[
    Annotated[
        TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock,
        Field(discriminator="type"),
    ]
    | UnknownBlock,
    Field(union_mode="left_to_right"),
]


# --- message and usage --------------------------------------------------------------------------------------


class Usage(_Wire):
    """Token counts. Cache fields stay None when the server does not report them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class Message(_Wire):
    """An assistant message, as returned by `POST /v1/messages` or accumulated from a stream.

    `id`, `model`, `usage` and `stop_sequence` may be missing (ModelsLab's own function-calling example has no
    `model` and no `usage`): the clients fill `model` with the requested id when the reply names none, and
    leave `usage` None when the server reported none (absent, not zero).
    """

    id: str | None = None
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    content: list[ContentBlock]
    model: str | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage | None = None

    @property
    def text(self) -> str:
        """The text blocks joined, without thinking or tool calls."""
        return "".join(block.text for block in self.content if isinstance(block, TextBlock))

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [block for block in self.content if isinstance(block, ToolUseBlock)]


class ModelInfo(_Wire):
    """One entry of `GET /v1/models`."""

    id: str
    object: str = "model"
    created: int | None = None
    owned_by: str | None = None


# --- stream deltas ------------------------------------------------------------------------------------------


class TextDelta(_Wire):
    type: Literal["text_delta"] = "text_delta"
    text: str


class InputJSONDelta(_Wire):
    type: Literal["input_json_delta"] = "input_json_delta"
    partial_json: str


class ThinkingDelta(_Wire):
    type: Literal["thinking_delta"] = "thinking_delta"
    thinking: str


class SignatureDelta(_Wire):
    type: Literal["signature_delta"] = "signature_delta"
    signature: str


class CitationsDelta(_Wire):
    type: Literal["citations_delta"] = "citations_delta"
    citation: dict[str, Any]


class UnknownDelta(_Wire):
    type: str


_DELTA_TYPES = frozenset(
    {"text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"}
)


Delta = Annotated[
    Annotated[
        TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta | CitationsDelta,
        Field(discriminator="type"),
    ]
    | UnknownDelta,
    Field(union_mode="left_to_right"),
]


# --- stream events ------------------------------------------------------------------------------------------


class MessageStartEvent(_Wire):
    type: Literal["message_start"] = "message_start"
    message: Message


class ContentBlockStartEvent(_Wire):
    type: Literal["content_block_start"] = "content_block_start"
    index: int
    content_block: ContentBlock


class ContentBlockDeltaEvent(_Wire):
    type: Literal["content_block_delta"] = "content_block_delta"
    index: int
    delta: Delta


class ContentBlockStopEvent(_Wire):
    type: Literal["content_block_stop"] = "content_block_stop"
    index: int


class MessageDelta(_Wire):
    stop_reason: str | None = None
    stop_sequence: str | None = None


class MessageDeltaUsage(_Wire):
    """Cumulative usage sent with `message_delta`; absent fields mean "keep the message_start value"."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class MessageDeltaEvent(_Wire):
    type: Literal["message_delta"] = "message_delta"
    delta: MessageDelta = MessageDelta()
    usage: MessageDeltaUsage | None = None


class MessageStopEvent(_Wire):
    type: Literal["message_stop"] = "message_stop"


class PingEvent(_Wire):
    type: Literal["ping"] = "ping"


class ErrorDetail(_Wire):
    type: str = "api_error"
    message: str = ""


class ErrorEvent(_Wire):
    type: Literal["error"] = "error"
    error: ErrorDetail
    request_id: str | None = None


_EVENT_TYPES = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)


class UnknownEvent(_Wire):
    type: Annotated[str, _other_than(_EVENT_TYPES)]


StreamEvent = Annotated[
    Annotated[
        MessageStartEvent
        | ContentBlockStartEvent
        | ContentBlockDeltaEvent
        | ContentBlockStopEvent
        | MessageDeltaEvent
        | MessageStopEvent
        | PingEvent
        | ErrorEvent,
        Field(discriminator="type"),
    ]
    | UnknownEvent,
    Field(union_mode="left_to_right"),
]

# Delta texts are not worth interning: pydantic's JSON string cache would keep thousands of them alive.
STREAM_EVENT_ADAPTER: TypeAdapter[StreamEvent] = TypeAdapter(
    StreamEvent, config=ConfigDict(cache_strings="keys")
)
CONTENT_BLOCK_ADAPTER: TypeAdapter[ContentBlock] = TypeAdapter(ContentBlock)
# the stream's hot path calls the validator itself: TypeAdapter.validate_json adds a Python call per event
validate_stream_event_json: Callable[[str | bytes], StreamEvent]
validate_stream_event_json = STREAM_EVENT_ADAPTER.validator.validate_json
