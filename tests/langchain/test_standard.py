"""LangChain's standard test suites for `ChatModelsLab`.

The unit suite needs no HTTP. The integration suite replays cassettes recorded against the default base URL
(`https://modelslab.com/api/v7/llm`): with `MODELSLAB_API_KEY` set, `--record-mode=once` records the live API;
without it, `tests/conftest.py` routes the recording to the local server.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_modelslab import ChatModelsLab

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"
OTHER_MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
_NEEDS_DOWNLOAD = (
    "the test downloads its sample file from the internet with httpx; the download cannot be recorded on a "
    "machine without internet access (re-record with network access to enable it)"
)


class TestChatModelsLabUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatModelsLab

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": MODEL}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        env = {"MODELSLAB_API_KEY": "env-key", "MODELSLAB_BASE_URL": "https://example.test/api/v7/llm"}
        return env, {"model": MODEL}, {"api_key": "env-key", "base_url": "https://example.test/api/v7/llm"}

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return OTHER_MODEL

    @pytest.mark.xfail(
        strict=True,
        raises=ValueError,  # "Deserialization of ('langchain_modelslab', 'ChatModelsLab') is not allowed"
        reason="langchain-core's load() admits only the classes of its own mapping, even with "
        "allowed_objects='all'; the snapshot part runs and passes, and tests/langchain/test_serialization.py "
        "checks the round trip with allowed_objects=[ChatModelsLab]",
    )
    def test_serdes(self, model: BaseChatModel, snapshot: Any) -> None:
        super().test_serdes(model, snapshot)


@pytest.mark.vcr(allow_playback_repeats=True)  # test_stream_time replays its stream many times
class TestChatModelsLabIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatModelsLab

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # replay needs some key: the cassettes hold none, and no request leaves the machine
        return {"model": MODEL, "api_key": os.environ.get("MODELSLAB_API_KEY", "replay-key")}

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return OTHER_MODEL

    @pytest.mark.xfail(reason=_NEEDS_DOWNLOAD)
    def test_image_inputs(self, model: BaseChatModel) -> None:
        super().test_image_inputs(model)

    @pytest.mark.xfail(reason=_NEEDS_DOWNLOAD)
    def test_image_tool_message(self, model: BaseChatModel) -> None:
        super().test_image_tool_message(model)

    @pytest.mark.xfail(reason=_NEEDS_DOWNLOAD + " (test_end_to_end covers these inputs with a local image)")
    def test_anthropic_inputs(self, model: BaseChatModel) -> None:
        super().test_anthropic_inputs(model)
