"""The wire corpus and an independent reading of what each record says (the test oracle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDS: list[dict[str, Any]] = [json.loads(line) for line in (DATA / "corpus.jsonl").open(encoding="utf-8")]
STREAMS = [r for r in RECORDS if r["is_stream"] and r["status"] == 200]

# error.type -> expected exception class name, as the API's error page documents it
ERROR_CLASS = {
    "invalid_request_error": "BadRequestError",
    "authentication_error": "AuthenticationError",
    "not_found_error": "NotFoundError",
    "rate_limit_error": "RateLimitError",
    "api_error": "InternalServerError",
    "overloaded_error": "OverloadedError",
}


def record_id(record: dict[str, Any]) -> str:
    return record["source"].rsplit("/", 1)[-1]


def sse_payloads(body: str) -> list[dict[str, Any]]:
    """Every JSON `data:` payload of an SSE body, read line by line (deliberately naive)."""
    out = []
    for line in body.replace("\r\n", "\n").split("\n"):
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                out.append(json.loads(data))
    return out


def expected(record: dict[str, Any]) -> dict[str, Any]:
    """What the recording says: error type, or final text, tool inputs, stop_reason and usage."""
    if not record["is_stream"]:
        body = json.loads(record["response_body"])
        if record["status"] >= 400 or body.get("type") == "error":
            return {"error": body["error"]["type"]}
        return {
            "text": "".join(b["text"] for b in body["content"] if b["type"] == "text"),
            "tools": [b["input"] for b in body["content"] if b["type"] == "tool_use"],
            "stop_reason": body["stop_reason"],
            "input_tokens": body["usage"]["input_tokens"],
            "output_tokens": body["usage"]["output_tokens"],
        }
    payloads = sse_payloads(record["response_body"])
    errors = [p for p in payloads if p["type"] == "error"]
    if errors:
        return {"error": errors[0]["error"]["type"]}
    text: list[str] = []
    tool_json: dict[int, list[str]] = {}
    closed: set[int] = set()
    usage: dict[str, Any] = {}
    stop_reason = None
    for p in payloads:
        if p["type"] == "message_start":
            usage = dict(p["message"]["usage"])
        elif p["type"] == "content_block_start" and p["content_block"]["type"] == "tool_use":
            tool_json[p["index"]] = []
        elif p["type"] == "content_block_stop":
            closed.add(p["index"])
        elif p["type"] == "content_block_delta":
            delta = p["delta"]
            if delta["type"] == "text_delta":
                text.append(delta["text"])
            elif delta["type"] == "input_json_delta" and p["index"] in tool_json:
                tool_json[p["index"]].append(delta["partial_json"])
        elif p["type"] == "message_delta":
            stop_reason = p["delta"].get("stop_reason") or stop_reason
            usage.update({k: v for k, v in (p.get("usage") or {}).items() if v is not None})
    tools = []
    for index, pieces in sorted(tool_json.items()):
        raw = "".join(pieces)
        if index in closed:
            tools.append(json.loads(raw) if raw.strip() else {})
        else:  # cut off (max_tokens inside a tool call): the input is not known
            tools.append({})
    return {
        "text": "".join(text),
        "tools": tools,
        "stop_reason": stop_reason,
        "input_tokens": usage.get("input_tokens", 0),
        "output_tokens": usage.get("output_tokens", 0),
    }
