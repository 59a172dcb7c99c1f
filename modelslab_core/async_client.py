"""`AsyncClient`: the async twin of `client.Client`, apart so `import modelslab_core` needs no asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx

from ._request import build_body, build_count_body
from ._response import StreamState, with_model
from ._shared import Attempts, ModelList, Opened, TokenCount, map_transport_error, outcome_of
from .client import _ClientBase, _StreamView
from .errors import ModelsLabError
from .limiter import Lease
from .params import CountTokensParams, MessageParams, Unpack
from .types import Message, ModelInfo, StreamEvent

__all__ = ["AsyncClient", "AsyncMessageStream"]

_asleep = asyncio.sleep  # the wait between retries; tests replace it to record the delays instead of waiting


async def _apause(future: asyncio.Future[None], seconds: float) -> None:
    """A kept request's pause, ended early by `future`; tests replace it as they do `_asleep`."""
    await asyncio.wait({future}, timeout=seconds)


class AsyncMessageStream(_StreamView):
    """The async twin of `MessageStream`: `async with`, `async for`, `await get_final_message()`."""

    def __init__(self, client: AsyncClient, body: dict[str, Any]) -> None:
        self._client, self._body = client, body
        self._state = None
        self._opened: Opened[AsyncIterator[bytes]] | None = None
        self._iterator: AsyncIterator[StreamEvent] | None = None

    async def __aenter__(self) -> AsyncMessageStream:
        if self._opened is None:
            self._opened = await self._client._open_stream(self._body)
            self._state = self._opened.state
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        opened = self._opened
        if opened is not None and not opened.closed:
            opened.closed = True
            await opened.response.aclose()
            if opened.lease is not None and (limiter := self._client._config.limiter) is not None:
                await limiter.arelease(opened.lease, opened.outcome())
            self._client._release()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._events()
        return self._iterator

    async def _events(self) -> AsyncIterator[StreamEvent]:
        opened = (await self.__aenter__())._opened
        assert opened is not None
        try:
            for event in opened.pending:
                yield event
            try:
                async for chunk in opened.chunks:
                    for event in opened.state.events(chunk):
                        yield event
            except httpx.HTTPError as exc:
                raise map_transport_error(exc) from exc
            for event in opened.state.finish():
                yield event
        finally:
            await self.aclose()

    async def get_final_message(self) -> Message:
        async for _ in self:
            pass
        return self.current_message

    async def get_final_text(self) -> str:
        return (await self.get_final_message()).text


