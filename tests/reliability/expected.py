"""The one table of what every fault of the local server does to a call, and the docs table made from it.

Each row names a fault (or a pair of faults) of `modelslab_core.testing` and what the caller gets, for the two
kinds of call every integration offers: a whole answer (`Client.create`, `ChatModelsLab.invoke`,
`ModelsLab.chat` and their async twins) and a stream (`Client.stream`, `ChatModelsLab.stream`,
`ModelsLab.stream_chat` and their async twins). `test_fault_matrix.py` asserts every row on all twelve paths;
`render()` turns the table into `docs/what-happens-when.md` and the same section of `docs/reliability.md`
(`python -m tests.reliability.expected --write` rewrites both).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from modelslab_core import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    IncompleteStreamError,
    InternalServerError,
    ModelsLabError,
    OverloadedError,
    ProviderError,
    RateLimitError,
)
from modelslab_core._shared import MAX_FREE_REFUSALS

__all__ = [
    "DOC",
    "MAX_RETRIES",
    "PAGE",
    "QUEUE_ALL",
    "ROWS",
    "SLOW",
    "TIMEOUT",
    "Outcome",
    "Row",
    "render",
    "section",
]

MAX_RETRIES = 2
"""The clients' default, used for every cell."""
TIMEOUT = 0.2
"""Seconds per attempt given to every client in the matrix."""
SLOW = 0.5
"""How long the slow faults stall: longer than `TIMEOUT`."""
ALL = MAX_RETRIES + 1
QUEUE_ALL = MAX_FREE_REFUSALS + ALL
"""A 429 every time: the limiter's free retries of a lone request, then the policy's counted ones."""
DOC = Path(__file__).resolve().parents[2] / "docs" / "what-happens-when.md"
PAGE = DOC.parent / "reliability.md"
"""The reliability page, which shows the generated section among its own."""
HEADING = "## What happens when..."


@dataclass(frozen=True)
class Outcome:
    """What one call gets: success or the exact error class, and how many requests reached the server."""

    error: type[ModelsLabError] | None
    requests: int
    up_to: bool = False
    """`requests` is the most: the limiter's free retries of a 429 end early once their pauses (the server's
    hints) add up to the read timeout, so fewer may come, never fewer than the policy's own."""
    tokens_first: bool = False
    """A stream handed text to the caller before the error (so it was not retried)."""
    usage: bool = True
    """A successful answer reports token usage (False: the server sent none, so none is reported)."""


@dataclass(frozen=True)
class Row:
    """One fault and its outcome for whole answers (`create`) and for streams (`stream`)."""

    fault: str
    """The `x-modelslab-fault` value, without its `;key=`."""
    server: str
    """What the server does, in words, for the docs."""
    create: Outcome
    stream: Outcome

    @property
    def id(self) -> str:
        return self.fault.split(";")[0].replace(", ", "+").replace(":", "=")

    @property
    def names(self) -> list[str]:
        """The fault names in this row (a pair for combined faults)."""
        return [part.split(";")[0].split(":")[0].strip() for part in self.fault.split(",")]


def ok(requests: int = 1, *, usage: bool = True) -> Outcome:
    return Outcome(None, requests, usage=usage)


