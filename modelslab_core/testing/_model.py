"""The local server's deterministic rule-based model: a request body in, a reply out (pure, no I/O).

The rules are documented as one table in ``docs/local-server.md``; keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._react import react_answer
from ._tools import Tool, ToolCall, build_arguments, mentioned_tools

__all__ = [
    "Reply",
    "RequestError",
    "TextBlock",
    "ToolUseBlock",
    "count_input_tokens",
    "generate",
    "reply_to_json",
    "validate",
]

_ROLES = ("user", "assistant")
_COUNT_CAP = 100_000
_CAPITALS = {
    "france": "Paris",
    "germany": "Berlin",
    "italy": "Rome",
    "spain": "Madrid",
    "japan": "Tokyo",
    "india": "New Delhi",
    "canada": "Ottawa",
    "australia": "Canberra",
    "the united kingdom": "London",
    "the united states": "Washington, D.C.",
}
_ARITHMETIC = re.compile(r"(-?\d+(?:\.\d+)?)\s*([-+*/x\u00d7])\s*(-?\d+(?:\.\d+)?)")
_COUNT = re.compile(r"\bcount (?:from 1 )?to (\d+)", re.IGNORECASE)
_REPEAT = re.compile(r"\b(?:say|repeat|echo)\b[^\"“]*?[\"“]([^\"”]+)[\"”]", re.IGNORECASE)
_CAPITAL = re.compile(r"capital of ([A-Za-z .]+?)\s*[?.!]?$", re.IGNORECASE | re.MULTILINE)
_GREETING = re.compile(r"^\s*(?:hi|hello|hey)\b", re.IGNORECASE)


class RequestError(Exception):
    """A request the API would reject with 400 ``invalid_request_error``; the message names the field."""


@dataclass(frozen=True)
class TextBlock:
    """A text content block of a reply."""

    text: str


@dataclass(frozen=True)
class ToolUseBlock:
    """A tool_use content block of a reply."""

    id: str
    name: str
    input: dict[str, object]


Block = TextBlock | ToolUseBlock


@dataclass(frozen=True)
class Reply:
    """The model's answer to one request, before it is serialized as JSON or as SSE events."""

    id: str
    model: str
    content: tuple[Block, ...]
    stop_reason: str
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int


