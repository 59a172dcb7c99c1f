"""The keyword arguments of a Messages request, as TypedDicts: one definition for every client method."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

if sys.version_info >= (3, 11):
    from typing import Required, Unpack
else:  # pragma: no cover - Python 3.10 (typing_extensions comes with pydantic)
    from typing_extensions import Required, Unpack

__all__ = ["CountTokensParams", "MessageParams", "Unpack"]


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
