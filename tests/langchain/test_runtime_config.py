"""What users reach for instead of `init_chat_model`, which cannot build a `ChatModelsLab` (issue 13, 13)."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import ConfigurableField
from langchain_core.tools import tool

from langchain_modelslab import ChatModelsLab
from modelslab_core.testing import LocalServer

from .conftest import Recorder

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
OTHER = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_init_chat_model_has_no_modelslab_provider() -> None:
    from langchain.chat_models import init_chat_model

    with pytest.raises(ValueError, match="modelslab"):
        init_chat_model(MODEL, model_provider="modelslab")


@pytest.mark.parametrize("sync", [True, False])
async def test_create_agent_with_a_chatmodelslab(server: LocalServer, sync: bool) -> None:
    from langchain.agents import create_agent

    agent = create_agent(
        model=ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="test-key"),
        tools=[add],
        system_prompt="Use the tools.",
    )
    state = {"messages": [HumanMessage("add 2 and 5")]}
    result = agent.invoke(state) if sync else await agent.ainvoke(state)
    messages = result["messages"]
    assert [m.content for m in messages if isinstance(m, ToolMessage)] == ["7"]
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert final.content == 'add returned "7".'  # a string, as agents and parsers expect


def test_configurable_fields_switch_settings_per_call(server: LocalServer, recorder: Recorder) -> None:
    model = ChatModelsLab(
        model=MODEL,
        base_url=server.base_url,
        api_key="test-key",
        temperature=0.1,
        http_client=recorder.client,
    ).configurable_fields(
        model=ConfigurableField(id="model"),
        temperature=ConfigurableField(id="temperature"),
    )
    default = model.invoke("hi")
    switched = model.invoke("hi", config={"configurable": {"model": OTHER, "temperature": 0.9}})
    assert default.response_metadata["model_name"] == MODEL
    assert switched.response_metadata["model_name"] == OTHER
    assert [(b["model"], b["temperature"]) for b in recorder.bodies] == [(MODEL, 0.1), (OTHER, 0.9)]
    assert [b["max_tokens"] for b in recorder.bodies] == [8192, 8192]  # each model's own catalog limit


def test_a_switched_model_gets_its_own_profile() -> None:
    model = ChatModelsLab(model=MODEL).configurable_fields(model=ConfigurableField(id="model"))
    switched, _ = model._prepare({"configurable": {"model": "deepseek-ai/DeepSeek-R1"}})
    assert isinstance(switched, ChatModelsLab) and switched.profile is not None
    assert switched.profile["name"] == "deepseek-ai/DeepSeek-R1"
    assert switched.profile["reasoning_output"] is True
    mine = {"max_input_tokens": 1000}
    kept, _ = (
        ChatModelsLab(model=MODEL, profile=mine)
        .configurable_fields(model=ConfigurableField(id="model"))
        ._prepare({"configurable": {"model": "deepseek-ai/DeepSeek-R1"}})
    )
    assert isinstance(kept, ChatModelsLab) and kept.profile == mine  # what the user wrote stays


def test_configurable_alternatives_pick_a_model_per_call(server: LocalServer) -> None:
    fast = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="test-key")
    strong = ChatModelsLab(model=OTHER, base_url=server.base_url, api_key="test-key", max_tokens=64)
    model = fast.configurable_alternatives(ConfigurableField(id="llm"), default_key="fast", strong=strong)
    assert model.invoke("hi").response_metadata["model_name"] == MODEL
    picked = model.invoke("hi", config={"configurable": {"llm": "strong"}})
    assert picked.response_metadata["model_name"] == OTHER
    bound = model.bind_tools([add])  # tools stay bound whichever model is picked
    answer = bound.invoke("add 1 and 1", config={"configurable": {"llm": "strong"}})
    assert answer.tool_calls[0]["args"] == {"a": 1, "b": 1}
