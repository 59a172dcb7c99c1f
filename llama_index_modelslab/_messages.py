"""LlamaIndex messages and tools as Messages API request parts, with no I/O: `to_wire_messages` and friends.

Every refusal is a `ValueError` naming the message and block (`messages[2].blocks[0]`) and saying what is
accepted, raised before any request.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.utils import parse_partial_json

if TYPE_CHECKING:
    from llama_index.core.tools import BaseTool

__all__ = [
    "REDACTED",
    "image_media_type",
    "partial_kwargs",
    "to_tool_choice",
    "to_wire_messages",
    "to_wire_tools",
    "tool_id",
    "tool_kwargs",
]

Wire = dict[str, Any]

REDACTED = "redacted_thinking"
"""The `ThinkingBlock.additional_information` key that holds a `redacted_thinking` block's data."""

_ASSISTANT_ROLES = (MessageRole.ASSISTANT, MessageRole.CHATBOT, MessageRole.MODEL)
_TOOL_ROLES = (MessageRole.TOOL, MessageRole.FUNCTION)
_SYSTEM_ROLES = (MessageRole.SYSTEM, MessageRole.DEVELOPER)
_BAD_ID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_DEFAULT_TITLE = "input_document"  # what LlamaIndex's DocumentBlock sets when no title is given
_PDF = "application/pdf"
_TEXT_TYPES = ("text/plain",)


def tool_id(value: str | None, fallback: str) -> str:
    """A tool-call id the Messages API accepts (`^[a-zA-Z0-9_-]+$`), derived deterministically.

    Ids from other providers (`call:1`, `fc.abc`) keep their readable part plus a hash of the original, so two
    ids that differ only in rejected characters stay distinct.
    """
    value = value or f"toolu_{fallback}"
    cleaned = _BAD_ID_CHARS.sub("_", value)
    if cleaned == value:
        return value
    return f"{cleaned}_{hashlib.sha256(value.encode()).hexdigest()[:8]}"


def partial_kwargs(text: str) -> dict[str, Any] | None:
    """Tool-call arguments from JSON text that may still be streaming, parsed as far as it goes ("" and any
    non-object give `{}`); None when the text cannot be read yet."""
    try:
        parsed = parse_partial_json(text) if text.strip() else {}
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else {}


def tool_kwargs(value: dict[str, Any] | str) -> dict[str, Any]:
    """Tool-call arguments as a dict; a JSON string (maybe still streaming) is parsed as far as it goes."""
    if isinstance(value, dict):
        return value
    parsed = partial_kwargs(value)
    return parsed if parsed is not None else {}


# --- content blocks -----------------------------------------------------------------------------------------


def _text(text: str) -> Wire | None:
    # Anthropic-format servers reject empty text blocks ("text content blocks must be non-empty")
    return {"type": "text", "text": text} if text.strip() else None


