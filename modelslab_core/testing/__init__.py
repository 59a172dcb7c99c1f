"""A local ModelsLab Messages server for tests, benchmarks and offline demos.

It answers ``/api/v7/llm/v1/messages`` (JSON and SSE), ``/v1/messages/count_tokens`` and ``/v1/models`` with a
deterministic rule-based model, injects faults on request (``x-modelslab-fault``), replays recorded exchanges,
and counts what it receives. Run it with ``python -m modelslab_core.testing --port 8080`` or in-process::

    with LocalServer() as server:
        client = httpx.Client(base_url=server.base_url)

The rules and the fault list are documented in docs/local-server.md.
"""

from ._app import MODELS, SERVER_HEADER, ServerStats
from ._faults import FAULTS
from ._process import redis_process, server_process
from ._server import LocalServer, serve

__all__ = [
    "FAULTS",
    "MODELS",
    "SERVER_HEADER",
    "LocalServer",
    "ServerStats",
    "redis_process",
    "serve",
    "server_process",
]