ROWS: tuple[Row, ...] = (
    Row(
        "rate-limit;retry-after=0",
        "answers 429 `rate_limit_error` every time",
        Outcome(RateLimitError, QUEUE_ALL, up_to=True),
        Outcome(RateLimitError, QUEUE_ALL, up_to=True),
    ),
    Row(
        "overloaded;retry-after=0",
        "answers 529 `overloaded_error` every time",
        Outcome(OverloadedError, ALL),
        Outcome(OverloadedError, ALL),
    ),
    Row(
        "server-error",
        "answers 500 `api_error` every time",
        Outcome(InternalServerError, ALL),
        Outcome(InternalServerError, ALL),
    ),
    Row(
        "rate-limit-reset;retry-after=0",
        "answers 429 with `X-RateLimit-Reset` (Unix seconds) instead of `Retry-After`, every time",
        Outcome(RateLimitError, QUEUE_ALL, up_to=True),
        Outcome(RateLimitError, QUEUE_ALL, up_to=True),
    ),
    Row("rate-limit-once;retry-after=0", "answers 429 once, then normally", ok(2), ok(2)),
    Row(
        "rate-limit-reset-once;retry-after=0",
        "answers 429 with `X-RateLimit-Reset` once, then normally",
        ok(2),
        ok(2),
    ),
    Row("overloaded-once;retry-after=0", "answers 529 once, then normally", ok(2), ok(2)),
    Row("server-error-once", "answers 500 once, then normally", ok(2), ok(2)),
    Row(
        "sse-error",
        "sends an SSE `error` event (overloaded) after two text deltas, in the same packet",
        ok(),
        Outcome(OverloadedError, ALL),
    ),
    Row(
        "sse-error, slow-stream:0.02",
        "sends events one by one, then the SSE `error` event after two text deltas",
        ok(),
        Outcome(OverloadedError, 1, tokens_first=True),
    ),
    Row(
        "truncated-stream",
        "ends the stream without `message_stop`",
        ok(),
        Outcome(IncompleteStreamError, 1, tokens_first=True),
    ),
    Row("unknown-events", "adds events and deltas of types no client knows", ok(), ok()),
    Row("crlf", "ends SSE lines with CRLF", ok(), ok()),
    Row("done-trailer", "adds a stray `data: [DONE]` after `message_stop`", ok(), ok()),
    Row("usage-start-only", "reports input tokens only in `message_start`", ok(), ok()),
    Row("usage-delta-only", "reports usage only in `message_delta` (zeros in `message_start`)", ok(), ok()),
    Row("no-event-lines", "sends `data:` lines without `event:` lines", ok(), ok()),
    Row(
        "bare-reply",
        "answers without `model`, `usage` and `stop_sequence` (ModelsLab's function-calling example)",
        ok(usage=False),
        ok(usage=False),
    ),
    Row(
        "error-body-200",
        'answers HTTP 200 with `{"status": "error", "message": "Provider returned error"}` every time',
        Outcome(ProviderError, ALL),
        Outcome(ProviderError, ALL),
    ),
    Row(
        "error-body-200-sse",
        "answers HTTP 200 with that error body (inside an SSE `data:` line for a stream) every time",
        Outcome(ProviderError, ALL),
        Outcome(ProviderError, ALL),
    ),
    Row(
        "provider-error-once",
        "answers HTTP 200 with that error body once (an SSE `data:` line for a stream), then normally",
        ok(2),
        ok(2),
    ),
    Row(
        "html-502",
        "answers 502 with an nginx HTML page",
        Outcome(APIResponseValidationError, ALL),
        Outcome(APIResponseValidationError, ALL),
    ),
    Row(
        "malformed-json",
        "answers 200 with JSON cut in half (in a stream: one event's JSON cut in half)",
        Outcome(APIResponseValidationError, 1),
        Outcome(APIResponseValidationError, 1),
    ),
    Row(
        "drop-mid-stream",
        "closes the connection halfway through the body",
        Outcome(APIConnectionError, ALL),
        Outcome(APIConnectionError, 1, tokens_first=True),
    ),
    Row(
        "drop-mid-stream, slow-stream:0.02",
        "sends events one by one, then closes the connection halfway",
        Outcome(APIConnectionError, ALL),
        Outcome(APIConnectionError, 1, tokens_first=True),
    ),
    Row(
        f"slow-headers:{SLOW}",
        "waits longer than the timeout before sending the response headers",
        Outcome(APITimeoutError, ALL),
        Outcome(APITimeoutError, ALL),
    ),
    Row(
        f"slow-stream:{SLOW}",
        "pauses longer than the timeout between stream events (after `message_start`)",
        ok(),
        Outcome(APITimeoutError, 1),
    ),
)
"""Every fault of `modelslab_core.testing.FAULTS` appears in at least one row (a test checks it)."""


