"""The benchmark harness runs end to end with tiny sizes (it measures nothing meaningful here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_queue_benchmark_worker_processes_run(tmp_path: Path) -> None:
    """The 4-process row: workers start, wait for the go, answer their shares; the server's 429s are read."""
    out = tmp_path / "queue.json"
    args = ["--limits", "5", "--prompts", "20", "--latency-ms", "20", "--rows", "processes"]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.queue", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = json.loads(out.read_text())
    assert row["label"] == "4 processes, no coordinator"
    assert row["answered"] == 20 and row["failures"] == {}
    assert row["requests"] == 20 + row["sent_429"]  # every 429 the server sent was a request it refused
    assert 1 <= row["peak_in_service"] <= 5
