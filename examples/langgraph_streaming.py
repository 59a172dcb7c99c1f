"""LangGraph streaming: each step of a `create_agent` run (model turn, tool run) as it happens."""

from _offline import modelslab
from langchain.agents import create_agent
from langchain_core.tools import tool

from langchain_modelslab import ChatModelsLab


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def main() -> None:
    agent = create_agent(ChatModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together"), tools=[add, multiply])
    question = {"messages": [("human", "Use add on 3 and 4, then multiply 5 and 6.")]}
    # stream_mode="updates": one item per finished graph step, keyed by the node that ran ("model", "tools")
    for step in agent.stream(question, stream_mode="updates"):
        for node, update in step.items():
            for message in update["messages"]:
                if message.type == "tool":  # the tools of one turn run in parallel: any order
                    print(f"[{node}] {message.name} returned {message.text}")
                else:
                    calls = ", ".join(f"{c['name']}({c['args']})" for c in message.tool_calls)
                    print(f"[{node}] {message.text}" + (f" -> calls {calls}" if calls else ""))


if __name__ == "__main__":
    with modelslab():
        main()
