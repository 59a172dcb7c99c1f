"""Client lifecycle: one pooled httpx client, who closes what, the concurrency cap, and the secret key."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import httpx
import pytest

import modelslab_core as mc

from .conftest import (
    API_KEY,
    BASE_URL,
    CALL,
    SYNC,
    Recorder,
    error_event,
    json_reply,
    make_client,
    message_json,
    resolve,
    sse_body,
    sse_reply,
    start_event,
    text_stream,
)

OK = json_reply(200, message_json())


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Client | httpx.AsyncClient]:
    """Every httpx client our clients build for themselves, wired to a MockTransport."""
    made: list[httpx.Client | httpx.AsyncClient] = []
    real_sync, real_async = httpx.Client, httpx.AsyncClient

    def sync_factory(**kwargs: Any) -> httpx.Client:
        client = real_sync(transport=httpx.MockTransport(Recorder(OK)), **kwargs)
        made.append(client)
        return client

    def async_factory(**kwargs: Any) -> httpx.AsyncClient:
        client = real_async(transport=httpx.MockTransport(Recorder(OK)), **kwargs)
        made.append(client)
        return client

    monkeypatch.setattr(httpx, "Client", sync_factory)
    monkeypatch.setattr(httpx, "AsyncClient", async_factory)
    return made


@SYNC
async def test_one_pooled_http_client_is_reused_and_closed(sync: bool, created: list[Any]) -> None:
    client = (mc.Client if sync else mc.AsyncClient)(api_key=API_KEY, base_url=BASE_URL)
    for _ in range(3):
        assert (await resolve(client.create(**CALL))).text == "Hello"
    assert len(created) == 1 and not created[0].is_closed
    await resolve(client.close() if sync else client.aclose())  # type: ignore[union-attr]
    assert created[0].is_closed


@SYNC
async def test_own_http_client_gets_the_configured_timeout_and_pool(sync: bool, created: list[Any]) -> None:
    (mc.Client if sync else mc.AsyncClient)(
        api_key=API_KEY, base_url=BASE_URL, timeout=5, max_concurrent_requests=3
    )
    [http] = created
    assert http.timeout == httpx.Timeout(5.0)


@SYNC
async def test_context_managers_close_our_own_client(sync: bool, created: list[Any]) -> None:
    if sync:
        with mc.Client(api_key=API_KEY, base_url=BASE_URL) as client:
            client.create(**CALL)
    else:
        async with mc.AsyncClient(api_key=API_KEY, base_url=BASE_URL) as aclient:
            await aclient.create(**CALL)
    assert created[0].is_closed


def _sync_caller_client(transport: httpx.MockTransport) -> None:
    http = httpx.Client(transport=transport)
    with mc.Client(api_key=API_KEY, base_url=BASE_URL, http_client=http) as client:
        client.create(**CALL)
    client.close()
    assert not http.is_closed
    http.close()


@SYNC
async def test_caller_supplied_http_client_is_used_and_not_closed(sync: bool) -> None:
    handler = Recorder(OK)
    transport = httpx.MockTransport(handler)
    if sync:
        _sync_caller_client(transport)
    else:
        ahttp = httpx.AsyncClient(transport=transport)
        async with mc.AsyncClient(api_key=API_KEY, base_url=BASE_URL, http_client=ahttp) as aclient:
            await aclient.create(**CALL)
        await aclient.aclose()
        assert not ahttp.is_closed
        await ahttp.aclose()
    assert handler.count == 1


@SYNC
async def test_count_tokens_and_list_models(sync: bool) -> None:
    models = {
        "object": "list",
        "data": [{"id": "Qwen/Qwen2.5-72B", "object": "model", "created": 1, "owned_by": "q"}],
    }
    handler = Recorder(json_reply(200, {"input_tokens": 42}), json_reply(200, models))
    client = make_client(sync, handler)
    assert await resolve(client.count_tokens(model="m", messages=CALL["messages"], system="s")) == 42
    [model] = await resolve(client.list_models())
    assert isinstance(model, mc.ModelInfo) and model.id == "Qwen/Qwen2.5-72B"
    assert [r.method for r in handler.requests] == ["POST", "GET"]
    assert handler.requests[1].url.path.endswith("/v1/models")


# --- concurrency cap ---


class Peak:
    """Counts requests in flight inside the MockTransport handler and remembers the peak."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = self.total = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


@pytest.mark.parametrize("limit", [1, 2, None])
def test_max_concurrent_requests_with_threads(limit: int | None) -> None:
    peak = Peak()
    # uncapped, all six must be in flight together: each waits for the others (a broken barrier fails the
    # call); capped, each holds its slot a while so that a missing cap would show as a higher peak
    barrier = threading.Barrier(6, timeout=5) if limit is None else None

    def handler(request: httpx.Request) -> httpx.Response:
        peak.enter()
        if barrier is not None:
            barrier.wait()
        else:
            time.sleep(0.03)
        peak.leave()
        return OK(request)  # type: ignore[operator]

    client = make_client(True, handler, max_concurrent_requests=limit, limiter=None)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.create(**CALL)
        except BaseException as exc:  # reported below: a thread's exception would otherwise be lost
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert peak.total == 6
    assert peak.peak == 6 if limit is None else 1 <= peak.peak <= limit


