"""What LlamaIndex needs to know about ModelsLab's models, as data: context window, output size, capabilities.

ModelsLab publishes no context-window or capability figures (`GET /v1/models` returns ids only), so each entry
below takes its figures from the model's upstream publisher and names that source. Where the serving provider
named in the id (`-together`, `-Turbo`) is known to serve a shorter window than the model card allows, the
shorter one is used: a window that is too small only truncates history, one that is too large gives 400s.

Both of ModelsLab's naming styles reach the same entry: `Qwen/Qwen2.5-VL-72B-Instruct-together` (slash style)
and `Qwen-Qwen2.5-VL-72B-Instruct-together` (dash style) normalize to one key (`normalize_model_id`).
Unknown ids get `DEFAULT_SPEC` and one warning per id.
`ModelsLab(context_window=..., is_function_calling_model=...)` overrides any entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CATALOG", "CATALOG_IDS", "DEFAULT_SPEC", "ModelSpec", "lookup", "normalize_model_id"]

logger = logging.getLogger("llama_index_modelslab")


@dataclass(frozen=True)
class ModelSpec:
    """One model's figures, and where they come from."""

    context_window: int
    """Input plus output tokens the model accepts."""
    num_output: int
    """The most output tokens the model produces in one answer."""
    function_calling: bool
    """The model is trained for tool calls (the Messages `tools` parameter)."""
    vision: bool
    """The model accepts image blocks."""
    reasoning: bool
    """The model writes its reasoning first, inline as `<think>...</think>`."""
    source: str
    """Where the figures come from."""


_QWEN25_VL = "https://huggingface.co/Qwen/Qwen2.5-VL-72B-Instruct (32,768-token default context of the card)"
_QWEN25 = "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct (32,768 tokens without YaRN; 8,192 generated)"
_LLAMA33 = "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct (128k context, tool calling)"
_LLAMA31 = "https://huggingface.co/meta-llama/Llama-3.1-70B-Instruct (128k context, tool calling)"
_LLAMA3 = "https://huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct (8k context, no tool-call format)"
_R1 = "https://huggingface.co/deepseek-ai/DeepSeek-R1 (128k context; <think> reasoning; no tool calling)"
_R1_DISTILL = (
    "https://huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Llama-70B (Llama-3.3 base, 128k; <think>)"
)
_GEMINI25_PRO = "https://ai.google.dev/gemini-api/docs/models (1,048,576 input / 65,536 output tokens)"
_GEMINI25_FLASH = _GEMINI25_PRO

_ENTRIES: dict[str, ModelSpec] = {
    "Qwen/Qwen2.5-VL-72B-Instruct-together": ModelSpec(32_768, 8_192, True, True, False, _QWEN25_VL),
    "Qwen/Qwen2.5-VL-72B-Instruct": ModelSpec(32_768, 8_192, True, True, False, _QWEN25_VL),
    "Qwen/Qwen2.5-72B-Instruct-Turbo": ModelSpec(32_768, 8_192, True, False, False, _QWEN25),
    "Qwen/Qwen2.5-72B-Instruct": ModelSpec(32_768, 8_192, True, False, False, _QWEN25),
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": ModelSpec(131_072, 8_192, True, False, False, _LLAMA33),
    "meta-llama/Llama-3.3-70B-Instruct": ModelSpec(131_072, 8_192, True, False, False, _LLAMA33),
    "meta-llama/Llama-3.1-70B-Instruct": ModelSpec(131_072, 8_192, True, False, False, _LLAMA31),
    "meta-llama-3-8B-instruct": ModelSpec(8_192, 4_096, False, False, False, _LLAMA3),
    "deepseek-ai/DeepSeek-R1": ModelSpec(131_072, 32_768, False, False, True, _R1),
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": ModelSpec(131_072, 32_768, False, False, True, _R1_DISTILL),
    "gemini-2.5-pro": ModelSpec(1_048_576, 65_536, True, True, False, _GEMINI25_PRO),
    "gemini-2.5-flash": ModelSpec(1_048_576, 65_536, True, True, False, _GEMINI25_FLASH),
}

DEFAULT_SPEC = ModelSpec(
    context_window=8_192,
    num_output=4_096,
    function_calling=True,
    vision=False,
    reasoning=False,
    source="conservative default for ids not in this catalog (the smallest window of the catalog)",
)
"""Used for unknown ids. Function calling stays on: agents need it, and a model without it answers in text."""


def normalize_model_id(model: str) -> str:
    """The catalog key of a model id: lower case, `/` as `-`, so both ModelsLab naming styles match."""
    return model.strip().lower().replace("/", "-")


CATALOG: dict[str, ModelSpec] = {normalize_model_id(name): spec for name, spec in _ENTRIES.items()}
"""Entries by normalized id (see `normalize_model_id`)."""

CATALOG_IDS: tuple[str, ...] = tuple(_ENTRIES)
"""The ids as ModelsLab spells them (slash style where it exists), for documentation and tests."""


@lru_cache(maxsize=256)
def lookup(model: str) -> ModelSpec:
    """The spec of `model`, or `DEFAULT_SPEC` with one warning per unknown id. Never raises."""
    spec = CATALOG.get(normalize_model_id(model))
    if spec is None:
        logger.warning(
            "model %r is not in llama_index_modelslab's catalog: assuming a %d-token context window and "
            "function calling; set them with ModelsLab(context_window=..., is_function_calling_model=...)",
            model,
            DEFAULT_SPEC.context_window,
        )
        return DEFAULT_SPEC
    return spec
