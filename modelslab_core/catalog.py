"""What the adapters need to know about ModelsLab's models, as data: context window, output, capabilities.

ModelsLab publishes no context-window or capability figures (`GET /v1/models` returns ids only), so each entry
below takes its figures from the model's upstream publisher and names that source. Where the serving provider
named in the id (`-together`, `-Turbo`) is known to serve a shorter window than the model card allows, the
shorter one is used: a window that is too small only truncates history, one that is too large gives 400s.
Where a card publishes no output limit, the entry says so and takes a conservative figure.

Both of ModelsLab's naming styles reach the same entry: `Qwen/Qwen2.5-VL-72B-Instruct-together` (slash style)
and `Qwen-Qwen2.5-VL-72B-Instruct-together` (dash style) normalize to one key (`normalize_model_id`).
`documented` tells the ids ModelsLab's own material names from ids kept for convenience that no ModelsLab
source names. `lookup` gives unknown ids `DEFAULT_SPEC` and one warning per id; `find` gives None, silently,
for adapters with their own fallback. The adapters' settings override any entry (docs/core.md, "The model
catalog").

`python -m modelslab_core.catalog` prints the table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "CATALOG",
    "CATALOG_IDS",
    "DEFAULT_SPEC",
    "ModelSpec",
    "find",
    "format_sources",
    "format_table",
    "lookup",
    "normalize_model_id",
]

logger = logging.getLogger("modelslab_core")


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
    documented: bool = True
    """A ModelsLab source (docs, CLI, SDK code) names this id; False for ids kept without one."""


_QWEN25_VL = "https://huggingface.co/Qwen/Qwen2.5-VL-72B-Instruct (32,768-token default context of the card)"
_QWEN25 = "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct (32,768 tokens without YaRN; 8,192 generated)"
_QWEN25_CODER = (
    "https://huggingface.co/Qwen/Qwen2.5-Coder-32B-Instruct (config set for 32,768 tokens, 131,072 only with"
    " YaRN; output as Qwen2.5's 8,192; Qwen2.5 chat template with tool calls)"
)
_LLAMA33 = "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct (128k context, tool calling)"
_LLAMA31 = "https://huggingface.co/meta-llama/Llama-3.1-70B-Instruct (128k context, tool calling)"
_LLAMA31_405B = (
    "https://huggingface.co/meta-llama/Llama-3.1-405B-Instruct (128k context, tool calling); -Turbo"
    " deployments list 130,815 tokens, the figure used; no output limit published, 8,192 as the other Llamas"
)
_LLAMA3 = "https://huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct (8k context, no tool-call format)"
_R1 = "https://huggingface.co/deepseek-ai/DeepSeek-R1 (128k context; <think> reasoning; no tool calling)"
_R1_DISTILL = (
    "https://huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Llama-70B (Llama-3.3 base, 128k; <think>)"
)
_DEEPSEEK_V3 = (
    "https://huggingface.co/deepseek-ai/DeepSeek-V3 (128k context; chat template with tool calls);"
    " output: DeepSeek's API docs cap deepseek-chat (V3) at 8,192"
)
_MIXTRAL = (
    "https://huggingface.co/mistralai/Mixtral-8x7B-Instruct-v0.1 (32k context; no tool-call tokens in v0.1);"
    " no output limit published, 4,096 assumed"
)
_MISTRAL_SMALL = (
    "https://huggingface.co/mistralai/Mistral-Small-24B-Instruct-2501 (32k context, native function calling,"
    " text only); no output limit published, 4,096 assumed"
)
_GEMINI25_PRO = "https://ai.google.dev/gemini-api/docs/models (1,048,576 input / 65,536 output tokens)"
_GEMINI25_FLASH = _GEMINI25_PRO
_GEMINI20_FLASH = "https://ai.google.dev/gemini-api/docs/models (Gemini 2.0 Flash: 1,048,576 in / 8,192 out)"
_GPT54_PRO = (
    "https://developers.openai.com/api/docs/models/gpt-5.4-pro (1,050,000 context, 128,000 output,"
    " text and image input, function calling; reasoning is hidden, not inline)"
)

_ENTRIES: dict[str, ModelSpec] = {
    "Qwen/Qwen2.5-VL-72B-Instruct-together": ModelSpec(32_768, 8_192, True, True, False, _QWEN25_VL),
    "Qwen/Qwen2.5-VL-72B-Instruct": ModelSpec(32_768, 8_192, True, True, False, _QWEN25_VL, False),
    "Qwen/Qwen2.5-72B-Instruct-Turbo": ModelSpec(32_768, 8_192, True, False, False, _QWEN25),
    "Qwen/Qwen2.5-72B-Instruct": ModelSpec(32_768, 8_192, True, False, False, _QWEN25, False),
    "Qwen-Qwen2.5-Coder-32B-Instruct": ModelSpec(32_768, 8_192, True, False, False, _QWEN25_CODER),
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": ModelSpec(131_072, 8_192, True, False, False, _LLAMA33),
    "meta-llama/Llama-3.3-70B-Instruct": ModelSpec(131_072, 8_192, True, False, False, _LLAMA33, False),
    "meta-llama/Llama-3.1-70B-Instruct": ModelSpec(131_072, 8_192, True, False, False, _LLAMA31),
    "meta-llama-Meta-Llama-3.1-405B-Instruct-Turbo": ModelSpec(
        130_815, 8_192, True, False, False, _LLAMA31_405B
    ),
    "meta-llama-3-8B-instruct": ModelSpec(8_192, 4_096, False, False, False, _LLAMA3),
    "deepseek-ai/DeepSeek-R1": ModelSpec(131_072, 32_768, False, False, True, _R1),
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": ModelSpec(131_072, 32_768, False, False, True, _R1_DISTILL),
    "deepseek-ai-DeepSeek-V3": ModelSpec(131_072, 8_192, True, False, False, _DEEPSEEK_V3),
    "mistralai-Mixtral-8x7B-Instruct-v0.1": ModelSpec(32_768, 4_096, False, False, False, _MIXTRAL),
    "mistralai-Mistral-Small-24B-Instruct-2501": ModelSpec(32_768, 4_096, True, False, False, _MISTRAL_SMALL),
    "gemini-2.5-pro": ModelSpec(1_048_576, 65_536, True, True, False, _GEMINI25_PRO),
    "gemini-2.5-flash": ModelSpec(1_048_576, 65_536, True, True, False, _GEMINI25_FLASH, False),
    "gemini-2.0-flash-001": ModelSpec(1_048_576, 8_192, True, True, False, _GEMINI20_FLASH),
    "openai-gpt-5.4-pro": ModelSpec(1_050_000, 128_000, True, True, False, _GPT54_PRO),
}

DEFAULT_SPEC = ModelSpec(
    context_window=8_192,
    num_output=4_096,
    function_calling=True,
    vision=False,
    reasoning=False,
    source="conservative default for ids not in this catalog (the smallest window of the catalog)",
    documented=False,
)
"""Used for unknown ids. Function calling stays on: agents need it, and a model without it answers in text."""


def normalize_model_id(model: str) -> str:
    """The catalog key of a model id: lower case, `/` as `-`, so both ModelsLab naming styles match."""
    return model.strip().lower().replace("/", "-")


CATALOG: dict[str, ModelSpec] = {normalize_model_id(name): spec for name, spec in _ENTRIES.items()}
"""Entries by normalized id (see `normalize_model_id`)."""

CATALOG_IDS: tuple[str, ...] = tuple(_ENTRIES)
"""The ids as ModelsLab spells them (slash style where it exists), for documentation and tests."""


def find(model: str) -> ModelSpec | None:
    """The spec of `model`, or None when the catalog lacks it (no warning: the caller has a fallback)."""
    return CATALOG.get(normalize_model_id(model))


_ADVICE = "set the figures on the adapter (docs/core.md, 'The model catalog')"


@lru_cache(maxsize=256)
def lookup(model: str, *, log: logging.Logger = logger, advice: str = _ADVICE) -> ModelSpec:
    """The spec of `model`, or `DEFAULT_SPEC` with one warning per unknown id, on `log`, ending with `advice`
    (an adapter names its own logger and override arguments). Never raises."""
    spec = find(model)
    if spec is None:
        log.warning(
            "model %r is not in modelslab_core's catalog: assuming a %d-token context window, %d output "
            "tokens and function calling; %s",
            model,
            DEFAULT_SPEC.context_window,
            DEFAULT_SPEC.num_output,
            advice,
        )
        return DEFAULT_SPEC
    return spec


def format_table() -> str:
    """The catalog as a Markdown table, one row per id plus the default's (docs/core.md shows this table)."""

    def mark(flag: bool) -> str:
        return "yes" if flag else ""

    lines = [
        "| model id | context window | max output | tools | vision | `<think>` | documented by ModelsLab |",
        "|---|---:|---:|:---:|:---:|:---:|:---:|",
    ]
    rows = [(f"`{name}`", spec) for name, spec in _ENTRIES.items()] + [("any other id", DEFAULT_SPEC)]
    for name, spec in rows:
        cells = [
            name,
            f"{spec.context_window:,}",
            f"{spec.num_output:,}",
            mark(spec.function_calling),
            mark(spec.vision),
            mark(spec.reasoning),
            mark(spec.documented),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_sources() -> str:
    """Each id with the source of its figures, one line each."""
    return "\n".join(f"- {name}: {spec.source}" for name, spec in _ENTRIES.items())


if __name__ == "__main__":
    print(format_table())
    print()
    print("Sources:")
    print(format_sources())
