"""A LlamaIndex query engine over a few in-memory documents, answered by ModelsLab and streamed."""

from _offline import modelslab
from llama_index.core import Document, SummaryIndex

from llama_index_modelslab import ModelsLab

DOCUMENTS = [
    Document(text="France's capital city is Paris, which stands on the Seine."),
    Document(text="Japan's capital city is Tokyo, the largest metropolitan area in the world."),
    Document(text="ModelsLab serves Qwen, Llama and DeepSeek models through one Messages API."),
]


def main() -> None:
    # SummaryIndex sends every document to the LLM: no embedding model, nothing to download
    index = SummaryIndex.from_documents(DOCUMENTS)
    engine = index.as_query_engine(
        llm=ModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together"), streaming=True
    )
    response = engine.query("What is the capital of France?")
    print("answer: ", end="")
    response.print_response_stream()
    print()
    print("sources:", len(response.source_nodes), "documents")


if __name__ == "__main__":
    with modelslab():
        main()
