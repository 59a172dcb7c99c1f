"""Pure translation between LangChain messages and the Messages API wire format. No I/O.

Requests: `to_wire_messages` (LangChain messages -> `system` + `messages`), `to_wire_tool`,
`to_wire_tool_choice`.
Responses: `to_ai_message` (a whole `Message`), `to_usage_metadata`, `split_think`, and `to_v1_blocks` (the
`content_blocks` translator registered for `model_provider`). Stream events are translated in `_stream`.

Shape of the LangChain output, the same for `invoke` and for a gathered `stream`:
- text only (tools bound or not): `content` is the answer string; reasoning split from an R1-style
  `<think>...</think>` prefix goes to `additional_kwargs["reasoning_content"]`;
- otherwise (tool calls, thinking blocks, citations, server-tool blocks): `content` is a list of
  Messages-format blocks (`text`, `thinking` with its `signature`, `tool_use`, ...), as `ChatAnthropic`
  produces, plus `tool_calls` and the same `reasoning_content`. Streams give index-keyed blocks from the
  first such block on (and from the start while tools are bound): gathered, they hold the same blocks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, UsageMetadata
from langchain_core.messages.block_translators import register_translator

from modelslab_core import (
    ImageBlock,
    Message,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    Usage,
    parse_tool_input,
)
from modelslab_core import split_think as core_split_think

if TYPE_CHECKING:
    from langchain_core.messages import content as types

__all__ = [
    "PROVIDER",
    "JSONObject",
    "never",
    "normalize_tool_call_id",
    "split_think",
    "to_ai_message",
    "to_usage_metadata",
    "to_v1_blocks",
    "to_v1_chunk_blocks",
    "to_wire_messages",
    "to_wire_tool",
    "to_wire_tool_choice",
]

JSONObject = dict[str, Any]
"""A JSON object of the wire format (a content block, a message, a tool)."""

PROVIDER = "modelslab"
"""`response_metadata["model_provider"]`: selects `to_v1_blocks` for `content_blocks` and v1 output."""

_TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_DATA_URI = re.compile(r"^data:(?P<mime>[^;,]+);base64,(?P<data>.+)$", re.DOTALL)
_PASSTHROUGH = frozenset(
    {"tool_result", "redacted_thinking", "search_result", "server_tool_use", "web_search_tool_result"}
)

# --- requests -----------------------------------------------------------------------------------------------


def normalize_tool_call_id(tool_call_id: str | None, position: int = 0) -> str:
    """A tool-call id the Messages API accepts (`^[a-zA-Z0-9_-]+$`), the same for the same input.

    Ids from other providers (`call:1`, `functions.add:0`) are rewritten with a short hash of the original, so
    two ids that differ only in forbidden characters stay distinct and a `tool_use` keeps matching its result.
    """
    if tool_call_id and _TOOL_ID.match(tool_call_id):
        return tool_call_id
    if not tool_call_id:
        return f"toolu_missing_{position}"
    digest = hashlib.sha256(tool_call_id.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^a-zA-Z0-9_-]', '_', tool_call_id)[:48]}_{digest}"


def to_wire_messages(
    messages: Sequence[BaseMessage],
) -> tuple[str | list[JSONObject] | None, list[JSONObject]]:
    """`(system, messages)` for a Messages request.

    System messages (one or several, anywhere) go to `system`, as one string when they are plain text;
    consecutive turns of one role (human and tool messages, or two AI messages) merge into one turn;
    whitespace-only text blocks are dropped, except beside a `tool_use` (where the server accepts them).
    An empty human message is a `ValueError` naming its index; an empty AI message is skipped.
    """
    system: list[JSONObject] = []
    turns: list[JSONObject] = []
    for i, message in enumerate(messages):
        if isinstance(message, SystemMessage) or (
            isinstance(message, ChatMessage) and message.role == "system"
        ):
            system.extend(_user_blocks(message.content, "system"))
            continue
        role, content = _turn(message)
        if not content:
            if role == "user":
                raise ValueError(
                    f"messages[{i}].content ({type(message).__name__}) is empty or blank: give it text or "
                    "other content, or leave the message out"
                )
            continue  # an AI turn with nothing but an empty string: nothing to send back
        if turns and turns[-1]["role"] == role:
            previous = turns[-1]["content"]
            turns[-1]["content"] = _as_blocks(previous) + _as_blocks(content)
        else:
            turns.append({"role": role, "content": content})
    return _system(system), turns


def _system(blocks: list[JSONObject]) -> str | list[JSONObject] | None:
    """One string (ModelsLab's schema types `system` as a string) unless a block feature needs blocks."""
    if not blocks:
        return None
    if all(block.keys() == {"type", "text"} for block in blocks):
        return "\n\n".join(block["text"] for block in blocks)
    return blocks


def _as_blocks(content: str | list[JSONObject]) -> list[JSONObject]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _turn(message: BaseMessage) -> tuple[Literal["user", "assistant"], str | list[JSONObject]]:
    if isinstance(message, HumanMessage):
        return "user", _user_content(message.content)
    if isinstance(message, AIMessage):
        return "assistant", _assistant_content(message)
    if isinstance(message, ToolMessage):
        return "user", [_tool_result(message)]
    if isinstance(message, ChatMessage) and message.role in ("user", "human"):
        return "user", _user_content(message.content)
    if isinstance(message, ChatMessage) and message.role in ("assistant", "ai"):
        return "assistant", _user_content(message.content)
    raise ValueError(
        f"{type(message).__name__} (role {getattr(message, 'role', message.type)!r}) cannot be sent to the "
        "Messages API: use SystemMessage, HumanMessage, AIMessage or ToolMessage"
    )


def _user_content(content: str | list[str | dict[Any, Any]]) -> str | list[JSONObject]:
    if isinstance(content, str):
        return content if content.strip() else []
    return _user_blocks(content, "message")


def _user_blocks(content: str | list[str | dict[Any, Any]], where: str) -> list[JSONObject]:
    items = [content] if isinstance(content, str) else content
    blocks = []
    for item in items:
        block = _block(item, where)
        if block is not None:
            blocks.append(block)
    return blocks


def _block(item: str | Mapping[str, Any], where: str, *, blank_text: bool = False) -> JSONObject | None:
    """One input content block in wire form; None for blocks that carry nothing (empty text).

    `blank_text` keeps whitespace-only text (beside a `tool_use`, as recorded traffic sends it).
    """
    if isinstance(item, str):
        return {"type": "text", "text": item} if item.strip() or (blank_text and item) else None
    kind = item.get("type")
    raw_extras = item.get("extras")
    extras: Mapping[str, Any] = raw_extras if isinstance(raw_extras, Mapping) else {}
    cache = item.get("cache_control") or extras.get("cache_control")
    block: JSONObject | None
    if kind == "text":
        text = item.get("text")
        keep = isinstance(text, str) and (text.strip() or (blank_text and text))
        block = {"type": "text", "text": text} if keep else None
        if block is not None and item.get("citations"):
            block["citations"] = item["citations"]
    elif kind in ("image", "image_url"):
        block = {"type": "image", "source": _source(item, "image")}
    elif kind in ("file", "document"):
        block = {"type": "document", "source": _source(item, "file")}
        for key in ("title", "context", "citations"):
            if key in item:
                block[key] = item[key]
    elif kind in ("tool_use", "tool_call"):
        block = _tool_use(item)
    elif kind == "thinking":
        block = _thinking(item.get("thinking"), item.get("signature"))
    elif kind == "reasoning":
        block = _thinking(item.get("reasoning"), extras.get("signature"))
    elif kind == "non_standard" and isinstance(item.get("value"), Mapping):
        block = dict(item["value"])
    elif kind in _PASSTHROUGH:
        block = {k: v for k, v in item.items() if k not in ("index", "partial_json")}
        if "partial_json" in item:  # a streamed server tool's input, as the stream gathered it
            block["input"] = parse_tool_input(item["partial_json"])
        if kind == "tool_result":
            block["tool_use_id"] = normalize_tool_call_id(item.get("tool_use_id"))
    elif kind in ("input_json_delta", "tool_call_chunk"):
        return None  # streaming leftovers: the tool call itself is in `tool_calls`
    else:
        raise ValueError(
            f"content block type {kind!r} in a {where} cannot be sent to the Messages API; supported: "
            "text, image (base64 or url), image_url, file/document (PDF), tool_use, tool_result, thinking, "
            "reasoning"
        )
    if block is not None and cache:
        block["cache_control"] = cache
    return block


def _source(item: Mapping[str, Any], kind: str) -> JSONObject:
    """The `source` of an image or document block, from any of the shapes LangChain users send."""
    if isinstance(item.get("source"), Mapping):  # native Messages block
        return dict(item["source"])
    url: Any = item.get("url")
    if item.get("type") == "image_url":
        image_url = item.get("image_url")
        url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
    data = item.get("base64") or (item.get("data") if item.get("source_type") == "base64" else None)
    mime = item.get("mime_type") or ("application/pdf" if kind == "file" else None)
    if isinstance(url, str) and (match := _DATA_URI.match(url)):
        return {"type": "base64", "media_type": match["mime"], "data": match["data"]}
    if isinstance(url, str) and url:
        return {"type": "url", "url": url}
    if isinstance(data, str) and data and mime:
        return {"type": "base64", "media_type": mime, "data": data}
    raise ValueError(
        f"{kind} block needs base64 data with a mime_type, a data: URI or an http(s) url; "
        f"got keys {sorted(item)}"
    )


def _tool_use(item: Mapping[str, Any]) -> JSONObject:
    arguments = item.get("input", item.get("args"))
    return {
        "type": "tool_use",
        "id": normalize_tool_call_id(item.get("id")),
        "name": item.get("name"),
        "input": arguments if isinstance(arguments, Mapping) else {},
    }


def _thinking(text: Any, signature: Any) -> JSONObject | None:
    # Thinking without a signature (a <think> prefix, or reasoning from another provider) cannot be verified
    # by the server, and previous turns' reasoning is not needed: drop it.
    if not isinstance(signature, str) or not signature:
        return None
    return {"type": "thinking", "thinking": text or "", "signature": signature}


def _assistant_content(message: AIMessage) -> str | list[JSONObject]:
    calls = {call["id"]: call for call in message.tool_calls if call.get("id")}
    if isinstance(message.content, str) and not message.tool_calls:
        return message.content if message.content.strip() else []
    blocks: list[JSONObject] = []
    items = [message.content] if isinstance(message.content, str) else message.content
    beside_a_call = bool(message.tool_calls) or any(
        isinstance(item, Mapping) and item.get("type") in ("tool_use", "tool_call") for item in items
    )
    for item in items:
        block = _block(item, "AI message", blank_text=beside_a_call)
        if block is None:
            continue
        if block["type"] == "tool_use":
            original = item.get("id") if isinstance(item, Mapping) else None
            call = calls.pop(original, None) if original else None
            if call is not None:  # `tool_calls` is authoritative: streamed content may hold partial input
                block["input"] = call["args"]
        blocks.append(block)
    blocks.extend(
        _tool_use({"id": call["id"], "name": call["name"], "input": call["args"]}) for call in calls.values()
    )
    blocks.extend(
        _tool_use({"id": None, "name": call["name"], "input": call["args"]})
        for call in message.tool_calls
        if not call.get("id")
    )
    return blocks


def _tool_result(message: ToolMessage) -> JSONObject:
    block: JSONObject = {"type": "tool_result", "tool_use_id": normalize_tool_call_id(message.tool_call_id)}
    content = message.content
    if isinstance(content, str):
        if content.strip():
            block["content"] = content
    elif blocks := _user_blocks(content, "tool message"):
        block["content"] = blocks
    if message.status == "error":
        block["is_error"] = True
    return block


def to_wire_tool(tool: Any, *, strict: bool | None = None) -> JSONObject:
    """A Messages API tool definition from a LangChain tool, a pydantic model, a function or a dict."""
    if isinstance(tool, Mapping) and (
        "input_schema" in tool or ("name" in tool and tool.get("type") not in (None, "function", "object"))
    ):
        return dict(tool)  # already in Messages format: a custom tool, or a server tool such as web_search
    from langchain_core.utils.function_calling import convert_to_openai_tool  # costly import: on use

    function = convert_to_openai_tool(tool, strict=strict)["function"]
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    result: JSONObject = {"name": function["name"], "input_schema": schema}
    if function.get("description"):
        result["description"] = function["description"]
    if strict:
        result["strict"] = True
    return result


def to_wire_tool_choice(
    tool_choice: str | bool | Mapping[str, Any] | None, parallel_tool_calls: bool | None = None
) -> JSONObject | None:
    """The Messages `tool_choice` for LangChain's spellings ("auto", "any", "required", True, a tool name)."""
    choice: JSONObject | None
    if tool_choice is None or tool_choice is False:
        choice = None
    elif tool_choice is True or tool_choice in ("any", "required"):
        choice = {"type": "any"}
    elif tool_choice in ("auto", "none"):
        choice = {"type": tool_choice}
    elif isinstance(tool_choice, str):
        choice = {"type": "tool", "name": tool_choice}
    elif isinstance(tool_choice, Mapping) and tool_choice.get("type") == "function":  # OpenAI's spelling
        choice = {"type": "tool", "name": tool_choice["function"]["name"]}
    elif isinstance(tool_choice, Mapping):
        choice = dict(tool_choice)
    else:
        raise ValueError(
            f"tool_choice must be 'auto', 'any', 'none', a tool name or a dict, got {tool_choice!r}"
        )
    if parallel_tool_calls is False:
        choice = {"type": "auto", **(choice or {}), "disable_parallel_tool_use": True}
    return choice


# --- responses ----------------------------------------------------------------------------------------------


def split_think(text: str) -> tuple[str, str]:
    """`(reasoning, answer)` of a text that may open with `<think>`; reasoning is "" when it does not."""
    reasoning, answer = core_split_think(text)
    return reasoning or "", answer


def to_usage_metadata(usage: Usage | None) -> UsageMetadata | None:
    """LangChain usage: `input_tokens` counts cache reads and writes too, as LangChain defines it.

    None for a reply without usage: absent, not zero.
    """
    if usage is None:
        return None
    read, created = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
    input_tokens = usage.input_tokens + (read or 0) + (created or 0)
    metadata = cast(
        "UsageMetadata",
        {
            "input_tokens": input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": input_tokens + usage.output_tokens,
        },
    )
    details: InputTokenDetails = {}
    if read is not None:
        details["cache_read"] = read
    if created is not None:
        details["cache_creation"] = created
    if details:
        metadata["input_token_details"] = details
    return metadata


def _response_metadata(message: Message) -> JSONObject:
    metadata: JSONObject = {
        "id": message.id,
        "model": message.model,
        "model_name": message.model,
        "stop_reason": message.stop_reason,
        "stop_sequence": message.stop_sequence,
        "model_provider": PROVIDER,
    }
    if message.usage is not None:
        metadata["usage"] = message.usage.model_dump(exclude_none=True)
    return metadata


def to_ai_message(message: Message) -> AIMessage:
    """The `AIMessage` for a whole response: `content` is a string when the answer is text only."""
    blocks: list[JSONObject] = []
    reasoning: list[str] = []
    tool_calls = []
    plain = True  # text, and reasoning split from a `<think>` prefix: nothing a string cannot carry
    first_text = True
    for block in message.content:
        if isinstance(block, TextBlock):
            text = block.text
            if first_text:
                first_text = False
                thought, text = split_think(text)
                if thought:
                    reasoning.append(thought)
                    blocks.append({"type": "thinking", "thinking": thought})
            if text or block.citations:
                wire: JSONObject = {"type": "text", "text": text}
                if block.citations:
                    wire["citations"] = block.citations
                    plain = False
                blocks.append(wire)
            continue
        plain = False
        if isinstance(block, ThinkingBlock):
            reasoning.append(block.thinking)
            blocks.append(block.model_dump(exclude_none=True))
        elif isinstance(block, ToolUseBlock):
            tool_calls.append({"type": "tool_call", "id": block.id, "name": block.name, "args": block.input})
            blocks.append(block.model_dump(exclude_none=True))
        elif isinstance(block, (RedactedThinkingBlock, ImageBlock, ToolResultBlock, UnknownBlock)):
            blocks.append(block.model_dump(exclude_none=True))
        else:
            never(block)
    extra = {"reasoning_content": "".join(reasoning)} if reasoning else {}
    content: str | list[Any] = blocks
    if plain:
        content = "".join(b["text"] for b in blocks if b["type"] == "text")
    return AIMessage(
        content=content,
        additional_kwargs=extra,
        tool_calls=tool_calls,
        usage_metadata=to_usage_metadata(message.usage),
        response_metadata=_response_metadata(message),
    )


def never(value: object) -> Any:
    """The end of an exhaustive `isinstance` chain: reaching it is a bug."""
    raise AssertionError(f"unhandled {type(value).__name__}")  # pragma: no cover - exhaustive above


# --- v1 content blocks --------------------------------------------------------------------------------------


def to_v1_blocks(message: AIMessage) -> list[types.ContentBlock]:
    """Standard content blocks: the Messages-format translator, plus reasoning kept outside `content`."""
    from langchain_core.messages.block_translators.anthropic import translate_content

    return _with_reasoning(message, translate_content(message))


def to_v1_chunk_blocks(message: AIMessageChunk) -> list[types.ContentBlock]:
    """`to_v1_blocks` for a chunk."""
    from langchain_core.messages.block_translators.anthropic import translate_content_chunk

    return _with_reasoning(message, translate_content_chunk(message))


def _with_reasoning(message: AIMessage, blocks: list[types.ContentBlock]) -> list[types.ContentBlock]:
    # an empty string content gives an empty text block: it would count as a second text block when gathered
    kept = [b for b in blocks if b["type"] != "text" or b.get("text") or "index" in b]
    reasoning = message.additional_kwargs.get("reasoning_content")
    if reasoning and not any(b["type"] == "reasoning" for b in kept):
        kept.insert(0, _v1({"type": "reasoning", "reasoning": reasoning}))
    if not isinstance(message, AIMessageChunk) or message.chunk_position == "last":
        known = {b.get("id") for b in kept if b["type"] == "tool_call"}
        kept.extend(
            _v1({"type": "tool_call", "id": call["id"], "name": call["name"], "args": call["args"]})
            for call in message.tool_calls
            if call["id"] not in known
        )
    elif isinstance(message.content, str):
        kept.extend(_v1({"type": "tool_call_chunk", **piece}) for piece in message.tool_call_chunks)
    return kept


def _v1(block: JSONObject) -> types.ContentBlock:
    return cast("types.ContentBlock", block)


# registered where the translators are defined, so that importing this module is enough
register_translator(PROVIDER, to_v1_blocks, to_v1_chunk_blocks)
