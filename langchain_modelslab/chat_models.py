"""`ChatModelsLab`: LangChain's chat model interface over `modelslab_core`'s Messages client.

The class is a shell: it merges its fields with call-time arguments (`_params`), hands the request to the core
client, and turns answers into LangChain messages with the pure functions of `_convert`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun, Callbacks
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.language_models.chat_models import agenerate_from_stream, generate_from_stream
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, convert_to_messages
from langchain_core.messages.block_translators import register_translator
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, LLMResult
from langchain_core.runnables import Runnable
from langchain_core.utils import from_env, secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from typing_extensions import Self

from modelslab_core import AsyncClient, Client, CountTokensParams
from modelslab_core.clients import ClientCache, ClientOptions

from ._convert import (
    PROVIDER,
    JSONObject,
    to_ai_message,
    to_v1_blocks,
    to_v1_chunk_blocks,
    to_wire_messages,
    to_wire_tool,
    to_wire_tool_choice,
)
from ._fields import default_max_tokens, header_digest, sort_arguments, to_profile
from ._results import llm_output, to_chat_result, warn_if_cut
from ._stream import ChunkState, to_chunk
from ._structured import StructuredMethod, structured_output

__all__ = ["ChatModelsLab"]

register_translator(PROVIDER, to_v1_blocks, to_v1_chunk_blocks)

_REQUEST_KEYS = ("max_tokens", "temperature", "top_p", "top_k", "tools", "tool_choice", "metadata")


class ChatModelsLab(BaseChatModel):
    """A ModelsLab LLM (Messages API) as a LangChain chat model.

    `ChatModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together")` reads the key from `MODELSLAB_API_KEY`.
    Invalid arguments raise `ValueError` on the first call, before any request is sent.
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
        return sort_arguments(values, declared)

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
        """Every setting that changes what is sent (the LLM cache key, traces); never the key."""
        return {
            "model": self.model,
            "base_url": self.base_url,
            "auth": self.auth,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "stop_sequences": self.stop,  # not "stop": LangChain overwrites that key with the call's stop
            "thinking": self.thinking,
            "model_kwargs": self.model_kwargs,
            "default_headers": header_digest(self.default_headers),
            "streaming": self.streaming,
        }

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

    def _params(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> JSONObject:
        """Keyword arguments for the core's `create` / `stream`: fields overlaid with call-time arguments."""
        system, wire_messages = to_wire_messages(messages)
        model = kwargs.pop("model", None) or self.model
        params: JSONObject = {
            "model": model,
            "messages": wire_messages,
            "system": system,
            "max_tokens": self._max_tokens(model),
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "stop_sequences": (stop if stop is not None else self.stop) or None,
        }
        kwargs.pop("stream_usage", None)
        params.update((key, kwargs.pop(key)) for key in _REQUEST_KEYS if key in kwargs)
        if params["max_tokens"] is None:  # a call's max_tokens=None: the default, as for the field
            params["max_tokens"] = default_max_tokens(model)
        thinking = {"thinking": self.thinking} if self.thinking is not None else {}
        extra = {**thinking, **self.model_kwargs, **kwargs.pop("extra_body", {}), **kwargs}
        params["extra_body"] = extra or None
        return params

    def _checked(self, message: AIMessage, params: JSONObject, defaulted: bool) -> AIMessage:
        if defaulted:
            warn_if_cut(message, params["model"], params["max_tokens"])
        return message

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            result = generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
            return _with_llm_output(result)
        defaulted = self._defaulted(kwargs)
        params = self._params(messages, stop, kwargs)
        message = to_ai_message(self._sync_client().create(**params))
        return to_chat_result(self._checked(message, params, defaulted))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            result = await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))
            return _with_llm_output(result)
        defaulted = self._defaulted(kwargs)
        params = self._params(messages, stop, kwargs)
        message = to_ai_message(await self._async_client().create(**params))
        return to_chat_result(self._checked(message, params, defaulted))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        usage, defaulted = kwargs.get("stream_usage", self.stream_usage), self._defaulted(kwargs)
        params = self._params(messages, stop, kwargs)
        state = ChunkState(as_blocks=bool(params.get("tools")))
        with self._sync_client().stream(**params) as stream:
            for event in stream:
                if (chunk := to_chunk(event, state, stream)) is not None:
                    generation = _generation(self._checked(chunk, params, defaulted), usage)
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
        usage, defaulted = kwargs.get("stream_usage", self.stream_usage), self._defaulted(kwargs)
        params = self._params(messages, stop, kwargs)
        state = ChunkState(as_blocks=bool(params.get("tools")))
        async with self._async_client().stream(**params) as stream:
            async for event in stream:
                if (chunk := to_chunk(event, state, stream)) is not None:
                    generation = _generation(self._checked(chunk, params, defaulted), usage)
                    if run_manager:
                        await run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation

    def _defaulted(self, kwargs: Mapping[str, Any]) -> bool:
        return kwargs.get("max_tokens", self.max_tokens) is None

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
        return self._sync_client().count_tokens(**self._count_params(messages, tools))

    async def aget_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """`get_num_tokens_from_messages` without blocking the event loop."""
        return await self._async_client().count_tokens(**self._count_params(messages, tools))

    def _count_params(self, messages: list[BaseMessage], tools: Sequence[Any] | None) -> CountTokensParams:
        system, wire_messages = to_wire_messages(convert_to_messages(messages))
        wire_tools = [to_wire_tool(tool) for tool in tools] if tools else None
        return {"model": self.model, "messages": wire_messages, "system": system, "tools": wire_tools}

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


def _generation(chunk: Any, with_usage: bool) -> ChatGenerationChunk:
    if not with_usage and chunk.usage_metadata is not None:
        chunk.usage_metadata = None
    return ChatGenerationChunk(message=chunk)
