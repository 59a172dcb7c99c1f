"""Every fault of the local server x twelve call paths, each cell checked against `expected.ROWS`.

A cell gives its fault a key of its own (`;key=`), so the server's per-key counter is the number of attempts
that cell made. Success means the whole text "1 2 ... 10" with both token counts; an error must be the exact
class of the table, with nothing returned as a whole answer, and a stream that had handed out text must not
have been retried.
"""

from __future__ import annotations

import itertools
import time

import pytest

from modelslab_core import ModelsLabError
from modelslab_core.testing import FAULTS, LocalServer

from .expected import MAX_RETRIES, QUEUE_ALL, ROWS, SLOW, TIMEOUT, Row, render
from .paths import FULL_TEXT, INPUT_TOKENS, MODEL, OUTPUT_TOKENS, PATHS, Path, adapter_missing

SLACK = 1.0
"""Seconds allowed on top of the timeouts and (scaled) waits, for slow machines."""
_keys = itertools.count()


def keyed(fault: str, key: str) -> str:
    """The header value with `;key=` added to each fault of `fault`."""
    return ", ".join(f"{part.strip()};key={key}" for part in fault.split(","))


def attempts(server: LocalServer, row: Row, key: str) -> int:
    counts = {name: server.stats.by_fault.get(f"{name};key={key}", 0) for name in row.names}
    assert len(set(counts.values())) == 1, counts  # every fault of a pair saw every request
    return next(iter(counts.values()))


CELLS = [pytest.param(row, path, id=f"{row.id}-{path.name}") for row in ROWS for path in PATHS]


@pytest.mark.parametrize(("row", "path"), CELLS)
def test_cell(server: LocalServer, short_waits: list[float], row: Row, path: Path) -> None:
    if (missing := adapter_missing(path.adapter)) is not None:
        pytest.skip(missing)
    expect = row.create if path.kind == "create" else row.stream
    key = f"{path.name}-{next(_keys)}"
    result = path(server, keyed(row.fault, key), timeout=TIMEOUT, max_retries=MAX_RETRIES)
    made = attempts(server, row, key)

    assert made <= QUEUE_ALL
    if expect.up_to:  # free retries of a 429 end early when the server's wait hints fill the read timeout
        assert MAX_RETRIES + 1 < made <= expect.requests, f"{made} requests: {result.error!r}"
    else:
        assert made == expect.requests, f"{made} requests, expected {expect.requests}: {result.error!r}"
    assert len(short_waits) == made - 1, short_waits  # one wait before each retry, none after the last
    streamed = "".join(result.pieces)
    if expect.error is None:
        assert result.error is None, repr(result.error)
        assert result.text == FULL_TEXT
        tokens = (INPUT_TOKENS, OUTPUT_TOKENS) if expect.usage else (None, None)  # absent, not zero
        assert (result.input_tokens, result.output_tokens) == tokens
        assert result.model == MODEL  # the reply's, or the requested id when the reply names none
        if path.kind == "stream":
            assert streamed == FULL_TEXT  # each token handed out exactly once, in order
    else:
        assert type(result.error) is expect.error, repr(result.error)  # adapters raise the core's classes
        assert result.text is None  # no partial answer returned as if whole
        assert FULL_TEXT.startswith(streamed)  # what was streamed is a clean prefix, no repeats
        assert bool(streamed) == expect.tokens_first, streamed
        if streamed:
            assert made == 1  # no retry after tokens reached the caller
    budget = TIMEOUT * made + sum(short_waits) * 0.01 + SLACK
    assert result.seconds < budget, f"took {result.seconds:.2f}s"
    if "slow-headers" in row.fault:
        assert result.seconds >= TIMEOUT * made * 0.9  # it did wait out each attempt's timeout
        assert result.seconds < TIMEOUT * (MAX_RETRIES + 1) + SLACK


def test_every_fault_has_a_row() -> None:
    covered = {name for row in ROWS for name in row.names}
    assert covered == set(FAULTS), set(FAULTS) ^ covered
    assert SLOW > TIMEOUT


def test_paths_cover_both_kinds_on_every_adapter() -> None:
    assert len(PATHS) == 12
    for adapter in ("core", "langchain", "llama_index"):
        kinds = sorted(p.kind for p in PATHS if p.adapter == adapter)
        assert kinds == ["create", "create", "stream", "stream"], adapter


@pytest.mark.parametrize("max_retries", [0, 1, 3])
@pytest.mark.parametrize("path", [PATHS[0], PATHS[3]], ids=lambda p: p.name)
def test_attempts_follow_max_retries(
    server: LocalServer, short_waits: list[float], path: Path, max_retries: int
) -> None:
    key = f"retries-{next(_keys)}"
    result = path(server, f"overloaded;retry-after=0;key={key}", timeout=TIMEOUT, max_retries=max_retries)
    assert isinstance(result.error, ModelsLabError)
    assert server.stats.by_fault[f"overloaded;key={key}"] == max_retries + 1


def test_real_backoff_waits_between_attempts(server: LocalServer) -> None:
    """Unpatched: a 500 once costs one exponential-backoff wait (0.5 s less up to 25 % jitter)."""
    key = f"backoff-{next(_keys)}"
    result = PATHS[0](server, f"server-error-once;key={key}", timeout=2.0, max_retries=2)
    assert result.error is None and result.text == FULL_TEXT
    assert server.stats.by_fault[f"server-error-once;key={key}"] == 2
    assert 0.375 <= result.seconds < 0.5 + SLACK


def test_retry_after_from_the_server_is_honoured(server: LocalServer) -> None:
    key = f"retry-after-{next(_keys)}"
    started = time.perf_counter()
    result = PATHS[2](server, f"rate-limit-once;retry-after=0.3;key={key}", timeout=2.0, max_retries=2)
    assert result.error is None and result.text == FULL_TEXT
    assert 0.3 <= time.perf_counter() - started < 0.3 + SLACK


def test_doc_matches_the_table() -> None:
    from .expected import DOC

    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/what-happens-when.md is out of date: run `python -m tests.reliability.expected --write`"
    )


def test_the_reliability_page_shows_the_table() -> None:
    """docs/reliability.md holds the generated section as it is; README.md and the pages hold no old copy."""
    from .expected import DOC, PAGE, section

    assert section(PAGE.read_text(encoding="utf-8")) == render().strip(), (
        "docs/reliability.md's table is out of date: run `python -m tests.reliability.expected --write`"
    )
    for other in [DOC.parents[1] / "README.md", *DOC.parent.glob("*.md")]:
        found = section(other.read_text(encoding="utf-8"))
        assert found is None or found == render().strip(), (
            f"{other.name} has an old 'What happens when...' table"
        )
