"""`Client`: the only code in this project, with `async_client`, that sends requests or sleeps.

Everything they decide (body, headers, parsing, retry or not, how long to wait) is done by I/O-free code in
`_request`, `_response`, `retry` and `_shared`; the sync and async classes are the thin loops around it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar

import httpx

from ._request import build_body, build_count_body
from ._response import StreamState, with_model
from ._shared import (
    Attempts,
    ClientConfig,
    ModelList,
    Opened,
    TokenCount,
    map_transport_error,
    outcome_of,
)
from .errors import ModelsLabError
from .limiter import Lease, Limiter, LimiterChoice
from .params import CountTokensParams, MessageParams, Unpack
from .types import Message, ModelInfo, StreamEvent, Usage

__all__ = ["Client", "MessageStream"]

AuthStyle = Literal["x-api-key", "bearer"]

_sleep = time.sleep  # the wait between retries; tests replace it to record the delays instead of waiting


def _pause(event: threading.Event, seconds: float) -> None:
    """A kept request's pause, ended early by `event`; tests replace it as they do `_sleep`."""
    event.wait(seconds)


class _StreamView:
    """What the sync and async streams share: the accumulated state, read without I/O."""

    _state: StreamState | None

    @property
    def text(self) -> str:
        """The answer's text received so far."""
        return self._state.accumulator.text if self._state else ""

    @property
    def usage(self) -> Usage | None:
        """Usage so far: `message_start`'s counts overlaid with every non-null `message_delta` field; None
        while the server has reported none."""
        return self._state.accumulator.usage if self._state else None

    @property
    def current_message(self) -> Message:
        """A snapshot of the message so far (before the end, usage and stop_reason may still change)."""
        if self._state is None:
            raise RuntimeError("the stream has not been opened yet: use it in a `with` block")
        return self._state.accumulator.message


class MessageStream(_StreamView):
    """A streamed answer: a context manager that yields typed events; `get_final_message()` at the end."""

    def __init__(self, client: Client, body: dict[str, Any]) -> None:
        self._client, self._body = client, body
        self._state = None
        self._opened: Opened[Iterator[bytes]] | None = None
        self._iterator: Iterator[StreamEvent] | None = None

    def __enter__(self) -> MessageStream:
        if self._opened is None:
            self._opened = self._client._open_stream(self._body)
            self._state = self._opened.state
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        opened = self._opened
        if opened is not None and not opened.closed:
            opened.closed = True
            opened.response.close()
            if opened.lease is not None and (limiter := self._client._config.limiter) is not None:
                limiter.release(opened.lease, opened.outcome())
            self._client._release()

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._events()
        return self._iterator

    def _events(self) -> Iterator[StreamEvent]:
        opened = self.__enter__()._opened
        assert opened is not None
        try:
            yield from opened.pending
            try:
                for chunk in opened.chunks:
                    yield from opened.state.events(chunk)
            except httpx.HTTPError as exc:
                raise map_transport_error(exc) from exc
            yield from opened.state.finish()
        finally:
            self.close()

    def get_final_message(self) -> Message:
        """Read the rest of the stream and return the whole message."""
        for _ in self:
            pass
        return self.current_message

    def get_final_text(self) -> str:
        return self.get_final_message().text


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class _ClientBase(Generic[HttpT]):
    """The arguments and configuration both clients share; each connects in its own way (`_connect`)."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = 60.0,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        http_client: HttpT | None = None,
        auth: AuthStyle = "x-api-key",
        max_concurrent_requests: int | None = None,
        limiter: LimiterChoice = "adaptive",
    ) -> None:
        """`http_client` is an `httpx.Client` for `Client`, an `httpx.AsyncClient` for `AsyncClient`; it is
        used as is and never closed here. Without one, the client keeps a pool of its own. `limiter` shares
        the account's concurrency with every client of the same key (see `modelslab_core.limiter`)."""
        self._config = ClientConfig.create(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            auth=auth,
            max_concurrent_requests=max_concurrent_requests,
            limiter=limiter,
        )
        self._owns_http = http_client is None
        self._connect(http_client)

    def _connect(self, http_client: HttpT | None) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def limiter(self) -> Limiter | None:
        """The limiter this client's requests wait on (shared by every client of the account), or None."""
        return self._config.limiter

    @property
    def max_retries(self) -> int:
        return self._config.policy.max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r}, auth={self._config.auth!r})"


