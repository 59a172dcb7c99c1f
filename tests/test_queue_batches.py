"""Issue 15's user stories against the local server's imitation of ModelsLab's queue (5 at once per key).

Before the account limiter, `abatch` / `asyncio.gather` of many prompts lost a third of them to 429s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from modelslab_core.testing import LocalServer

pytest.importorskip("langchain_core")
pytest.importorskip("llama_index.core")

from llama_index.core.llms import ChatMessage

from langchain_modelslab import ChatModelsLab
from llama_index_modelslab import ModelsLab

KEY = "test-key"
PROMPTS = 60


@pytest.fixture
def queue() -> Iterator[LocalServer]:
    with LocalServer(queue_limit=5, latency_ms=40) as server:
        yield server


def test_langchain_abatch_answers_every_prompt(queue: LocalServer) -> None:
    model = ChatModelsLab(model="m", api_key=KEY, base_url=queue.base_url, max_tokens=8)
    answers = asyncio.run(model.abatch([f"prompt {i}" for i in range(PROMPTS)]))
    assert len(answers) == PROMPTS and all(answer.text for answer in answers)
    assert queue.queue.counters()["peak_in_service"] == 5  # the queue was used to the full


def test_llama_index_gather_answers_every_prompt(queue: LocalServer) -> None:
    llm = ModelsLab(model="m", api_key=KEY, base_url=queue.base_url, max_tokens=8, context_window=8192)

    async def run() -> list[str]:
        replies = await asyncio.gather(
            *(llm.achat([ChatMessage(role="user", content=f"prompt {i}")]) for i in range(PROMPTS))
        )
        return [reply.message.content or "" for reply in replies]

    assert all(asyncio.run(run()))


def test_two_adapters_with_one_key_share_the_account_limiter(queue: LocalServer) -> None:
    chat = ChatModelsLab(model="m", api_key=KEY, base_url=queue.base_url)
    llm = ModelsLab(model="m", api_key=KEY, base_url=queue.base_url)
    other = ChatModelsLab(model="m", api_key="other-key", base_url=queue.base_url)
    assert chat._sync_client().limiter is llm.client.limiter
    assert other._sync_client().limiter is not chat._sync_client().limiter


def test_limiter_none_turns_it_off(queue: LocalServer) -> None:
    assert (
        ChatModelsLab(model="m", api_key=KEY, base_url=queue.base_url, limiter=None)._sync_client().limiter
        is None
    )
    assert ModelsLab(model="m", api_key=KEY, base_url=queue.base_url, limiter=None).client.limiter is None
