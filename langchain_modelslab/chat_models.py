"""`ChatModelsLab`: LangChain's chat model interface over `modelslab_core`'s Messages client.

The class is a shell: `_request.prepare` merges its fields with call-time arguments, the core client sends the
request, and the pure functions of `_convert` / `_stream` turn answers into LangChain messages. Clients live
in a `ClientCache` (rebuilt after a settings change, a copy or a pickle; closed with their event loop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun, Callbacks
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.language_models.chat_models import agenerate_from_stream, generate_from_stream
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, LLMResult
from langchain_core.runnables import Runnable
from langchain_core.utils import from_env, secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from typing_extensions import Self

from modelslab_core import AsyncClient, Client
from modelslab_core.clients import ClientCache, ClientOptions

from ._convert import (
    to_wire_tool,
    to_wire_tool_choice,
)
from ._fields import default_max_tokens, drop_derived_profile, sort_arguments, to_profile
from ._request import count_params, identifying_params, prepare
from ._results import llm_output
from ._structured import StructuredMethod, structured_output

__all__ = ["ChatModelsLab"]


class ChatModelsLab(BaseChatModel):
    """A ModelsLab LLM (Messages API) as a LangChain chat model.

    `ChatModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together")` reads the key from `MODELSLAB_API_KEY`.
    Unknown arguments raise `ValueError` here; invalid values raise it on the first call, before any request.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model: str = Field(alias="model_name")
    """Model id, e.g. `"Qwen/Qwen2.5-VL-72B-Instruct-together"`; a call's `model=` overrides it."""
    api_key: SecretStr | None = Field(default_factory=secret_from_env("MODELSLAB_API_KEY", default=None))
    """API key; defaults to the `MODELSLAB_API_KEY` environment variable."""
    base_url: str | None = Field(default_factory=from_env("MODELSLAB_BASE_URL", default=None))
    """Base URL (`MODELSLAB_BASE_URL`, else `https://modelslab.com/api/v7/llm`)."""
    auth: Literal["x-api-key", "bearer"] = "x-api-key"
    """How the key is sent: an `x-api-key` header, or `Authorization: Bearer <key>`."""
    max_tokens: int | None = None
    """Most tokens to generate; None: the model's output limit from the catalog (1024 for models it lacks)."""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Stop sequences; a call's `stop=` replaces them."""
    thinking: dict[str, Any] | None = None
    """Extended thinking, e.g. `{"type": "enabled", "budget_tokens": 2048}` (sent only when set)."""
    timeout: float | None = 60.0
    """Seconds per request (None means the core's default, never "wait forever")."""
    max_retries: int = 2
    streaming: bool = False
    """Use streaming under `invoke` too."""
    stream_usage: bool = True
    """Report `usage_metadata` on the last streamed chunk."""
    default_headers: dict[str, str] | None = None
    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """An `httpx.Client` to send with (proxies, custom TLS); used as is and never closed here."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)
    """An `httpx.AsyncClient` to send with; used as is and never closed here."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra body fields sent with every request (e.g. `{"service_tier": "auto"}`)."""
    max_concurrent_requests: int | None = None
    """Cap on requests in flight per client (batches), None for no cap."""

    _clients: ClientCache = PrivateAttr(default_factory=ClientCache)

    @model_validator(mode="before")
    @classmethod
    def _sort_arguments(cls, values: Any) -> Any:
        if not isinstance(values, Mapping):
            return values
        declared = {*cls.model_fields, *(f.alias for f in cls.model_fields.values() if f.alias)}
        return drop_derived_profile(sort_arguments(values, declared))

    @property
    def _llm_type(self) -> str:
        return "modelslab-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "MODELSLAB_API_KEY"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """`["langchain_modelslab"]`: the public import path, whichever module defines the class."""
        return ["langchain_modelslab"]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return identifying_params(self)

    def _get_llm_string(self, stop: list[str] | None = None, **kwargs: Any) -> str:
        # the serialized form (LangChain's choice for serializable models) lacks settings read from the
        # environment and any default that differs between versions: key the cache on what is sent
        params = {**self._identifying_params, "_type": self._llm_type, "stop": stop, **kwargs}
        return str(sorted(params.items()))

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="modelslab",
            ls_model_name=kwargs.get("model") or self.model,
            ls_model_type="chat",
            ls_max_tokens=kwargs.get("max_tokens") or self._max_tokens(kwargs.get("model") or self.model),
        )
        if (temperature := kwargs.get("temperature", self.temperature)) is not None:
            params["ls_temperature"] = temperature
        if stop := stop or self.stop:
            params["ls_stop"] = stop
        return params

    # --- clients: built on first use from the current settings, kept out of copies and pickles -------------

    def _sync_client(self) -> Client:
        return self._clients.client(self.http_client, **self._client_options())

    def _async_client(self) -> AsyncClient:
        return self._clients.async_client(self.http_async_client, **self._client_options())

    def _client_options(self) -> ClientOptions:
        return {
            "api_key": self.api_key.get_secret_value() if self.api_key else None,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
            "auth": self.auth,
            "max_concurrent_requests": self.max_concurrent_requests,
        }

    def close(self) -> None:
        """Close the sync clients' connections (an injected `http_client` stays open)."""
        self._clients.close()

    async def aclose(self) -> None:
        """Close the running loop's async clients and the sync ones (injected clients stay open)."""
        await self._clients.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- requests -------------------------------------------------------------------------------------------

    def _resolve_model_profile(self) -> ModelProfile | None:
        return to_profile(self.model)

    def _max_tokens(self, model: str) -> int:
        return self.max_tokens if self.max_tokens is not None else default_max_tokens(model)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return _with_llm_output(generate_from_stream(self._stream(messages, stop, run_manager, **kwargs)))
        call = prepare(self, messages, stop, kwargs)
        return call.result(self._sync_client().create(**call.params))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            chunks = self._astream(messages, stop, run_manager, **kwargs)
            return _with_llm_output(await agenerate_from_stream(chunks))
        call = prepare(self, messages, stop, kwargs)
        return call.result(await self._async_client().create(**call.params))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call = prepare(self, messages, stop, kwargs)
        with self._sync_client().stream(**call.params) as stream:
            for event in stream:
                if (generation := call.chunk(event, stream)) is not None:
                    if run_manager:
                        run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call = prepare(self, messages, stop, kwargs)
        async with self._async_client().stream(**call.params) as stream:
            async for event in stream:
                if (generation := call.chunk(event, stream)) is not None:
                    if run_manager:
                        await run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation

    def generate(
        self,
        messages: list[list[BaseMessage]],
        stop: list[str] | None = None,
        callbacks: Callbacks = None,
        **kwargs: Any,
    ) -> LLMResult:
        """LangChain's `generate`, with `llm_output` holding usage summed over every answer and the model
        name (also when LangChain streamed the answers itself, which leaves `llm_output` empty)."""
        return _with_usage(super().generate(messages, stop, callbacks, **kwargs))

    async def agenerate(
        self,
        messages: list[list[BaseMessage]],
        stop: list[str] | None = None,
        callbacks: Callbacks = None,
        **kwargs: Any,
    ) -> LLMResult:
        """`generate`, async."""
        return _with_usage(await super().agenerate(messages, stop, callbacks, **kwargs))

    # --- token counting -------------------------------------------------------------------------------------

    def get_num_tokens(self, text: str) -> int:
        """Tokens of `text` sent as one user message, counted by the API (`/v1/messages/count_tokens`)."""
        if self.custom_get_token_ids is not None:
            return len(self.custom_get_token_ids(text))
        return self.get_num_tokens_from_messages([HumanMessage(text)]) if text else 0

    def get_token_ids(self, text: str) -> list[int]:
        """`custom_get_token_ids(text)` if set; the API counts tokens but never returns their ids."""
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        raise NotImplementedError(
            "ModelsLab's API counts tokens but does not return token ids: use get_num_tokens(text) or "
            "get_num_tokens_from_messages(...), or pass custom_get_token_ids= for an offline tokenizer"
        )

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Input tokens for `messages` (and `tools`), counted by the API (`/v1/messages/count_tokens`).

        It needs the network: offline, the core's `APIConnectionError` is raised.
        """
        return self._sync_client().count_tokens(**count_params(self, messages, tools))

    async def aget_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """`get_num_tokens_from_messages` without blocking the event loop."""
        return await self._async_client().count_tokens(**count_params(self, messages, tools))

    # --- tools and structured output ------------------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[Mapping[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | bool | Mapping[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools; `tool_choice`: "auto", "any" (or True / "required"), "none", a tool name or a dict."""
        wire_tools = [to_wire_tool(tool, strict=strict) for tool in tools]
        choice = to_wire_tool_choice(tool_choice, parallel_tool_calls)
        if choice is not None:
            kwargs["tool_choice"] = choice
        return self.bind(tools=wire_tools, **kwargs)

    def with_structured_output(
        self,
        schema: Mapping[str, Any] | type | None = None,
        *,
        method: StructuredMethod = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Answers parsed into `schema` (pydantic, TypedDict or JSON schema).

        `function_calling` and `json_schema` force a call of one tool whose input schema is `schema`;
        `json_mode` parses the answer text as JSON (the Messages API has no JSON mode: ask for JSON).
        """
        return structured_output(self, schema, method=method, include_raw=include_raw, strict=strict)


def _with_usage(result: LLMResult) -> LLMResult:
    answers = [g.message for gs in result.generations for g in gs if isinstance(g, ChatGeneration)]
    result.llm_output = {**(result.llm_output or {}), **llm_output(answers)}
    return result


def _with_llm_output(result: ChatResult) -> ChatResult:
    result.llm_output = dict(llm_output([generation.message for generation in result.generations]))
    return result
