"""Timing, memory and import measurements (medians over rounds, cases interleaved within each round)."""

from __future__ import annotations

import asyncio
import gc
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .cases import Case


def time_cases(cases: Sequence[Case], rounds: int, calls: int) -> dict[str, float]:
    """Median seconds per call of each case; every round runs every case once, in turn."""
    loop = asyncio.new_event_loop()
    samples: dict[str, list[float]] = {case.name: [] for case in cases}

    async def repeat(case: Case) -> None:
        assert case.arun is not None
        for _ in range(calls):
            await case.arun()

    for case in cases:  # warm-up: connections, caches, lazy imports
        case.run() if case.run else loop.run_until_complete(repeat(case))
    for _ in range(rounds):
        for case in cases:
            start = time.perf_counter()
            if case.run is not None:
                for _ in range(calls):
                    case.run()
            else:
                loop.run_until_complete(repeat(case))
            samples[case.name].append((time.perf_counter() - start) / calls)
    loop.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def per_delta(runs: Mapping[str, Callable[[], Any]], deltas: int, rounds: int) -> dict[str, float]:
    """Median seconds per delta of one streamed call of `deltas` deltas, per case: the cases interleaved
    within each round (a drift of the machine's speed weighs on every case alike), each stream after a
    `gc.collect()`. A long stream's cost is mostly the garbage collector walking what the framework keeps,
    so no path pays for the garbage that the one before it left."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / deltas)
    return {name: statistics.median(t) for name, t in times.items()}


def peak_memory(run: Callable[[], int]) -> tuple[int, int]:
    """(peak bytes allocated while `run` streams, bytes of text it received)."""
    run()
    gc.collect()  # what earlier cases left behind is freed before, not during, the measured stream
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    size = run()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak, size


def peak_memories(runs: Mapping[str, Callable[[], int]], rounds: int) -> dict[str, dict[str, int]]:
    """Per case, the median of `rounds` peaks (cases interleaved within each round) and its text's bytes.

    One peak alone moved by up to 7 % (core Client.stream, 402-432 KB over 9 streams of one build).
    """
    peaks: dict[str, list[int]] = {name: [] for name in runs}
    sizes: dict[str, int] = {}
    for _ in range(rounds):
        for name, run in runs.items():
            peak, sizes[name] = peak_memory(run)
            peaks[name].append(peak)
    return {
        name: {"peak_bytes": int(statistics.median(values)), "text_bytes": sizes[name]}
        for name, values in peaks.items()
    }


IMPORTS = {
    "httpx, pydantic": "import httpx, pydantic",
    "modelslab_core": "import modelslab_core",
    "httpx + pydantic.BaseModel": "import httpx; from pydantic import BaseModel",
    "modelslab_core Client, AsyncClient": "from modelslab_core import Client, AsyncClient",
    "langchain_core.language_models": "import langchain_core.language_models",
    "langchain_modelslab": "import langchain_modelslab",
    "llama_index.core.llms": "import llama_index.core.llms",
    "llama_index_modelslab": "import llama_index_modelslab",
    "langchain_anthropic": "import langchain_anthropic",
}
# what an application really imports (the packages load their classes on first use)
IMPORTS.update(
    {
        statement: statement
        for statement in (
            "from langchain_core.language_models import BaseChatModel",
            "from langchain_modelslab import ChatModelsLab",
            "from langchain_core.language_models import BaseChatModel; "
            "from langchain_modelslab import ChatModelsLab",
            "from llama_index.core.llms import LLM",
            "from llama_index_modelslab import ModelsLab",
            "from llama_index.core.llms import LLM; from llama_index_modelslab import ModelsLab",
        )
    }
)

_PROBE = (
    "import sys, time; t = time.perf_counter(); {stmt}; d = time.perf_counter() - t; "
    "top = {{m.split('.')[0] for m in sys.modules}}; "
    "print(d, 'llama_index' in top, bool(top & {{'langchain', 'langchain_core'}}))"
)


def import_times(rounds: int) -> dict[str, dict[str, Any]]:
    """Median import seconds of each module in fresh interpreters, and which framework each pulled in. The
    statements take turns within each round, so a drift of the machine's speed weighs on each alike (timed one
    statement's rounds after another, `ChatModelsLab`'s import once came out 173 ms below its framework's)."""
    times: dict[str, list[float]] = {name: [] for name in IMPORTS}
    flags: dict[str, list[str]] = {}
    for _ in range(rounds):
        for name, stmt in IMPORTS.items():
            proc = subprocess.run(
                [sys.executable, "-c", _PROBE.format(stmt=stmt)], capture_output=True, text=True
            )
            if proc.returncode != 0:
                continue
            seconds, *flags[name] = proc.stdout.split()
            times[name].append(float(seconds))
    return {
        name: {
            "seconds": statistics.median(t),
            "imports_llama_index": flags[name][0] == "True",
            "imports_langchain": flags[name][1] == "True",
        }
        for name, t in times.items()
        if t
    }


def server_start_stop(rounds: int) -> dict[str, float]:
    """Median seconds to start the in-process local server (until it answers) and to stop it."""
    import httpx

    from modelslab_core.testing import LocalServer

    ups, downs = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        server = LocalServer().start()
        httpx.get(server.base_url + "/v1/models", headers={"x-api-key": "k"})
        ups.append(time.perf_counter() - started)
        stopping = time.perf_counter()
        server.stop()
        downs.append(time.perf_counter() - stopping)
    return {"start": statistics.median(ups), "stop": statistics.median(downs)}