@pytest.mark.parametrize(("limit", "want"), [(1, 1), (2, 2), (None, 6)])
async def test_max_concurrent_requests_with_gather(limit: int | None, want: int) -> None:
    peak = Peak()

    async def handler(request: httpx.Request) -> httpx.Response:
        peak.enter()
        await asyncio.sleep(0.02)
        peak.leave()
        return OK(request)  # type: ignore[operator]

    client = make_client(False, handler, max_concurrent_requests=limit, limiter=None)
    await asyncio.gather(*(client.create(**CALL) for _ in range(6)))  # type: ignore[misc]
    assert peak.total == 6 and peak.peak == want


async def test_an_open_stream_holds_its_slot_until_closed() -> None:
    handler = Recorder(sse_reply(sse_body(*text_stream())), OK)
    client = make_client(False, handler, max_concurrent_requests=1)
    assert isinstance(client, mc.AsyncClient)
    async with client.stream(**CALL) as stream:
        waiting = asyncio.ensure_future(client.create(**CALL))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # the stream holds the only slot
        await stream.get_final_message()
    assert (await asyncio.wait_for(waiting, 2)).text == "Hello"


@pytest.mark.parametrize("method", ["create", "stream"])
async def test_a_cancelled_request_gives_its_slot_back(method: str) -> None:
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(30)  # hangs until cancelled
        return sse_reply(sse_body(*text_stream()))(request) if method == "stream" else OK(request)  # type: ignore[operator]

    client = make_client(False, handler, max_concurrent_requests=1)
    assert isinstance(client, mc.AsyncClient)
    first = client.stream(**CALL).__aenter__() if method == "stream" else client.create(**CALL)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(first, 0.05)
    # the slot is free again: the next call does not wait forever
    if method == "stream":
        message = await asyncio.wait_for(client.stream(**CALL).get_final_message(), 2)
    else:
        message = await asyncio.wait_for(client.create(**CALL), 2)
    assert message.text == "Hello"


class Interrupt(BaseException):
    """Like KeyboardInterrupt: not an Exception, so only `finally`/`except BaseException` sees it."""


@pytest.mark.parametrize("method", ["create", "stream"])
def test_an_interrupted_sync_request_gives_its_slot_back(method: str) -> None:
    handler = Recorder(Interrupt(), sse_reply(sse_body(*text_stream())) if method == "stream" else OK)
    client = make_client(True, handler, max_concurrent_requests=1)
    assert isinstance(client, mc.Client)

    def run() -> mc.Message:
        if method == "stream":
            return client.stream(**CALL).get_final_message()
        return client.create(**CALL)

    with pytest.raises(Interrupt):
        run()
    results: list[mc.Message] = []
    thread = threading.Thread(target=lambda: results.append(run()), daemon=True)
    thread.start()
    thread.join(2)
    assert [m.text for m in results] == ["Hello"]  # did not block on a leaked slot


@SYNC
async def test_a_failed_stream_open_gives_its_slot_back(sync: bool) -> None:
    handler = Recorder(
        json_reply(401, {"error": {"message": "bad key"}}), sse_reply(sse_body(*text_stream()))
    )
    client = make_client(sync, handler, max_concurrent_requests=1)
    for _ in range(3):
        with pytest.raises(mc.AuthenticationError):
            if sync:
                with client.stream(**CALL):
                    pass
            else:
                async with client.stream(**CALL):
                    pass
        handler.requests.clear()


# --- the key is a secret ---


@SYNC
async def test_api_key_never_leaks(sync: bool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    handler = Recorder(
        httpx.ConnectError("refused"),
        json_reply(
            401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
        ),
        json_reply(200, {"unexpected": True}),
        json_reply(502, b"<html>bad gateway</html>"),
        sse_reply(sse_body(start_event(), error_event())),
        httpx.ReadTimeout("slow"),
    )
    client = make_client(sync, handler, max_retries=1, auth="bearer")
    texts = [
        repr(client),
        str(client),
        repr(client._config),
        str(client._config),
        repr(client._config.api_key),
    ]
    errors: list[BaseException] = []
    for _ in range(3):
        try:
            await resolve(client.create(**CALL))
        except mc.ModelsLabError as exc:
            errors.append(exc)
    try:
        if sync:
            with client.stream(**CALL) as s:
                s.get_final_message()
        else:
            async with client.stream(**CALL) as a:
                await a.get_final_message()
    except mc.ModelsLabError as exc:
        errors.append(exc)
    try:
        await resolve(client.create(**{**CALL, "temperature": 3}))
    except ValueError as exc:
        errors.append(exc)
    assert len(errors) == 5
    assert handler.requests[0].headers["authorization"] == f"Bearer {API_KEY}"  # it was sent, though
    for exc in errors:
        chain: BaseException | None = exc
        while chain is not None:
            texts += [str(chain), repr(chain)]
            chain = chain.__cause__ or chain.__context__
    texts += [record.getMessage() for record in caplog.records]
    assert any("retrying" in record.getMessage() for record in caplog.records)  # DEBUG logs were captured
    leaks = [text for text in texts if API_KEY in text]
    assert leaks == []


def test_config_keeps_the_key_as_a_secret() -> None:
    client = mc.Client(api_key=API_KEY, base_url=BASE_URL)
    assert client._config.api_key.get_secret_value() == API_KEY
    assert API_KEY not in repr(client.__dict__.get("_config"))
    assert client.base_url == BASE_URL and client.max_retries == 2
    client.close()
