"""A strict checker of the SSE the local server emits, written from the corpus's GRAMMAR.md."""

from __future__ import annotations

import json
import re
from typing import Any

_PADDED = re.compile(r"^\{.*[^ ] +\}$")


def frames(raw: bytes, eol: str = "\n") -> list[tuple[str | None, str]]:
    """Split an SSE body into (event name or None, data) pairs; every frame must end with a blank line."""
    text = raw.decode("utf-8")
    assert text.endswith(eol * 2), "the body must end with a blank line"
    if eol == "\n":
        assert "\r" not in text
    out: list[tuple[str | None, str]] = []
    for frame in text[: -len(eol) * 2].split(eol * 2):
        lines = frame.split(eol)
        assert len(lines) in (1, 2), f"frame with {len(lines)} lines: {frame!r}"
        event = None
        if len(lines) == 2:
            assert lines[0].startswith("event: "), lines
            event = lines[0][len("event: ") :]
        assert lines[-1].startswith("data: "), lines
        out.append((event, lines[-1][len("data: ") :]))
    return out


def check(raw: bytes, *, eol: str = "\n", event_lines: bool = True) -> list[dict[str, Any]]:
    """Assert ``raw`` is one complete stream in the documented grammar; return the parsed payloads."""
    payloads: list[dict[str, Any]] = []
    for event, data in frames(raw, eol):
        if data == '{"type": "ping"}':
            assert event in ("ping", None)
        else:
            assert _PADDED.match(data), f"data not padded before its final brace: {data!r}"
        payload = json.loads(data)
        assert event is None if not event_lines else event == payload["type"]
        payloads.append(payload)
    kinds = [p["type"] for p in payloads]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"], kinds
    start = payloads[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["usage"]["output_tokens"] >= 0
    open_index: int | None = None
    next_index = 0
    for payload in payloads[1:-2]:
        kind = payload["type"]
        if kind == "content_block_start":
            assert open_index is None and payload["index"] == next_index
            open_index, next_index = payload["index"], next_index + 1
            first = payload["content_block"]
            assert first.get("text", "") == "" and first.get("input", {}) == {}
        elif kind in ("content_block_delta", "content_block_stop"):
            assert payload["index"] == open_index, (payload, open_index)
            if kind == "content_block_stop":
                open_index = None
        else:
            assert kind == "ping", kind
    assert open_index is None
    if next_index:
        assert kinds[2] == "ping", "a ping follows the first content_block_start"
    return payloads
