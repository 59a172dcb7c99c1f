"""A LlamaIndex chat engine: a conversation over in-memory documents that remembers earlier turns."""

from _offline import modelslab
from llama_index.core import Document, SummaryIndex

from llama_index_modelslab import ModelsLab

DOCUMENTS = [
    Document(text="France's capital city is Paris, which stands on the Seine."),
    Document(text="Japan's capital city is Tokyo, the largest metropolitan area in the world."),
]


def main() -> None:
    index = SummaryIndex.from_documents(DOCUMENTS)
    # "context": the documents go into the system prompt, the conversation is kept in the engine's memory
    chat_engine = index.as_chat_engine(
        chat_mode="context", llm=ModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together")
    )
    print("user: What is the capital of France?")
    print("assistant:", chat_engine.chat("What is the capital of France?"))
    print("user: And what is the capital of Japan?")
    print("assistant: ", end="")
    chat_engine.stream_chat("And what is the capital of Japan?").print_response_stream()
    print()
    print("turns in memory:", len(chat_engine.chat_history))


if __name__ == "__main__":
    with modelslab():
        main()
