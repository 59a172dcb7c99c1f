"""The local server in its own process, so its work does not share the benchmark's GIL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def server_process() -> Iterator[str]:
    """Start `python -m modelslab_core.testing --port 0`; yield its base URL; stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "modelslab_core.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "base_url" not in line:
            raise RuntimeError(f"the local server did not start: {line!r}")
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        process.terminate()
        process.wait(10)