def image_media_type(data: bytes) -> str | None:
    """The media type that an image's first bytes announce (PNG, JPEG, GIF, WebP), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image(block: ImageBlock, where: str) -> Wire:
    if block.url is not None and not str(block.url).startswith("data:"):
        return {"type": "image", "source": {"type": "url", "url": str(block.url)}}  # not downloaded here
    data = block.resolve_image(as_base64=False).read()
    media_type = image_media_type(data)  # the bytes decide: a name or a declared type may be wrong
    if media_type is None:
        declared = f" (declared {block.image_mimetype})" if block.image_mimetype else ""
        raise ValueError(
            f"{where} holds {len(data)} bytes that are no PNG, JPEG, GIF or WebP image{declared}; "
            "the Messages API takes only those four: convert the image or pass it by URL"
        )
    encoded = base64.b64encode(data).decode("ascii")
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": encoded}}


def _document(block: DocumentBlock, where: str) -> Wire:
    mimetype = block.document_mimetype
    if mimetype is None and block.path is not None:  # LlamaIndex guesses binary types only (no .txt)
        mimetype = mimetypes.guess_type(str(block.path))[0]
    if mimetype is None and block.url is None:
        data = block.resolve_document().read()
        mimetype = _PDF if data.startswith(b"%PDF-") else None
    wire: Wire
    if block.url is not None and mimetype in (None, _PDF):
        wire = {"type": "document", "source": {"type": "url", "url": str(block.url)}}  # not downloaded here
    elif mimetype == _PDF:
        encoded = base64.b64encode(block.resolve_document().read()).decode("ascii")
        wire = {"type": "document", "source": {"type": "base64", "media_type": _PDF, "data": encoded}}
    elif mimetype in _TEXT_TYPES and block.url is None:
        raw = block.resolve_document().read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{where} is a text/plain document that is not UTF-8 text") from None
        wire = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": text}}
    else:
        raise ValueError(
            f"{where} is a DocumentBlock of type {mimetype or 'unknown'}; the Messages API takes "
            f"{_PDF} (data, path or url) and text/plain (data or path) documents: set "
            "document_mimetype, or convert the document to PDF or text"
        )
    if block.title and block.title != _DEFAULT_TITLE:
        wire["title"] = block.title
    return wire


def _thinking(block: ThinkingBlock) -> Wire | None:
    info = block.additional_information
    if isinstance(redacted := info.get(REDACTED), str):
        return {"type": "redacted_thinking", "data": redacted}
    # only signed thinking goes back (Anthropic checks it); inline <think> reasoning is not resent
    signature = info.get("signature")
    if block.content and signature:
        return {"type": "thinking", "thinking": block.content, "signature": signature}
    return None


def _cache_control(block: CachePoint) -> Wire:
    control: Wire = {"type": block.cache_control.type}
    if block.cache_control.ttl != "5m":
        control["ttl"] = block.cache_control.ttl
    return control


def _block(block: ContentBlock, where: str) -> Wire | None:
    if isinstance(block, TextBlock):
        return _text(block.text)
    if isinstance(block, ImageBlock):
        return _image(block, where)
    if isinstance(block, DocumentBlock):
        return _document(block, where)
    if isinstance(block, ToolCallBlock):
        return {
            "type": "tool_use",
            "id": tool_id(block.tool_call_id, block.tool_name),
            "name": block.tool_name,
            "input": tool_kwargs(block.tool_kwargs),
        }
    if isinstance(block, ThinkingBlock):
        return _thinking(block)
    raise ValueError(  # audio, video, citations
        f"{where} is a {type(block).__name__}, which the Messages API does not take; use TextBlock, "
        "ImageBlock, DocumentBlock (PDF or text), ThinkingBlock, ToolCallBlock or CachePoint"
    )


def _blocks(message: ChatMessage, where: str) -> list[Wire]:
    """The Messages content blocks of one LlamaIndex message's blocks (tool calls included)."""
    out: list[Wire] = []
    for i, block in enumerate(message.blocks):
        if isinstance(block, CachePoint):
            if out:
                out[-1]["cache_control"] = _cache_control(block)
        elif (wire := _block(block, f"{where}.blocks[{i}]")) is not None:
            out.append(wire)
    return out


# --- turns --------------------------------------------------------------------------------------------------


def _legacy_tool_calls(message: ChatMessage) -> list[Wire]:
    """Tool calls kept only in `additional_kwargs["tool_calls"]` (messages from older code)."""
    calls = message.additional_kwargs.get("tool_calls")
    if not isinstance(calls, list):
        return []
    return [
        {
            "type": "tool_use",
            "id": tool_id(c.get("id"), c["name"]),
            "name": c["name"],
            "input": c.get("input", {}),
        }
        for c in calls
        if isinstance(c, Mapping) and isinstance(c.get("name"), str)
    ]


