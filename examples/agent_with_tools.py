"""A LangChain agent (`create_agent`) that calls a tool and answers with its result."""

from _offline import modelslab
from langchain.agents import create_agent
from langchain_core.tools import tool

from langchain_modelslab import ChatModelsLab


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny and 22 degrees in {city}"


def main() -> None:
    agent = create_agent(
        ChatModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together"),
        tools=[get_weather],
        system_prompt="You are a helpful assistant. Use the tools to answer.",
    )
    result = agent.invoke({"messages": [("human", "What is the weather in Paris?")]})
    for message in result["messages"]:
        if message.type == "ai" and message.tool_calls:
            for call in message.tool_calls:
                print(f"tool call: {call['name']}({call['args']})")
        elif message.type == "tool":
            print(f"tool result: {message.content}")
    print("answer:", result["messages"][-1].text)


if __name__ == "__main__":
    with modelslab():
        main()
