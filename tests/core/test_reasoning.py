"""The `<think>` prefix: split from a whole text, and from a stream cut anywhere, with the same result."""

from __future__ import annotations

import pytest

from modelslab_core import ThinkSplitter, split_think

CASES = [
    ("<think>\nplan it\n</think>\n\nThe answer.", ("\nplan it\n", "The answer.")),
    ("  <think>a</think>b", ("a", "b")),
    ("<think>cut off while thinking", ("cut off while thinking", "")),
    ("<think></think>", ("", "")),
    ("no reasoning here", (None, "no reasoning here")),
    ("<thin is not a tag", (None, "<thin is not a tag")),
    ("text with <think>inside</think> later", (None, "text with <think>inside</think> later")),
    ("", (None, "")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split_think(text: str, expected: tuple[str | None, str]) -> None:
    assert split_think(text) == expected


def _stream(pieces: list[str]) -> tuple[str, str, bool]:
    splitter, reasoning, answer = ThinkSplitter(), "", ""
    for piece in pieces:
        r, a = splitter.feed(piece)
        reasoning, answer = reasoning + r, answer + a
    r, a = splitter.flush()
    return reasoning + r, answer + a, splitter.found


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_a_stream_cut_at_any_two_points_splits_as_the_whole_text(
    text: str, expected: tuple[str | None, str]
) -> None:
    want_reasoning, want_answer = expected
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            pieces = [text[:i], text[i:j], text[j:]]
            assert _stream(pieces) == (want_reasoning or "", want_answer, want_reasoning is not None), pieces


def test_once_answering_deltas_pass_through() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<think>x</think>\n\nHel") == ("x", "Hel")
    assert splitter.answering
    assert splitter.feed("</think> stays text") == ("", "</think> stays text")
