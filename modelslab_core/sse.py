"""Server-Sent Events framing and event parsing, with no I/O: bytes in, typed events out.

The decoder follows the SSE spec (WHATWG HTML 9.2.6): lines end in LF, CRLF or CR; `data:` lines of one event
are joined with LF; a blank line dispatches the event; lines starting with `:` are comments. It keeps state
across `feed` calls, so any split of the byte stream gives the same events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .errors import APIResponseValidationError, error_from_body, is_error_body, quote
from .types import STREAM_EVENT_ADAPTER, StreamEvent

__all__ = ["SSEDecoder", "ServerSentEvent", "parse_event"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched SSE event: its `event:` name (may be empty) and its joined `data:` lines."""

    event: str = ""
    data: str = ""
    id: str | None = None


class SSEDecoder:
    """Incremental SSE decoder: `feed(chunk)` returns the events completed by `chunk`, `flush()` the rest."""

    __slots__ = ("_buffer", "_data", "_event", "_id", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._pending_cr = False
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if not chunk:  # must not clear a pending CR: the LF may still come in the next chunk
            return []
        if self._pending_cr:  # a CR ended the previous chunk: a LF starting this one belongs to it
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if chunk.endswith(b"\r"):
            self._pending_cr = True
        buffer = self._buffer + chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        events: list[ServerSentEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """Events still pending at the end of the body (a last event without its blank line)."""
        events = []
        if self._buffer:
            event = self._line(self._buffer)
            self._buffer = b""
            if event is not None:
                events.append(event)
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        if not raw:
            if not self._data and not self._event:
                return None
            event = ServerSentEvent(self._event, "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return event
        line = raw.decode("utf-8", errors="replace")
        if line[0] == ":":
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        return None


def parse_event(sse: ServerSentEvent) -> StreamEvent | None:
    """The typed event in `sse`, or None for keep-alives and a stray `[DONE]` sentinel.

    The `type` inside the JSON decides; when the JSON has none, the `event:` name does.
    """
    data = sse.data.strip()
    if not data or data == "[DONE]":
        return None
    try:
        return STREAM_EVENT_ADAPTER.validate_json(data)
    except ValidationError as exc:
        value = _loads(data)
        if is_error_body(value):  # ModelsLab's {"status": "error", ...} inside an SSE chunk
            raise error_from_body(200, value, raw=data) from exc
        if isinstance(value, dict) and sse.event and _lacks_type(exc):
            try:
                return STREAM_EVENT_ADAPTER.validate_python({**value, "type": sse.event})
            except ValidationError:
                pass
        raise APIResponseValidationError(
            f"stream event {sse.event or '(unnamed)'} is not valid Messages API JSON: {quote(data)}",
            body=data,
        ) from exc


def _lacks_type(exc: ValidationError) -> bool:
    return all(error["type"] in ("union_tag_not_found", "missing") for error in exc.errors())


def _loads(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
