"""LlamaIndex's multi-agent `AgentWorkflow` on `ModelsLab`, against the local server."""

from __future__ import annotations

from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent, ToolCallResult
from llama_index.core.tools import FunctionTool

from .conftest import TASK, TOOLS, Wire, add


async def test_agent_workflow_with_two_agents_runs_the_root_agents_tools(wire: Wire) -> None:
    llm = wire.llm()
    calculator = FunctionAgent(
        name="calculator",
        description="Does arithmetic with its tools.",
        tools=list(TOOLS),
        llm=llm,
        can_handoff_to=["writer"],
    )
    writer = FunctionAgent(
        name="writer",
        description="Writes prose.",
        tools=[FunctionTool.from_defaults(add)],
        llm=llm,
    )
    workflow = AgentWorkflow(agents=[calculator, writer], root_agent="calculator")
    handler = workflow.run(user_msg=TASK)
    results = [event async for event in handler.stream_events() if isinstance(event, ToolCallResult)]
    output = await handler
    assert sorted((r.tool_name, str(r.tool_output.content)) for r in results) == [
        ("add", "8"),
        ("multiply", "8"),
    ]
    assert str(output.response.content) == 'add returned "8"; multiply returned "8".'
    first_tools = [tool["name"] for tool in wire.bodies[0]["tools"]]
    assert first_tools[:2] == ["add", "multiply"] and "handoff" in first_tools
    assert "disable_parallel_tool_use" not in wire.bodies[0]["tool_choice"]
