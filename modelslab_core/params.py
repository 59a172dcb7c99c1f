"""The keyword arguments of a Messages request, as TypedDicts: one definition for every client method."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

if sys.version_info >= (3, 11):
    from typing import Required, Unpack
else:  # pragma: no cover - Python 3.10 (typing_extensions comes with pydantic)
    from typing_extensions import Required, Unpack

__all__ = ["REQUEST_FIELDS", "CountTokensParams", "MessageParams", "Unpack", "closest_name"]


class MessageParams(TypedDict, total=False):
    """`create` and `stream` arguments: the Messages API's request fields, plus `extra_body` merged last."""

    model: Required[str]
    max_tokens: Required[int]
    messages: Required[Sequence[Any]]
    system: str | Sequence[Any] | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    stop_sequences: Sequence[str] | None
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: Mapping[str, Any] | None
    metadata: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None


class CountTokensParams(TypedDict, total=False):
    """`count_tokens` arguments: a request without `max_tokens` or sampling settings."""

    model: Required[str]
    messages: Required[Sequence[Any]]
    system: str | Sequence[Any] | None
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None


REQUEST_FIELDS: frozenset[str] = frozenset(
    {
        # documented by ModelsLab (the OpenAPI schema, the advanced-parameters and function-calling pages)
        "model", "max_tokens", "messages", "system", "temperature", "top_p", "top_k", "stop_sequences",
        "stream", "tools", "tool_choice",
        # Anthropic's Messages format, undocumented by ModelsLab: sent only when a caller sets them
        "metadata", "thinking", "service_tier", "container", "mcp_servers", "context_management",
    }
)  # fmt: skip
"""The body fields of a Messages request: what an adapter may pass on when a caller names one."""


def closest_name(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `name` (a misspelling such as `temprature`), or None when none is close."""
    import difflib  # only when a name is wrong: not part of every import

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