class Client(_ClientBase[httpx.Client]):
    """Synchronous ModelsLab Messages client with one pooled connection set, retries and a concurrency cap."""

    def _connect(self, http_client: httpx.Client | None) -> None:
        self._http = http_client or httpx.Client(**self._config.http_options())
        limit = self._config.max_concurrent_requests
        self._slots = threading.BoundedSemaphore(limit) if limit else None

    def create(self, **params: Unpack[MessageParams]) -> Message:
        """Send one Messages request and return the whole answer."""
        body = build_body(**params)
        result: Message = self._request("POST", "/v1/messages", body, Message)
        return with_model(result, body["model"])

    def stream(self, **params: Unpack[MessageParams]) -> MessageStream:
        """Stream one Messages request: `with client.stream(...) as stream: for event in stream: ...`."""
        body = build_body(stream=True, **params)
        return MessageStream(self, body)

    def count_tokens(self, **params: Unpack[CountTokensParams]) -> int:
        """Input tokens the request would use (`POST /v1/messages/count_tokens`).

        Counted: the `system` prompt and the `messages` (text, images, tool calls and results), plus the tool
        definitions when `tools` is given. ModelsLab documents `model`, `messages` and `system` only, so the
        body holds those, and `tools` / `tool_choice` / `extra_body` only when passed; any other field (such
        as `max_tokens` or `temperature`) is a `TypeError`, raised before any request.
        """
        body = build_count_body(params)
        result: TokenCount = self._request("POST", "/v1/messages/count_tokens", body, TokenCount)
        return result.input_tokens

    def list_models(self) -> list[ModelInfo]:
        """The models the API serves (`GET /v1/models`)."""
        result: ModelList = self._request("GET", "/v1/models", None, ModelList)
        return result.data

    def _request(self, method: str, path: str, body: dict[str, Any] | None, model: Any) -> Any:
        request = self._config.request(method, path, body)
        attempts = Attempts(self._config)
        limiter = self._config.limiter
        lease = None
        self._acquire()
        try:
            while True:
                response = None
                if limiter and lease is None:
                    lease = limiter.acquire()
                try:
                    response = self._http.request(**request)
                    result = self._config.parse(response, model)
                except (httpx.HTTPError, ModelsLabError) as exc:
                    lease, delay = self._after_failure(exc, response, attempts, lease)
                    self._wait(delay, lease, attempts)
                    continue
                if limiter and lease:
                    limiter.release(lease, "ok")
                return result
        except BaseException:  # given up or interrupted: the slot goes back (a second release does nothing)
            if limiter and lease:
                limiter.release(lease, "failed")
            raise
        finally:
            self._release()

    def _open_stream(self, body: dict[str, Any]) -> Opened[Iterator[bytes]]:
        request = self._config.request("POST", "/v1/messages", body)
        attempts = Attempts(self._config)
        limiter = self._config.limiter
        response = lease = None
        self._acquire()
        try:
            while True:
                response = None
                if limiter and lease is None:
                    lease = limiter.acquire()
                try:
                    response = self._http.send(self._http.build_request(**request), stream=True)
                    if response.status_code >= 400:
                        response.read()
                        self._config.parse(response, Message)
                    chunks = response.iter_bytes()
                    state = StreamState(response.status_code, response.headers, model=body["model"])
                    pending = None
                    for chunk in chunks:
                        if (pending := state.head(chunk)) is not None:
                            break
                    return Opened(response, chunks, state, pending or iter(state.finish()), lease)
                except (httpx.HTTPError, ModelsLabError) as exc:
                    if response is not None:
                        response.close()
                    lease, delay = self._after_failure(exc, response, attempts, lease)
                self._wait(delay, lease, attempts)
        except BaseException:  # given up, or interrupted: the slots and the connection go back
            if response is not None:
                response.close()
            if limiter and lease:
                limiter.release(lease, "failed")
            self._release()
            raise

    def _after_failure(
        self, exc: BaseException, response: httpx.Response | None, attempts: Attempts, lease: Lease | None
    ) -> tuple[Lease | None, float]:
        """The slot a failed attempt still holds (None: given back) and the wait before the next one;
        raises the mapped error when there is none (the slot given back first)."""
        limiter = self._config.limiter
        if limiter is None or lease is None:
            return None, attempts.delay(exc, response)
        if attempts.queue_refusal(exc, response):
            if limiter.refused(lease):
                return lease, attempts.pause(response, lease)  # sent again in the slot it holds
            return None, attempts.in_line()
        limiter.release(lease, outcome_of(exc))
        return None, attempts.delay(exc, response)

    def _wait(self, delay: float, lease: Lease | None, attempts: Attempts) -> None:
        """The wait before the next attempt; a kept request's backoff ends at the process's next answer."""
        if lease is None or (parking := attempts.parking()) is None:
            _sleep(delay)
            return
        pause = parking.park(None)
        try:
            _pause(pause.event, delay)
        finally:
            parking.unpark(pause)
        attempts.resumed(lease)

    def _acquire(self) -> None:
        if self._slots is not None:
            self._slots.acquire()

    def _release(self) -> None:
        if self._slots is not None:
            self._slots.release()

    def close(self) -> None:
        """Close the connection pool (a caller-supplied `http_client` is left open)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
