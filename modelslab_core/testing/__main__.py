"""``python -m modelslab_core.testing``: run the local ModelsLab Messages server in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from ._faults import FAULTS, parse_faults
from ._server import serve


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m modelslab_core.testing",
        description="Local ModelsLab Messages server: rule-based model, fault injection, replay.",
    )
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--api-key", default=None, help="the only key accepted (default: any non-empty key)")
    parser.add_argument(
        "--fault", default=None, help=f"fault for requests without a header: {', '.join(FAULTS)}"
    )
    parser.add_argument("--replay", default=None, help="JSONL corpus of recorded exchanges to serve")
    parser.add_argument(
        "--queue-limit",
        type=int,
        default=None,
        help="requests in service at once per API key, the rest refused with a 429 (ModelsLab: 5, 10 or 15)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="milliseconds each request is held (streams spread it)"
    )
    args = parser.parse_args(argv)
    if args.queue_limit is not None and args.queue_limit < 1:
        parser.error("--queue-limit: must be an integer >= 1")
    if args.latency_ms < 0:
        parser.error("--latency-ms: must be >= 0")
    try:
        parse_faults(args.fault or "")
    except ValueError as exc:
        parser.error(f"--fault: {exc}")

    def ready(base_url: str) -> None:
        print(f"modelslab-local listening: base_url {base_url}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(
                args.host,
                args.port,
                api_key=args.api_key,
                fault=args.fault,
                replay=args.replay,
                ready=ready,
                queue_limit=args.queue_limit,
                latency_ms=args.latency_ms,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
