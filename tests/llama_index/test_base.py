"""Unit tests of `ModelsLab` that send no request: class shape, metadata, secrecy, tool preparation."""

from __future__ import annotations

import inspect
import json
import logging

import pytest
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    LLMMetadata,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import FunctionTool

import llama_index_modelslab
from llama_index_modelslab import CATALOG, DEFAULT_SPEC, ModelsLab, lookup, normalize_model_id

from .conftest import multiply

SECRET = "sk-very-secret-value-123"


def test_is_a_function_calling_llm() -> None:
    names = [cls.__name__ for cls in ModelsLab.__mro__]
    assert BaseLLM.__name__ in names and FunctionCallingLLM.__name__ in names
    assert issubclass(ModelsLab, FunctionCallingLLM)


def test_all_names_exist() -> None:
    for name in llama_index_modelslab.__all__:
        assert hasattr(llama_index_modelslab, name), name


@pytest.mark.parametrize(
    ("model", "context_window", "function_calling"),
    [
        ("Qwen/Qwen2.5-VL-72B-Instruct-together", 32_768, True),
        ("Qwen-Qwen2.5-VL-72B-Instruct-together", 32_768, True),
        ("Qwen/Qwen2.5-72B-Instruct-Turbo", 32_768, True),
        ("Qwen-Qwen2.5-72B-Instruct-Turbo", 32_768, True),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", 131_072, True),
        ("meta-llama-Llama-3.3-70B-Instruct-Turbo", 131_072, True),
        ("meta-llama/Llama-3.1-70B-Instruct", 131_072, True),
        ("meta-llama-3-8B-instruct", 8_192, False),
        ("deepseek-ai/DeepSeek-R1", 131_072, False),
        ("deepseek-ai-DeepSeek-R1-Distill-Llama-70B", 131_072, False),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 131_072, False),
        ("gemini-2.5-pro", 1_048_576, True),
        ("GEMINI-2.5-PRO", 1_048_576, True),
    ],
)
def test_metadata_from_the_catalog(model: str, context_window: int, function_calling: bool) -> None:
    metadata = ModelsLab(model, api_key="k").metadata
    assert metadata.context_window == context_window
    assert metadata.is_function_calling_model is function_calling
    assert metadata.is_chat_model is True
    assert metadata.model_name == model
    assert metadata.num_output == ModelsLab(model).max_tokens


def test_every_entry_names_its_source_and_both_styles_meet() -> None:
    for spec in CATALOG.values():
        assert spec.source and spec.context_window > spec.num_output > 0
    assert normalize_model_id("Qwen/Qwen2.5-VL-72B-Instruct-together") == normalize_model_id(
        "Qwen-Qwen2.5-VL-72B-Instruct-together"
    )


def test_unknown_model_gets_the_default_and_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    llm = ModelsLab("some-org/brand-new-model-unit-test")
    with caplog.at_level(logging.WARNING, logger="llama_index_modelslab"):
        first = llm.metadata
        second = llm.metadata
    assert first == second
    assert first.context_window == DEFAULT_SPEC.context_window
    assert first.is_function_calling_model is True
    assert len([r for r in caplog.records if "brand-new-model-unit-test" in r.getMessage()]) == 1
    assert lookup("some-org/brand-new-model-unit-test") is DEFAULT_SPEC


def test_user_overrides_win() -> None:
    llm = ModelsLab(
        "deepseek-ai/DeepSeek-R1", context_window=4000, is_function_calling_model=True, max_tokens=77
    )
    metadata = llm.metadata
    assert (metadata.context_window, metadata.is_function_calling_model, metadata.num_output) == (
        4000,
        True,
        77,
    )
    assert (
        ModelsLab("gemini-2.5-pro", is_function_calling_model=False).metadata.is_function_calling_model
        is False
    )


def test_to_payload_is_cached_but_follows_the_settings_and_is_a_copy() -> None:
    llm = ModelsLab("deepseek-ai/DeepSeek-R1", api_key="k", max_tokens=77)
    expected = {"class_name": "ModelsLab_LLM", **llm.metadata.model_dump()}
    first = llm.to_payload()
    assert first == expected and first["context_window"] == 131_072
    first["model_name"] = "changed by a caller"
    assert llm.to_payload() == expected
    llm.context_window, llm.max_tokens = 4000, 5
    assert llm.to_payload() == {"class_name": "ModelsLab_LLM", **llm.metadata.model_dump()}
    assert (llm.to_payload()["context_window"], llm.to_payload()["num_output"]) == (4000, 5)
    assert SECRET not in json.dumps(ModelsLab(api_key=SECRET).to_payload(), default=str)


def test_to_payload_of_a_subclass_uses_its_metadata() -> None:
    class Custom(ModelsLab):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name="custom")

    assert Custom(api_key="k").to_payload()["model_name"] == "custom"


