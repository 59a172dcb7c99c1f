"""What `ChatModelsLab` knows and reports about its model: `.profile`, the default `max_tokens`, token counts,
`llm_output` (issue 13, items 9-12)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from langchain_modelslab import ChatModelsLab
from modelslab_core import catalog
from modelslab_core.testing import LocalServer

from .conftest import Recorder

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
_PROFILE_KEYS = {
    "max_input_tokens",
    "max_output_tokens",
    "tool_calling",
    "structured_output",
    "image_inputs",
    "reasoning_output",
}


# --- item 9: .profile ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", catalog.CATALOG_IDS)
def test_every_catalog_model_has_a_none_free_profile(model_id: str) -> None:
    profile = ChatModelsLab(model=model_id).profile
    spec = catalog.find(model_id)
    assert profile is not None and spec is not None
    assert set(profile) >= _PROFILE_KEYS
    assert all(value is not None for value in profile.values())
    assert profile["max_input_tokens"] == spec.context_window
    assert profile["max_output_tokens"] == spec.num_output
    assert profile["tool_calling"] is spec.function_calling
    assert profile["image_inputs"] is spec.vision
    assert profile["reasoning_output"] is spec.reasoning


def test_profile_reads_both_naming_styles_and_is_none_for_unknown_ids() -> None:
    slash = ChatModelsLab(model="deepseek-ai/DeepSeek-R1").profile
    dash = ChatModelsLab(model="deepseek-ai-DeepSeek-R1").profile
    assert slash is not None and dash is not None and slash["reasoning_output"] is True
    assert {**slash, "name": "-"} == {**dash, "name": "-"}
    assert (slash["name"], dash["name"]) == ("deepseek-ai/DeepSeek-R1", "deepseek-ai-DeepSeek-R1")
    assert ChatModelsLab(model="someone/unknown-model").profile is None


def test_a_profile_given_by_the_user_wins() -> None:
    profile = {"max_input_tokens": 4096, "tool_calling": False}
    assert ChatModelsLab(model=MODEL, profile=profile).profile == profile


# --- item 10: max_tokens=None and the default ---------------------------------------------------------------


@pytest.mark.parametrize("given", [{}, {"max_tokens": None}])
def test_the_default_max_tokens_is_the_catalog_output_limit(
    server: LocalServer, recorder: Recorder, given: dict[str, Any]
) -> None:
    model = ChatModelsLab(
        model=MODEL, base_url=server.base_url, api_key="test-key", http_client=recorder.client, **given
    )
    model.invoke("hi")
    model.invoke("hi", model="deepseek-ai/DeepSeek-R1")  # a call's model= gets its own limit
    model.invoke("hi", model="someone/unknown-model")
    assert [body["max_tokens"] for body in recorder.bodies] == [8192, 32768, 1024]
    assert model._get_ls_params()["ls_max_tokens"] == 8192


def test_an_explicit_max_tokens_is_sent(server: LocalServer, recorder: Recorder) -> None:
    model = ChatModelsLab(
        model=MODEL, base_url=server.base_url, api_key="k", max_tokens=5, http_client=recorder.client
    )
    model.invoke("hi")
    model.invoke("hi", max_tokens=7)
    assert [body["max_tokens"] for body in recorder.bodies] == [5, 7]


@pytest.mark.parametrize("streaming", [False, True])
def test_an_answer_cut_at_the_default_limit_warns_once_per_model(
    server: LocalServer, caplog: pytest.LogCaptureFixture, streaming: bool
) -> None:
    # an unknown model gets 1024 tokens: ask for more than that
    model_id = f"someone/unknown-model-{streaming}"
    model = ChatModelsLab(model=model_id, base_url=server.base_url, api_key="k", streaming=streaming)
    with caplog.at_level(logging.WARNING, logger="langchain_modelslab"):
        first = model.invoke("count to 1100")
        model.invoke("count to 1100")
    assert first.response_metadata["stop_reason"] == "max_tokens"
    warnings = [r for r in caplog.records if r.name == "langchain_modelslab" and "max_tokens" in r.msg]
    assert len(warnings) == 1
    assert model_id in warnings[0].getMessage() and "1024" in warnings[0].getMessage()


def test_no_warning_when_the_caller_chose_the_limit(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k", max_tokens=3)
    with caplog.at_level(logging.WARNING, logger="langchain_modelslab"):
        assert model.invoke("count to 9").response_metadata["stop_reason"] == "max_tokens"
    assert not [r for r in caplog.records if r.name == "langchain_modelslab"]


# --- item 11: token counting --------------------------------------------------------------------------------


def test_get_num_tokens_counts_text_on_the_server(server: LocalServer) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k")
    server.stats.reset()
    assert model.get_num_tokens("one two three four") == 4
    assert [n for p, n in server.stats.by_path.items() if p.endswith("/v1/messages/count_tokens")] == [1]
    assert model.get_num_tokens("") == 0


async def test_aget_num_tokens_from_messages(server: LocalServer) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k")
    messages = [SystemMessage("one two"), HumanMessage("three four five")]
    assert await model.aget_num_tokens_from_messages(messages) == 5
    assert await model.aget_num_tokens_from_messages(messages) == model.get_num_tokens_from_messages(messages)


def test_token_ids_are_a_clear_error_and_never_an_import_error() -> None:
    model = ChatModelsLab(model=MODEL, api_key="k")
    with pytest.raises(NotImplementedError, match="get_num_tokens"):
        model.get_token_ids("hello")
    counted = ChatModelsLab(model=MODEL, api_key="k", custom_get_token_ids=lambda text: text.split())
    assert counted.get_token_ids("a b c") == ["a", "b", "c"]
    assert counted.get_num_tokens("a b c") == 3  # offline: the caller's tokenizer, no request


def test_counting_without_a_server_is_a_connection_error() -> None:
    from modelslab_core import APIConnectionError

    model = ChatModelsLab(model=MODEL, base_url="http://127.0.0.1:9", api_key="k", max_retries=0)
    with pytest.raises(APIConnectionError):
        model.get_num_tokens("hello")


# --- item 12: llm_output ------------------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [False, True])
def test_generate_puts_summed_usage_and_the_model_name_in_llm_output(
    server: LocalServer, streaming: bool
) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k", streaming=streaming)
    result = model.generate([[HumanMessage("count to 3")], [HumanMessage("count to 5")]])
    assert result.llm_output is not None
    assert result.llm_output["model_name"] == MODEL
    usage = result.llm_output["usage"]
    assert usage["output_tokens"] == 3 + 5
    each = [g[0].message.usage_metadata for g in result.generations]  # type: ignore[attr-defined]
    assert usage["input_tokens"] == sum(u["input_tokens"] for u in each)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert result.llm_output["token_usage"] == {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
    }


async def test_agenerate_fills_llm_output_too(server: LocalServer) -> None:
    model = ChatModelsLab(model=MODEL, base_url=server.base_url, api_key="k")
    result = await model.agenerate([[HumanMessage("count to 2")]])
    assert result.llm_output is not None and result.llm_output["usage"]["output_tokens"] == 2
