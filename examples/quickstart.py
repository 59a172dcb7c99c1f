"""ModelsLab in LangChain and LlamaIndex, in one run: a chain, an agent, a query engine, a FunctionAgent,
and a batch of 100 against a queue of 5 (always on the local server: it imitates ModelsLab's account queue).

Run it with `python examples/quickstart.py` (or `make demo`). With MODELSLAB_API_KEY set it talks to
ModelsLab; without it, the answers come from a local rule-based test server.
"""

import asyncio

from _offline import modelslab
from langchain.agents import create_agent
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from llama_index.core import Document, SummaryIndex
from llama_index.core.agent.workflow import FunctionAgent

from langchain_modelslab import ChatModelsLab
from llama_index_modelslab import ModelsLab
from modelslab_core.testing import LocalServer

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny and 22 degrees in {city}"


def section(title: str) -> None:
    print(f"\n=== {title} ===")


def langchain_chain() -> None:
    section("LangChain: an LCEL chain, streamed, with token usage")
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a concise assistant."), ("human", "Count to {n}, separated by spaces.")]
    )
    chain = prompt | ChatModelsLab(model=MODEL, max_tokens=256)
    answer = None
    for chunk in chain.stream({"n": 5}):
        print(chunk.content, end="", flush=True)
        answer = chunk if answer is None else answer + chunk  # usage arrives on the last chunk
    print()
    print("usage:", answer.usage_metadata)


def langchain_agent() -> None:
    section("LangChain: create_agent with a tool")
    agent = create_agent(ChatModelsLab(model=MODEL), tools=[tool(get_weather)])
    result = agent.invoke({"messages": [("human", "What is the weather in Paris?")]})
    for message in result["messages"]:
        for call in getattr(message, "tool_calls", []):
            print(f"tool call: {call['name']}({call['args']})")
    print("answer:", result["messages"][-1].text)


def llama_query_engine() -> None:
    section("LlamaIndex: a query engine over local documents")
    documents = [
        Document(text="France's capital city is Paris, which stands on the Seine."),
        Document(text="Japan's capital city is Tokyo, the largest metropolitan area in the world."),
    ]
    engine = SummaryIndex.from_documents(documents).as_query_engine(llm=ModelsLab(model=MODEL))
    print("answer:", engine.query("What is the capital of France?"))


async def llama_function_agent() -> None:
    section("LlamaIndex: a FunctionAgent with a tool")
    agent = FunctionAgent(tools=[get_weather], llm=ModelsLab(model=MODEL))
    print("answer:", await agent.run(user_msg="What is the weather in Tokyo?"))


def queue_batch() -> None:
    section("A batch of 100 against an account queue of 5 (local server), default settings")
    with LocalServer(queue_limit=5, latency_ms=20) as server:
        model = ChatModelsLab(model=MODEL, api_key="local-demo-key", base_url=server.base_url)
        answers = asyncio.run(
            model.abatch([f"Say hi to user {i}" for i in range(100)], return_exceptions=True)
        )
        failures = sum(1 for answer in answers if isinstance(answer, Exception))
        refused = server.queue.counters()["queue_refused"]
        print(f"{len(answers) - failures} answered, {failures} failures, {refused} 429s along the way")


def main() -> None:
    langchain_chain()
    langchain_agent()
    llama_query_engine()
    asyncio.run(llama_function_agent())
    queue_batch()


if __name__ == "__main__":
    with modelslab():
        main()
