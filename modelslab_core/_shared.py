"""Client configuration and the decisions both clients share: no I/O here."""

from __future__ import annotations

import functools
import logging
import random
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, SecretStr

from ._request import check_headers, encode_body, resolve_api_key, resolve_base_url
from ._response import StreamState, parse_body
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ModelsLabError,
    OverloadedError,
    RateLimitError,
)
from .limiter import Lease, Limiter, LimiterChoice, Outcome, Parking, limiter_for
from .retry import MAX_HONOURED_RETRY_AFTER, RetryPolicy, retry_after_seconds, server_says_retry
from .types import ModelInfo, StreamEvent

logger = logging.getLogger("modelslab_core")

ChunksT = TypeVar("ChunksT")

MAX_FREE_REFUSALS = 64
"""Queue refusals one request may get before its policy's own (counted) retries take over."""
MAX_KEPT_PAUSE = 2.0
"""Seconds: the longest pause of a refused request that keeps its slot (its backoff doubles up to it)."""

API_VERSION = "2023-06-01"  # the Anthropic-format version header ModelsLab documents as default


class TokenCount(BaseModel):
    input_tokens: int


class ModelList(BaseModel):
    data: list[ModelInfo]


@dataclass
class Opened(Generic[ChunksT]):
    """A stream whose response is open and whose first events have been read."""

    response: httpx.Response
    chunks: ChunksT
    state: StreamState
    pending: Iterator[StreamEvent]
    lease: Lease | None = None
    closed: bool = False

    def outcome(self) -> Outcome:
        """How the stream's slot ends: answered when the whole message arrived."""
        return "ok" if self.state.accumulator.complete else "failed"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context, as httpx builds it by default (CA bundle, `SSL_CERT_FILE` /
    `SSL_CERT_DIR`, read once): every client shares it, instead of loading the CA bundle again (~19 ms) for
    each client, event loop and thread."""
    return httpx.create_ssl_context()


def map_transport_error(exc: httpx.HTTPError) -> ModelsLabError:
    """An httpx failure as this project's error; the message never includes headers."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.HTTPStatusError):
        return APIStatusError(str(exc), status_code=exc.response.status_code)
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(f"connection failed: {detail}")


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client was configured with; `api_key` is a SecretStr and never printed."""

    api_key: SecretStr = field(repr=False)
    base_url: str
    timeout: httpx.Timeout
    policy: RetryPolicy
    auth: str
    max_concurrent_requests: int | None
    headers: Mapping[str, str] = field(repr=False)
    limits: httpx.Limits
    limiter: Limiter | None = field(repr=False)

    @classmethod
    def create(
        cls,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        auth: str,
        max_concurrent_requests: int | None,
        limiter: LimiterChoice = "adaptive",
    ) -> ClientConfig:
        if auth not in ("x-api-key", "bearer"):
            raise ValueError(f"auth must be 'x-api-key' or 'bearer', got {auth!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        if max_concurrent_requests is not None and (
            isinstance(max_concurrent_requests, bool)
            or not isinstance(max_concurrent_requests, int)
            or max_concurrent_requests < 1
        ):
            raise ValueError(
                f"max_concurrent_requests must be None or an integer >= 1, got {max_concurrent_requests!r}"
            )
        if timeout is None:
            timeout = 60.0  # no timeout at all lets a silent server hang the caller forever
        if not isinstance(timeout, httpx.Timeout):
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
            timeout = httpx.Timeout(float(timeout))
        key = resolve_api_key(api_key)
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "anthropic-version": API_VERSION,
            "user-agent": f"modelslab-integrations/{__version__}",
            **(check_headers(default_headers) if default_headers else {}),
        }
        if auth == "bearer":
            headers["authorization"] = f"Bearer {key}"
        else:
            headers["x-api-key"] = key
        pool = max(max_concurrent_requests or 100, 1)
        base = resolve_base_url(base_url)
        return cls(
            api_key=SecretStr(key),
            base_url=base,
            timeout=timeout,
            policy=RetryPolicy(max_retries=max_retries),
            auth=auth,
            max_concurrent_requests=max_concurrent_requests,
            headers=headers,
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=min(pool, 100)),
            limiter=limiter_for(limiter, key, base),
        )

    def http_options(self) -> dict[str, Any]:
        """Keyword arguments for the `httpx.Client` / `httpx.AsyncClient` a client makes for itself."""
        return {"timeout": self.timeout, "limits": self.limits, "verify": tls_context()}

    def request(self, method: str, path: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        """Keyword arguments for `httpx.Client.request` / `build_request`."""
        headers = self.headers
        if body is not None and body.get("stream"):
            headers = {**headers, "accept": "text/event-stream"}
        return {
            "method": method,
            "url": self.base_url + path,
            "content": encode_body(body) if body is not None else None,
            "headers": headers,
        }

    def parse(self, response: httpx.Response, model: type[Any]) -> Any:
        return parse_body(response.status_code, response.headers, response.content, model)

    def retry_delay(self, exc: BaseException, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before the next attempt; raises the mapped error when there is none."""
        error = map_transport_error(exc) if isinstance(exc, httpx.HTTPError) else exc
        assert isinstance(error, ModelsLabError)
        headers = response.headers if response is not None else None
        if not self.policy.should_retry(error, attempt, headers):
            if error is exc:
                raise error
            raise error from exc
        body = error.body if isinstance(error, APIStatusError) else None
        delay = self.policy.delay(attempt, headers, body)
        logger.debug("retrying in %.2fs after attempt %d failed: %s", delay, attempt + 1, error)
        return delay


