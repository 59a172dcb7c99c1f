"""The deterministic rule-based model, one rule at a time, as JSON and as a stream (sync and async)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelslab_core import MessageAccumulator, SSEDecoder, parse_event

from .conftest import Api, body
from .grammar import check

MAGIC = {
    "name": "magic_function",
    "description": "Applies a magic function to an input.",
    "input_schema": {"type": "object", "properties": {"input": {"type": "integer"}}, "required": ["input"]},
}
ADD = {
    "name": "add",
    "description": "Add two integers.",
    "input_schema": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "default": 1},
            "verbose": {"type": "boolean"},
        },
        "required": ["location", "unit"],
    },
}


async def ask(api: Api, request: dict[str, Any]) -> dict[str, Any]:
    """The JSON reply, after checking that the streamed reply is grammatical and accumulates to the same."""
    response = await api.post(json=request)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    streamed, chunks = await api.raw(json={**request, "stream": True})
    assert streamed.status_code == 200
    payloads = check(b"".join(chunks))
    assert payloads[0]["message"]["usage"] == {**reply["usage"], "output_tokens": 1}
    assert payloads[-2]["usage"] == reply["usage"]
    for block in reply["content"]:
        deltas = [p["delta"] for p in payloads if p["type"] == "content_block_delta"]
        if block["type"] == "tool_use":
            assert any(d == {"type": "input_json_delta", "partial_json": ""} for d in deltas)
    accumulator = MessageAccumulator()
    decoder = SSEDecoder()
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            if (event := parse_event(sse)) is not None:
                accumulator.feed(event)
    assert accumulator.complete
    assert accumulator.message.model_dump(mode="json") == type(accumulator.message).model_validate(
        reply
    ).model_dump(mode="json")
    return reply


def text_of(reply: dict[str, Any]) -> str:
    return "".join(b["text"] for b in reply["content"] if b["type"] == "text")


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is 3 + 5?", "3 + 5 = 8."),
        ("what is 12 * 12", "12 * 12 = 144."),
        ("Compute 7 / 2", "7 / 2 = 3.5."),
        ("1 / 0?", "1 / 0 = undefined."),
        ("Please count to 5", "1 2 3 4 5"),
        ('Say "pong" and nothing else', "pong"),
        ("What is the capital of France?", "The capital of France is Paris."),
        ("hello there", "Hello! I am the ModelsLab local test model. How can I help?"),
        ("Tell me about llamas", "You said: Tell me about llamas"),
    ],
)
async def test_text_rules(api: Api, question: str, answer: str) -> None:
    reply = await ask(api, body(question))
    assert reply["content"] == [{"type": "text", "text": answer}]
    assert reply["stop_reason"] == "end_turn" and reply["stop_sequence"] is None
    assert reply["usage"] == {
        "input_tokens": len(question.split()),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": len(answer.split()),
    }
    assert reply["id"].startswith("msg_") and reply["model"] == body()["model"]


async def test_reply_is_deterministic(api: Api) -> None:
    first = (await api.post(json=body("Tell me about llamas"))).json()
    assert (await api.post(json=body("Tell me about llamas"))).json() == first


async def test_reply_answers_the_last_user_turn_and_counts_every_turn(api: Api) -> None:
    messages = [
        {"role": "user", "content": "hello"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Hi there friend", "cache_control": {"type": "e"}}],
        },
        {
            "role": "user",
            "content": [{"type": "text", "text": "What is 2 + 2?"}, {"type": "mystery", "x": 1}],
        },
    ]
    request = body(system="You are terse.", messages=messages)
    reply = await ask(api, request)
    assert text_of(reply) == "2 + 2 = 4."
    assert reply["usage"]["input_tokens"] == 3 + 1 + 3 + 5


async def test_max_tokens_cuts_the_text(api: Api) -> None:
    reply = await ask(api, body("count to 50", max_tokens=7))
    assert text_of(reply) == "1 2 3 4 5 6 7"
    assert reply["stop_reason"] == "max_tokens" and reply["usage"]["output_tokens"] == 7


async def test_stop_sequence_cuts_the_text(api: Api) -> None:
    reply = await ask(api, body("count to 20", stop_sequences=["zzz", " 6 ", " 9"]))
    assert text_of(reply) == "1 2 3 4 5"
    assert reply["stop_reason"] == "stop_sequence" and reply["stop_sequence"] == " 6 "


async def test_max_tokens_before_the_stop_sequence_wins(api: Api) -> None:
    reply = await ask(api, body("count to 20", max_tokens=3, stop_sequences=["9"]))
    assert (
        text_of(reply) == "1 2 3" and reply["stop_reason"] == "max_tokens" and reply["stop_sequence"] is None
    )


async def test_reasoning_models_think_first(api: Api) -> None:
    reply = await ask(api, body("What is 1 + 1?", model="deepseek-ai/DeepSeek-R1"))
    text = text_of(reply)
    assert text.startswith("<think>\n") and text.endswith("</think>\n\n1 + 1 = 2.")
    plain = await ask(api, body("What is 1 + 1?", model="meta-llama/Llama-3.3-70B-Instruct-Turbo"))
    assert "<think>" not in text_of(plain)


async def test_images_and_documents_are_acknowledged(api: Api) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
    reply = await ask(api, body([image, image, document, {"type": "text", "text": "What is this?"}]))
    assert (
        text_of(reply) == "I see 2 images (image/png). I see 1 document (text/plain). You said: What is this?"
    )


async def test_forced_tool(api: Api) -> None:
    reply = await ask(
        api, body("What is 3 + 5?", tools=[MAGIC, ADD], tool_choice={"type": "tool", "name": "add"})
    )
    assert [b["type"] for b in reply["content"]] == ["tool_use"]
    block = reply["content"][0]
    assert block["name"] == "add" and block["input"] == {"a": 3, "b": 5} and block["id"].startswith("toolu_")
    assert reply["stop_reason"] == "tool_use"


async def test_auto_tool_mentioned_by_name(api: Api) -> None:
    reply = await ask(api, body("Call magic_function with input 3", tools=[ADD, MAGIC]))
    assert reply["content"][0] == {"type": "text", "text": "I will call magic_function."}
    assert reply["content"][1]["name"] == "magic_function" and reply["content"][1]["input"] == {"input": 3}
    assert reply["stop_reason"] == "tool_use"


async def test_first_tool_when_none_is_mentioned(api: Api) -> None:
    reply = await ask(api, body("Do something with 4 and 9", tools=[ADD, MAGIC], tool_choice={"type": "any"}))
    assert [(b["type"], b.get("name"), b.get("input")) for b in reply["content"]] == [
        ("tool_use", "add", {"a": 4, "b": 9})
    ]


async def test_several_tools_mentioned(api: Api) -> None:
    reply = await ask(api, body("Use add on 1 and 2, then magic_function on 7", tools=[MAGIC, ADD]))
    calls = [(b["name"], b["input"]) for b in reply["content"] if b["type"] == "tool_use"]
    assert calls == [("add", {"a": 1, "b": 2}), ("magic_function", {"input": 7})]
    assert text_of(reply) == "I will call add and magic_function."
    assert len({b["id"] for b in reply["content"] if b["type"] == "tool_use"}) == 2
    single = await ask(
        api,
        body(
            "Use add on 1 and 2, then magic_function on 7",
            tools=[MAGIC, ADD],
            tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        ),
    )
    assert [b["name"] for b in single["content"] if b["type"] == "tool_use"] == ["add"]


async def test_tool_choice_none_answers_in_text(api: Api) -> None:
    reply = await ask(api, body("What is 3 + 5? use add", tools=[ADD], tool_choice={"type": "none"}))
    assert reply["content"] == [{"type": "text", "text": "3 + 5 = 8."}] and reply["stop_reason"] == "end_turn"


async def test_arguments_from_strings_enums_and_defaults(api: Api) -> None:
    reply = await ask(api, body("What's the weather in San Francisco in fahrenheit?", tools=[WEATHER]))
    (call,) = [b for b in reply["content"] if b["type"] == "tool_use"]
    assert call["input"] == {"location": "San Francisco", "unit": "fahrenheit", "days": 1}
    quoted = await ask(api, body("get_weather for 'Paris, FR' please", tools=[WEATHER]))
    assert quoted["content"][-1]["input"] == {"location": "Paris, FR", "unit": "celsius", "days": 1}


async def test_arguments_for_a_pydantic_style_schema(api: Api) -> None:
    schema = {
        "$defs": {
            "Point": {
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
                "title": "Point",
                "type": "object",
            }
        },
        "properties": {
            "name": {"title": "Name", "type": "string"},
            "origin": {"$ref": "#/$defs/Point"},
            "tags": {"items": {"type": "string"}, "title": "Tags", "type": "array"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Note"},
            "flag": {"type": "boolean"},
        },
        "required": ["name", "origin", "tags", "flag"],
        "title": "Shape",
        "type": "object",
    }
    tool = {"name": "Shape", "description": "A shape", "input_schema": schema}
    reply = await ask(
        api, body("A shape at 1.5 and -2", tools=[tool], tool_choice={"type": "tool", "name": "Shape"})
    )
    assert reply["content"][0]["input"] == {
        "name": "name",
        "origin": {"x": 1.5, "y": -2},
        "tags": [],
        "note": None,
        "flag": False,
    }


async def test_tool_without_arguments_streams_one_empty_delta(api: Api) -> None:
    tool = {"name": "now", "description": "time", "input_schema": {"type": "object", "properties": {}}}
    reply = await ask(api, body("what time is it", tools=[tool], tool_choice={"type": "any"}))
    assert reply["content"] == [
        {"type": "tool_use", "id": reply["content"][0]["id"], "name": "now", "input": {}}
    ]
    _, chunks = await api.raw(
        json=body("what time is it", tools=[tool], tool_choice={"type": "any"}, stream=True)
    )
    deltas = [p["delta"] for p in check(b"".join(chunks)) if p["type"] == "content_block_delta"]
    assert deltas == [{"type": "input_json_delta", "partial_json": ""}]


async def test_tool_arguments_stream_in_several_pieces(api: Api) -> None:
    request = body("weather in Paris", tools=[WEATHER], tool_choice={"type": "any"}, stream=True)
    _, chunks = await api.raw(json=request)
    pieces = [
        p["delta"]["partial_json"] for p in check(b"".join(chunks)) if p["type"] == "content_block_delta"
    ]
    assert pieces[0] == "" and len(pieces) > 3
    assert json.loads("".join(pieces)) == {"location": "Paris", "unit": "celsius", "days": 1}


async def test_tool_results_are_quoted(api: Api) -> None:
    first = await ask(api, body("Use add on 2 and 3 and magic_function on 4", tools=[ADD, MAGIC]))
    uses = [b for b in first["content"] if b["type"] == "tool_use"]
    messages = [
        {"role": "user", "content": "Use add on 2 and 3 and magic_function on 4"},
        {"role": "assistant", "content": first["content"]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": uses[0]["id"], "content": "5"},
                {
                    "type": "tool_result",
                    "tool_use_id": uses[1]["id"],
                    "content": [{"type": "text", "text": "boom"}],
                    "is_error": True,
                },
            ],
        },
    ]
    reply = await ask(api, body(messages=messages, tools=[ADD, MAGIC]))
    assert reply["content"] == [
        {"type": "text", "text": 'add returned "5"; magic_function failed with "boom".'}
    ]
    assert reply["stop_reason"] == "end_turn"


async def test_long_stream_one_delta_per_word(api: Api) -> None:
    _, chunks = await api.raw(json=body("count to 3000", max_tokens=5000, stream=True))
    payloads = check(b"".join(chunks))
    assert sum(p["type"] == "content_block_delta" for p in payloads) == 3000
    assert payloads[-2]["usage"]["output_tokens"] == 3000


async def test_structured_output_style_forced_tool(api: Api) -> None:
    joke = {
        "name": "Joke",
        "description": "Joke to tell user.",
        "input_schema": {
            "type": "object",
            "properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}},
            "required": ["setup", "punchline"],
        },
    }
    request = body("Tell me a joke about cats.", tools=[joke], tool_choice={"type": "tool", "name": "Joke"})
    reply = await ask(api, request)
    assert [b["input"] for b in reply["content"]] == [{"setup": "cats", "punchline": "punchline"}]
