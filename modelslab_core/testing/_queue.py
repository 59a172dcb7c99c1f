"""ModelsLab's per-account queue limit, imitated: at most N requests in service per API key, the rest refused.

ModelsLab serves 5, 10 or 15 requests at once per account (by plan) and answers a 429 at once to any request
beyond that. With `queue_limit=N` the local server does the same per API key, and holds each admitted request
`latency` seconds (a stream spreads that time over its pieces), so a client's concurrency can be measured and
its limiter seen to settle. `set_limit` changes N while the server runs.
"""

from __future__ import annotations

import json
import threading

from ._http import Response

__all__ = ["AccountQueue", "queue_full"]


class AccountQueue:
    """Requests in service per API key; thread-safe (counters are read from other threads)."""

    def __init__(self, limit: int | None, latency: float) -> None:
        """`limit`: requests in service per key (None: no limit); `latency`: seconds each one is held."""
        if limit is not None and limit < 1:
            raise ValueError(f"queue_limit must be None or an integer >= 1, got {limit!r}")
        if latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {latency!r}")
        self.limit = limit
        self.latency = latency
        self._lock = threading.Lock()
        self._in_service: dict[str, int] = {}
        self._refused = 0
        self._peak = 0

    def set_limit(self, limit: int | None) -> None:
        """Change the limit now (a plan change, or the account's other work taking slots)."""
        with self._lock:
            self.limit = limit

    def admit(self, key: str) -> bool:
        """Take a slot for `key`, or count a refusal and return False."""
        with self._lock:
            now = self._in_service.get(key, 0)
            if self.limit is not None and now >= self.limit:
                self._refused += 1
                return False
            self._in_service[key] = now + 1
            self._peak = max(self._peak, now + 1)
            return True

    def leave(self, key: str) -> None:
        """Give `key`'s slot back."""
        with self._lock:
            self._in_service[key] -= 1

    def hold(self, response: Response) -> tuple[Response, float]:
        """The response with its stream spread over `latency`, and the seconds to wait before sending it."""
        if not self.latency:
            return response, 0.0
        if response.stream:
            pause = max(response.pause, self.latency / len(response.stream))
            return Response(
                response.status, response.headers, response.body, response.stream, pause, response.drop_after
            ), 0.0
        return response, self.latency

    def counters(self) -> dict[str, int | None]:
        """Refusals so far, the most requests in service for one key, and the limit."""
        with self._lock:
            return {"queue_refused": self._refused, "peak_in_service": self._peak, "queue_limit": self.limit}

    def reset(self) -> None:
        """Zero the counters (requests in service stay counted)."""
        with self._lock:
            self._refused = 0
            self._peak = max(self._in_service.values(), default=0)


def queue_full(limit: int, request_id: str) -> Response:
    """ModelsLab's platform error page for a full queue: HTTP 429, `status: error`, `retry_after`."""
    body = {
        "status": "error",
        "message": f"Too many requests: the queue limit of this account is {limit} requests at once",
        "retry_after": 30,
        "request_id": request_id,
    }
    return Response(429, [("content-type", "application/json")], json.dumps(body).encode())
