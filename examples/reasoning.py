"""A reasoning model (DeepSeek-R1): its reasoning apart from its answer, in LangChain and LlamaIndex."""

from _offline import modelslab
from llama_index.core.llms import ChatMessage

from langchain_modelslab import ChatModelsLab
from llama_index_modelslab import ModelsLab

MODEL = "deepseek-ai/DeepSeek-R1"  # writes <think>...</think> before its answer; the adapters split it off
QUESTION = "What is the capital of France?"


def main() -> None:
    print("== LangChain")
    message = ChatModelsLab(model=MODEL).invoke(QUESTION)
    print("reasoning:", message.additional_kwargs.get("reasoning_content", "").strip())
    print("answer:", message.text)
    print("blocks:", [block["type"] for block in message.content_blocks])

    print("== LangChain, streamed")
    reasoning, answer = "", ""
    for chunk in ChatModelsLab(model=MODEL).stream(QUESTION):
        reasoning += chunk.additional_kwargs.get("reasoning_content", "")
        answer += chunk.text
    print("reasoning:", reasoning.strip())
    print("answer:", answer.strip())

    print("== LlamaIndex")
    response = ModelsLab(model=MODEL).chat([ChatMessage(role="user", content=QUESTION)])
    thinking = [block.content for block in response.message.blocks if block.block_type == "thinking"]
    print("reasoning:", " ".join(thinking).strip())
    print("answer:", response.message.content)


if __name__ == "__main__":
    with modelslab():
        main()
