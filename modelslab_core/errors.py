"""The one exception tree of this project.

```
ModelsLabError
├── APIConnectionError              the request never got a complete answer
│   ├── APITimeoutError             connect, read, write or pool timeout
│   └── IncompleteStreamError       the stream ended before `message_stop`
├── APIResponseValidationError      not what the spec says (HTML page, broken JSON, not a Message)
├── LimiterError                    the shared concurrency limiter cannot work (Redis missing or unreachable)
└── APIStatusError                  the server said no (HTTP status, error body behind HTTP 200, SSE `error`)
    ├── BadRequestError             400 invalid_request_error
    ├── AuthenticationError         401 authentication_error
    ├── InsufficientCreditsError    402
    ├── PermissionDeniedError       403 permission_error
    ├── NotFoundError               404 not_found_error
    ├── RequestTooLargeError        413 request_too_large
    ├── RateLimitError              429 rate_limit_error
    ├── InternalServerError         500 api_error, and any other 5xx
    │   ├── ServiceUnavailableError 503
    │   └── OverloadedError         529 overloaded_error
    └── ProviderError               HTTP 200 {"status": "error", "message": "Provider returned error"}
```

The same class is raised however the failure arrived: `error.type` decides when the server names one, the
HTTP status otherwise. Behind HTTP 200 (or in a stream, where there is no status of its own) the body decides:
its `error.type`, its `code` (a number or a numeric string, as ModelsLab's OpenAPI types it), a `retry_after`
(the queue is full: 429), or words naming a client mistake (an invalid key, insufficient credits, an invalid
request keep their 4xx class). An error body behind 200 that names none of these is a `ProviderError`: the
upstream model provider failed, which usually passes, so it is retried like a 5xx. Messages quote the server's
own words. Nothing here ever holds the API key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "IncompleteStreamError",
    "InsufficientCreditsError",
    "InternalServerError",
    "LimiterError",
    "ModelsLabError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "ProviderError",
    "RateLimitError",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "error_from_body",
    "quote",
]


class ModelsLabError(Exception):
    """Root of every error the ModelsLab client raises."""


class LimiterError(ModelsLabError):
    """The account's shared limiter cannot grant slots (Redis missing or unreachable); nothing was sent."""


class APIConnectionError(ModelsLabError):
    """The connection failed, was refused, or closed before the answer was complete."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class IncompleteStreamError(APIConnectionError):
    """An SSE stream ended without `message_stop`: what arrived is not the whole answer."""


class APIResponseValidationError(ModelsLabError):
    """The server answered with something that is not valid Messages API output."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class APIStatusError(ModelsLabError):
    """The server refused or failed the request; carries the status, the parsed body and the request id."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        request_id: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.error_type = error_type


class BadRequestError(APIStatusError):
    """400: the request is malformed or asks for something the model cannot do."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class InsufficientCreditsError(APIStatusError):
    """402: the account has run out of credits."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this resource."""


class NotFoundError(APIStatusError):
    """404: unknown model or path."""


class RequestTooLargeError(APIStatusError):
    """413: the request body is too large."""


class RateLimitError(APIStatusError):
    """429: too many requests queued for this account."""


class InternalServerError(APIStatusError):
    """5xx: the server or the upstream model provider failed."""


class ServiceUnavailableError(InternalServerError):
    """503: the service is temporarily unavailable."""


class OverloadedError(InternalServerError):
    """529: the API is temporarily overloaded."""


class ProviderError(APIStatusError):
    """An error body behind HTTP 200 that names no client mistake ("Provider returned error").

    The upstream model provider failed; that usually passes, so it is retried like a 5xx. `status_code` is the
    HTTP status the server sent (200)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
    429: RateLimitError,
    500: InternalServerError,
    503: ServiceUnavailableError,
    529: OverloadedError,
}

# error.type -> the HTTP status the API documents for it (GRAMMAR.md section 2)
_STATUS_BY_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


# Words of an error message behind HTTP 200 that name a client mistake (first match wins): no retry can help.
_STATUS_BY_WORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        401,
        ("api key", "api_key", "apikey", "invalid key", "unauthorized", "unauthenticated", "authentication"),
    ),
    (402, ("insufficient", "credit", "balance", "billing", "payment required")),
    (403, ("permission", "forbidden")),
    (404, ("not found", "does not exist")),
    (429, ("rate limit", "too many requests")),
    (
        400,
        ("invalid request", "invalid_request", "bad request", "is required", "must be", "validation",
         "invalid parameter", "not supported", "unsupported"),
    ),
)  # fmt: skip


def quote(text: str | bytes, limit: int = 200) -> str:
    """The first `limit` characters of a server's answer, for an error message."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")


def status_error_class(status_code: int, error_type: str | None = None) -> type[APIStatusError]:
    """The class for a failure: a known `error.type` decides, then the status."""
    if error_type in _STATUS_BY_TYPE:
        return _BY_STATUS[_STATUS_BY_TYPE[error_type]]
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    return InternalServerError if status_code >= 500 else APIStatusError


def _error_code(value: Any) -> int | None:
    """An error status from a body's `code`: an integer, or digits in a string ("401", the OpenAPI's type)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 400 <= value <= 599 else None


def _error_fields(body: Any) -> tuple[str | None, str | None, int | None]:
    """(error type, message, status) from any of ModelsLab's error shapes, or Nones."""
    if not isinstance(body, dict):
        return None, None, None
    error = body.get("error")
    if isinstance(error, dict):
        kind, text = error.get("type"), error.get("message")
        return (
            kind if isinstance(kind, str) else None,
            str(text) if text is not None else None,
            _error_code(error.get("code")),
        )
    if isinstance(error, str):
        return None, error, None
    text = body.get("message", body.get("messege"))
    code = body.get("code", body.get("status_code"))
    return None, str(text) if text is not None else None, _error_code(code)


def _status_from_words(text: str | None) -> int | None:
    lowered = (text or "").lower()
    for status, words in _STATUS_BY_WORDS:
        if any(word in lowered for word in words):
            return status
    return None


def is_error_body(body: Any) -> bool:
    """True for a JSON body that reports an error rather than a result, whatever its HTTP status."""
    if not isinstance(body, dict):
        return False
    return body.get("type") == "error" or body.get("status") in ("error", "failed") or bool(body.get("error"))


def error_from_body(
    status_code: int, body: Any, *, request_id: str | None = None, raw: str | bytes | None = None
) -> APIStatusError:
    """Build the typed error for a failure reported with `status_code` and a parsed (or raw) body."""
    kind, text, code = _error_fields(body)
    effective = status_code
    if status_code < 400:  # an error behind HTTP 200: let the body say what it was
        effective = _STATUS_BY_TYPE.get(kind or "", code or status_code)
        if effective < 400 and isinstance(body, dict) and "retry_after" in body:
            effective = 429  # ModelsLab's queue-full answer carries retry_after
        if effective < 400:
            effective = _status_from_words(text) or status_code
    if request_id is None and isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    cls = status_error_class(effective, kind) if effective >= 400 else ProviderError
    if text is None:
        text = quote(raw) if raw is not None else "no message"
    label = f"{effective} {kind}" if kind else str(effective)
    if cls is ProviderError:
        label = f"behind HTTP {effective}, the upstream provider failed" + (f" ({kind})" if kind else "")
    suffix = f" (request_id {request_id})" if request_id else ""
    return cls(
        f"ModelsLab API error {label}: {text}{suffix}",
        status_code=effective,
        body=body,
        request_id=request_id,
        error_type=kind,
    )
