"""Run the examples against ModelsLab when MODELSLAB_API_KEY is set, else against the local test server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from unittest.mock import patch

from modelslab_core.testing import LocalServer

NOTICE = (
    "Offline: answers come from the local rule-based ModelsLab server, not from a real model "
    "(set MODELSLAB_API_KEY to talk to ModelsLab)."
)


@contextmanager
def modelslab() -> Iterator[None]:
    """Use ModelsLab if MODELSLAB_API_KEY is set; else start the local server and point the models at it."""
    if os.environ.get("MODELSLAB_API_KEY"):
        yield  # the models read MODELSLAB_API_KEY (and MODELSLAB_BASE_URL, if set) themselves
        return
    print(NOTICE, flush=True)
    with (
        LocalServer() as server,
        # for this run only; the local server accepts any key
        patch.dict(os.environ, MODELSLAB_BASE_URL=server.base_url, MODELSLAB_API_KEY="local"),
    ):
        yield
