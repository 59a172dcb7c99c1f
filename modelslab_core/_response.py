"""Turning HTTP answers into messages or typed errors, with no I/O."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import (
    APIResponseValidationError,
    IncompleteStreamError,
    ModelsLabError,
    error_from_body,
    is_error_body,
    quote,
)
from .sse import SSEDecoder, common_data, parse_event
from .stream import MessageAccumulator
from .types import (
    STREAM_EVENT_ADAPTER,
    ErrorEvent,
    Message,
    MessageStartEvent,
    StreamEvent,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    validate_stream_event_json,
)

__all__ = ["StreamState", "parse_body", "status_error", "with_model"]

ModelT = TypeVar("ModelT", bound=BaseModel)

# Events read (and checked) before a stream is handed to the caller: an error among them, e.g. an SSE `error`
# event in the first packet, is retried; later ones reach the caller. Bounded so that a large first packet is
# still parsed lazily.
HEAD_EVENTS = 64


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None


def status_error(status_code: int, headers: Mapping[str, str], content: bytes) -> ModelsLabError:
    """The error for a response with status >= 400 (or an error body behind 2xx)."""
    body = _json(content)
    request_id = headers.get("request-id") or headers.get("x-request-id")
    if body is None:
        return APIResponseValidationError(
            f"ModelsLab answered HTTP {status_code} with a body that is not JSON: {quote(content)}",
            status_code=status_code,
            body=content.decode("utf-8", errors="replace"),
        )
    return error_from_body(status_code, body, request_id=request_id, raw=content)


def parse_body(status_code: int, headers: Mapping[str, str], content: bytes, model: type[ModelT]) -> ModelT:
    """The `model` in a response body, or the typed error it reports."""
    if status_code >= 400:
        raise status_error(status_code, headers, content)
    body = _json(content)
    if body is None:
        raise APIResponseValidationError(
            f"ModelsLab answered HTTP {status_code} with a body that is not JSON: {quote(content)}",
            status_code=status_code,
            body=content.decode("utf-8", errors="replace"),
        )
    if is_error_body(body):
        raise status_error(status_code, headers, content)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise APIResponseValidationError(
            f"ModelsLab answered with JSON that is not a {model.__name__}: {quote(content)}",
            status_code=status_code,
            body=content.decode("utf-8", errors="replace"),
        ) from exc


def with_model(message: Message, model: str | None) -> Message:
    """`message`, naming the requested `model` when the reply named none (ModelsLab's may not)."""
    if message.model is not None or model is None:
        return message
    return message.model_copy(update={"model": model})


class StreamState:
    """Decoder plus accumulator for one SSE body: chunks in, events out; the sync and async streams share it.

    A body that turns out to be JSON (an error behind HTTP 200, or a server that ignored `stream`) is
    collected whole and answered at `finish()`.
    """

    __slots__ = (
        "_finished",
        "_json_body",
        "_kind",
        "accumulator",
        "decoder",
        "events_seen",
        "headers",
        "model",
        "status_code",
    )

    def __init__(
        self, status_code: int = 200, headers: Mapping[str, str] | None = None, *, model: str | None = None
    ) -> None:
        """`model` is the requested id, named in `message_start` when the server names none."""
        self.decoder = SSEDecoder()
        self.accumulator = MessageAccumulator()
        self.status_code = status_code
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.events_seen = 0
        self.model = model
        self._kind: str | None = None  # "sse" or "json", decided by the first non-blank byte
        self._json_body: list[bytes] = []
        self._finished = False  # finish() may be called again once the body is exhausted: it yields nothing

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Every event `chunk` completes, applied to the accumulator."""
        return list(self.events(chunk))

    def events(self, chunk: bytes) -> Iterator[StreamEvent]:
        """Like `feed`, lazily: each event is parsed and applied when the caller takes it, so a large chunk
        never holds thousands of parsed events at once."""
        if self._kind is None:
            head = chunk.lstrip()
            if not head:
                return
            self._kind = "json" if head[:1] in (b"{", b"[") else "sse"
        if self._kind == "json":
            self._json_body.append(chunk)
            return
        for block in self.decoder.blocks(chunk):
            data = common_data(block)
            event = None
            if data is not None:
                try:  # the hot path: one JSON parse per event, no intermediate text
                    event = validate_stream_event_json(data)
                except ValidationError:
                    data = None  # let parse_event say what is wrong (or find an error body)
            if data is None and (sse := self.decoder.event_of(block)) is not None:
                event = parse_event(sse)
            if event is not None:
                self.events_seen += 1
                yield self._apply(event)

    def head(self, chunk: bytes) -> Iterator[StreamEvent] | None:
        """The stream's events from `chunk` on, once the first have come (None before): the first
        `HEAD_EVENTS` are parsed and checked now, so a failure among them can still be retried; the rest
        follow lazily."""
        events = self.events(chunk)
        first = list(itertools.islice(events, HEAD_EVENTS))
        return itertools.chain(first, events) if first else None

    def _apply(self, event: StreamEvent) -> StreamEvent:
        if isinstance(event, ErrorEvent) and event.request_id is None:  # the header names the request
            request_id = self.headers.get("request-id") or self.headers.get("x-request-id")
            event = event.model_copy(update={"request_id": request_id})
        elif isinstance(event, MessageStartEvent) and event.message.model is None and self.model is not None:
            event = event.model_copy(update={"message": with_model(event.message, self.model)})
        self.accumulator.feed(event)
        return event

    def finish(self) -> list[StreamEvent]:
        """Events left at the end of the body; raises when the stream is not a complete message."""
        if self._finished:
            return []
        if self._kind == "json":
            content = b"".join(self._json_body)
            message = with_model(parse_body(self.status_code, self.headers, content, Message), self.model)
            self._finished = True
            return self._replay(message)
        events = []
        for sse in self.decoder.flush():
            try:
                event = parse_event(sse)
            except APIResponseValidationError as exc:  # the body ended inside an event: it was cut
                raise IncompleteStreamError(
                    f"the stream ended inside an event, without message_stop: {quote(sse.data)}"
                ) from exc
            if event is not None:
                events.append(self._apply(event))
        if not self.accumulator.complete:
            raise IncompleteStreamError(
                f"the stream ended after {self.events_seen + len(events)} events without message_stop: "
                "the answer is incomplete"
            )
        self._finished = True
        return events

    def _replay(self, message: Message) -> list[StreamEvent]:
        """A whole Message where a stream was asked for: turn it into the events a stream would carry."""
        raw: list[dict[str, Any]] = [
            {"type": "message_start", "message": {**message.model_dump(), "content": [], "stop_reason": None}}
        ]
        for index, block in enumerate(message.content):
            start, delta = _split_block(block)
            raw.append({"type": "content_block_start", "index": index, "content_block": start})
            if delta is not None:
                raw.append({"type": "content_block_delta", "index": index, "delta": delta})
            raw.append({"type": "content_block_stop", "index": index})
        raw.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": message.stop_reason, "stop_sequence": message.stop_sequence},
                "usage": message.usage.model_dump() if message.usage is not None else None,
            }
        )
        raw.append({"type": "message_stop"})
        events = [STREAM_EVENT_ADAPTER.validate_python(item) for item in raw]
        for event in events:
            self.accumulator.feed(event)
        return events


def _split_block(block: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A whole block as the start payload a stream would send plus the one delta carrying its content."""
    start = block.model_dump(exclude_none=True)
    if isinstance(block, TextBlock):
        return {**start, "text": ""}, {"type": "text_delta", "text": block.text}
    if isinstance(block, ToolUseBlock):
        return {**start, "input": {}}, {"type": "input_json_delta", "partial_json": json.dumps(block.input)}
    if isinstance(block, ThinkingBlock):
        return {**start, "thinking": ""}, {"type": "thinking_delta", "thinking": block.thinking}
    return start, None
