"""A LlamaIndex FunctionAgent that calls a tool and answers with its result, streaming its events."""

import asyncio

from _offline import modelslab
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult

from llama_index_modelslab import ModelsLab


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny and 22 degrees in {city}"


async def run() -> None:
    agent = FunctionAgent(
        tools=[get_weather],  # plain functions become FunctionTools
        llm=ModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together"),
        system_prompt="You are a helpful assistant. Use the tools to answer.",
    )
    handler = agent.run(user_msg="What is the weather in Paris?")
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"\ntool call: {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
        elif isinstance(event, AgentStream):
            print(event.delta, end="", flush=True)
    print()
    print("answer:", await handler)


if __name__ == "__main__":
    with modelslab():
        asyncio.run(run())
