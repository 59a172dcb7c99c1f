"""Every file in examples/ runs as a user would run it (`python examples/NAME.py`) and prints what it should.

Without MODELSLAB_API_KEY the examples start the local rule-based server themselves, so the expected lines
below are that server's deterministic answers (docs/local-server.md). The examples run as subprocesses in
parallel: each one imports LangChain and/or LlamaIndex, a second or two apiece.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modelslab_core.testing import LocalServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTICE = (
    "Offline: answers come from the local rule-based ModelsLab server, not from a real model "
    "(set MODELSLAB_API_KEY to talk to ModelsLab)."
)
WEATHER_PARIS = 'get_weather returned "Sunny and 22 degrees in Paris".'
REASONING = "reasoning: The user wrote 6 words. I will answer directly."
USAGE = "usage: {'input_tokens': 11, 'output_tokens': 5, 'total_tokens': 16"

# what each example prints, as substrings of its output in this order (a set: all of them, in any order)
EXPECTED: dict[str, list[str | set[str]]] = {
    "quickstart": [
        "=== LangChain: an LCEL chain, streamed, with token usage ===",
        "1 2 3 4 5\n",
        USAGE,
        "=== LangChain: create_agent with a tool ===",
        "tool call: get_weather({'city': 'Paris'})",
        f"answer: {WEATHER_PARIS}",
        "=== LlamaIndex: a query engine over local documents ===",
        "answer: The capital of France is Paris.",
        "=== LlamaIndex: a FunctionAgent with a tool ===",
        'answer: get_weather returned "Sunny and 22 degrees in Tokyo".',
    ],
    "lcel_chain": ["1 2 3 4 5\n", USAGE],
    "structured_output": ["Person(name='Ada', age=36)", "name=Ada age=36"],
    "agent_with_tools": [
        "tool call: get_weather({'city': 'Paris'})",
        "tool result: Sunny and 22 degrees in Paris",
        f"answer: {WEATHER_PARIS}",
    ],
    "langgraph_streaming": [
        "[model] I will call add and multiply. -> calls add({'a': 3, 'b': 4}), multiply({'a': 5, 'b': 6})",
        {"[tools] add returned 7", "[tools] multiply returned 30"},  # parallel tool runs finish in any order
        '[model] add returned "7"; multiply returned "30".',
    ],
    "llama_query_engine": ["answer: The capital of France is Paris.", "sources: 3 documents"],
    "llama_chat_engine": [
        "assistant: The capital of France is Paris.",
        "assistant: The capital of Japan is Tokyo.",
        "turns in memory: 4",
    ],
    "llama_function_agent": [
        "tool call: get_weather({'city': 'Paris'}) -> Sunny and 22 degrees in Paris",
        f"answer: {WEATHER_PARIS}",
    ],
    "vision": [
        "LangChain: I see 1 image (image/png).",
        "LlamaIndex: I see 1 image (image/png).",
    ],
    "reasoning": [
        "== LangChain\n",
        REASONING,
        "answer: The capital of France is Paris.",
        "blocks: ['reasoning', 'text']",
        "== LangChain, streamed",
        REASONING,
        "answer: The capital of France is Paris.",
        "== LlamaIndex",
        REASONING,
        "answer: The capital of France is Paris.",
    ],
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MODELSLAB_API_KEY", "MODELSLAB_BASE_URL")}
    return {**env, **extra}


def _run(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"examples/{name}.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, so "the notice comes first" covers warnings too
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def outputs() -> dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=min(len(EXPECTED), os.cpu_count() or 4)) as pool:
        runs = {name: pool.submit(_run, name, _env()) for name in EXPECTED}
        return {name: run.result() for name, run in runs.items()}


def test_every_example_is_tested() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(name: str, outputs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    run = outputs[name]
    assert run.returncode == 0, run.stdout
    assert run.stdout.splitlines()[0] == NOTICE
    position = 0
    for expected in EXPECTED[name]:
        ends = []
        for text in sorted(expected) if isinstance(expected, set) else [expected]:
            found = run.stdout.find(text, position)
            assert found != -1, f"{text!r} not printed (in this order) by {name}:\n{run.stdout}"
            ends.append(found + len(text))
        position = max(ends)


def test_reasoning_stays_out_of_the_answers(outputs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    answers = [line for line in outputs["reasoning"].stdout.splitlines() if line.startswith("answer:")]
    assert len(answers) == 3
    assert not any("think" in line or "The user wrote" in line for line in answers)


def test_with_a_key_the_examples_use_the_configured_server() -> None:
    with LocalServer(api_key="user-key") as server:
        run = _run("lcel_chain", _env(MODELSLAB_API_KEY="user-key", MODELSLAB_BASE_URL=server.base_url))
        assert server.stats.requests == 1
    assert run.returncode == 0, run.stdout
    assert NOTICE not in run.stdout
    assert run.stdout.splitlines()[0] == "1 2 3 4 5"
