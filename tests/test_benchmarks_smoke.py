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