def test_api_key_never_leaves_the_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELSLAB_API_KEY", SECRET)
    for llm in (ModelsLab(api_key=SECRET), ModelsLab()):
        assert llm._api_key is not None and llm._api_key.get_secret_value() == SECRET
        for text in (repr(llm), str(llm), llm.to_json(), json.dumps(llm.to_dict(), default=str)):
            assert SECRET not in text
        assert SECRET not in str(llm.model_dump())
        assert "api_key" not in llm.to_dict()


def test_missing_key_fails_at_the_first_call_not_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELSLAB_API_KEY", raising=False)
    llm = ModelsLab()
    assert llm.metadata.context_window > 0
    with pytest.raises(ValueError, match="MODELSLAB_API_KEY"):
        llm.chat([ChatMessage(role="user", content="hi")])


def test_bad_arguments_are_value_errors_before_any_request() -> None:
    llm = ModelsLab(api_key="k", base_url="https://example.invalid/api/v7/llm")
    with pytest.raises(ValueError, match="temperature"):
        llm.chat([ChatMessage(role="user", content="hi")], temperature=3)
    with pytest.raises(ValueError, match="messages"):
        llm.stream_chat([ChatMessage(role="system", content="only a system prompt")])


async def test_clients_are_created_once_and_cached() -> None:
    llm = ModelsLab(api_key="k")
    assert llm.client is llm.client
    assert llm.async_client is llm.async_client


def test_astream_chat_is_a_coroutine_function() -> None:
    assert inspect.iscoroutinefunction(ModelsLab.astream_chat)
    assert inspect.iscoroutinefunction(ModelsLab.astream_complete)


def test_prepare_chat_with_tools_keeps_user_message_and_history() -> None:
    llm = ModelsLab(api_key="k")
    history = [ChatMessage(role="user", content="earlier"), ChatMessage(role="assistant", content="ok")]
    user_msg = ChatMessage(role=MessageRole.USER, blocks=[TextBlock(text="now")])
    prepared = llm._prepare_chat_with_tools(
        [FunctionTool.from_defaults(multiply)],
        user_msg=user_msg,
        chat_history=history,
        tool_choice="multiply",
    )
    assert len(history) == 2
    assert prepared["messages"] == [*history, user_msg]
    assert prepared["tool_choice"] == {"type": "tool", "name": "multiply"}  # nothing undocumented added
    assert prepared["tools"][0]["name"] == "multiply"


def test_structured_output_arguments_force_a_tool_call() -> None:
    llm = ModelsLab(api_key="k")
    prepared = llm._prepare_chat_with_tools(
        [FunctionTool.from_defaults(multiply)], user_msg="hi", tool_required=True, tool_choice=None
    )
    assert prepared["tool_choice"]["type"] == "any"
    assert prepared["messages"][0].content == "hi"


def test_get_tool_calls_honours_error_on_no_tool_call() -> None:
    llm = ModelsLab(api_key="k")
    text_only = ChatResponse(message=ChatMessage(role="assistant", content="no tools"))
    assert llm.get_tool_calls_from_response(text_only, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="tool call"):
        llm.get_tool_calls_from_response(text_only)
    block = ToolCallBlock(tool_call_id="t1", tool_name="multiply", tool_kwargs={"a": 2, "b": 3})
    [call] = llm.get_tool_calls_from_response(
        ChatResponse(message=ChatMessage(role="assistant", blocks=[block]))
    )
    assert (call.tool_id, call.tool_name, call.tool_kwargs) == ("t1", "multiply", {"a": 2, "b": 3})


def test_an_injected_http_client_is_used_and_never_serialized() -> None:
    import httpx
    from llama_index.core.llms import ChatMessage

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        body = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "hi"}],
            "model": "m",
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
        return httpx.Response(200, json=body)

    http_client = httpx.Client(transport=httpx.MockTransport(handler))
    llm = ModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together", api_key="k", http_client=http_client)
    assert llm.chat([ChatMessage(role="user", content="hello")]).message.content == "hi"
    assert seen == ["/api/v7/llm/v1/messages"]
    assert "http_client" not in llm.to_dict() and "http_client" not in llm.model_dump()
    assert not http_client.is_closed


async def test_list_models_asks_the_api() -> None:
    from modelslab_core.testing import MODELS, LocalServer

    with LocalServer() as server:
        llm = ModelsLab(model="Qwen/Qwen2.5-VL-72B-Instruct-together", api_key="k", base_url=server.base_url)
        ids = [model.id for model in llm.list_models()]
        assert ids == [model.id for model in await llm.alist_models()]
        assert sum(n for path, n in server.stats.by_path.items() if path.endswith("/v1/models")) == 2
        await llm.aclose()
    assert ids == [model_id for model_id, _owner in MODELS]
