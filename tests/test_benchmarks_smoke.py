"""The benchmark harness runs end to end with tiny sizes (it measures nothing meaningful here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_harness_runs(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--chart",
            str(tmp_path / "chart.png"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())
    assert results["per_call"]["raw httpx invoke"] > 0
    assert results["per_call"]["core Client.stream"] > 0
    assert {check["target"] for check in results["checks"]} >= {"Client.create / raw invoke"}
    assert "| target |" in proc.stdout
    (row,) = results["queue"]  # --quick runs one queue row: LangChain abatch of 20 prompts at queue 5
    assert row["row"] == "langchain" and row["answered"] == row["prompts"] == 20
    assert "| queue N |" in proc.stdout


def queue_row(tmp_path: Path, row: str) -> dict[str, Any]:
    """One row of `python -m benchmarks.queue` at queue 5, 20 prompts of 20 ms."""
    out = tmp_path / "queue.json"
    args = ["--limits", "5", "--prompts", "20", "--latency-ms", "20", "--rows", row]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.queue", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (result,) = json.loads(out.read_text())
    assert isinstance(result, dict)
    return result


def test_queue_benchmark_worker_processes_run(tmp_path: Path) -> None:
    """The 4-process row: workers start, wait for the go, answer their shares; the server's 429s are read."""
    row = queue_row(tmp_path, "processes")
    assert row["label"] == "4 processes, no coordinator"
    assert row["answered"] == 20 and row["failures"] == {}
    assert row["requests"] == 20 + row["sent_429"]  # every 429 the server sent was a request it refused
    assert 1 <= row["peak_in_service"] <= 5


def test_queue_benchmark_split_by_hand_sends_no_429(tmp_path: Path) -> None:
    """The opt-in reference row: 4 workers with no limiter and caps of 2, 1, 1 and 1 fill a queue of 5."""
    row = queue_row(tmp_path, "split")
    assert row["label"] == "4 processes, the queue split by hand (reference)"
    assert row["answered"] == 20 and row["failures"] == {}
    assert row["sent_429"] == 0 and row["requests"] == 20
    assert row["peak_in_service"] <= 5


def test_stream_growth_and_memory_targets_are_ratios_to_raw_plus_the_floor() -> None:
    """Issue 15: per-delta cost at 20k deltas and peak memory against raw httpx + the framework's floor."""
    from benchmarks.report import evaluate

    per_delta = {
        "raw httpx stream": {"small": 5e-6, "big": 5e-6},
        "core Client.stream": {"small": 5.5e-6, "big": 7e-6},
        "LangChain floor stream": {"small": 8e-6, "big": 25e-6},
        "ChatModelsLab.stream": {"small": 14e-6, "big": 33e-6},
        "LlamaIndex floor stream_chat": {"small": 9e-6, "big": 9e-6},
        "ModelsLab.stream_chat": {"small": 14e-6, "big": 14e-6},
    }
    peak = {
        "raw httpx stream": 300_000,
        "core Client.stream": 420_000,
        "LangChain floor stream": 30_000_000,
        "ChatModelsLab.stream": 31_000_000,
        "LlamaIndex floor stream_chat": 200_000,
        "ModelsLab.stream_chat": 500_000,
    }
    memory = {name: {"peak_bytes": p, "text_bytes": 100_000} for name, p in peak.items()}
    checks = {c["target"]: c for c in evaluate({"per_call": {}, "per_delta": per_delta, "memory": memory})}
    lc = checks["ChatModelsLab.stream: us per delta at big / (raw httpx stream + LangChain floor stream)"]
    assert lc["value"] == 33e-6 / 30e-6 and lc["limit"] == 1.2 and lc["ok"] is True
    core = checks["core Client.stream: us per delta at big / raw httpx stream"]
    assert core["value"] == 7e-6 / 5e-6 and core["ok"] is False
    mem = checks["ModelsLab.stream_chat: peak memory / (raw httpx stream + LlamaIndex floor stream_chat)"]
    assert mem["value"] == 500_000 / 500_000 and mem["ok"] is True
    core_mem = checks["core Client.stream: peak memory / raw httpx stream"]
    assert core_mem["value"] == 420_000 / 300_000 and core_mem["ok"] is False
    assert not [t for t in checks if "text size" in t or "at big / at small" in t]


def test_peak_memory_is_the_median_of_interleaved_rounds() -> None:
    """One peak alone moves from stream to stream: the table shows the median of interleaved rounds."""
    from benchmarks.measure import peak_memories

    sizes = iter([0, 100_000, 0, 900_000, 0, 300_000])  # each case runs once unmeasured, then measured
    order: list[str] = []

    def alloc(name: str) -> int:
        order.append(name)
        block = bytearray(next(sizes) if name == "a" else 1_000)
        return len(block)

    result = peak_memories({"a": lambda: alloc("a"), "b": lambda: alloc("b")}, rounds=3)
    assert order == ["a", "a", "b", "b"] * 3  # interleaved: a, then b, in every round
    assert 300_000 <= result["a"]["peak_bytes"] < 310_000  # median of 100k, 900k and 300k
    assert result["a"]["text_bytes"] == 300_000