class AsyncClient(_ClientBase[httpx.AsyncClient]):
    """The async twin of `Client`, with the same arguments and method names."""

    def _connect(self, http_client: httpx.AsyncClient | None) -> None:
        self._http = http_client or httpx.AsyncClient(**self._config.http_options())
        self._slots: asyncio.Semaphore | None = None  # made on first use: a semaphore belongs to one loop
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    async def create(self, **params: Unpack[MessageParams]) -> Message:
        """Send one Messages request and return the whole answer."""
        body = build_body(**params)
        result: Message = await self._request("POST", "/v1/messages", body, Message)
        return with_model(result, body["model"])

    def stream(self, **params: Unpack[MessageParams]) -> AsyncMessageStream:
        """Stream one Messages request: `async with client.stream(...) as stream: async for event in ...`."""
        body = build_body(stream=True, **params)
        return AsyncMessageStream(self, body)

    async def count_tokens(self, **params: Unpack[CountTokensParams]) -> int:
        """Input tokens the request would use (`POST /v1/messages/count_tokens`).

        Counted: the `system` prompt and the `messages` (text, images, tool calls and results), plus the tool
        definitions when `tools` is given. ModelsLab documents `model`, `messages` and `system` only, so the
        body holds those, and `tools` / `tool_choice` / `extra_body` only when passed; any other field (such
        as `max_tokens` or `temperature`) is a `TypeError`, raised before any request.
        """
        body = build_count_body(params)
        result: TokenCount = await self._request("POST", "/v1/messages/count_tokens", body, TokenCount)
        return result.input_tokens

    async def list_models(self) -> list[ModelInfo]:
        """The models the API serves (`GET /v1/models`)."""
        result: ModelList = await self._request("GET", "/v1/models", None, ModelList)
        return result.data

    async def _request(self, method: str, path: str, body: dict[str, Any] | None, model: Any) -> Any:
        request = self._config.request(method, path, body)
        attempts = Attempts(self._config)
        limiter = self._config.limiter
        lease = None
        await self._acquire()
        try:
            while True:
                response = None
                if limiter and lease is None:
                    lease = await limiter.aacquire()
                try:
                    response = await self._http.request(**request)
                    result = self._config.parse(response, model)
                except (httpx.HTTPError, ModelsLabError) as exc:
                    lease, delay = await self._after_failure(exc, response, attempts, lease)
                    await self._wait(delay, lease, attempts)
                    continue
                if limiter and lease:
                    await limiter.arelease(lease, "ok")
                return result
        except BaseException:  # given up or cancelled: the slot goes back (a second release does nothing)
            if limiter and lease:
                await limiter.arelease(lease, "failed")
            raise
        finally:
            self._release()

    async def _open_stream(self, body: dict[str, Any]) -> Opened[AsyncIterator[bytes]]:
        request = self._config.request("POST", "/v1/messages", body)
        attempts = Attempts(self._config)
        limiter = self._config.limiter
        response = lease = None
        await self._acquire()
        try:
            while True:
                response = None
                if limiter and lease is None:
                    lease = await limiter.aacquire()
                try:
                    response = await self._http.send(self._http.build_request(**request), stream=True)
                    if response.status_code >= 400:
                        await response.aread()
                        self._config.parse(response, Message)
                    chunks = response.aiter_bytes()
                    state = StreamState(response.status_code, response.headers, model=body["model"])
                    pending = None
                    async for chunk in chunks:
                        if (pending := state.head(chunk)) is not None:
                            break
                    return Opened(response, chunks, state, pending or iter(state.finish()), lease)
                except (httpx.HTTPError, ModelsLabError) as exc:
                    if response is not None:
                        await response.aclose()
                    lease, delay = await self._after_failure(exc, response, attempts, lease)
                await self._wait(delay, lease, attempts)
        except BaseException:  # given up, or cancelled: the slots and the connection go back
            if response is not None:
                await response.aclose()
            if limiter and lease:
                await limiter.arelease(lease, "failed")
            self._release()
            raise

    async def _after_failure(
        self, exc: BaseException, response: httpx.Response | None, attempts: Attempts, lease: Lease | None
    ) -> tuple[Lease | None, float]:
        """The slot a failed attempt still holds (None: given back) and the wait before the next one;
        raises the mapped error when there is none (the slot given back first)."""
        limiter = self._config.limiter
        if limiter is None or lease is None:
            return None, attempts.delay(exc, response)
        if attempts.queue_refusal(exc, response):
            if await limiter.arefused(lease):
                return lease, attempts.pause(response, lease)  # sent again in the slot it holds
            return None, attempts.in_line()
        await limiter.arelease(lease, outcome_of(exc))
        return None, attempts.delay(exc, response)

    async def _wait(self, delay: float, lease: Lease | None, attempts: Attempts) -> None:
        """The wait before the next attempt; a kept request's backoff ends at the process's next answer."""
        if lease is None or (parking := attempts.parking()) is None:
            await _asleep(delay)
            return
        pause = parking.park(asyncio.get_running_loop())
        try:
            assert pause.future is not None
            await _apause(pause.future, delay)
        finally:
            parking.unpark(pause)
        attempts.resumed(lease)

    async def _acquire(self) -> None:
        # Without a cap, calls beyond our own pool still wait here, not in httpcore's pool: a wait there
        # counts against the timeout and costs O(waiting) per event (1,000 concurrent calls timed out at 5 s).
        limit = self._config.max_concurrent_requests or (
            self._config.limits.max_connections if self._owns_http else None
        )
        if not limit:
            return
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:  # a semaphore belongs to one event loop
            self._slots, self._slots_loop = asyncio.Semaphore(limit), loop
        await self._slots.acquire()

    def _release(self) -> None:
        if self._slots is not None:
            self._slots.release()

    async def aclose(self) -> None:
        """Close the connection pool (a caller-supplied `http_client` is left open)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