def _turn(message: ChatMessage, where: str) -> tuple[str, list[Wire]]:
    if message.role in _TOOL_ROLES:
        extra = message.additional_kwargs
        result: Wire = {"type": "tool_result", "tool_use_id": tool_id(extra.get("tool_call_id"), "result")}
        if content := _blocks(message, where):
            result["content"] = content
        if extra.get("is_error") is True:  # a failed tool (ToolOutput.is_error) tells the model so
            result["is_error"] = True
        return "user", [result]
    blocks = _blocks(message, where)
    if message.role in _ASSISTANT_ROLES:
        if not any(block["type"] == "tool_use" for block in blocks):
            blocks.extend(_legacy_tool_calls(message))
        return "assistant", blocks
    return "user", blocks


def _system_parts(message: ChatMessage, parts: list[Wire]) -> None:
    """Append a system message's text (its text blocks joined, as `content`); a CachePoint marks the text
    before it, and text after one starts a new part."""
    texts: list[str] = []
    for block in [*message.blocks, None]:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif block is None or isinstance(block, CachePoint):
            if text := "\n".join(texts).strip():
                parts.append({"type": "text", "text": text})
            texts.clear()
            if block is not None and parts:
                parts[-1]["cache_control"] = _cache_control(block)


def _system(parts: list[Wire]) -> str | list[Wire] | None:
    """One string (texts joined by a blank line) unless a part needs block features (cache_control)."""
    if not parts:
        return None
    if any(set(part) != {"type", "text"} for part in parts):
        return parts
    return "\n\n".join(part["text"] for part in parts)


def to_wire_messages(
    messages: Sequence[ChatMessage], system: str | Sequence[Wire] | None = None
) -> tuple[str | list[Wire] | None, list[Wire]]:
    """The `system` prompt and the `messages` of a request.

    `system` (a call's `system=`) comes first, then system and developer messages, as one string whenever all
    are plain text (ModelsLab's schema types `system` as a string). Tool results become `tool_result` blocks
    of a user turn; consecutive turns of one role merge (parallel tool results must share one user turn). A
    user or assistant message with nothing to send is refused rather than dropped.
    """
    parts: list[Wire] = []
    if isinstance(system, str):
        if system.strip():
            parts.append({"type": "text", "text": system.strip()})
    elif system is not None:
        parts.extend(dict(part) for part in system)
    turns: list[Wire] = []
    for i, message in enumerate(messages):
        if message.role in _SYSTEM_ROLES:
            _system_parts(message, parts)
            continue
        role, blocks = _turn(message, f"messages[{i}]")
        if not blocks:
            raise ValueError(
                f"messages[{i}] ({message.role.value}) has no content to send: its text is empty and it "
                "holds no image, document or tool call; give it content (ChatMessage.content or blocks) "
                "or leave it out"
            )
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return _system(parts), turns


# --- tools --------------------------------------------------------------------------------------------------


def to_wire_tools(tools: Sequence[BaseTool]) -> list[Wire]:
    """LlamaIndex tools as Messages `tools` (name, description, JSON schema)."""
    return [
        {
            "name": tool.metadata.get_name(),
            "description": tool.metadata.description,
            "input_schema": tool.metadata.get_parameters_dict(),
        }
        for tool in tools
    ]


def to_tool_choice(tool_choice: str | Mapping[str, Any] | None, *, tool_required: bool) -> Wire:
    """The Messages `tool_choice` for LlamaIndex's arguments.

    None means "any" when a tool is required, else "auto" (structured output passes None with
    tool_required=True); "auto" / "none" / "any" ("required" too) name a mode; any other string names a tool;
    a dict is taken as is (OpenAI's `{"type": "function", "function": {"name": ...}}` is translated). Nothing
    undocumented is added: LlamaIndex's single-tool-call default is applied to the answer instead.
    """
    if tool_choice is None:
        return {"type": "any" if tool_required else "auto"}
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        if tool_choice.get("type") == "function" and isinstance(function, Mapping):
            return {"type": "tool", "name": function.get("name")}
        return dict(tool_choice)
    if tool_choice in ("auto", "none", "any"):
        return {"type": tool_choice}
    if tool_choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": tool_choice}
