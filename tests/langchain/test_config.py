"""`ChatModelsLab`'s constructor: auth style, LLM-cache key, unknown arguments (issue 13, items 1-3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.caches import InMemoryCache
from langchain_core.globals import set_llm_cache

from langchain_modelslab import ChatModelsLab
from modelslab_core.testing import LocalServer

from .conftest import Recorder

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"


# --- item 1: auth="bearer" -------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["x-api-key", "bearer"])
def test_auth_style_sets_the_header_sent(server: LocalServer, recorder: Recorder, auth: Any) -> None:
    model = ChatModelsLab(
        model=MODEL, base_url=server.base_url, api_key="test-key", auth=auth, http_client=recorder.client
    )
    assert model.invoke("hi").content
    headers = recorder.requests[0].headers
    if auth == "bearer":
        assert headers["authorization"] == "Bearer test-key"
        assert "x-api-key" not in headers
    else:
        assert headers["x-api-key"] == "test-key"
        assert "authorization" not in headers


def test_auth_default_is_x_api_key_and_bad_values_are_refused() -> None:
    assert ChatModelsLab(model=MODEL).auth == "x-api-key"
    with pytest.raises(ValueError, match="auth"):
        ChatModelsLab(model=MODEL, auth="basic")  # type: ignore[arg-type]


# --- item 2: the LLM cache key ----------------------------------------------------------------------------

_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("model", {"model": "meta-llama/Llama-3.3-70B-Instruct-Turbo"}),
    ("model_kwargs", {"model_kwargs": {"top_k": 5}}),
    ("thinking", {"thinking": {"type": "enabled", "budget_tokens": 1024}}),
    ("auth", {"auth": "bearer"}),
    ("default_headers", {"default_headers": {"x-trace": "1"}}),
    ("max_tokens", {"max_tokens": 77}),
    ("temperature", {"temperature": 0.5}),
    ("top_p", {"top_p": 0.5}),
    ("top_k", {"top_k": 3}),
    ("stop", {"stop": ["zzz"]}),
]


@pytest.fixture
def llm_cache() -> Iterator[InMemoryCache]:
    cache = InMemoryCache()
    set_llm_cache(cache)
    yield cache
    set_llm_cache(None)


@pytest.mark.parametrize(("field", "change"), _VARIANTS, ids=[name for name, _ in _VARIANTS])
def test_models_that_send_differently_do_not_share_a_cache_entry(
    server: LocalServer, llm_cache: InMemoryCache, field: str, change: dict[str, Any]
) -> None:
    base = {"model": MODEL, "base_url": server.base_url, "api_key": "test-key"}
    server.stats.reset()
    ChatModelsLab(**base).invoke("What is 1 + 1?")
    ChatModelsLab(**{**base, **change}).invoke("What is 1 + 1?")
    assert server.stats.requests == 2, f"a model with another {field} was served the cached answer"
    ChatModelsLab(**{**base, **change}).invoke("What is 1 + 1?")
    assert server.stats.requests == 2  # the same settings again: served from the cache


def test_base_url_is_part_of_the_cache_key(server: LocalServer, llm_cache: InMemoryCache) -> None:
    with LocalServer() as other:
        for url in (server.base_url, other.base_url):
            ChatModelsLab(model=MODEL, base_url=url, api_key="test-key").invoke("What is 2 + 2?")
        assert other.stats.requests == 1


def test_the_api_key_is_not_part_of_the_cache_key(server: LocalServer, llm_cache: InMemoryCache) -> None:
    server.stats.reset()
    for key in ("test-key-one", "test-key-two"):
        ChatModelsLab(model=MODEL, base_url=server.base_url, api_key=key).invoke("What is 3 + 3?")
    assert server.stats.requests == 1
    model = ChatModelsLab(
        model=MODEL,
        base_url=server.base_url,
        api_key="test-key-one",
        default_headers={"x-secret-header": "header-value-one"},
    )
    llm_string = model._get_llm_string()
    assert "test-key-one" not in llm_string
    assert "header-value-one" not in llm_string  # header values may be credentials: only a digest goes in


# --- item 3: unknown constructor arguments ----------------------------------------------------------------


def test_a_misspelt_argument_names_the_closest_field() -> None:
    with pytest.raises(ValueError, match=r"temprature.*did you mean `temperature`\?"):
        ChatModelsLab(model=MODEL, temprature=0.2)


def test_an_unknown_argument_without_a_close_field_is_refused() -> None:
    with pytest.raises(ValueError, match="frobnicate"):
        ChatModelsLab(model=MODEL, frobnicate=True)


def test_thinking_is_a_declared_field_sent_in_the_body(server: LocalServer, recorder: Recorder) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    model = ChatModelsLab(
        model=MODEL,
        base_url=server.base_url,
        api_key="test-key",
        thinking=thinking,
        max_tokens=2048,
        http_client=recorder.client,
    )
    assert model.thinking == thinking
    model.invoke("hi")
    assert recorder.bodies[0]["thinking"] == thinking


@pytest.mark.parametrize("field", ["service_tier", "container", "context_management"])
def test_a_request_field_moves_to_model_kwargs_with_a_warning(
    server: LocalServer, recorder: Recorder, field: str
) -> None:
    with pytest.warns(UserWarning, match=field):
        model = ChatModelsLab(
            model=MODEL,
            base_url=server.base_url,
            api_key="test-key",
            http_client=recorder.client,
            **{field: "x"},
        )
    assert model.model_kwargs == {field: "x"}
    model.invoke("hi")
    assert recorder.bodies[0][field] == "x"


def test_model_kwargs_are_sent_over_the_declared_fields(server: LocalServer, recorder: Recorder) -> None:
    model = ChatModelsLab(
        model=MODEL,
        base_url=server.base_url,
        api_key="k",
        top_k=2,
        model_kwargs={"top_k": 5},
        http_client=recorder.client,
    )
    model.invoke("hi")
    assert recorder.bodies[0]["top_k"] == 5


def test_langchain_fields_and_aliases_are_still_accepted() -> None:
    model = ChatModelsLab(model_name=MODEL, stop_sequences=["x"], tags=["a"], metadata={"run": 1})
    assert (model.model, model.stop, model.tags) == (MODEL, ["x"], ["a"])
    assert model.metadata is not None and model.metadata["run"] == 1
