"""Fault injection: parse ``x-modelslab-fault`` values and decide what a request gets (pure, no I/O).

Syntax: ``NAME[:SECONDS][;key=K][;times=N][;retry-after=S]``, several faults joined by commas
(``crlf, slow-stream:0.05``). A fault's key (``NAME`` or ``NAME;key=K``) names the counter the server keeps,
so parallel tests give each test its own ``key`` and a ``-once`` fault fires once per key (``times=N``: N
times). docs/local-server.md's "Faults" table says what each fault does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ._sse import StreamOptions

__all__ = ["FAULTS", "ErrorReply", "Fault", "Plan", "parse_faults", "plan"]

_ERRORS: Mapping[str, tuple[int, str, str]] = {
    "rate-limit": (429, "rate_limit_error", "Rate limit exceeded (injected by the local server)"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "server-error": (500, "api_error", "Internal server error (injected by the local server)"),
    # the header ModelsLab's own CLI reads on a 429 (X-RateLimit-Reset, Unix seconds) instead of retry-after
    "rate-limit-reset": (429, "rate_limit_error", "Rate limit exceeded (injected by the local server)"),
}
_STREAM_SHAPES: Mapping[str, Callable[[StreamOptions], StreamOptions]] = {
    "sse-error": lambda o: replace(o, error_after=2),
    "truncated-stream": lambda o: replace(o, truncate=True),
    "unknown-events": lambda o: replace(o, unknown_events=True),
    "crlf": lambda o: replace(o, crlf=True),
    "done-trailer": lambda o: replace(o, done_trailer=True),
    "usage-start-only": lambda o: replace(o, usage="start-only"),
    "usage-delta-only": lambda o: replace(o, usage="delta-only"),
    "no-event-lines": lambda o: replace(o, event_lines=False),
}
_OTHERS = (
    "bare-reply",
    "provider-error-once",
    "error-body-200",
    "error-body-200-sse",
    "html-502",
    "malformed-json",
    "drop-mid-stream",
    "slow-headers",
    "slow-stream",
)
FAULTS: tuple[str, ...] = (
    *_ERRORS,
    *(f"{name}-once" for name in _ERRORS),
    *_STREAM_SHAPES,
    *_OTHERS,
)
"""Every fault name the server knows."""


@dataclass(frozen=True)
class Fault:
    """One parsed fault: its name, its argument and options, and the key its counter is kept under."""

    name: str
    key: str
    seconds: float = 0.0
    times: int = 1
    retry_after: float = 0.0


@dataclass(frozen=True)
class ErrorReply:
    """An error status the server answers with instead of a reply."""

    status: int
    error_type: str
    message: str
    retry_after: float | None = None
    reset: bool = False
    """Send ``x-ratelimit-reset`` (now + ``retry_after``, Unix seconds) instead of ``retry-after``."""


@dataclass(frozen=True)
class Plan:
    """What the faults of one request amount to."""

    error: ErrorReply | None = None
    body: str = "normal"
    """``normal``, ``error-body-200``, ``error-body-200-sse``, ``html-502`` or ``malformed-json``."""
    bare: bool = False
    """Replies without ``model``, ``usage`` and ``stop_sequence`` (ModelsLab's function-calling example)."""
    drop: bool = False
    head_delay: float = 0.0
    pause: float = 0.0
    stream: StreamOptions = field(default_factory=StreamOptions)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {text!r}")
    return value


def parse_faults(value: str) -> list[Fault]:
    """Parse a fault header value; raise ValueError naming the problem for an unknown fault or option."""
    faults = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        head, *options = (part.strip() for part in item.split(";"))
        name, _, arg = head.partition(":")
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
        fault = Fault(name=name, key=name, seconds=_number(arg, name) if arg else 0.0)
        for option in options:
            opt, _, text = option.partition("=")
            if opt == "key":
                fault = replace(fault, key=f"{name};key={text}")
            elif opt == "times":
                fault = replace(fault, times=int(_number(text, "times")))
            elif opt == "retry-after":
                fault = replace(fault, retry_after=_number(text, "retry-after"))
            else:
                raise ValueError(f"unknown fault option {opt!r} (known: key, times, retry-after)")
        faults.append(fault)
    return faults


def plan(faults: list[Fault], seen: Mapping[str, int]) -> Plan:
    """Decide one request's fate; ``seen[key]`` is how many earlier requests carried that fault key."""
    result = Plan()
    for fault in faults:
        base = fault.name.removesuffix("-once")
        if base in _ERRORS:
            once = fault.name.endswith("-once")
            if result.error is None and (not once or seen.get(fault.key, 0) < fault.times):
                status, kind, message = _ERRORS[base]
                retry = fault.retry_after if status in (429, 529) else None
                reset = base == "rate-limit-reset"
                result = replace(result, error=ErrorReply(status, kind, message, retry, reset))
        elif fault.name in _STREAM_SHAPES:
            result = replace(result, stream=_STREAM_SHAPES[fault.name](result.stream))
        elif fault.name == "slow-headers":
            result = replace(result, head_delay=fault.seconds)
        elif fault.name == "slow-stream":
            result = replace(result, pause=fault.seconds)
        elif fault.name == "drop-mid-stream":
            result = replace(result, drop=True)
        elif fault.name == "bare-reply":
            result = replace(result, bare=True, stream=replace(result.stream, bare=True))
        elif fault.name == "provider-error-once":
            if seen.get(fault.key, 0) < fault.times:  # the 200 error body: JSON, or an SSE line in a stream
                result = replace(result, body="error-body-200-sse")
        elif fault.name == "malformed-json":
            result = replace(result, body=fault.name, stream=replace(result.stream, malformed=True))
        else:
            result = replace(result, body=fault.name)
    return result
