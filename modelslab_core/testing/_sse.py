"""A reply as Messages API server-sent events, in the grammar and byte layout real traffic has (pure, no I/O).

Layout (see the wire corpus's GRAMMAR.md): ``event: NAME`` then one ``data:`` line of compact JSON with a run
of spaces before the final ``}``; ``ping`` data is exactly ``{"type": "ping"}``; LF framing by default.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from ._model import Reply, TextBlock, block_to_json, usage_to_json

__all__ = ["BARE_FIELDS", "StreamOptions", "encode_events", "reply_events", "stream_bytes"]

UsageMode = Literal["both", "start-only", "delta-only"]
Event = tuple[str, str]
"""An event name and its ``data`` payload (JSON text, or deliberately not JSON)."""

_PING = '{"type": "ping"}'
_ERROR = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded", "details": None}}
_JSON_PIECE = 12
BARE_FIELDS = ("model", "usage", "stop_sequence")
"""What ModelsLab's function-calling example reply lacks: the ``bare-reply`` fault leaves these out."""


@dataclass(frozen=True)
class StreamOptions:
    """How to shape a stream: the normal grammar, or one of the stream faults."""

    crlf: bool = False
    event_lines: bool = True
    unknown_events: bool = False
    done_trailer: bool = False
    usage: UsageMode = "both"
    truncate: bool = False
    error_after: int | None = None
    malformed: bool = False
    bare: bool = False
    """No ``model``, ``usage`` or ``stop_sequence`` in ``message_start``, no usage in ``message_delta``."""


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _text_pieces(text: str) -> list[str]:
    """Split text into word-sized pieces whose concatenation is exactly ``text``."""
    pieces = re.findall(r"\s*\S+", text)
    tail = text[sum(len(p) for p in pieces) :]
    if not pieces:
        return [text] if text else []
    pieces[-1] += tail
    return pieces


def _json_pieces(data: str) -> list[str]:
    """input_json_delta pieces: an empty one first (as recorded traffic has), then the JSON in pieces."""
    if data == "{}":
        return [""]
    size = max(1, min(_JSON_PIECE, len(data) // 2))
    return [""] + [data[i : i + size] for i in range(0, len(data), size)]


def reply_events(reply: Reply, options: StreamOptions = StreamOptions()) -> list[Event]:
    """The ordered (event, data) pairs that stream ``reply``."""
    start_usage: dict[str, object] = usage_to_json(reply.input_tokens, 1)
    delta_usage: dict[str, object] = usage_to_json(reply.input_tokens, reply.output_tokens)
    if options.usage == "start-only":
        delta_usage = {"output_tokens": reply.output_tokens}
    elif options.usage == "delta-only":
        start_usage = usage_to_json(0, 0)
    message: dict[str, object] = {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    if options.bare:
        message = {k: v for k, v in message.items() if k not in BARE_FIELDS}
    events: list[Event] = [("message_start", _dumps({"type": "message_start", "message": message}))]
    if options.unknown_events:
        events.append(
            ("local_annotation", _dumps({"type": "local_annotation", "note": "unknown event type"}))
        )
    deltas = 0
    for index, block in enumerate(reply.content):
        start = block_to_json(block)
        if isinstance(block, TextBlock):
            start["text"] = ""
            kind, key, pieces = "text_delta", "text", _text_pieces(block.text)
        else:
            start["input"] = {}
            kind, key, pieces = "input_json_delta", "partial_json", _json_pieces(json.dumps(block.input))
        events.append(
            (
                "content_block_start",
                _dumps({"type": "content_block_start", "index": index, "content_block": start}),
            )
        )
        if index == 0:
            events.append(("ping", _PING))
        for n, piece in enumerate(pieces):
            if options.error_after is not None and deltas >= options.error_after:
                events.append(("error", _dumps(_ERROR)))
                return events
            delta = {"type": "content_block_delta", "index": index, "delta": {"type": kind, key: piece}}
            events.append(("content_block_delta", _dumps(delta)))
            deltas += 1
            if options.unknown_events and n == 0:
                odd = {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "local_unknown_delta"},
                }
                events.append(("content_block_delta", _dumps(odd)))
        events.append(("content_block_stop", _dumps({"type": "content_block_stop", "index": index})))
    if options.error_after is not None:
        events.append(("error", _dumps(_ERROR)))
        return events
    stop = {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence}
    closing: dict[str, object] = {"type": "message_delta", "delta": stop, "usage": delta_usage}
    if options.bare:
        closing = {"type": "message_delta", "delta": {"stop_reason": reply.stop_reason}}
    events.append(("message_delta", _dumps(closing)))
    if options.unknown_events:
        events.append(
            ("local_annotation", _dumps({"type": "local_annotation", "note": "before message_stop"}))
        )
    if not options.truncate:
        events.append(("message_stop", _dumps({"type": "message_stop"})))
    if options.malformed:
        events = _break_one(events)
    return events


def _break_one(events: list[Event]) -> list[Event]:
    """Cut the data of the first delta (else of message_start) in half, so it is not JSON."""
    target = next((i for i, (name, _) in enumerate(events) if name == "content_block_delta"), 0)
    name, data = events[target]
    return [*events[:target], (name, data[: len(data) // 2]), *events[target + 1 :]]


def encode_events(events: list[Event], options: StreamOptions = StreamOptions()) -> list[bytes]:
    """Frame each event as SSE bytes: padded JSON, optional ``event:`` line, LF or CRLF line ends."""
    eol = "\r\n" if options.crlf else "\n"
    framed: list[bytes] = []
    for i, (name, data) in enumerate(events):
        if data != _PING and data.endswith("}"):
            data = f"{data[:-1]}{' ' * (1 + (i * 7919) % 13)}}}"
        head = f"event: {name}{eol}" if options.event_lines else ""
        framed.append(f"{head}data: {data}{eol}{eol}".encode())
    if options.done_trailer:
        framed.append(f"data: [DONE]{eol}{eol}".encode())
    return framed


def stream_bytes(reply: Reply, options: StreamOptions = StreamOptions()) -> list[bytes]:
    """The SSE body of ``reply`` as one bytes object per event."""
    return encode_events(reply_events(reply, options), options)
