"""`ModelsLab`: ModelsLab's Messages API as a LlamaIndex `FunctionCallingLLM`.

A thin shell: `_params` checks arguments and builds requests (over `_messages`), `_convert` reads responses,
`modelslab_core` does the HTTP (its `ClientCache` holds the clients); the methods here only wire them together
under LlamaIndex's callback decorators.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import httpx
from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection

from modelslab_core import AsyncClient, Client, ModelInfo
from modelslab_core.clients import ClientCache, ClientOptions
from modelslab_core.params import MessageParams

from ._convert import (
    StreamState,
    asingle_tool_calls,
    to_chat_response,
    to_single_tool_call,
    to_stream_response,
    to_tool_choice,
    to_tool_selections,
    to_wire_tools,
)
from ._params import Settings, check_fields, check_room, model_spec, to_request

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Self

if TYPE_CHECKING:
    from llama_index.core.tools import BaseTool

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_MODEL", "ModelsLab"]

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
DEFAULT_MAX_TOKENS = 4096


def _metadata(
    model: str, context_window: int | None, max_tokens: int, function_calling: bool | None
) -> LLMMetadata:
    spec = model_spec(model)
    return LLMMetadata(
        context_window=context_window or spec.context_window,
        num_output=max_tokens,
        is_chat_model=True,
        is_function_calling_model=spec.function_calling if function_calling is None else function_calling,
        model_name=model,
        system_role=MessageRole.SYSTEM,
    )


@lru_cache(maxsize=64)
def _payload(
    class_name: str, model: str, context_window: int | None, max_tokens: int, function_calling: bool | None
) -> dict[str, Any]:
    """`to_payload()` of these settings; callers get a copy (the values are immutable)."""
    return {
        "class_name": class_name,
        **_metadata(model, context_window, max_tokens, function_calling).model_dump(),
    }


def _private(llm: ModelsLab) -> dict[str, Any]:
    private = llm.__pydantic_private__
    assert private is not None  # set by pydantic for every model with private attributes
    return private


def _options(llm: ModelsLab) -> ClientOptions:
    """The client settings of `llm` now (a changed one gets a new client from the cache)."""
    key = _private(llm).get("_api_key")  # absent after an unpickling that could not run __init__
    return ClientOptions(
        api_key=key.get_secret_value() if key is not None else None,
        base_url=llm.base_url,
        timeout=llm.timeout,
        max_retries=llm.max_retries,
        default_headers=dict(llm.default_headers) if llm.default_headers else None,
        max_concurrent_requests=llm.max_concurrent_requests,
        limiter=llm.limiter,
    )


def _settings(llm: ModelsLab) -> Settings:
    """The request settings of `llm` now."""
    return Settings(
        model=llm.model,
        max_tokens=llm.max_tokens,
        context_window=llm.context_window,
        temperature=llm.temperature,
        top_p=llm.top_p,
        top_k=llm.top_k,
        stop_sequences=llm.stop_sequences,
        thinking=llm.thinking,
        extra_body=llm.additional_kwargs,
    )


class ModelsLab(FunctionCallingLLM):
    """A LlamaIndex LLM on ModelsLab's Messages API (`/api/v7/llm/v1/messages`): chat, streaming, tools.

    The API key comes from `api_key=` or `MODELSLAB_API_KEY`; it is kept private, out of `to_dict()`,
    `to_json()`, `model_dump()` and `repr`.
    """

    model: str = Field(default=DEFAULT_MODEL, description="ModelsLab model id, slash or dash style.")
    base_url: str | None = Field(
        default=None,
        description="API base URL (default MODELSLAB_BASE_URL or https://modelslab.com/api/v7/llm).",
    )
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, gt=0, description="Most tokens to generate.")
    temperature: float | None = Field(default=None, ge=0, le=1, description="Sampling temperature (0..1).")
    top_p: float | None = Field(default=None, ge=0, le=1, description="Nucleus sampling mass (0..1).")
    top_k: int | None = Field(default=None, gt=0, description="Sample from the k most likely tokens.")
    stop_sequences: list[str] | None = Field(default=None, description="Texts that end generation.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for a response.")
    max_retries: int = Field(default=2, ge=0, description="Retries for 408/409/429/5xx, connection errors.")
    default_headers: dict[str, str] | None = Field(
        default=None, description="Headers sent with every request."
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra JSON body fields sent with every request."
    )
    context_window: int | None = Field(
        default=None, gt=0, description="Override of the catalog's context window for this model."
    )
    is_function_calling_model: bool | None = Field(
        default=None, description="Override of the catalog's function-calling flag for this model."
    )
    max_concurrent_requests: int | None = Field(
        default=None, gt=0, description="Cap on requests in flight from this LLM (per client)."
    )
    limiter: Any = Field(
        default="adaptive",
        exclude=True,
        description="The account's concurrency limiter: 'adaptive' (shared by every client of the key;"
        " Redis when MODELSLAB_LIMITER_URL is set), None (off), or an AdaptiveLimiter / RedisLimiter.",
    )

    http_client: httpx.Client | None = Field(
        default=None,
        exclude=True,
        description="An httpx.Client to send with (proxies, custom TLS); used as is and never closed here.",
    )
    async_http_client: httpx.AsyncClient | None = Field(
        default=None,
        exclude=True,
        description="An httpx.AsyncClient to send with; used as is and never closed here.",
    )

    thinking: dict[str, Any] | None = Field(
        default=None,
        description='Extended thinking, sent as given, e.g. {"type": "enabled", "budget_tokens": 1024}.',
    )

    _api_key: SecretStr | None = PrivateAttr(default=None)
    _clients: ClientCache = PrivateAttr(default_factory=ClientCache)

    def __init__(self, model: str = DEFAULT_MODEL, *, api_key: str | None = None, **kwargs: Any) -> None:
        """Configure the LLM; no request is sent and a missing key is reported at the first call.

        An argument that is no field is a `ValueError` naming the closest one (`temprature` -> `temperature`).
        """
        check_fields(kwargs, type(self).model_fields)
        super().__init__(model=model, **kwargs)
        self.api_key = api_key if api_key is not None else os.environ.get("MODELSLAB_API_KEY")
        check_room(self.model, self.max_tokens, self.context_window)

    @property
    def api_key(self) -> SecretStr | None:
        """The key: `api_key=`, else `MODELSLAB_API_KEY` when the instance was built (or unpickled)."""
        return self._api_key

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        self._api_key = SecretStr(value) if value else None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled state without the key: unpickling runs `__init__`, which reads it like a new instance."""
        state: dict[str, Any] = super().__getstate__()
        if private := state.get("__pydantic_private__"):
            state["__pydantic_private__"] = {k: v for k, v in private.items() if k != "_api_key"}
        return state

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex serializes this class under."""
        return "ModelsLab_LLM"

    @property
    def metadata(self) -> LLMMetadata:
        """Context window and capabilities from the catalog, with this instance's overrides. Never raises."""
        return _metadata(self.model, self.context_window, self.max_tokens, self.is_function_calling_model)

    def to_payload(self) -> dict[str, Any]:
        """What LlamaIndex's callback decorators log for this LLM: `class_name` and `metadata`, as a dict.

        The decorators call it on every `chat`, `stream_chat`, ... call, so the dict is cached per settings
        (building and dumping `LLMMetadata` each time cost more than the rest of the adapter's `chat`).
        """
        if type(self).metadata is not ModelsLab.metadata:  # a subclass computes its own metadata
            return super().to_payload()
        settings = (self.model, self.context_window, self.max_tokens, self.is_function_calling_model)
        return dict(_payload(self.class_name(), *settings))

    # -- clients: built from the current settings on each call's first need, closed by close() / aclose() ----

    @property
    def client(self) -> Client:
        """The synchronous `modelslab_core.Client` for the current settings."""
        clients: ClientCache = _private(self)["_clients"]
        return clients.client(self.http_client, **_options(self))

    @property
    def async_client(self) -> AsyncClient:
        """The running event loop's `modelslab_core.AsyncClient` for the current settings."""
        clients: ClientCache = _private(self)["_clients"]
        return clients.async_client(self.async_http_client, **_options(self))

    def close(self) -> None:
        """Close the connection pools this LLM opened (injected http clients stay open); it stays usable."""
        _private(self)["_clients"].close()

    async def aclose(self) -> None:
        """Close this event loop's pools and the sync ones (each loop's pools also close with the loop)."""
        await _private(self)["_clients"].aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> MessageParams:
        return to_request(messages, _settings(self), kwargs)

    # -- the requests, undecorated: chat and complete each fire LlamaIndex's callbacks once ------------------

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return to_chat_response(self.client.create(**self._request(messages, kwargs)))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return to_chat_response(await self.async_client.create(**self._request(messages, kwargs)))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        stream = self.client.stream(**self._request(messages, kwargs))  # arguments checked before any I/O

        def gen() -> ChatResponseGen:
            state = StreamState()
            with stream:
                for event in stream:
                    if (response := to_stream_response(event, state)) is not None:
                        yield response

        return gen()

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        stream = self.async_client.stream(**self._request(messages, kwargs))

        async def gen() -> ChatResponseAsyncGen:
            state = StreamState()
            async with stream:
                async for event in stream:
                    if (response := to_stream_response(event, state)) is not None:
                        yield response

        return gen()

    # -- chat ------------------------------------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Send the conversation and return the whole answer; keywords are Messages request fields."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async `chat`."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer as cumulative responses; `delta` is the new text, the last one carries usage."""
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        """Async `stream_chat`: awaiting it returns the async generator (as the decorator expects)."""
        return await self._astream_chat(messages, **kwargs)

    # -- completion: a one-message conversation, through the undecorated chat --------------------------------

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete `prompt` (sent as one user message)."""
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Async `complete`."""
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        """Stream the completion of `prompt`."""
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async `stream_complete`."""
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # -- tools -----------------------------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The `chat` arguments for a call with tools; `chat_history` is copied, never changed."""
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        if tools:
            prepared["tools"] = to_wire_tools(tools)
            prepared["tool_choice"] = to_tool_choice(tool_choice, tool_required=tool_required)
        return prepared

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """One tool call unless parallel calls are allowed (applied here, not asked of the server)."""
        return response if allow_parallel_tool_calls else to_single_tool_call(response)

    def stream_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> ChatResponseGen:
        """Stream `chat_with_tools`: each response keeps one tool call unless parallel calls are allowed."""
        gen = super().stream_chat_with_tools(
            tools, user_msg, chat_history, verbose, allow_parallel_tool_calls, tool_required, **kwargs
        )
        return gen if allow_parallel_tool_calls else (to_single_tool_call(r) for r in gen)

    async def astream_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> ChatResponseAsyncGen:
        """Async `stream_chat_with_tools`."""
        gen = await super().astream_chat_with_tools(
            tools, user_msg, chat_history, verbose, allow_parallel_tool_calls, tool_required, **kwargs
        )
        return gen if allow_parallel_tool_calls else asingle_tool_calls(gen)

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The tool calls of a response (or of a streamed response so far, its arguments parsed leniently)."""
        calls = to_tool_selections(response)
        if not calls and error_on_no_tool_call:
            raise ValueError(f"expected a tool call in the response, got none: {response.message.content!r}")
        return calls

    # -- models ----------------------------------------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        """The models the API serves (`GET /v1/models`; ids only, see `catalog` for their figures)."""
        return self.client.list_models()

    async def alist_models(self) -> list[ModelInfo]:
        """Async `list_models`."""
        return await self.async_client.list_models()
