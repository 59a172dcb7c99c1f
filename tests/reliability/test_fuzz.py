"""Property tests of the stream decoding path, beyond `tests/core/test_corpus_replay.py`'s random splits.

1. Every corpus stream re-framed the ways servers differ (CRLF or CR line ends, no `event:` lines, pings,
   comments, blank lines and unknown events inserted between events, a `[DONE]` trailer), then split at
   random, gives the same final message (or the same error) as the original.
2. Random bytes, random SSE-shaped events, and noise spliced into valid streams give either a message or a
   documented `ModelsLabError`, never another exception type, and never take long (hypothesis' deadline).

The decoding runs through `StreamState`, the exact object both clients feed from the socket; the first
property also runs through the bare `SSEDecoder` + `parse_event` + `MessageAccumulator` trio.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelslab_core import MessageAccumulator, ModelsLabError, SSEDecoder, parse_event
from modelslab_core._response import StreamState

from ..core.corpus import STREAMS, record_id
from .report import note

EXAMPLES: Counter[str] = Counter()
"""Examples run per property (reported at the end of the session by conftest)."""


@pytest.fixture(scope="module", autouse=True)
def _report_examples() -> Iterator[None]:
    yield
    counts = ", ".join(f"{name} {count}" for name, count in EXAMPLES.items())
    note(f"fuzz: {sum(EXAMPLES.values())} hypothesis examples ({counts})")


FUZZ = settings(
    max_examples=800,
    deadline=10_000,  # milliseconds per example: a hang guard (a quadratic blow-up or a loop fails here)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)
# the 255 kB recordings make each example slow without adding new shapes; they stay in test_corpus_replay
BODIES = [r["response_body"].replace("\r\n", "\n") for r in STREAMS if len(r["response_body"]) < 40_000]
IDS = [record_id(r) for r in STREAMS if len(r["response_body"]) < 40_000]


def outcome_state(chunks: list[bytes]) -> Any:
    """What a client makes of these chunks: the final message as JSON, or the error's class name."""
    state = StreamState(200)
    try:
        for chunk in chunks:
            state.feed(chunk)
        state.finish()
        return json.dumps(state.accumulator.message.model_dump(mode="json"), sort_keys=True)
    except ModelsLabError as exc:
        return type(exc).__name__


def outcome_trio(chunks: list[bytes]) -> Any:
    """The same through the public pieces: decoder, `parse_event`, accumulator."""
    decoder, accumulator = SSEDecoder(), MessageAccumulator()
    try:
        for sse in [s for chunk in chunks for s in decoder.feed(chunk)] + decoder.flush():
            if (event := parse_event(sse)) is not None:
                accumulator.feed(event)
        if not accumulator.complete:
            return "IncompleteStreamError"
        return json.dumps(accumulator.message.model_dump(mode="json"), sort_keys=True)
    except ModelsLabError as exc:
        return type(exc).__name__


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


BASELINE = [outcome_state([body.encode()]) for body in BODIES]


def test_baseline_is_mostly_messages() -> None:
    assert len(BODIES) >= 30
    messages = [b for b in BASELINE if b.startswith("{")]
    assert len(messages) >= len(BODIES) - 5  # the rest are recorded `error` events: OverloadedError
    assert set(BASELINE) - set(messages) <= {"OverloadedError"}


# --- 1. the same message however the stream is framed ---------------------------------------------------

FILLERS = [
    'event: ping\ndata: {"type": "ping"}\n\n',
    ": keep-alive comment\n\n",
    "\n",
    'event: local_annotation\ndata: {"type":"local_annotation","note":"x"}\n\n',
    'data: {"type":"local_unknown","payload":[1,2,{"a":null}]}\n\n',
    "id: 42\nretry: 100\n\n",
]