def _cell(outcome: Outcome) -> str:
    attempts = "1 request" if outcome.requests == 1 else f"{outcome.requests} requests"
    if outcome.up_to:
        attempts = f"{ALL + 1} to {outcome.requests} requests"
    if outcome.error is None:
        retries = outcome.requests - 1
        text = "the whole answer"
        if retries:
            text += f" after {retries} retr{'y' if retries == 1 else 'ies'}"
        if not outcome.usage:
            text += ", named after the requested model, with usage absent (not zero)"
        return text
    text = f"`{outcome.error.__name__}` ({attempts}"
    if outcome.tokens_first:
        text += "; the tokens already streamed stay with the caller, no retry"
    return text + ")"


INTRO = (
    "Each row is a fault the local server injects (`x-modelslab-fault: ...`, see"
    " `modelslab_core.testing`); the cells say what a caller gets with the default"
    f" `max_retries={MAX_RETRIES}`. Whole answers are `Client.create`, `ChatModelsLab.invoke` and"
    " `ModelsLab.chat`; streams are `Client.stream`, `ChatModelsLab.stream` and `ModelsLab.stream_chat`;"
    " their async twins behave the same. The same error class comes out of the core client and both"
    " adapters. `tests/reliability/test_fault_matrix.py` checks every cell on all twelve paths, counting"
    " the requests the server received."
)
OUTRO = (
    "Retries wait for the server's `retry-after-ms` / `Retry-After` / `X-RateLimit-Reset` / body"
    " `retry_after` when given (60 s at most; a longer hint falls back to the backoff), else back off"
    " exponentially with jitter (0.5 s, 1 s, ...). A 429 is the account's queue limit: the default"
    " account limiter retries it without using up `max_retries`"
    f" ({MAX_FREE_REFUSALS} times at most, in the slot it holds, as here, after a short pause; or in line"
    " for a slot when the process is over its new limit),"
    " so a 429 every time ends after the policy's own retries on top of those. An error body"
    " behind HTTP 200 that names no client mistake"
    " (`ProviderError`) is retried like a 5xx; one naming an invalid key, missing credits or an invalid"
    " request keeps its 4xx class and is not retried. A stream is retried only until its first"
    " event reaches the caller: after that an error ends it, so no token is ever delivered twice. A stream"
    " that ends early always raises; a partial answer is never returned as if it were whole. A timeout"
    " applies to each attempt, so a call gives up after about `timeout x (max_retries + 1)` plus the waits."
)


def render() -> str:
    """The "What happens when..." section (docs/what-happens-when.md, docs/reliability.md), in Markdown."""
    lines = [
        "## What happens when...",
        "",
        INTRO,
        "",
        "| when the server... | fault | whole answer | stream |",
        "|---|---|---|---|",
    ]
    lines += [f"| {row.server} | `{row.fault}` | {_cell(row.create)} | {_cell(row.stream)} |" for row in ROWS]
    lines += ["", OUTRO, ""]
    return "\n".join(lines)


def _bounds(text: str) -> tuple[int, int] | None:
    """Where the generated section starts and ends in a page (it ends at the next `## ` heading)."""
    found = re.search(rf"^{re.escape(HEADING)}$", text, re.M)
    if found is None:
        return None
    end = text.find("\n## ", found.end())
    return found.start(), len(text) if end < 0 else end + 1


def section(text: str) -> str | None:
    """A page's "What happens when..." section (None when it has none), without surrounding blank lines."""
    bounds = _bounds(text)
    return None if bounds is None else text[bounds[0] : bounds[1]].strip()


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(render(), encoding="utf-8")
        page = PAGE.read_text(encoding="utf-8")
        if (bounds := _bounds(page)) is None:
            raise SystemExit(f"{PAGE} has no {HEADING!r} heading to fill in")
        PAGE.write_text(page[: bounds[0]] + render() + page[bounds[1] :], encoding="utf-8")
    else:
        sys.stdout.write(render())
