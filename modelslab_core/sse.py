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

    __slots__ = ("_buffer", "_data", "_event", "_id", "_pending_cr", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._pending_cr = False
        self._started = False
        self._event = b""
        self._data: list[bytes] = []
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
        if not self._started:  # the spec strips one UTF-8 byte order mark at the start of the stream
            if len(buffer) < 3 and b"\xef\xbb\xbf".startswith(buffer):
                self._buffer = buffer
                return []
            self._started = True
            buffer = buffer.removeprefix(b"\xef\xbb\xbf")
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        return self._lines(lines)

    def flush(self) -> list[ServerSentEvent]:
        """Events still pending at the end of the body (a last event without its blank line)."""
        lines = [self._buffer, b""] if self._buffer else [b""]
        self._buffer = b""
        return self._lines(lines)

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        # the hot loop of every stream: bytes compared in place, text decoded once per event
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if data or self._event:
                    text = b"\n".join(data).decode("utf-8", errors="replace")
                    events.append(
                        ServerSentEvent(self._event.decode("utf-8", errors="replace"), text, self._id)
                    )
                    self._event, data = b"", []
            elif line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line.startswith(b"event:"):
                self._event = line[7:] if line[6:7] == b" " else line[6:]
            elif line.startswith(b"id:"):
                value = (line[4:] if line[3:4] == b" " else line[3:]).decode("utf-8", errors="replace")
                if "\0" not in value:
                    self._id = value
            elif line == b"data":  # a field name with no colon: the value is empty
                data.append(b"")
            elif line == b"event":
                self._event = b""
        self._data = data
        return events


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
