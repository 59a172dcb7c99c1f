"""Framework floors: a LangChain chat model and a LlamaIndex LLM that return a fixed reply with no HTTP.

They do what any correct adapter must do per call (build the message, fire the callbacks, yield one chunk per
delta with usage on the last), so `adapter - floor` is the cost of HTTP plus the adapter's own work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

USAGE = {"input_tokens": 10, "output_tokens": 200, "total_tokens": 210}


def langchain_floor(pieces: Sequence[str], wire: Callable[[], Any] | None = None) -> Any:
    """The floor chat model; `wire`, if given, is called first in every invoke (e.g. a raw HTTP request)."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    text = "".join(pieces)

    class FloorChatModel(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "floor"

        def _generate(
            self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> ChatResult:
            if wire is not None:
                wire()
            message = AIMessage(content=text, usage_metadata=USAGE, response_metadata={"model_name": "floor"})  # type: ignore[arg-type]
            return ChatResult(generations=[ChatGeneration(message=message)])

        async def _agenerate(
            self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> ChatResult:
            return self._generate(messages)

        def _chunks(self) -> Iterator[ChatGenerationChunk]:
            for piece in pieces:
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            yield ChatGenerationChunk(
                message=AIMessageChunk(content="", usage_metadata=USAGE, chunk_position="last")
            )  # type: ignore[arg-type]

        def _stream(
            self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Iterator[ChatGenerationChunk]:
            for chunk in self._chunks():
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk

        async def _astream(
            self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> AsyncIterator[ChatGenerationChunk]:
            for chunk in self._chunks():
                if run_manager:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk

    return FloorChatModel()


def llama_index_floor(pieces: Sequence[str], wire: Callable[[], Any] | None = None) -> Any:
    """The floor LLM; `wire`, if given, is called first in every chat (e.g. a raw HTTP request)."""
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseAsyncGen,
        ChatResponseGen,
        CompletionResponse,
        LLMMetadata,
    )
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from llama_index.core.llms.llm import LLM

    text = "".join(pieces)
    raw = {"usage": {"input_tokens": 10, "output_tokens": 200}}

    def responses() -> Iterator[ChatResponse]:
        so_far = ""
        for i, piece in enumerate(pieces):
            so_far += piece
            last = i == len(pieces) - 1
            yield ChatResponse(
                message=ChatMessage(role="assistant", content=so_far), delta=piece, raw=raw if last else None
            )

    class FloorLLM(LLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name="floor", is_chat_model=True)

        @llm_chat_callback()
        def chat(self, messages: Sequence[ChatMessage], **kw: Any) -> ChatResponse:
            if wire is not None:
                wire()
            return ChatResponse(message=ChatMessage(role="assistant", content=text), raw=raw)

        @llm_chat_callback()
        def stream_chat(self, messages: Sequence[ChatMessage], **kw: Any) -> ChatResponseGen:
            return responses()

        @llm_chat_callback()
        async def achat(self, messages: Sequence[ChatMessage], **kw: Any) -> ChatResponse:
            return self.chat(messages)

        @llm_chat_callback()
        async def astream_chat(self, messages: Sequence[ChatMessage], **kw: Any) -> ChatResponseAsyncGen:
            async def gen() -> ChatResponseAsyncGen:
                for response in responses():
                    yield response

            return gen()

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
            return CompletionResponse(text=text)

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            raise NotImplementedError

        @llm_completion_callback()
        async def acomplete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
            return CompletionResponse(text=text)

        @llm_completion_callback()
        async def astream_complete(self, prompt: str, formatted: bool = False, **kw: Any) -> Any:
            raise NotImplementedError

    return FloorLLM()