def reframe(body: str, eol: str, drop_event_lines: bool, fillers: list[tuple[int, int]], done: bool) -> bytes:
    events = [e for e in body.split("\n\n") if e.strip()]
    out = []
    for i, event in enumerate(events):
        out.extend(FILLERS[kind] for at, kind in fillers if at == i)
        lines = [ln for ln in event.split("\n") if not (drop_event_lines and ln.startswith("event:"))]
        out.append("\n".join(lines) + "\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).replace("\n", eol).encode()


@FUZZ
@given(
    index=st.integers(0, len(BODIES) - 1),
    eol=st.sampled_from(["\n", "\r\n", "\r"]),
    drop_event_lines=st.booleans(),
    fillers=st.lists(st.tuples(st.integers(0, 60), st.integers(0, len(FILLERS) - 1)), max_size=12),
    done=st.booleans(),
    cuts=st.lists(st.integers(0, 300_000), max_size=40),
)
def test_reframed_streams_give_the_same_message(
    index: int, eol: str, drop_event_lines: bool, fillers: list[tuple[int, int]], done: bool, cuts: list[int]
) -> None:
    EXAMPLES["reframed corpus streams"] += 1
    data = reframe(BODIES[index], eol, drop_event_lines, fillers, done)
    chunks = split(data, [c % max(1, len(data)) for c in cuts])
    assert outcome_state(chunks) == BASELINE[index]
    assert outcome_trio(chunks) == BASELINE[index]


@FUZZ
@given(index=st.integers(0, len(BODIES) - 1), size=st.integers(1, 3))
def test_tiny_chunks_with_crlf(index: int, size: int) -> None:
    """Every CR and LF may arrive alone: a CRLF split across chunks must not count as two line ends."""
    EXAMPLES["crlf streams in 1-3 byte chunks"] += 1
    data = BODIES[index].replace("\n", "\r\n").encode()
    assert outcome_state([data[i : i + size] for i in range(0, len(data), size)]) == BASELINE[index]


# --- 2. noise: a documented error or a message, never anything else -------------------------------------


def only_documented(chunks: list[bytes]) -> None:
    """Feed `chunks` as a client would; anything but a message or a ModelsLabError fails the test."""
    state = StreamState(200)
    try:
        for chunk in chunks:
            state.feed(chunk)
        state.finish()
        state.accumulator.message  # noqa: B018 - building the snapshot must not fail either
    except ModelsLabError:
        pass


@FUZZ
@given(data=st.binary(max_size=4096), cuts=st.lists(st.integers(0, 4096), max_size=20))
def test_random_bytes(data: bytes, cuts: list[int]) -> None:
    EXAMPLES["random bytes"] += 1
    only_documented(split(data, cuts))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
TYPES = st.sampled_from(
    [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
        "local_unknown",
    ]
)
DELTAS = st.sampled_from(["text_delta", "input_json_delta", "thinking_delta", "signature_delta", "odd_delta"])
BLOCKS = st.sampled_from(["text", "tool_use", "thinking", "redacted_thinking", "odd_block"])
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "m",
    "content": [],
    "stop_reason": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


@st.composite
def sse_events(draw: st.DrawFn) -> str:
    """An SSE event that is nearly right: a real type with random or half-right fields."""
    kind = draw(TYPES)
    payload: dict[str, Any] = {"type": kind}
    if kind == "message_start":
        payload["message"] = draw(st.sampled_from([MESSAGE, {**MESSAGE, "usage": None}, {}]))
    elif kind.startswith("content_block"):
        payload["index"] = draw(st.integers(-1, 3) | st.text(max_size=2))
        block_type = draw(BLOCKS)
        payload["content_block"] = {"type": block_type, "text": "", "id": "t", "name": "f", "input": {}}
        payload["delta"] = {
            "type": draw(DELTAS),
            "text": draw(st.text(max_size=5)),
            "partial_json": draw(st.sampled_from(['{"a":', "1}", "", "[", "}"])),
        }
    elif kind == "message_delta":
        payload["delta"] = {"stop_reason": draw(st.sampled_from(["end_turn", None, 5]))}
        payload["usage"] = draw(st.sampled_from([{"output_tokens": 3}, None, {"input_tokens": "x"}, {}]))
    elif kind == "error":
        payload["error"] = draw(st.sampled_from([{"type": "overloaded_error", "message": "x"}, {}, "boom"]))
    if draw(st.booleans()):
        payload[draw(st.text(max_size=6))] = draw(JSON)
    data = draw(st.sampled_from([json.dumps(payload), json.dumps(payload)[:-1], json.dumps(draw(JSON))]))
    head = draw(st.sampled_from([f"event: {kind}\n", "", "event: \n", ": c\n"]))
    return f"{head}data: {data}\n\n"


@FUZZ
@given(events=st.lists(sse_events(), max_size=25), cuts=st.lists(st.integers(0, 5000), max_size=20))
def test_random_sse_events(events: list[str], cuts: list[int]) -> None:
    EXAMPLES["random SSE events"] += 1
    only_documented(split("".join(events).encode(), cuts))


@FUZZ
@given(
    index=st.integers(0, len(BODIES) - 1),
    splices=st.lists(st.tuples(st.integers(0, 40_000), st.binary(min_size=1, max_size=16)), max_size=4),
    cuts=st.lists(st.integers(0, 40_000), max_size=20),
)
def test_noise_spliced_into_valid_streams(
    index: int, splices: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    EXAMPLES["noise spliced into corpus streams"] += 1
    data = BODIES[index].encode()
    for at, noise in splices:
        at %= len(data) + 1
        data = data[:at] + noise + data[at:]
    only_documented(split(data, cuts))


@FUZZ
@given(
    data=st.binary(max_size=512).map(lambda b: b"{" + b), status=st.sampled_from([200, 400, 429, 500, 529])
)
def test_json_bodies_where_a_stream_was_expected(data: bytes, status: int) -> None:
    """A body starting with `{` is read as a whole JSON answer (an error behind 200, or no stream at all)."""
    EXAMPLES["JSON-looking bodies on a stream"] += 1
    state = StreamState(status)
    try:
        state.feed(data)
        state.finish()
    except ModelsLabError:
        pass


def test_a_long_line_in_socket_sized_chunks_decodes() -> None:
    """A 4 MB `data:` line (a big tool input) arriving in 64 kB reads, as httpx hands them over."""
    line = b"data: " + json.dumps({"type": "ping", "pad": "x" * (4 << 20)}).encode() + b"\n\n"
    decoder = SSEDecoder()
    started = time.perf_counter()
    events = [e for i in range(0, len(line), 65536) for e in decoder.feed(line[i : i + 65536])]
    assert len(events) == 1
    assert time.perf_counter() - started < 10  # a hang guard: the decoder holds pieces and joins once (O(n))
