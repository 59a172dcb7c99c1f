"""A small asyncio HTTP/1.1 server: keep-alive, Content-Length or chunked request bodies, fixed-length,
chunked or close-delimited responses, with the hooks fault injection needs (pauses, abrupt closes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

__all__ = ["HTTPServer", "Request", "Response", "Send"]

MAX_BODY = 32 * 1024 * 1024
"""The Messages API's request size limit; larger bodies get 413."""
_BATCH = 64 * 1024
_REASONS = {529: "Overloaded"}


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request. Header names are lower case; repeated headers are joined with ", "."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.split("?", 1)[0]


@dataclass(frozen=True)
class Response:
    """A response to write: a fixed ``body``, or a ``stream`` of pieces sent with chunked encoding.

    ``pause`` sleeps between stream pieces (pieces are otherwise batched into large writes); ``drop_after``
    closes the connection abruptly after that many bytes of ``body`` or that many ``stream`` pieces, and a
    fixed body then still announces its full Content-Length.
    """

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    stream: Sequence[bytes] | None = None
    pause: float = 0.0
    drop_after: int | None = None


class _Dropped(Exception):
    """The response was cut off on purpose; the connection must be aborted."""


Send = Callable[[Response], Awaitable[None]]
Handler = Callable[[Request, Send], Awaitable[None]]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class HTTPServer:
    """Serve ``handler`` on ``host:port`` (0 picks a free port) until :meth:`close`.

    ``headers`` go on the responses the server writes itself (malformed requests).
    """

    handler: Handler
    host: str = "127.0.0.1"
    port: int = 0
    headers: Sequence[tuple[str, str]] = ()
    _server: asyncio.AbstractServer | None = None
    _connections: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> int:
        """Bind and start accepting; return the port actually bound."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=_BATCH)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop accepting and abort open connections (in-flight responses included)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 0.5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._loop(reader, writer)
        except _Dropped:
            pass  # closed below with a FIN, so the client reads what was written and then hits end of file
        except (
            asyncio.CancelledError,
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            writer.transport.abort()
        finally:
            self._connections.discard(task)
            writer.close()

    async def _loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await _read_request(reader)
            except _BadRequest as exc:
                headers = [*self.headers, ("content-type", "text/plain")]
                await _write(writer, Response(exc.status, headers, str(exc).encode()), close=True)
                return
            if request is None:
                return
            close = request.headers.get("connection", "").lower() == "close" or request.version == "HTTP/1.0"
            sent = False

            async def send(response: Response, request: Request = request, close: bool = close) -> None:
                nonlocal sent
                sent = True
                await _write(writer, response, close=close, http10=request.version == "HTTP/1.0")

            await self.handler(request, send)
            if not sent:
                headers = [*self.headers, ("content-type", "text/plain")]
                await _write(writer, Response(500, headers, b"no response"), close=True)
                return
            if close:
                return


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequest(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise _BadRequest(431, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(400, "malformed header line")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest(400, "malformed content-length") from None
        if length > MAX_BODY:
            raise _BadRequest(413, "request too large")
        body = await reader.readexactly(length) if length > 0 else b""
    return Request(parts[0], parts[1], parts[2], headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest(400, "malformed chunk size") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers are ignored
            return b"".join(chunks)
        total += size
        if total > MAX_BODY:
            raise _BadRequest(413, "request too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _head(response: Response, framing: tuple[str, str] | None, close: bool) -> bytes:
    reason = _REASONS.get(response.status) or HTTPStatus(response.status).phrase
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    if framing is not None:
        lines.append(f"{framing[0]}: {framing[1]}")
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _write(
    writer: asyncio.StreamWriter, response: Response, *, close: bool, http10: bool = False
) -> None:
    if response.stream is None:
        writer.write(_head(response, ("content-length", str(len(response.body))), close))
        if response.drop_after is not None:
            writer.write(response.body[: response.drop_after])
            await writer.drain()
            raise _Dropped
        writer.write(response.body)
        await writer.drain()
        return
    # HTTP/1.0 clients cannot read chunked bodies: the end of the body is the end of the connection.
    chunked = not http10
    writer.write(_head(response, ("transfer-encoding", "chunked") if chunked else None, close or http10))
    frame = _chunk if chunked else bytes
    pieces = response.stream if response.drop_after is None else response.stream[: response.drop_after]
    if response.pause > 0:
        for i, piece in enumerate(pieces):
            if i:
                await asyncio.sleep(response.pause)
            writer.write(frame(piece))
            await writer.drain()
    else:
        batch: list[bytes] = []
        size = 0
        for piece in pieces:
            batch.append(piece)
            size += len(piece)
            if size >= _BATCH:
                writer.write(frame(b"".join(batch)))
                await writer.drain()
                batch, size = [], 0
        if batch:
            writer.write(frame(b"".join(batch)))
    if response.drop_after is not None:
        await writer.drain()
        raise _Dropped
    if chunked:
        writer.write(b"0\r\n\r\n")
    await writer.drain()
    if http10:
        raise _Dropped
