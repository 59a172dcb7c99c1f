"""The model catalog: every id ModelsLab documents, each figure with its source, and one table for readers."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modelslab_core import catalog
from modelslab_core.catalog import CATALOG, CATALOG_IDS, DEFAULT_SPEC, find, lookup, normalize_model_id

CORE_PAGE = Path(__file__).resolve().parents[2] / "docs" / "core.md"

# ../shared/docs/api-notes.md, "Model ids": the ids ModelsLab's own docs, CLI and code name.
DOCUMENTED = [
    "Qwen/Qwen2.5-VL-72B-Instruct-together",
    "meta-llama/Llama-3.1-70B-Instruct",
    "deepseek-ai/DeepSeek-R1",
    "meta-llama-3-8B-instruct",
    "meta-llama-Llama-3.3-70B-Instruct-Turbo",
    "meta-llama-Meta-Llama-3.1-405B-Instruct-Turbo",
    "deepseek-ai-DeepSeek-R1-Distill-Llama-70B",
    "deepseek-ai-DeepSeek-V3",
    "gemini-2.0-flash-001",
    "gemini-2.5-pro",
    "Qwen-Qwen2.5-72B-Instruct-Turbo",
    "Qwen-Qwen2.5-Coder-32B-Instruct",
    "mistralai-Mixtral-8x7B-Instruct-v0.1",
    "mistralai-Mistral-Small-24B-Instruct-2501",
    "openai-gpt-5.4-pro",
]

# The ids issue 12 adds, with the upstream card each one's figures must name.
ADDED = {
    "gemini-2.0-flash-001": "ai.google.dev",
    "deepseek-ai-DeepSeek-V3": "huggingface.co/deepseek-ai/DeepSeek-V3",
    "mistralai-Mixtral-8x7B-Instruct-v0.1": "huggingface.co/mistralai/Mixtral-8x7B-Instruct-v0.1",
    "meta-llama-Meta-Llama-3.1-405B-Instruct-Turbo": "huggingface.co/meta-llama/Llama-3.1-405B-Instruct",
    "Qwen-Qwen2.5-Coder-32B-Instruct": "huggingface.co/Qwen/Qwen2.5-Coder-32B-Instruct",
    "mistralai-Mistral-Small-24B-Instruct-2501": "huggingface.co/mistralai/Mistral-Small-24B-Instruct-2501",
    "openai-gpt-5.4-pro": "developers.openai.com",
}


@pytest.mark.parametrize("model", DOCUMENTED)
def test_every_documented_id_is_in_the_catalog_and_marked_so(model: str) -> None:
    spec = find(model)
    assert spec is not None, f"{model} is documented by ModelsLab but not in the catalog"
    assert spec.documented is True


def test_ids_no_modelslab_source_names_are_marked_undocumented() -> None:
    documented = {normalize_model_id(model) for model in DOCUMENTED}
    undocumented = {key for key, spec in CATALOG.items() if not spec.documented}
    assert undocumented == set(CATALOG) - documented
    assert {"gemini-2.5-flash", "qwen-qwen2.5-72b-instruct"} <= undocumented
    assert DEFAULT_SPEC.documented is False


@pytest.mark.parametrize(("model", "card"), ADDED.items())
def test_added_ids_name_the_upstream_card(model: str, card: str) -> None:
    spec = lookup(model)
    assert spec is not DEFAULT_SPEC
    assert card in spec.source
    assert spec.context_window > spec.num_output > 0


def test_figures_of_the_added_ids() -> None:
    figures = {
        model: (spec.context_window, spec.num_output, spec.function_calling, spec.vision, spec.reasoning)
        for model in ADDED
        if (spec := find(model)) is not None
    }
    assert figures == {
        "gemini-2.0-flash-001": (1_048_576, 8_192, True, True, False),
        "deepseek-ai-DeepSeek-V3": (131_072, 8_192, True, False, False),
        "mistralai-Mixtral-8x7B-Instruct-v0.1": (32_768, 4_096, False, False, False),
        "meta-llama-Meta-Llama-3.1-405B-Instruct-Turbo": (130_815, 8_192, True, False, False),
        "Qwen-Qwen2.5-Coder-32B-Instruct": (32_768, 8_192, True, False, False),
        "mistralai-Mistral-Small-24B-Instruct-2501": (32_768, 4_096, True, False, False),
        "openai-gpt-5.4-pro": (1_050_000, 128_000, True, True, False),
    }


def test_every_entry_names_its_source_and_both_styles_meet() -> None:
    assert len(CATALOG) == len(CATALOG_IDS)
    for model in CATALOG_IDS:
        spec = CATALOG[normalize_model_id(model)]
        assert spec.source.startswith("https://"), model
        assert spec.context_window > spec.num_output > 0
    assert find("Qwen/Qwen2.5-Coder-32B-Instruct") is find("qwen-qwen2.5-coder-32b-instruct")


def test_find_is_silent_and_lookup_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="modelslab_core"):
        assert find("some-org/catalog-unit-test-model") is None
        assert not caplog.records
        assert lookup("some-org/catalog-unit-test-model") is DEFAULT_SPEC
        assert lookup("some-org/catalog-unit-test-model") is DEFAULT_SPEC
    warnings = [r for r in caplog.records if "catalog-unit-test-model" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].name == "modelslab_core"


def test_python_m_prints_the_table() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "modelslab_core.catalog"], capture_output=True, text=True, check=True
    )
    assert run.stdout.startswith(catalog.format_table())
    for model in CATALOG_IDS:
        assert f"| `{model}` |" in run.stdout
        assert f"- {model}: https://" in run.stdout


def test_the_core_page_shows_the_catalog_table() -> None:
    text = CORE_PAGE.read_text(encoding="utf-8")
    section = text[text.index("## The model catalog") :]
    table = re.search(r"^\| model id \|.*?(?=\n\n)", section, re.S | re.M)
    assert table is not None
    assert table.group(0) == catalog.format_table()
