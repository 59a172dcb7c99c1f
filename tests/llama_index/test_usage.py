"""Token accounting, instrumentation and the context window: each request counted once, its events fired,
`max_tokens` checked against the window."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from llama_index.core import Document, SummaryIndex
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.tools import FunctionTool

from llama_index_modelslab import ModelsLab

from .conftest import Wire, multiply

COUNT = [ChatMessage(role="user", content="Count to 5.")]


def never_called(text: str) -> list[int]:
    raise AssertionError("token counts must come from the API's usage, not from a tokenizer")


# --- item 3: one count per request, on every path -----------------------------------------------------------


async def run(llm: ModelsLab, path: str) -> None:
    """One request through `path`, read to the end."""
    tools = [FunctionTool.from_defaults(multiply)]
    if path == "chat":
        llm.chat(COUNT)
    elif path == "stream_chat":
        list(llm.stream_chat(COUNT))
    elif path == "complete":
        llm.complete("Count to 5.")
    elif path == "stream_complete":
        list(llm.stream_complete("Count to 5."))
    elif path == "achat":
        await llm.achat(COUNT)
    elif path == "astream_chat":
        [_ async for _ in await llm.astream_chat(COUNT)]
    elif path == "acomplete":
        await llm.acomplete("Count to 5.")
    elif path == "astream_complete":
        [_ async for _ in await llm.astream_complete("Count to 5.")]
    elif path == "chat_with_tools":
        llm.chat_with_tools(tools, user_msg="Please multiply 6 and 7.")
    elif path == "astream_chat_with_tools":
        [_ async for _ in await llm.astream_chat_with_tools(tools, user_msg="Please multiply 6 and 7.")]
    else:
        raise AssertionError(path)


PATHS = [
    "chat",
    "stream_chat",
    "complete",
    "stream_complete",
    "achat",
    "astream_chat",
    "acomplete",
    "astream_complete",
    "chat_with_tools",
    "astream_chat_with_tools",
]


@pytest.mark.parametrize("path", PATHS)
async def test_token_counting_handler_counts_each_request_once(wire: Wire, path: str) -> None:
    counter = TokenCountingHandler(tokenizer=never_called)
    llm = wire.llm(callback_manager=CallbackManager([counter]))
    await run(llm, path)
    await run(llm, path)
    assert len(wire.bodies) == 2
    assert len(counter.llm_token_counts) == 2
    [event, _] = counter.llm_token_counts
    # the local server counts whitespace tokens: "Count to 5." is 3 in, "1 2 3 4 5" is 5 out
    if "tools" not in path:
        assert (event.prompt_token_count, event.completion_token_count) == (3, 5)
    assert counter.total_llm_token_count == 2 * (event.prompt_token_count + event.completion_token_count)


class EventNames(BaseEventHandler):
    """The names of the instrumentation events LlamaIndex dispatches, in order."""

    names: list[str] = []

    @classmethod
    def class_name(cls) -> str:
        return "EventNames"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.names.append(type(event).__name__)


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_instrumentation_events_fire_for_every_call_and_chunk(wire: Wire, sync: bool) -> None:
    """What docs/llama-index.md says: a start and an end event per call, an in-progress event per chunk."""
    llm = wire.llm()
    handler = EventNames(names=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    try:
        llm.chat(COUNT) if sync else await llm.achat(COUNT)
        assert handler.names == ["LLMChatStartEvent", "LLMChatEndEvent"]
        handler.names.clear()
        chunks = list(llm.stream_chat(COUNT)) if sync else [c async for c in await llm.astream_chat(COUNT)]
        assert len(chunks) > 1
        assert handler.names == [
            "LLMChatStartEvent",
            *["LLMChatInProgressEvent"] * len(chunks),
            "LLMChatEndEvent",
        ]
        handler.names.clear()
        llm.complete("Count to 5.") if sync else await llm.acomplete("Count to 5.")
        assert handler.names == ["LLMCompletionStartEvent", "LLMCompletionEndEvent"]
    finally:
        dispatcher.event_handlers.remove(handler)


# --- item 9: max_tokens against the context window ----------------------------------------------------------


def test_max_tokens_that_fill_the_window_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match=r"max_tokens=8192.*8192-token context window.*context_window="):
        ModelsLab(model="my-org/new-model", api_key="test-key", max_tokens=8192)
    with pytest.raises(ValueError, match=r"max_tokens=32700.*32768-token"):
        ModelsLab(model="Qwen/Qwen2.5-72B-Instruct-Turbo", api_key="test-key", max_tokens=32_700)


def test_the_context_window_override_makes_room(wire: Wire) -> None:
    llm = wire.llm(model="my-org/new-model", max_tokens=8192, context_window=65_536)
    engine = SummaryIndex.from_documents([Document(text="ModelsLab serves many models.")]).as_query_engine(
        llm=llm
    )
    assert "ModelsLab serves many models." in str(engine.query("Which models?"))
    assert wire.last["max_tokens"] == 8192


@pytest.mark.parametrize("change", ["field", "call"])
def test_max_tokens_set_later_or_per_call_are_checked_before_any_request(wire: Wire, change: str) -> None:
    llm = wire.llm(model="my-org/new-model")
    kwargs: dict[str, Any] = {}
    if change == "field":
        llm.max_tokens = 9000
    else:
        kwargs["max_tokens"] = 9000
    with pytest.raises(ValueError, match=r"max_tokens=9000.*8192-token context window"):
        llm.chat(COUNT, **kwargs)
    assert wire.bodies == []


def test_an_unknown_model_logs_once_which_defaults_it_got(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        llm = ModelsLab(model="my-org/another-new-model", api_key="test-key")
        llm.metadata  # noqa: B018 - read as LlamaIndex does, on every call
        llm.metadata  # noqa: B018
    [record] = [r for r in caplog.records if "another-new-model" in r.getMessage()]
    assert record.name == "llama_index_modelslab"  # the adapter's logger, as docs/llama-index.md says
    assert "8192-token context window" in record.getMessage()
    assert "context_window=" in record.getMessage()
    assert "is_function_calling_model=" in record.getMessage()