def validate(body: object, *, count_tokens: bool = False) -> Mapping[str, object]:
    """Check a /v1/messages (or count_tokens) body the way the API does; raise RequestError if invalid."""
    if not isinstance(body, Mapping):
        raise RequestError("Request body must be a JSON object")
    model = body.get("model")
    if model is None:
        raise RequestError("model: Field required")
    if not isinstance(model, str) or not model:
        raise RequestError("model: Input should be a non-empty string")
    if not count_tokens:
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise RequestError("max_tokens: Field required")
        if not _is_int(max_tokens) or max_tokens < 1:
            raise RequestError("max_tokens: Input should be an integer greater than or equal to 1")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and (not _is_number(value) or not 0 <= value <= 1):
            raise RequestError(f"{name}: Input should be a number between 0 and 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise RequestError("stream: Input should be a valid boolean")
    _validate_messages(body.get("messages"))
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise RequestError("system: Input should be a string or a list of text blocks")
    stops = body.get("stop_sequences")
    if stops is not None and not (isinstance(stops, list) and all(isinstance(s, str) for s in stops)):
        raise RequestError("stop_sequences: Input should be a list of strings")
    _validate_tools(body.get("tools"), body.get("tool_choice"))
    return body


def _validate_messages(messages: object) -> None:
    if messages is None:
        raise RequestError("messages: Field required")
    if not isinstance(messages, list):
        raise RequestError("messages: Input should be a valid list")
    if not messages:
        raise RequestError("messages: at least one message is required")
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise RequestError(f"messages.{i}: Input should be an object")
        if message.get("role") not in _ROLES:
            raise RequestError(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if not isinstance(message.get("content"), (str, list)):
            raise RequestError(f"messages.{i}.content: Input should be a string or a list of content blocks")


def _validate_tools(tools: object, tool_choice: object) -> None:
    if tools is not None:
        if not isinstance(tools, list):
            raise RequestError("tools: Input should be a valid list")
        for i, tool in enumerate(tools):
            if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
                raise RequestError(f"tools.{i}.name: Field required")
    if tool_choice is None:
        return
    kind = tool_choice.get("type") if isinstance(tool_choice, Mapping) else None
    if kind not in ("auto", "any", "tool", "none"):
        raise RequestError("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    if kind == "tool":
        assert isinstance(tool_choice, Mapping)
        names = [t.get("name") for t in tools if isinstance(t, Mapping)] if isinstance(tools, list) else []
        if tool_choice.get("name") not in names:
            raise RequestError(f"tool_choice.name: Tool '{tool_choice.get('name')}' not found in tools")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _blocks(content: object) -> list[Mapping[str, object]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [block for block in content if isinstance(block, Mapping)]
    return []


def _block_text(block: Mapping[str, object]) -> str:
    """The text a block contributes to the token count (unknown block types contribute nothing)."""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "thinking":
        return str(block.get("thinking", ""))
    if kind == "tool_use":
        return json.dumps(block.get("input", {}))
    if kind == "tool_result":
        return " ".join(_block_text(b) for b in _blocks(block.get("content", "")))
    return ""


def _tokens(text: str) -> int:
    return len(text.split())


def count_input_tokens(body: Mapping[str, object]) -> int:
    """Whitespace tokens of the system prompt plus the text of every message (tool inputs and results too)."""
    parts = [_block_text(b) for b in _blocks(body.get("system"))]
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, Mapping):
            parts.extend(_block_text(b) for b in _blocks(message.get("content")))
    return sum(_tokens(part) for part in parts)


def generate(body: Mapping[str, object]) -> Reply:
    """Answer a validated request body deterministically (see the rules table in docs/local-server.md)."""
    model = str(body["model"])
    messages = (
        [m for m in body["messages"] if isinstance(m, Mapping)] if isinstance(body["messages"], list) else []
    )
    user_turns = [m for m in messages if m.get("role") == "user"]
    last_blocks = _blocks(user_turns[-1].get("content")) if user_turns else []
    text = "\n".join(str(b.get("text", "")) for b in last_blocks if b.get("type") == "text").strip()
    tool_results = [b for b in last_blocks if b.get("type") == "tool_result"]

    calls: list[ToolCall] = []
    preamble = ""
    system = "\n".join(_block_text(b) for b in _blocks(body.get("system")))
    if tool_results:
        answer = _quote_results(tool_results, messages)
    elif not body.get("tools") and (react := react_answer(system, text)) is not None:
        answer = react
    else:
        calls, preamble = _tool_calls(body, text)
        answer = preamble if calls else _answer(text, last_blocks)
    if "R1" in model and (answer or not calls):
        answer = (
            f"<think>\nThe user wrote {_tokens(text)} words. I will answer directly.\n</think>\n\n{answer}"
        )

    max_tokens = body.get("max_tokens")
    limit = max_tokens if isinstance(max_tokens, int) else _COUNT_CAP
    stops = body.get("stop_sequences")
    answer, stop_reason, stop_sequence = _cut(answer, limit, stops if isinstance(stops, list) else [])
    if stop_reason != "end_turn":
        calls = []
    elif calls:
        stop_reason = "tool_use"
    # ids depend on the request but not on "stream", so a streamed reply equals the JSON one
    unstreamed = {k: v for k, v in body.items() if k != "stream"}
    digest = hashlib.sha256(json.dumps(unstreamed, sort_keys=True, default=str).encode()).hexdigest()
    content: list[Block] = [TextBlock(answer)] if answer else []
    content.extend(
        ToolUseBlock(f"toolu_local_{digest[:20]}{i:02d}", c.name, c.input) for i, c in enumerate(calls)
    )
    output_tokens = _tokens(answer) + sum(_tokens(f"{c.name} {json.dumps(c.input)}") for c in calls)
    return Reply(
        id=f"msg_local_{digest[:24]}",
        model=model,
        content=tuple(content),
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        input_tokens=count_input_tokens(body),
        output_tokens=output_tokens,
    )


def _tool_calls(body: Mapping[str, object], text: str) -> tuple[list[ToolCall], str]:
    """The tool calls for a turn, and the text preamble that precedes them under ``tool_choice: auto``."""
    raw_tools = body.get("tools")
    tools = [
        Tool(str(t["name"]), t["input_schema"] if isinstance(t.get("input_schema"), Mapping) else {})
        for t in (raw_tools if isinstance(raw_tools, list) else [])
        if isinstance(t, Mapping) and isinstance(t.get("name"), str)
    ]
    choice = body.get("tool_choice")
    choice = choice if isinstance(choice, Mapping) else {"type": "auto"}
    if not tools or choice.get("type") == "none":
        return [], ""
    if choice.get("type") == "tool":
        named = next(t for t in tools if t.name == choice.get("name"))
        chosen = [(named, text)]
    else:
        chosen = mentioned_tools(tools, text) or [(tools[0], text)]
    if choice.get("disable_parallel_tool_use") is True:
        chosen = chosen[:1]
    calls = [ToolCall(tool.name, build_arguments(tool.input_schema, segment)) for tool, segment in chosen]
    preamble = ""
    if choice.get("type") == "auto":
        preamble = f"I will call {_join([c.name for c in calls])}."
    return calls, preamble


def _answer(text: str, blocks: Sequence[Mapping[str, object]]) -> str:
    """The text reply to the last user turn: acknowledgements of attachments, then the answer."""
    parts: list[str] = []
    for kind in ("image", "document"):
        found = [b for b in blocks if b.get("type") == kind]
        if found:
            media = sorted({_media_type(b) for b in found} - {""})
            detail = f" ({', '.join(media)})" if media else ""
            parts.append(f"I see {len(found)} {kind}{'s' if len(found) > 1 else ''}{detail}.")
    if text:
        parts.append(_rule_answer(text))
    return " ".join(parts) if parts else "I received an empty message."


def _rule_answer(text: str) -> str:
    if (m := _ARITHMETIC.search(text)) is not None:
        left, op, right = float(m.group(1)), m.group(2), float(m.group(3))
        result = {
            "+": left + right,
            "-": left - right,
            "*": left * right,
            "x": left * right,
            "\u00d7": left * right,
        }
        value = _number(result[op]) if op != "/" else "undefined" if right == 0 else _number(left / right)
        return f"{m.group(1)} {op} {m.group(3)} = {value}."
    if (m := _COUNT.search(text)) is not None:
        return " ".join(str(i) for i in range(1, min(int(m.group(1)), _COUNT_CAP) + 1))
    if (m := _REPEAT.search(text)) is not None:
        return m.group(1)
    if (m := _CAPITAL.search(text)) is not None:
        country = m.group(1).strip().rstrip(".")
        capital = _CAPITALS.get(country.lower())
        if capital is not None:
            return f"The capital of {country} is {capital}."
    if _GREETING.search(text):
        return "Hello! I am the ModelsLab local test model. How can I help?"
    return f"You said: {text}"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _media_type(block: Mapping[str, object]) -> str:
    source = block.get("source")
    media = source.get("media_type") if isinstance(source, Mapping) else None
    return media if isinstance(media, str) else ""


def _quote_results(results: Sequence[Mapping[str, object]], messages: Sequence[Mapping[str, object]]) -> str:
    """A reply quoting each tool result, named after the tool_use it answers."""
    names: dict[str, str] = {}
    for message in messages:
        for block in _blocks(message.get("content")):
            if block.get("type") == "tool_use":
                names[str(block.get("id"))] = str(block.get("name", "tool"))
    quotes = []
    for result in results:
        name = names.get(str(result.get("tool_use_id")), "the tool")
        verb = "failed with" if result.get("is_error") is True else "returned"
        quotes.append(f"{name} {verb} {json.dumps(_block_text(result).strip(), ensure_ascii=False)}")
    return f"{'; '.join(quotes)}."


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _cut(text: str, max_tokens: int, stops: Sequence[str]) -> tuple[str, str, str | None]:
    """Cut ``text`` at the first stop sequence or after ``max_tokens`` whitespace tokens (the earlier)."""
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    limit = ends[max_tokens - 1] if len(ends) > max_tokens else len(text)
    hits = [(text.find(s), s) for s in stops if s and text.find(s) != -1]
    if hits:
        position, stop = min(hits, key=lambda hit: hit[0])
        if position < limit:
            return text[:position], "stop_sequence", stop
    if len(ends) > max_tokens:
        return text[:limit], "max_tokens", None
    return text, "end_turn", None


def reply_to_json(reply: Reply) -> dict[str, object]:
    """The reply as a Messages API ``Message`` object."""
    return {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [block_to_json(block) for block in reply.content],
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "usage": usage_to_json(reply.input_tokens, reply.output_tokens),
    }


def block_to_json(block: Block) -> dict[str, object]:
    """One content block as its Messages API JSON object."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


def usage_to_json(input_tokens: int, output_tokens: int) -> dict[str, object]:
    """A usage object with the cache counters the API reports (always 0 here)."""
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }
