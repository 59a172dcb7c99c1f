"""Reasoning written inline as an R1-style `<think>...</think>` prefix, split from the answer (pure, no I/O).

DeepSeek-R1 and its distills write their reasoning into the answer text instead of `thinking` blocks. Both
adapters show it apart from the answer: `split_think` for a whole text, `ThinkSplitter` for a stream, whose
tags may be cut across deltas anywhere. The two agree on every input, however it is split.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["THINK_CLOSE", "THINK_OPEN", "ThinkSplitter", "split_think"]

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def split_think(text: str) -> tuple[str | None, str]:
    """`(reasoning, answer)`: reasoning is None when the text does not open with `<think>`.

    An unclosed `<think>` (the answer was cut at max_tokens) makes all of it reasoning; the blank lines after
    `</think>` are not part of the answer.
    """
    stripped = text.lstrip()
    if not stripped.startswith(THINK_OPEN):
        return None, text
    reasoning, closed, answer = stripped[len(THINK_OPEN) :].partition(THINK_CLOSE)
    return (reasoning, answer.lstrip()) if closed else (reasoning, "")


class ThinkSplitter:
    """Splits streamed text into `(reasoning, answer)` pieces; what could still begin a tag is held back.

    Once past the prefix (`answering`), every delta is answer text: callers may drop the splitter then.
    """

    __slots__ = ("_held", "_state", "found")

    def __init__(self) -> None:
        self._state: Literal["start", "thinking", "after", "answer"] = "start"
        self._held = ""
        self.found = False
        """Whether the text opened with `<think>` (known as soon as the tag is complete)."""

    @property
    def answering(self) -> bool:
        """Whether every later delta is answer text, passed through as is."""
        return self._state == "answer"

    def feed(self, text: str) -> tuple[str, str]:
        """`(reasoning, answer)` to emit for one delta (either may be empty)."""
        if self._state == "answer":
            return "", text
        self._held += text
        if self._state == "start":
            stripped = self._held.lstrip()
            if not stripped or (len(stripped) < len(THINK_OPEN) and THINK_OPEN.startswith(stripped)):
                return "", ""  # could still be "<think>"
            if not stripped.startswith(THINK_OPEN):
                self._state, held, self._held = "answer", self._held, ""
                return "", held
            self._state, self._held, self.found = "thinking", stripped[len(THINK_OPEN) :], True
        reasoning = ""
        if self._state == "thinking":  # only the held tail is scanned again, so a stream costs O(n)
            before, closed, after = self._held.partition(THINK_CLOSE)
            if not closed:
                cut = len(self._held) - _partial_tag_length(self._held)
                reasoning, self._held = self._held[:cut], self._held[cut:]
                return reasoning, ""
            reasoning, self._state, self._held = before, "after", after
        answer = self._held.lstrip()  # the blank lines after </think> are not part of the answer
        if answer:
            self._state, self._held = "answer", ""
        return reasoning, answer

    def flush(self) -> tuple[str, str]:
        """`(reasoning, answer)` still held when the text ends: an unclosed `<think>` is all reasoning."""
        held, self._held = self._held, ""
        if self._state == "thinking":
            return held, ""
        if self._state == "start":
            return "", held
        return "", ""


def _partial_tag_length(text: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `</think>`."""
    for size in range(min(len(THINK_CLOSE) - 1, len(text)), 0, -1):
        if THINK_CLOSE.startswith(text[-size:]):
            return size
    return 0
