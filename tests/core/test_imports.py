"""The core stays framework-free, and its public names are exactly the documented ones."""

from __future__ import annotations

import json
import subprocess
import sys

import modelslab_core

PUBLIC = {
    # clients and streams
    "Client",
    "AsyncClient",
    "MessageStream",
    "AsyncMessageStream",
    # the account's concurrency limiters
    "AdaptiveLimiter",
    "RedisLimiter",
    "LimiterError",
    # R1-style <think> reasoning
    "ThinkSplitter",
    "split_think",
    # request arguments
    "MessageParams",
    "CountTokensParams",
    # errors
    "ModelsLabError",
    "APIConnectionError",
    "APITimeoutError",
    "IncompleteStreamError",
    "APIResponseValidationError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "InsufficientCreditsError",
    "PermissionDeniedError",
    "NotFoundError",
    "RequestTooLargeError",
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "OverloadedError",
    "ProviderError",
    # retries, SSE, accumulation
    "RetryPolicy",
    "SSEDecoder",
    "ServerSentEvent",
    "parse_event",
    "MessageAccumulator",
    "parse_tool_input",
    # wire types
    "Message",
    "Usage",
    "ModelInfo",
    "ContentBlock",
    "TextBlock",
    "ImageBlock",
    "ToolUseBlock",
    "ToolResultBlock",
    "ThinkingBlock",
    "RedactedThinkingBlock",
    "UnknownBlock",
    "TextDelta",
    "InputJSONDelta",
    "ThinkingDelta",
    "SignatureDelta",
    "UnknownDelta",
    "StreamEvent",
    "MessageStartEvent",
    "ContentBlockStartEvent",
    "ContentBlockDeltaEvent",
    "ContentBlockStopEvent",
    "MessageDeltaEvent",
    "MessageStopEvent",
    "PingEvent",
    "ErrorEvent",
    "UnknownEvent",
    "__version__",
}

PROBE = """
import json, sys
import modelslab_core
client = modelslab_core.Client(api_key="k", base_url="http://127.0.0.1:9")
client.close()
print(json.dumps(sorted(sys.modules)))
"""


def probe_modules() -> list[str]:
    """The modules a fresh interpreter has loaded after `PROBE` (import, make a sync client, close it)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    modules: list[str] = json.loads(result.stdout)
    return modules


def test_import_pulls_in_no_framework() -> None:
    modules = probe_modules()
    assert "modelslab_core" in modules
    frameworks = [m for m in modules if m.split(".")[0].startswith(("langchain", "llama_index"))]
    assert frameworks == []


def test_the_sync_client_loads_no_asyncio() -> None:
    """asyncio costs ~10 ms of import: only the async client and the adapters need it (issue 7's budget);
    difflib only a misspelt name's error message."""
    modules = probe_modules()
    assert [m for m in modules if m.split(".")[0] in ("asyncio", "difflib")] == []


def test_all_lists_exactly_the_public_names() -> None:
    assert set(modelslab_core.__all__) == PUBLIC
    assert len(modelslab_core.__all__) == len(PUBLIC)  # no duplicates


def test_every_public_name_resolves() -> None:
    for name in modelslab_core.__all__:
        assert getattr(modelslab_core, name) is not None, name
    from modelslab_core import AsyncClient, AsyncMessageStream  # the lazily loaded names import too

    assert AsyncClient.__name__ == "AsyncClient" and AsyncMessageStream.__name__ == "AsyncMessageStream"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        modelslab_core.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_version_is_a_string() -> None:
    assert isinstance(modelslab_core.__version__, str) and modelslab_core.__version__