def outcome_of(error: BaseException | None) -> Outcome:
    """What a request's end tells the limiter: a 429 or 529 is congestion, any other failure is not."""
    if error is None:
        return "ok"
    return "congested" if isinstance(error, (RateLimitError, OverloadedError)) else "failed"


def kept_backoff(kept: int, service_time: float, paused: float, alone: bool) -> float:
    """The longest pause (before jitter) of a refused request that keeps its slot, at its `kept`-th
    refusal: from half the `service_time` (0.1 s before any is known), doubling, up to `MAX_KEPT_PAUSE`.

    `alone`: no other request of the process is in flight, so no answer of its own ends the pause early
    (`KeptPauses`), and sending is the only way the process finds the room another one leaves when it
    finishes. Such a pause stops at two service times, or at a quarter of the time the request has paused
    so far (`paused`) once that is longer: a request the queue refuses for minutes still backs off to 2 s.
    """
    first = max(0.05, service_time / 2 or 0.1)
    cap = min(MAX_KEPT_PAUSE, max(4 * first, paused / 4)) if alone else MAX_KEPT_PAUSE
    return min(cap, first * 2.0 ** min(kept - 1, 6))


@dataclass
class Attempts:
    """One request's retries: those its policy counts, and the free ones after the account's queue said no.

    A 429 is the account's queue limit (ModelsLab documents no other). With a limiter it is a free retry,
    one that does not use up `max_retries`. The limiter learns from it (`Limiter.refused`) and then either
    - takes the slot back, when this process has more requests in flight than its new limit allows: the
      retry waits in line (`acquire`) until one of them finishes; or
    - lets the request keep its slot, when the queue is full of the account's other work (other processes,
      other APIs): the request pauses and is sent again in the same slot, so a refusal never hands the slot to
      another request that would only be refused in turn. The pause is what a header of the response says
      (`retry-after-ms`, `Retry-After`, `X-RateLimit-Reset`), else a backoff from half the time the server
      holds a request (`Limiter.service_time`, its pauses left out), doubling, up to `MAX_KEPT_PAUSE` (two
      service times while nothing else of the process is in flight: `kept_backoff`); the
      body's `retry_after` is the platform's one value for every 429 (30 s in its docs), not a measure of this
      queue. A backoff ends early when one of the process's own requests is answered (`KeptPauses`).
    Free retries stop after `MAX_FREE_REFUSALS` refusals, or once one request's pauses add up to more than
    its read timeout: the policy's counted retries, with every server hint, then take over, so nothing waits
    forever. (Waiting in line is not counted: a slot there frees as the process's own requests finish.)
    """

    config: ClientConfig
    attempt: int = 0
    refusals: int = 0
    kept: int = 0
    paused: float = 0.0
    early: bool = False
    """Whether the last pause may end early, when one of the process's requests is answered (`Parking`):
    a backoff may, a pause the server asked for may not."""

    def queue_refusal(self, exc: BaseException, response: httpx.Response | None) -> bool:
        """Whether this failure is a queue refusal to retry free (counted as one when it is)."""
        if self.config.limiter is None or not isinstance(exc, RateLimitError):
            return False
        if server_says_retry(response.headers if response is not None else None) is False:
            return False
        if self.refusals >= MAX_FREE_REFUSALS or self.paused > (self.config.timeout.read or 60.0):
            return False
        self.refusals += 1
        return True

    def in_line(self) -> float:
        """No pause: the request waits in line for a slot, which progress frees (not counted as waiting)."""
        logger.debug("the account's queue is full (429): retrying when one of this process's slots frees")
        return 0.0

    def pause(self, response: httpx.Response | None, lease: Lease) -> float:
        """Seconds to wait, keeping `lease`'s slot, before sending a refused request again."""
        self.kept += 1
        hint = retry_after_seconds(response.headers if response is not None else None)
        if hint is not None and hint <= MAX_HONOURED_RETRY_AFTER:
            delay, self.early = hint, False
        else:
            limiter = self.config.limiter
            held = limiter.service_time if limiter is not None else 0.0
            alone = limiter is not None and limiter.in_flight <= 1
            delay = kept_backoff(self.kept, held, self.paused, alone) * (0.5 + random.random() / 2)
            self.early = True
        self.paused += delay
        lease.resend_in(delay)
        logger.debug("the account's queue is full (429): retrying in %.2fs, in the slot it holds", delay)
        return delay

    def resumed(self, lease: Lease) -> None:
        """The pause of `lease`'s request ended, early or not: only the time really paused counts towards the
        read timeout, and the request is sent now."""
        self.paused -= max(0.0, lease.started - time.monotonic())
        lease.resend_in(0.0)

    def parking(self) -> Parking | None:
        """The limiter that may end the coming pause early: after a backoff (`pause`), with a limiter that
        keeps the pauses of kept requests; None: the wait is slept whole."""
        limiter = self.config.limiter
        return limiter if self.early and isinstance(limiter, Parking) else None

    def delay(self, exc: BaseException, response: httpx.Response | None) -> float:
        """Seconds to wait before the policy's next (counted) attempt; raises the mapped error if none."""
        delay = self.config.retry_delay(exc, self.attempt, response)
        self.attempt += 1
        return delay
