"""`ChatModelsLab` through LangChain's serialization: `dumpd`/`dumps`, `load`/`loads` (issue 13, item 8)."""

from __future__ import annotations

import json

import pytest
from langchain_core.load import dumpd, dumps, load, loads

from langchain_modelslab import ChatModelsLab
from modelslab_core.testing import LocalServer

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"


def _model(server: LocalServer) -> ChatModelsLab:
    return ChatModelsLab(
        model=MODEL,
        base_url=server.base_url,
        api_key="test-secret-key",
        auth="bearer",
        temperature=0.5,
        stop=["zzz"],
        thinking={"type": "enabled", "budget_tokens": 1024},
        max_tokens=2048,
        model_kwargs={"top_k": 4},
    )


def test_dumps_and_loads_rebuild_an_equal_model_without_the_key(server: LocalServer) -> None:
    model = _model(server)
    text = dumps(model)
    assert "test-secret-key" not in text
    assert json.loads(text)["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["MODELSLAB_API_KEY"]}
    rebuilt = loads(
        text,
        secrets_map={"MODELSLAB_API_KEY": "test-secret-key"},
        valid_namespaces=["langchain_modelslab"],
        allowed_objects=[ChatModelsLab],  # langchain-core's default allowlist holds its own classes only
    )
    assert isinstance(rebuilt, ChatModelsLab)
    assert rebuilt.model_dump() == model.model_dump()
    assert rebuilt.api_key is not None and rebuilt.api_key.get_secret_value() == "test-secret-key"
    assert rebuilt._identifying_params == model._identifying_params
    assert rebuilt.invoke("What is 1 + 1?").content == "1 + 1 = 2."


def test_the_default_allowlist_refuses_the_class_with_langchains_own_message() -> None:
    with pytest.raises(ValueError, match="allowed_objects"):
        loads(dumps(ChatModelsLab(model=MODEL)), valid_namespaces=["langchain_modelslab"])


def test_dumpd_names_a_stable_import_path() -> None:
    data = dumpd(ChatModelsLab(model=MODEL, api_key="test-secret-key"))
    assert data["type"] == "constructor"
    assert data["id"] == ["langchain_modelslab", "ChatModelsLab"]
    assert data["kwargs"]["model"] == MODEL
    assert "test-secret-key" not in json.dumps(data)


def test_load_with_an_explicit_allowlist_and_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODELSLAB_API_KEY", "env-secret-key")
    data = dumpd(ChatModelsLab(model=MODEL, api_key="test-secret-key", timeout=5))
    rebuilt = load(
        data, allowed_objects=[ChatModelsLab], valid_namespaces=["langchain_modelslab"], secrets_from_env=True
    )
    assert rebuilt.timeout == 5
    assert rebuilt.api_key.get_secret_value() == "env-secret-key"
