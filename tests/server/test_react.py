"""The ReAct rule: a prompt-described tool is called in ReAct's text format, and its observation quoted."""

from __future__ import annotations

import json

import httpx

from modelslab_core.testing import LocalServer

ARGS = json.dumps(
    {
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "type": "object",
    }
)
SYSTEM = """## Tools

You have access to the following tools:
> Tool Name: add
Tool Description: add(a: int, b: int) -> int
Add two integers.
Tool Args: {ARGS}

> Tool Name: multiply
Tool Description: multiply(a: int, b: int) -> int
Tool Args: {ARGS}

## Output Format
Thought: ...
Action: tool name (one of add, multiply) if using a tool.
Action Input: the input to the tool, in a JSON format
""".replace("{ARGS}", ARGS)


def _reply(server: LocalServer, text: str, **extra: object) -> str:
    body = {
        "model": "m",
        "max_tokens": 200,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": text}],
    }
    response = httpx.post(
        server.base_url + "/v1/messages", headers={"x-api-key": "k"}, json={**body, **extra}
    )
    response.raise_for_status()
    return str(response.json()["content"][0]["text"])


def test_the_named_tool_is_called_with_arguments_from_the_text() -> None:
    with LocalServer() as server:
        text = _reply(server, "Use multiply to compute 6 times 7")
    lines = text.splitlines()
    assert lines[0].startswith("Thought:")
    assert lines[1] == "Action: multiply"
    assert json.loads(lines[2].removeprefix("Action Input: ")) == {"a": 6, "b": 7}


def test_the_first_tool_when_none_is_named() -> None:
    with LocalServer() as server:
        assert "Action: add" in _reply(server, "What is 2 and 3?")


def test_an_observation_is_answered() -> None:
    with LocalServer() as server:
        text = _reply(server, "Observation: 42")
    assert text.splitlines()[-1] == "Answer: The tool returned 42."


def test_the_rule_is_off_when_tools_are_sent_natively() -> None:
    tool = {"name": "add", "input_schema": {"type": "object", "properties": {}}}
    with LocalServer() as server:
        body = {"model": "m", "max_tokens": 50, "system": SYSTEM, "tools": [tool]}
        body["messages"] = [{"role": "user", "content": "Use add"}]
        reply = httpx.post(server.base_url + "/v1/messages", headers={"x-api-key": "k"}, json=body).json()
    assert reply["stop_reason"] == "tool_use"
