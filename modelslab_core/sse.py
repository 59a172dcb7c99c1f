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
from .types import STREAM_EVENT_ADAPTER, StreamEvent, validate_stream_event_json

__all__ = ["SSEDecoder", "ServerSentEvent", "common_data", "parse_event"]


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched SSE event: its `event:` name (may be empty) and its joined `data:` lines."""

    event: str = ""
    data: str = ""
    id: str | None = None


class SSEDecoder:
    """Incremental SSE decoder: `feed(chunk)` returns the events completed by `chunk`, `flush()` the rest.

    Bytes are held until a blank line completes an event, then each event's block is read at once: the shape
    every recorded stream uses (`event: NAME` then one `data:` line) takes a fast path, anything else goes
    line by line. Held bytes are kept as a list and joined once, so a huge event in tiny pieces costs O(n).
    """

    __slots__ = ("_held", "_held_newline", "_id", "_pending_cr", "_started")

    def __init__(self) -> None:
        self._held: list[bytes] = []  # the bytes of the event not yet complete
        self._held_newline = False  # whether they end with a line break
        self._pending_cr = False
        self._started = False
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        events = []
        for block in self.blocks(chunk):
            event = self.event_of(block)
            if event is not None:
                events.append(event)
        return events

    def blocks(self, chunk: bytes) -> list[bytes]:
        """The raw blocks (one event each, without the blank line) that `chunk` completes."""
        if not chunk:  # must not clear a pending CR: the LF may still come in the next chunk
            return []
        if self._pending_cr:  # a CR ended the previous chunk: a LF starting this one belongs to it
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if chunk.endswith(b"\r"):
            self._pending_cr = True
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not self._started:  # the spec strips one UTF-8 byte order mark at the start of the stream
            held = b"".join(self._held) + chunk
            if len(held) < 3 and b"\xef\xbb\xbf".startswith(held):
                self._held = [held]
                return []
            self._started = True
            self._held, chunk = [], held.removeprefix(b"\xef\xbb\xbf")
        if b"\n\n" not in chunk and not (self._held_newline and chunk.startswith(b"\n")):
            if chunk:
                self._held.append(chunk)
                self._held_newline = chunk.endswith(b"\n")
            return []
        self._held.append(chunk)
        blocks = b"".join(self._held).split(b"\n\n")
        rest = blocks.pop()
        self._held = [rest] if rest else []
        self._held_newline = rest.endswith(b"\n")
        return blocks

    def flush(self) -> list[ServerSentEvent]:
        """The event still pending at the end of the body (a last event without its blank line)."""
        block = b"".join(self._held)
        self._held, self._held_newline = [], False
        event = self.event_of(block) if block else None
        return [event] if event is not None else []

    def event_of(self, block: bytes) -> ServerSentEvent | None:
        """The event one block dispatches (None for a block of comments or blank lines)."""
        event, data = b"", []
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line.startswith(b"event:"):
                event = line[7:] if line[6:7] == b" " else line[6:]
            elif line.startswith(b"id:"):
                value = (line[4:] if line[3:4] == b" " else line[3:]).decode("utf-8", "replace")
                if "\0" not in value:
                    self._id = value
            elif line == b"data":  # a field name with no colon: the value is empty
                data.append(b"")
            elif line == b"event":
                event = b""
        if not data and not event:
            return None
        return ServerSentEvent(
            event.decode("utf-8", "replace"), b"\n".join(data).decode("utf-8", "replace"), self._id
        )


def common_data(block: bytes) -> bytes | None:
    """The JSON of a block shaped `event: NAME` + one `data: JSON` line, the shape of every recorded stream.

    Such a block can go straight to the JSON parser; any other shape is decoded line by line.
    """
    if block.startswith(b"event: ") and block.count(b"\n") == 1:
        _, found, data = block.partition(b"\ndata: ")
        if found:
            return data
    return None


def parse_event(sse: ServerSentEvent) -> StreamEvent | None:
    """The typed event in `sse`, or None for keep-alives and a stray `[DONE]` sentinel.

    The `type` inside the JSON decides; when the JSON has none, the `event:` name does.
    """
    data = sse.data.strip()
    if not data or data == "[DONE]":
        return None
    try:
        return validate_stream_event_json(data)
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
