"""Retry decisions and delays (pure), then the same rules through both clients (no real sleeping)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

import modelslab_core as mc
from modelslab_core import RetryPolicy
from modelslab_core.errors import error_from_body
from modelslab_core.retry import MAX_HONOURED_RETRY_AFTER, retry_after_seconds

from .conftest import SYNC, Recorder, call, json_reply, message_json

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def status_error(status: int) -> mc.APIStatusError:
    return error_from_body(status, {"error": {"message": "no"}})


RETRIED = [408, 409, 429, 500, 502, 503, 504, 529, 599]
NOT_RETRIED = [400, 401, 402, 403, 404, 413, 418, 422]


@pytest.mark.parametrize("status", RETRIED)
def test_retried_statuses(status: int) -> None:
    assert RetryPolicy().should_retry(status_error(status), 0)


@pytest.mark.parametrize("status", NOT_RETRIED)
def test_not_retried_statuses(status: int) -> None:
    assert not RetryPolicy().should_retry(status_error(status), 0)


@pytest.mark.parametrize(
    "error",
    [mc.APIConnectionError("x"), mc.APITimeoutError("x"), mc.IncompleteStreamError("x")],
    ids=lambda e: type(e).__name__,
)
def test_connection_errors_are_retried(error: mc.ModelsLabError) -> None:
    assert RetryPolicy().should_retry(error, 0)


def test_validation_errors_are_not_retried_by_the_policy() -> None:
    assert not RetryPolicy().should_retry(mc.APIResponseValidationError("bad"), 0)


@pytest.mark.parametrize(
    ("status", "header", "want"),
    [
        (500, "false", False),
        (429, "false", False),
        (400, "true", True),
        (401, "true", True),
        (500, "true", True),
        (400, "maybe", False),
        (500, "TRUE", True),  # not "true": ignored, the status decides
    ],
)
def test_x_should_retry_header_overrides_the_status(status: int, header: str, want: bool) -> None:
    assert RetryPolicy().should_retry(status_error(status), 0, {"X-Should-Retry": header}) is want


@pytest.mark.parametrize(
    ("max_retries", "attempt", "want"), [(0, 0, False), (2, 0, True), (2, 1, True), (2, 2, False)]
)
def test_never_past_max_retries(max_retries: int, attempt: int, want: bool) -> None:
    policy = RetryPolicy(max_retries=max_retries)
    assert policy.should_retry(status_error(529), attempt) is want
    assert policy.should_retry(status_error(529), attempt, {"x-should-retry": "true"}) is want


HINTS = [
    ("retry-after-ms", {"retry-after-ms": "1500"}, None, 1.5),
    ("retry-after-ms wins over Retry-After", {"retry-after-ms": "200", "retry-after": "9"}, None, 0.2),
    ("Retry-After seconds", {"Retry-After": "3"}, None, 3.0),
    ("Retry-After fractional", {"retry-after": "0.25"}, None, 0.25),
    (
        "Retry-After HTTP date",
        {"retry-after": format_datetime(NOW + timedelta(seconds=7), usegmt=True)},
        None,
        7.0,
    ),
    (
        "Retry-After date in the past",
        {"retry-after": format_datetime(NOW - timedelta(hours=1), usegmt=True)},
        None,
        0,
    ),
    ("body retry_after", {}, {"status": "error", "message": "queue full", "retry_after": 30}, 30.0),
    ("header wins over body", {"retry-after": "2"}, {"retry_after": 30}, 2.0),
    ("garbage header", {"retry-after": "soon"}, None, None),
    ("negative", {"retry-after": "-1"}, None, None),
    ("nan", {"retry-after-ms": "nan"}, None, None),
    ("bool body", {}, {"retry_after": True}, None),
    ("nothing", {}, None, None),
    ("no headers at all", None, {"retry_after": "4"}, 4.0),
]


@pytest.mark.parametrize(("headers", "body", "want"), [h[1:] for h in HINTS], ids=[h[0] for h in HINTS])
def test_retry_after_hints(headers: dict[str, str] | None, body: Any, want: float | None) -> None:
    got = retry_after_seconds(headers, body, now=NOW)
    assert got == (pytest.approx(want) if want is not None else None)


def test_retry_after_with_httpx_headers() -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After-Ms": "100"})) == pytest.approx(0.1)


def test_server_hint_is_the_delay() -> None:
    policy = RetryPolicy()
    assert policy.delay(0, {"retry-after": "3"}) == 3.0
    assert policy.delay(5, {"retry-after-ms": "10"}) == pytest.approx(0.01)
    assert policy.delay(1, None, {"retry_after": 12}) == 12.0
    assert policy.delay(0, {"retry-after": str(MAX_HONOURED_RETRY_AFTER)}) == MAX_HONOURED_RETRY_AFTER


@pytest.mark.parametrize(
    "hint", [{"retry-after": "3600"}, {"retry-after-ms": "600000"}, {"retry-after": "inf"}]
)
def test_over_long_hints_fall_back_to_backoff(hint: dict[str, str]) -> None:
    policy = RetryPolicy()
    assert policy.delay(0, hint, rand=0.0) == policy.initial_delay
    assert policy.delay(0, {}, {"retry_after": 86400}, rand=0.0) == policy.initial_delay


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0)
    assert [policy.delay(n, rand=0.0) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@pytest.mark.parametrize("attempt", range(6))
def test_jitter_stays_within_bounds(attempt: int) -> None:
    policy = RetryPolicy()
    base = min(policy.initial_delay * 2**attempt, policy.max_delay)
    assert policy.delay(attempt, rand=1.0) == pytest.approx(0.75 * base)
    samples = [policy.delay(attempt) for _ in range(200)]
    assert all(0.75 * base <= s <= base for s in samples)
    assert len(set(samples)) > 1  # jittered, not constant


# --- through the clients ---

OK = json_reply(200, message_json())


@SYNC
@pytest.mark.parametrize("max_retries", [0, 1, 3])
@pytest.mark.parametrize("status", [429, 500, 529])
async def test_attempts_are_max_retries_plus_one(
    status: int, max_retries: int, sync: bool, delays: list[float]
) -> None:
    handler = Recorder(json_reply(status, {"type": "error", "error": {"type": "api_error", "message": "x"}}))
    with pytest.raises(mc.APIStatusError):
        await call(sync, handler, max_retries=max_retries)
    assert handler.count == max_retries + 1
    assert len(delays) == max_retries


@SYNC
@pytest.mark.parametrize("failures", [1, 2])
async def test_success_after_failures(failures: int, sync: bool, delays: list[float]) -> None:
    bad = [
        json_reply(529, {"type": "error", "error": {"type": "overloaded_error", "message": "O"}})
    ] * failures
    handler = Recorder(*bad, OK)
    message = await call(sync, handler, max_retries=2)
    assert message.text == "Hello"
    assert handler.count == failures + 1
    assert len(delays) == failures
    assert all(0 < d <= RetryPolicy().max_delay for d in delays)


@SYNC
@pytest.mark.parametrize("status", NOT_RETRIED)
async def test_no_retry_on_4xx(status: int, sync: bool, delays: list[float]) -> None:
    handler = Recorder(json_reply(status, {"error": {"message": "no"}}), OK)
    with pytest.raises(mc.APIStatusError):
        await call(sync, handler, max_retries=3)
    assert handler.count == 1 and delays == []


@SYNC
@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("closed")]
)
async def test_connection_errors_are_retried_through_the_client(
    error: Exception, sync: bool, delays: list[float]
) -> None:
    handler = Recorder(error, OK)
    assert (await call(sync, handler)).text == "Hello"
    assert handler.count == 2 and len(delays) == 1


@SYNC
async def test_server_hints_are_slept(sync: bool, delays: list[float]) -> None:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    handler = Recorder(
        json_reply(429, body, {"retry-after": "3"}),
        json_reply(429, body, {"retry-after-ms": "250"}),
        json_reply(200, {"status": "error", "message": "queue full", "retry_after": 7}),
        json_reply(429, body, {"retry-after": "7200"}),  # too long: our own backoff instead
        OK,
    )
    # without a limiter every 429 is one of the policy's counted retries, and its hints (body too) are slept
    assert (await call(sync, handler, max_retries=4, limiter=None)).text == "Hello"
    assert delays[:3] == [3.0, 0.25, 7.0]
    assert delays[3] <= RetryPolicy().max_delay


@SYNC
async def test_queue_refusals_are_free_retries_that_keep_header_hints(
    sync: bool, delays: list[float]
) -> None:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "queue full"}}
    handler = Recorder(
        json_reply(429, body, {"retry-after": "3"}),
        json_reply(429, {"status": "error", "message": "queue full", "retry_after": 30}),
        json_reply(429, body),
        OK,
    )
    # three refusals and max_retries=0: none of them used the policy's budget
    assert (await call(sync, handler, max_retries=0)).text == "Hello"
    assert delays[0] == 3.0  # a header hint is the server's own word for this request
    assert all(0 < delay <= 2.0 for delay in delays[1:])  # the platform-wide body value (30 s) is not
    assert len(delays) == 3


@SYNC
@pytest.mark.parametrize(
    ("status", "header", "attempts"),
    [(500, "false", 1), (400, "true", 2), (409, "false", 1), (429, "false", 1)],
)
async def test_x_should_retry_through_the_client(status: int, header: str, attempts: int, sync: bool) -> None:
    handler = Recorder(json_reply(status, {"error": {"message": "x"}}, {"x-should-retry": header}), OK)
    with contextlib.suppress(mc.APIStatusError):
        await call(sync, handler)
    assert handler.count == attempts


@SYNC
@pytest.mark.parametrize("status", [502, 503, 429])
async def test_non_json_error_pages_are_retried_when_the_status_is(status: int, sync: bool) -> None:
    handler = Recorder(json_reply(status, b"<html>Bad Gateway</html>"), OK)
    assert (await call(sync, handler)).text == "Hello"
    assert handler.count == 2


@SYNC
@pytest.mark.parametrize("status", [400, 404])
async def test_non_json_4xx_pages_are_not_retried(status: int, sync: bool) -> None:
    handler = Recorder(json_reply(status, b"<html>Not Found</html>"), OK)
    with pytest.raises(mc.APIResponseValidationError):
        await call(sync, handler)
    assert handler.count == 1


@SYNC
async def test_client_mistake_behind_200_is_not_retried(sync: bool) -> None:
    handler = Recorder(json_reply(200, {"status": "error", "message": "Invalid API key"}), OK)
    with pytest.raises(mc.AuthenticationError):
        await call(sync, handler)
    assert handler.count == 1


@SYNC
async def test_invalid_message_json_is_not_retried(sync: bool) -> None:
    handler = Recorder(json_reply(200, {"unexpected": True}), OK)
    with pytest.raises(mc.APIResponseValidationError):
        await call(sync, handler)
    assert handler.count == 1


@SYNC
async def test_retries_exhausted_raise_the_last_error_with_its_cause(sync: bool) -> None:
    handler = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(mc.APIConnectionError) as info:
        await call(sync, handler, max_retries=2)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert handler.count == 3


@pytest.mark.parametrize("bad", [-1, True, 1.5, "2"])
def test_max_retries_is_validated(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        mc.Client(api_key="k", base_url="http://127.0.0.1:9", max_retries=bad)
