"""LangChain results from answers: `ChatResult.llm_output`, and the warning for answers cut at the default
`max_tokens`. No I/O besides logging.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TypedDict

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

__all__ = ["LLMOutput", "llm_output", "to_chat_result", "warn_if_cut"]

logger = logging.getLogger("langchain_modelslab")

_warned: set[str] = set()
_warned_lock = threading.Lock()


class TokenUsage(TypedDict):
    """Usage under OpenAI's names, which older callbacks and cost trackers read."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class LLMOutput(TypedDict, total=False):
    """`ChatResult.llm_output` / `LLMResult.llm_output`."""

    id: str | None
    model_name: str | None
    usage: dict[str, int]
    """LangChain's usage names (`input_tokens` counts cache reads and writes), summed over generations."""
    token_usage: TokenUsage


def llm_output(messages: Sequence[BaseMessage]) -> LLMOutput:
    """`llm_output` for the answers of one call: the model name, usage summed, the id of a single answer."""
    output: LLMOutput = {}
    answers = [m for m in messages if isinstance(m, AIMessage)]
    if len(answers) == 1:
        output["id"] = answers[0].response_metadata.get("id")
    names = [m.response_metadata.get("model_name") for m in answers]
    output["model_name"] = next((name for name in names if name), None)
    usage: dict[str, int] = {}
    for message in answers:
        if message.usage_metadata is None:
            continue  # a reply without usage adds nothing: usage stays absent rather than zero
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            usage[key] = usage.get(key, 0) + message.usage_metadata[key]
        for key, value in (message.usage_metadata.get("input_token_details") or {}).items():
            if isinstance(value, int):
                usage[key] = usage.get(key, 0) + value
    if usage:
        output["usage"] = usage
        output["token_usage"] = _token_usage(usage)
    return output


def to_chat_result(message: AIMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)], llm_output=dict(llm_output([message])))


def _token_usage(usage: dict[str, int]) -> TokenUsage:
    return {
        "prompt_tokens": usage.get("input_tokens", 0),
        "completion_tokens": usage.get("output_tokens", 0),
        "total_tokens": usage.get("total_tokens", 0),
    }


def warn_if_cut(message: BaseMessage, model: str, max_tokens: int) -> None:
    """Log once per model that an answer stopped at a `max_tokens` the caller did not choose."""
    if message.response_metadata.get("stop_reason") != "max_tokens":
        return
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    logger.warning(
        "an answer of %s stopped at max_tokens=%d, the default for this model: pass max_tokens=... to "
        "ChatModelsLab (or to the call) for longer answers",
        model,
        max_tokens,
    )
