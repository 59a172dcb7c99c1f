"""A LangChain LCEL chain: prompt | ChatModelsLab, streamed token by token, then the usage of the answer."""

from _offline import modelslab
from langchain_core.prompts import ChatPromptTemplate

from langchain_modelslab import ChatModelsLab


def main() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a concise assistant."), ("human", "Count to {n}, separated by spaces.")]
    )
    chain = prompt | ChatModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together", max_tokens=256)

    answer = None
    for chunk in chain.stream({"n": 5}):
        print(chunk.content, end="", flush=True)
        answer = chunk if answer is None else answer + chunk  # usage arrives on the last chunk
    print()
    print("usage:", answer.usage_metadata)


if __name__ == "__main__":
    with modelslab():
        main()
