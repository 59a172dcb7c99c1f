"""Arguments of `ModelsLab` and of its calls: what is sent, what is refused before any request."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock

from llama_index_modelslab import ModelsLab

from .conftest import TOOLS, Wire

HI = [ChatMessage(role="user", content="Count to 20.")]


# --- item 1: unknown or misspelled arguments ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "wrong", "closest"),
    [
        ("chat", "max_token", "max_tokens"),
        ("stream_chat", "temprature", "temperature"),
        ("complete", "stop_sequence", "stop_sequences"),
        ("stream_complete", "foo", None),
    ],
)
def test_an_unknown_call_keyword_is_a_type_error_before_any_request(
    wire: Wire, call: str, wrong: str, closest: str | None
) -> None:
    llm = wire.llm()
    prompt: Any = "Count to 20." if "complete" in call else HI
    with pytest.raises(TypeError, match=wrong) as caught:
        result = getattr(llm, call)(prompt, **{wrong: 5})
        list(result) if call.startswith("stream") else None
    if closest is not None:
        assert f"did you mean {closest!r}" in str(caught.value)
    assert wire.bodies == []


@pytest.mark.parametrize("call", ["achat", "astream_chat", "acomplete", "astream_complete"])
async def test_an_unknown_async_call_keyword_is_a_type_error_before_any_request(
    wire: Wire, call: str
) -> None:
    llm = wire.llm()
    prompt: Any = "Count to 20." if "complete" in call else HI
    with pytest.raises(TypeError, match="did you mean 'max_tokens'"):
        await getattr(llm, call)(prompt, max_token=5)
    assert wire.bodies == []


def test_call_keywords_that_are_request_fields_are_sent(wire: Wire) -> None:
    llm = wire.llm()
    response = llm.chat(HI, max_tokens=5, metadata={"user_id": "u1"}, service_tier="auto")
    assert response.message.content == "1 2 3 4 5"
    assert (wire.last["max_tokens"], wire.last["metadata"], wire.last["service_tier"]) == (
        5,
        {"user_id": "u1"},
        "auto",
    )
    llm.complete("Count to 20.", max_tokens=3, formatted=True)
    assert wire.last["max_tokens"] == 3


def test_a_call_system_keyword_comes_before_the_system_messages(wire: Wire) -> None:
    llm = wire.llm()
    llm.chat([ChatMessage(role="system", content="Be brief."), *HI], system="You count.")
    assert wire.last["system"] == "You count.\n\nBe brief."


def test_stream_keyword_is_refused_with_the_method_to_use(wire: Wire) -> None:
    with pytest.raises(TypeError, match="stream_chat"):
        wire.llm().chat(HI, stream=True)


@pytest.mark.parametrize(("wrong", "closest"), [("temprature", "temperature"), ("max_token", "max_tokens")])
def test_an_unknown_constructor_argument_is_a_value_error(wrong: str, closest: str) -> None:
    with pytest.raises(ValueError, match=f"{wrong}.*did you mean {closest!r}"):
        ModelsLab(api_key="test-key", **{wrong: 0.1})


def test_an_unknown_constructor_argument_with_no_close_name_lists_the_fields() -> None:
    with pytest.raises(ValueError, match="foo") as caught:
        ModelsLab(api_key="test-key", foo=1)
    assert "temperature" in str(caught.value)  # the valid names are listed


def test_llama_index_own_keywords_still_pass(wire: Wire) -> None:
    llm = wire.llm()
    # what FunctionCallingLLM and its programs pass along: tool_choice, tool_required, verbose, parallel calls
    response = llm.chat_with_tools(
        TOOLS, user_msg="Please multiply 6 and 7.", tool_required=True, verbose=False, tool_choice="multiply"
    )
    [call] = llm.get_tool_calls_from_response(response)
    assert call.tool_name == "multiply"
    output = llm.predict_and_call(TOOLS, user_msg="Please add 6 and 7.", error_on_no_tool_call=True)
    assert output.response == "13"


def test_tools_given_to_chat_as_llama_index_tools_are_translated(wire: Wire) -> None:
    llm = wire.llm()
    response = llm.chat(HI, tools=TOOLS, tool_choice="add")
    assert wire.last["tools"][0]["name"] == "add"
    assert wire.last["tool_choice"] == {"type": "tool", "name": "add"}
    assert llm.get_tool_calls_from_response(response)[0].tool_name == "add"


# --- item 2: thinking ---------------------------------------------------------------------------------------


def test_thinking_is_a_field_sent_as_given(wire: Wire) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    llm = wire.llm(thinking=thinking)
    assert llm.thinking == thinking
    llm.chat(HI)
    assert wire.last["thinking"] == thinking
    assert "thinking" in llm.to_dict()


async def test_thinking_as_a_call_keyword_overrides_the_field(wire: Wire) -> None:
    llm = wire.llm(thinking={"type": "enabled", "budget_tokens": 1024})
    await llm.achat(HI, thinking={"type": "disabled"})
    assert wire.last["thinking"] == {"type": "disabled"}
    [_ async for _ in await llm.astream_chat(HI, thinking={"type": "enabled", "budget_tokens": 2048})]
    assert wire.last["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_no_thinking_field_unless_set(wire: Wire) -> None:
    wire.llm().chat(HI)
    assert "thinking" not in wire.last


def test_thinking_must_be_a_dict() -> None:
    with pytest.raises(ValueError, match="thinking"):
        ModelsLab(api_key="test-key", thinking="on")


# --- item 4: empty messages ---------------------------------------------------------------------------------


def test_an_empty_user_message_is_named_by_index_and_field(wire: Wire) -> None:
    llm = wire.llm()
    with pytest.raises(ValueError, match=r"messages\[0\].*content") as caught:
        llm.chat([ChatMessage(role="user", content="")])
    assert "non-empty list" not in str(caught.value)
    assert wire.bodies == []


def test_an_empty_assistant_turn_is_refused_not_merged_away(wire: Wire) -> None:
    llm = wire.llm()
    messages = [
        ChatMessage(role="user", content="Count to 3."),
        ChatMessage(role=MessageRole.ASSISTANT, blocks=[TextBlock(text="  ")]),
        ChatMessage(role="user", content="Count to 4."),
    ]
    with pytest.raises(ValueError, match=r"messages\[1\] \(assistant\)"):
        llm.chat(messages)
    assert wire.bodies == []
