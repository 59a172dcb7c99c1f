"""The local server in a child process, for load tests and benchmarks that must not share our GIL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["server_process"]


@contextmanager
def server_process(args: Sequence[str] = ()) -> Iterator[str]:
    """Run `python -m modelslab_core.testing --port 0 ARGS...`; yield its base URL; stop it on exit.

    Its counters are at `GET <root>/_local/stats` (the root is the base URL without `/api/v7/llm`).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "modelslab_core.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = (
            process.stdout.readline()
        )  # "modelslab-local listening: base_url http://127.0.0.1:PORT/api/v7/llm"
        if "base_url" not in line:
            raise RuntimeError(f"the local server did not start: {line!r}")
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        process.terminate()
        process.wait(10)
