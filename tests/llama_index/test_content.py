"""What `ModelsLab` sends for each kind of content, and what it keeps of the answer (issues 12 and 14)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from llama_index_modelslab._convert import to_chat_response
from modelslab_core import Message
from modelslab_core.testing import LocalServer

from .conftest import TASK, TOOLS, Wire

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus.jsonl"
REDACTED_STREAM = "25"  # the corpus record of a real stream that starts with two redacted_thinking blocks

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def user(*blocks: Any) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, blocks=[*blocks, TextBlock(text="What is this?")])


# --- item 7: image media type from the bytes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
    ids=["png", "jpeg", "gif", "webp"],
)
def test_an_image_path_without_extension_gets_the_media_type_of_its_bytes(
    wire: Wire, tmp_path: Path, data: bytes, media_type: str
) -> None:
    path = tmp_path / "picture"
    path.write_bytes(data)
    response = wire.llm().chat([user(ImageBlock(path=path))])
    source = wire.last["messages"][0]["content"][0]["source"]
    assert (source["type"], source["media_type"]) == ("base64", media_type)
    assert base64.b64decode(source["data"]) == data
    assert (response.message.content or "").startswith(f"I see 1 image ({media_type}).")


def test_bytes_that_are_no_image_format_are_refused_naming_the_block(wire: Wire, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    path.write_bytes(b"just some text, not an image")
    with pytest.raises(ValueError, match=r"messages\[0\]\.blocks\[0\].*PNG, JPEG, GIF or WebP"):
        wire.llm().chat([user(ImageBlock(path=path))])
    assert wire.bodies == []


# --- item 8: documents --------------------------------------------------------------------------------------


def test_a_pdf_document_is_sent_as_a_base64_document_block(wire: Wire) -> None:
    document = DocumentBlock(data=PDF, document_mimetype="application/pdf", title="report")
    response = wire.llm().chat([user(document)])
    block = wire.last["messages"][0]["content"][0]
    assert block["type"] == "document"
    assert block["source"]["type"] == "base64" and block["source"]["media_type"] == "application/pdf"
    assert base64.b64decode(block["source"]["data"]) == PDF
    assert block["title"] == "report"
    assert (response.message.content or "").startswith("I see 1 document (application/pdf).")


def test_a_text_document_is_sent_as_a_text_document(wire: Wire, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("ModelsLab serves many models.", encoding="utf-8")
    response = wire.llm().chat([user(DocumentBlock(path=path))])
    block = wire.last["messages"][0]["content"][0]
    assert block["source"] == {
        "type": "text",
        "media_type": "text/plain",
        "data": "ModelsLab serves many models.",
    }
    assert "title" not in block  # LlamaIndex's placeholder title is not sent
    assert (response.message.content or "").startswith("I see 1 document (text/plain).")


def test_other_document_types_are_refused_clearly(wire: Wire) -> None:
    document = DocumentBlock(data=b"a,b\n1,2\n", document_mimetype="text/csv")
    with pytest.raises(ValueError, match=r"messages\[0\]\.blocks\[0\].*text/csv.*application/pdf"):
        wire.llm().chat([user(document)])
    assert wire.bodies == []


def test_audio_keeps_its_clear_error(wire: Wire) -> None:
    with pytest.raises(ValueError, match=r"messages\[0\]\.blocks\[0\] is a AudioBlock"):
        wire.llm().chat([user(AudioBlock(audio=b"RIFF0000WAVEfmt ", format="wav"))])


# --- item 11: tool errors -----------------------------------------------------------------------------------


def tool_turns(is_error: bool | None) -> list[ChatMessage]:
    call = ToolCallBlock(tool_call_id="toolu_1", tool_name="add", tool_kwargs={"a": 1, "b": 2})
    extra: dict[str, Any] = {"tool_call_id": "toolu_1"}
    if is_error is not None:
        extra["is_error"] = is_error
    return [
        ChatMessage(role="user", content="What is 1 + 2?"),
        ChatMessage(role="assistant", blocks=[call]),
        ChatMessage(role="tool", content="ValueError: no adding today", additional_kwargs=extra),
    ]


def test_a_tool_message_marked_as_an_error_is_an_error_tool_result(wire: Wire) -> None:
    response = wire.llm().chat(tool_turns(is_error=True))
    result = wire.last["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert response.message.content == 'add failed with "ValueError: no adding today".'


@pytest.mark.parametrize("is_error", [None, False])
def test_a_normal_tool_result_carries_no_is_error(wire: Wire, is_error: bool | None) -> None:
    wire.llm().chat(tool_turns(is_error=is_error))
    assert "is_error" not in wire.last["messages"][-1]["content"][0]


# --- item 12: redacted thinking -----------------------------------------------------------------------------


def test_redacted_thinking_of_a_stream_is_kept_and_sent_back() -> None:
    with LocalServer(replay=CORPUS) as server:
        wire = Wire(server)
        llm = wire.llm(
            model="claude-sonnet-4-5-20250929", default_headers={"x-modelslab-replay": REDACTED_STREAM}
        )
        question = ChatMessage(role="user", content="Think about it.")
        *_, last = llm.stream_chat([question])
        redacted = [b for b in last.message.blocks if isinstance(b, ThinkingBlock)]
        assert len(redacted) == 2
        assert all(b.additional_information["redacted_thinking"].startswith("E") for b in redacted)
        assert (last.message.content or "").startswith("I notice that you've sent")
        list(llm.stream_chat([question, last.message, ChatMessage(role="user", content="Go on.")]))
        sent = wire.last["messages"][1]["content"]
        assert [b["type"] for b in sent] == ["redacted_thinking", "redacted_thinking", "text"]
        assert sent[0]["data"] == redacted[0].additional_information["redacted_thinking"]
        for client in wire.clients:
            client.close()


def test_redacted_thinking_of_a_whole_answer_is_kept() -> None:
    message = Message.model_validate(
        {
            "id": "msg_1",
            "model": "m",
            "content": [
                {"type": "redacted_thinking", "data": "EncryptedBlob"},
                {"type": "text", "text": "Hi."},
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )
    blocks = to_chat_response(message).message.blocks
    assert isinstance(blocks[0], ThinkingBlock)
    assert blocks[0].additional_information == {"redacted_thinking": "EncryptedBlob"}
    assert isinstance(blocks[1], TextBlock) and blocks[1].text == "Hi."


# --- issue 12 item 5: system as one string ------------------------------------------------------------------


def test_several_plain_system_messages_are_one_string(wire: Wire) -> None:
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="system", blocks=[TextBlock(text="Use English.")]),
        ChatMessage(role="user", content="Hello"),
    ]
    wire.llm().chat(messages)
    assert wire.last["system"] == "Be brief.\n\nUse English."


def test_a_cache_point_in_the_system_prompt_sends_blocks(wire: Wire) -> None:
    cached = CachePoint(cache_control=CacheControl(type="ephemeral"))
    messages = [
        ChatMessage(role="system", blocks=[TextBlock(text="A long shared prompt."), cached]),
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Hello"),
    ]
    wire.llm().chat(messages)
    assert wire.last["system"] == [
        {"type": "text", "text": "A long shared prompt.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Be brief."},
    ]


# --- issue 12 item 6: no undocumented field by default ------------------------------------------------------


def test_tool_calls_send_no_disable_parallel_tool_use_and_keep_one_call(wire: Wire) -> None:
    llm = wire.llm()
    single = llm.chat_with_tools(TOOLS, user_msg=TASK)
    assert wire.last["tool_choice"] == {"type": "auto"}
    assert [c.tool_name for c in llm.get_tool_calls_from_response(single)] == ["add"]
    assert [c["name"] for c in single.message.additional_kwargs["tool_calls"]] == ["add"]
    parallel = llm.chat_with_tools(TOOLS, user_msg=TASK, allow_parallel_tool_calls=True)
    assert [c.tool_name for c in llm.get_tool_calls_from_response(parallel)] == ["add", "multiply"]


async def test_streamed_tool_calls_keep_one_call_unless_parallel_is_allowed(wire: Wire) -> None:
    llm = wire.llm()
    responses = [r async for r in await llm.astream_chat_with_tools(TOOLS, user_msg=TASK)]
    assert "disable_parallel_tool_use" not in wire.last["tool_choice"]
    assert [c.tool_name for c in llm.get_tool_calls_from_response(responses[-1])] == ["add"]
    sync = list(llm.stream_chat_with_tools(TOOLS, user_msg=TASK, allow_parallel_tool_calls=True))
    assert [c.tool_name for c in llm.get_tool_calls_from_response(sync[-1])] == ["add", "multiply"]


def test_disable_parallel_tool_use_is_sent_when_the_caller_asks(wire: Wire) -> None:
    llm = wire.llm()
    choice = {"type": "auto", "disable_parallel_tool_use": True}
    response = llm.chat_with_tools(TOOLS, user_msg=TASK, tool_choice=choice, allow_parallel_tool_calls=True)
    assert wire.last["tool_choice"] == choice
    assert len(llm.get_tool_calls_from_response(response)) == 1  # the server kept one
