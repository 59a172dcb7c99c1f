"""ModelsLab's Messages API, framework-free: wire types, HTTP clients, streaming, errors and retries.

Names are loaded on first use (PEP 562), so `import modelslab_core` alone costs next to nothing; the first
`from modelslab_core import Client` pays for pydantic's model machinery and the wire types.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._version import __version__
    from .async_client import AsyncClient, AsyncMessageStream
    from .client import Client, MessageStream
    from .errors import (
        APIConnectionError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        IncompleteStreamError,
        InsufficientCreditsError,
        InternalServerError,
        LimiterError,
        ModelsLabError,
        NotFoundError,
        OverloadedError,
        PermissionDeniedError,
        ProviderError,
        RateLimitError,
        RequestTooLargeError,
        ServiceUnavailableError,
    )
    from .limiter import AdaptiveLimiter
    from .params import CountTokensParams, MessageParams
    from .reasoning import ThinkSplitter, split_think
    from .redis_limiter import RedisLimiter
    from .retry import RetryPolicy
    from .sse import ServerSentEvent, SSEDecoder, parse_event
    from .stream import MessageAccumulator, parse_tool_input
    from .types import (
        ContentBlock,
        ContentBlockDeltaEvent,
        ContentBlockStartEvent,
        ContentBlockStopEvent,
        ErrorEvent,
        ImageBlock,
        InputJSONDelta,
        Message,
        MessageDeltaEvent,
        MessageStartEvent,
        MessageStopEvent,
        ModelInfo,
        PingEvent,
        RedactedThinkingBlock,
        SignatureDelta,
        StreamEvent,
        TextBlock,
        TextDelta,
        ThinkingBlock,
        ThinkingDelta,
        ToolResultBlock,
        ToolUseBlock,
        UnknownBlock,
        UnknownDelta,
        UnknownEvent,
        Usage,
    )

_MODULE_OF = {
    "ThinkSplitter": "reasoning",
    "split_think": "reasoning",
    "CountTokensParams": "params",
    "MessageParams": "params",
    "APIConnectionError": "errors",
    "APIResponseValidationError": "errors",
    "APIStatusError": "errors",
    "APITimeoutError": "errors",
    "AsyncClient": "async_client",
    "AsyncMessageStream": "async_client",
    "AuthenticationError": "errors",
    "BadRequestError": "errors",
    "Client": "client",
    "ContentBlock": "types",
    "ContentBlockDeltaEvent": "types",
    "ContentBlockStartEvent": "types",
    "ContentBlockStopEvent": "types",
    "ErrorEvent": "types",
    "ImageBlock": "types",
    "IncompleteStreamError": "errors",
    "LimiterError": "errors",
    "AdaptiveLimiter": "limiter",
    "RedisLimiter": "redis_limiter",
    "InputJSONDelta": "types",
    "InsufficientCreditsError": "errors",
    "InternalServerError": "errors",
    "Message": "types",
    "MessageAccumulator": "stream",
    "MessageDeltaEvent": "types",
    "MessageStartEvent": "types",
    "MessageStopEvent": "types",
    "MessageStream": "client",
    "ModelInfo": "types",
    "ModelsLabError": "errors",
    "NotFoundError": "errors",
    "OverloadedError": "errors",
    "PermissionDeniedError": "errors",
    "PingEvent": "types",
    "ProviderError": "errors",
    "RateLimitError": "errors",
    "RedactedThinkingBlock": "types",
    "RequestTooLargeError": "errors",
    "RetryPolicy": "retry",
    "SSEDecoder": "sse",
    "ServerSentEvent": "sse",
    "ServiceUnavailableError": "errors",
    "SignatureDelta": "types",
    "StreamEvent": "types",
    "TextBlock": "types",
    "TextDelta": "types",
    "ThinkingBlock": "types",
    "ThinkingDelta": "types",
    "ToolResultBlock": "types",
    "ToolUseBlock": "types",
    "UnknownBlock": "types",
    "UnknownDelta": "types",
    "UnknownEvent": "types",
    "Usage": "types",
    "__version__": "_version",
    "parse_event": "sse",
    "parse_tool_input": "stream",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'modelslab_core' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AdaptiveLimiter",
    "AsyncClient",
    "AsyncMessageStream",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ContentBlock",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "CountTokensParams",
    "ErrorEvent",
    "ImageBlock",
    "IncompleteStreamError",
    "InputJSONDelta",
    "InsufficientCreditsError",
    "InternalServerError",
    "LimiterError",
    "Message",
    "MessageAccumulator",
    "MessageDeltaEvent",
    "MessageParams",
    "MessageStartEvent",
    "MessageStopEvent",
    "MessageStream",
    "ModelInfo",
    "ModelsLabError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "PingEvent",
    "ProviderError",
    "RateLimitError",
    "RedactedThinkingBlock",
    "RedisLimiter",
    "RequestTooLargeError",
    "RetryPolicy",
    "SSEDecoder",
    "ServerSentEvent",
    "ServiceUnavailableError",
    "SignatureDelta",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ThinkSplitter",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolResultBlock",
    "ToolUseBlock",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "__version__",
    "parse_event",
    "parse_tool_input",
    "split_think",
]
