"""The request-field names and the misspelling helper that both adapters use for unknown arguments."""

from __future__ import annotations

import pytest

from modelslab_core.params import REQUEST_FIELDS, MessageParams, closest_name


def test_every_typed_request_argument_is_a_request_field() -> None:
    assert set(MessageParams.__annotations__) - {"extra_body"} <= REQUEST_FIELDS


@pytest.mark.parametrize(
    ("name", "expected"),
    [("temprature", "temperature"), ("max_token", "max_tokens"), ("stop_sequence", "stop_sequences")],
)
def test_a_misspelling_finds_the_field(name: str, expected: str) -> None:
    assert closest_name(name, REQUEST_FIELDS) == expected


def test_nothing_close_gives_none() -> None:
    assert closest_name("foo", REQUEST_FIELDS) is None
