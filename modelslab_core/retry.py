"""When to retry and how long to wait. Pure functions of the failure; the clients do the sleeping."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    ModelsLabError,
    ProviderError,
)

__all__ = ["RetryPolicy", "retry_after_seconds", "server_says_retry"]

RETRY_STATUSES = frozenset({408, 409, 429})
MAX_HONOURED_RETRY_AFTER = 60.0  # a longer server hint falls back to our own backoff, as other SDKs do
_UNIX_TIME_FLOOR = 1e9  # 2001-09-09: an X-RateLimit-Reset below this is a number of seconds, not a time


def retry_after_seconds(
    headers: Mapping[str, str] | None, body: Any = None, *, now: datetime | None = None
) -> float | None:
    """The server's wait hint: `retry-after-ms`, `Retry-After` (seconds or date), `X-RateLimit-Reset`, or the
    body's `retry_after`, in that order.

    `X-RateLimit-Reset` is read as ModelsLab's own CLI reads it on a 429: the Unix time (seconds) the limit
    resets, so the wait is `reset - now`, never negative (a value below 10^9 cannot be such a time: it is
    taken as seconds to wait). It is ignored when `X-RateLimit-Remaining` says requests are left (the limit it
    describes is not what refused this one).
    """
    now = now or datetime.now(timezone.utc)
    if headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        if (ms := _number(lowered.get("retry-after-ms"))) is not None:
            return ms / 1000
        value = lowered.get("retry-after")
        if value is not None:
            if (seconds := _number(value)) is not None:
                return seconds
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                return max(0.0, (when - now).total_seconds())
        if (reset := _rate_limit_reset(lowered, now)) is not None:
            return reset
    if isinstance(body, dict):
        return _number(body.get("retry_after"))
    return None


def server_says_retry(headers: Mapping[str, str] | None) -> bool | None:
    """The server's `x-should-retry: true | false`, or None when it says neither."""
    if not headers:
        return None
    hint = {k.lower(): v for k, v in headers.items()}.get("x-should-retry")
    return hint == "true" if hint in ("true", "false") else None


def _rate_limit_reset(lowered: Mapping[str, str], now: datetime) -> float | None:
    reset = _number(lowered.get("x-ratelimit-reset"))
    remaining = _number(lowered.get("x-ratelimit-remaining"))
    if reset is None or (remaining is not None and remaining > 0):
        return None
    if reset < _UNIX_TIME_FLOOR:  # some servers send the seconds left rather than the time
        return reset
    return max(0.0, reset - now.timestamp())


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 and number == number else None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter on connection errors, 408, 409, 429, >= 500 (529 included) and
    `ProviderError` (an upstream failure behind HTTP 200)."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def should_retry(
        self, error: ModelsLabError, attempt: int, headers: Mapping[str, str] | None = None
    ) -> bool:
        """Whether to try again after `error` on attempt number `attempt` (0 for the first try)."""
        if attempt >= self.max_retries:
            return False
        if (hint := server_says_retry(headers)) is not None:
            return hint
        if isinstance(error, (APIConnectionError, ProviderError)):
            return True
        # a status decides, whether the server said no in JSON or a proxy answered with an HTML page
        status = (
            error.status_code if isinstance(error, (APIStatusError, APIResponseValidationError)) else None
        )
        return status is not None and (status in RETRY_STATUSES or status >= 500)

    def delay(
        self,
        attempt: int,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        rand: float | None = None,
        now: datetime | None = None,
    ) -> float:
        """Seconds to wait before retry number `attempt + 1`; the server's hint wins when it is sane."""
        hint = retry_after_seconds(headers, body, now=now)
        if hint is not None and hint <= MAX_HONOURED_RETRY_AFTER:
            return hint
        base = min(self.initial_delay * 2.0**attempt, self.max_delay)
        jitter = 1 - 0.25 * (random.random() if rand is None else rand)
        return base * jitter
