"""`ChatModelsLab` in real LangChain programs, against the local server (local and fast: no cassettes)."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from langchain_modelslab import ChatModelsLab
from modelslab_core import APIStatusError, OverloadedError
from modelslab_core.testing import LocalServer

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f5dd3c0000000049454e44ae426082"
    )
).decode()


@pytest.fixture
def model(server: LocalServer) -> ChatModelsLab:
    return ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="test-key", max_retries=0)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def test_lcel_chain(model: ChatModelsLab) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You answer briefly."), ("human", "What is {a} + {b}?")]
    )
    chain = prompt | model | StrOutputParser()
    assert chain.invoke({"a": 2, "b": 3}) == "2 + 3 = 5."


def test_agent_with_two_tools_runs_to_a_final_answer(model: ChatModelsLab) -> None:
    from langchain.agents import create_agent

    agent = create_agent(model, [add, multiply], system_prompt="Use the tools.")
    result = agent.invoke({"messages": [HumanMessage("Use add on 3 and 4, then multiply 5 and 6.")]})
    messages = result["messages"]
    calls = [call["name"] for m in messages if isinstance(m, AIMessage) for call in m.tool_calls]
    assert sorted(calls) == ["add", "multiply"]
    assert sorted(m.content for m in messages if isinstance(m, ToolMessage)) == ["30", "7"]
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert final.text == 'add returned "7"; multiply returned "30".'


async def test_agent_async_streaming(model: ChatModelsLab) -> None:
    from langchain.agents import create_agent

    agent = create_agent(model, [add])
    steps = [
        step async for step in agent.astream({"messages": [("human", "add 1 and 2")]}, stream_mode="values")
    ]
    assert steps[-1]["messages"][-1].text == 'add returned "3".'


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="the person's name")
    age: int = Field(description="age in years")


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_pydantic(model: ChatModelsLab, method: Any) -> None:
    structured = model.with_structured_output(Person, method=method)
    person = structured.invoke('The person is called "Ada" and is 36 years old.')
    assert person == Person(name="Ada", age=36)


def test_structured_output_include_raw(model: ChatModelsLab) -> None:
    result = model.with_structured_output(Person, include_raw=True).invoke('"Bob" is 7.')
    assert result["parsed"] == Person(name="Bob", age=7)
    assert result["parsing_error"] is None
    assert isinstance(result["raw"], AIMessage) and result["raw"].tool_calls


class _TokenCounter(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.usage: list[Any] = []

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        self.tokens.append(token)
        if chunk is not None and chunk.message.usage_metadata:
            self.usage.append(chunk.message.usage_metadata)


def test_streaming_with_a_callback_handler_counting_tokens(model: ChatModelsLab) -> None:
    counter = _TokenCounter()
    chunks = list(model.stream("count to 20", config={"callbacks": [counter]}))
    text = " ".join(str(i) for i in range(1, 21))
    assert "".join(counter.tokens) == text
    assert len([t for t in counter.tokens if t]) == 20  # one callback per word the server streams
    assert len(counter.usage) == 1 and counter.usage[0]["output_tokens"] == 20
    assert chunks[-1].chunk_position == "last"


def test_streaming_true_uses_the_stream_under_invoke(server: LocalServer) -> None:
    counter = _TokenCounter()
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k", streaming=True)
    message = model.invoke("count to 3", config={"callbacks": [counter]})
    assert message.content == "1 2 3"
    assert counter.tokens[:3] == ["1", " 2", " 3"]
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] == 3


async def test_abatch_of_50(model: ChatModelsLab) -> None:
    start = time.perf_counter()
    results = await model.abatch([f"What is {i} + 1?" for i in range(50)])
    elapsed = time.perf_counter() - start
    assert [r.content for r in results] == [f"{i} + 1 = {i + 1}." for i in range(50)]
    assert elapsed < 10


def test_batch(model: ChatModelsLab) -> None:
    assert [m.content for m in model.batch(["What is 1 + 1?", "What is 2 + 2?"])] == [
        "1 + 1 = 2.",
        "2 + 2 = 4.",
    ]


@pytest.mark.parametrize("sync", [True, False])
async def test_reasoning_model_streams_reasoning_apart(server: LocalServer, sync: bool) -> None:
    model = ChatModelsLab(model="deepseek-ai/DeepSeek-R1", base_url=server.base_url, api_key="k")
    chunks: list[AIMessageChunk] = []
    if sync:
        chunks = list(model.stream("What is the capital of France?"))
    else:
        chunks = [chunk async for chunk in model.astream("What is the capital of France?")]
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.content == "The capital of France is Paris."
    assert "I will answer directly" in full.additional_kwargs["reasoning_content"]
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "text"]
    invoked = await model.ainvoke("What is the capital of France?")
    assert invoked.content == full.content
    assert invoked.additional_kwargs == full.additional_kwargs


def test_output_version_v1(server: LocalServer) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k", output_version="v1")
    message = model.bind_tools([add]).invoke("add 2 and 2")
    assert [b["type"] for b in message.content] == ["text", "tool_call"]  # type: ignore[index]
    assert message.tool_calls[0]["args"] == {"a": 2, "b": 2}


def test_images_and_anthropic_inputs(model: ChatModelsLab) -> None:
    """What the standard suite's image and Anthropic-input tests send, with a local image."""
    message = model.invoke(
        [
            HumanMessage(
                [
                    {"type": "text", "text": "describe", "cache_control": {"type": "ephemeral"}},
                    {"type": "image", "base64": PNG, "mime_type": "image/png"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                ]
            )
        ]
    )
    assert message.text.startswith("I see 3 images (image/png).")
    picker = {"name": "color_picker", "input_schema": {"type": "object", "properties": {}}}
    history = [
        SystemMessage("you're a good assistant"),
        HumanMessage("what's your favorite color"),
        AIMessage(
            [
                {"type": "text", "text": "Hmm"},
                {"type": "tool_use", "input": {"fav_color": "purple"}, "id": "foo", "name": "color_picker"},
            ],
            tool_calls=[
                {"name": "color_picker", "args": {"fav_color": "purple"}, "id": "foo", "type": "tool_call"}
            ],
        ),
        ToolMessage("That's a great pick!", tool_call_id="foo"),
    ]
    answer = model.bind_tools([picker]).invoke(history)
    assert answer.text == 'color_picker returned "That\'s a great pick!".'


def test_stop_and_model_overrides(model: ChatModelsLab) -> None:
    message = model.invoke("count to 9", stop=[" 5"], model="meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert message.content == "1 2 3 4"
    assert message.response_metadata["stop_reason"] == "stop_sequence"
    assert message.response_metadata["model_name"] == "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def test_count_tokens(model: ChatModelsLab) -> None:
    assert (
        model.get_num_tokens_from_messages([SystemMessage("one two"), HumanMessage("three four five")]) == 5
    )


def test_stream_usage_false(server: LocalServer) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k", stream_usage=False)
    assert all(chunk.usage_metadata is None for chunk in model.stream("hello"))


@pytest.mark.parametrize("fault", ["usage-start-only", "usage-delta-only"])
def test_streamed_usage_is_merged_from_start_and_delta(server: LocalServer, fault: str) -> None:
    model = ChatModelsLab(
        model=MODEL, base_url=server.base_url, api_key="k", default_headers={"x-modelslab-fault": fault}
    )
    chunks = list(model.stream("one two three"))
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert len(usage) == 1 and usage[0]["input_tokens"] == 3


@pytest.mark.parametrize(
    ("fault", "error"), [("overloaded", OverloadedError), ("error-body-200", APIStatusError)]
)
async def test_api_errors_are_the_core_errors(
    server: LocalServer, fault: str, error: type[Exception]
) -> None:
    model = ChatModelsLab(
        model=MODEL,
        base_url=server.base_url,
        api_key="k",
        max_retries=0,
        default_headers={"x-modelslab-fault": fault},
    )
    with pytest.raises(error):
        await model.ainvoke("hi")
    with pytest.raises(error):
        list(model.stream("hi"))


def test_invalid_arguments_raise_value_error_before_sending(server: LocalServer) -> None:
    server.stats.reset()
    with pytest.raises(ValueError, match="temperature"):
        ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k", temperature=3).invoke("hi")
    with pytest.raises(ValueError, match="api_key"):
        ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="").invoke("hi")
    assert server.stats.requests == 0


def test_injected_http_clients_are_used_and_left_open(server: LocalServer) -> None:
    seen: list[str] = []
    sync_client = httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]})

    async def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async_client = httpx.AsyncClient(event_hooks={"request": [hook]})
    model = ChatModelsLab(
        model=MODEL,
        base_url=server.base_url,
        api_key="k",
        http_client=sync_client,
        http_async_client=async_client,
    )
    model.invoke("hi")

    async def run() -> None:
        await model.ainvoke("hi")
        await model.aclose()
        assert not async_client.is_closed
        await async_client.aclose()

    asyncio.run(run())
    assert seen == [server.base_url + "/v1/messages"] * 2
    model.close()
    assert not sync_client.is_closed
    sync_client.close()


def test_secrets_stay_out_of_repr_and_params(server: LocalServer) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(model)
    assert "sk-very-secret" not in str(model._get_ls_params())
    assert "sk-very-secret" not in str(model.model_dump())
    assert model.lc_secrets == {"api_key": "MODELSLAB_API_KEY"}


def test_one_client_per_instance(model: ChatModelsLab) -> None:
    model.invoke("hi")
    first = model._sync_client()
    model.invoke("hi")
    assert model._sync_client() is first


async def test_astream_events(model: ChatModelsLab) -> None:
    events = [event async for event in model.astream_events("count to 3", version="v2")]
    streamed = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(streamed) == "1 2 3"
    end = next(e for e in events if e["event"] == "on_chat_model_end")
    assert end["data"]["output"].usage_metadata["output_tokens"] == 3
