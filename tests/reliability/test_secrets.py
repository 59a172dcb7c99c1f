"""A known fake API key must not appear anywhere a key could leak: object reprs and dumps, LangChain and
LlamaIndex serialization, exception messages, DEBUG logs of every logger (httpx and httpcore included), or the
recorded cassettes.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modelslab_core import AsyncClient, AuthenticationError, Client, ModelsLabError
from modelslab_core.testing import LocalServer

from .paths import MODEL, PATHS, adapter_missing
from .paths import Path as CallPath

SECRET = "sk-test-SECRET-1234567890"
ROOT = Path(__file__).resolve().parents[2]
# keys other tests of this repository use; none may reach a cassette either
KNOWN_TEST_KEYS = (SECRET, "sk-test-Zq8vW2nX5-DO-NOT-LEAK", "local-server-key", "sk-test-reliability")


def leaks(text: str) -> bool:
    """The key, or a recognisable part of it (a truncation or a prefix-stripped copy), is in `text`."""
    return SECRET in text or SECRET[3:] in text or "1234567890" in text


@pytest.fixture(scope="module")
def strict_server() -> Iterator[LocalServer]:
    """A server that accepts only the key "other", so our key gets a 401."""
    with LocalServer(api_key="other") as running:
        yield running


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records propagate here
    for name in (
        "httpx",
        "httpcore",
        "modelslab_core",
        "langchain_core",
        "llama_index",
        "urllib3",
        "asyncio",
    ):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        lines.append(repr(getattr(record, "__dict__", {})))
    return "\n".join(lines)


# --- objects and their serializations -----------------------------------------------------------------------


def core_views(base_url: str) -> list[tuple[str, str]]:
    views = []
    for cls in (Client, AsyncClient):
        client = cls(api_key=SECRET, base_url=base_url)
        views += [
            (f"{cls.__name__} repr", repr(client)),
            (f"{cls.__name__} str", str(client)),
            (f"{cls.__name__} config repr", repr(client._config)),
            (f"{cls.__name__} vars", repr({k: v for k, v in vars(client).items() if k != "_http"})),
        ]
        if cls is Client:
            client.close()
        else:
            asyncio.run(client.aclose())
    return views


def langchain_views(base_url: str) -> list[tuple[str, str]]:
    from langchain_core.load import dumpd, dumps

    from langchain_modelslab import ChatModelsLab

    llm = ChatModelsLab(model=MODEL, api_key=SECRET, base_url=base_url)
    views = [
        ("repr", repr(llm)),
        ("str", str(llm)),
        ("model_dump", repr(llm.model_dump())),
        ("model_dump_json", llm.model_dump_json()),
        ("dumpd", repr(dumpd(llm))),
        ("dumps", dumps(llm)),
        ("dumps pretty", dumps(llm, pretty=True)),
        ("_get_ls_params", repr(llm._get_ls_params())),
        ("_identifying_params", repr(llm._identifying_params)),
        ("to_json", repr(llm.to_json())),
        ("bound tools dumps", dumps(llm.bind_tools([{"name": "f", "description": "d", "input_schema": {}}]))),
    ]
    llm.close()
    return views


def llama_index_views(base_url: str) -> list[tuple[str, str]]:
    from llama_index_modelslab import ModelsLab

    llm = ModelsLab(model=MODEL, api_key=SECRET, base_url=base_url)
    return [
        ("repr", repr(llm)),
        ("str", str(llm)),
        ("model_dump", repr(llm.model_dump())),
        ("model_dump_json", llm.model_dump_json()),
        ("to_dict", repr(llm.to_dict())),
        ("to_json", llm.to_json()),
        ("to_payload", repr(llm.to_payload()) if hasattr(llm, "to_payload") else ""),
        ("metadata", repr(llm.metadata)),
        ("client repr", repr(llm.client)),
    ]


VIEWS: list[tuple[str, Callable[[str], list[tuple[str, str]]]]] = [
    ("core", core_views),
    ("langchain", langchain_views),
    ("llama_index", llama_index_views),
]


@pytest.mark.parametrize(("adapter", "views"), VIEWS, ids=[v[0] for v in VIEWS])
def test_no_view_of_a_configured_object_holds_the_key(
    server: LocalServer, adapter: str, views: Callable[[str], list[tuple[str, str]]]
) -> None:
    if (missing := adapter_missing(adapter)) is not None:
        pytest.skip(missing)
    shown = views(server.base_url)
    assert len(shown) >= 4
    leaked = [name for name, text in shown if leaks(text)]
    assert not leaked, f"the key appears in: {leaked}"


def test_the_key_from_the_environment_does_not_leak_either(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSLAB_API_KEY", SECRET)
    texts = [repr(Client(base_url=server.base_url))]
    if adapter_missing("langchain") is None:
        from langchain_core.load import dumps

        from langchain_modelslab import ChatModelsLab

        llm = ChatModelsLab(model=MODEL, base_url=server.base_url)
        texts += [repr(llm), llm.model_dump_json(), dumps(llm)]
    if adapter_missing("llama_index") is None:
        from llama_index_modelslab import ModelsLab

        index_llm = ModelsLab(model=MODEL, base_url=server.base_url)
        texts += [repr(index_llm), index_llm.to_json(), repr(index_llm.to_dict())]
    assert not any(leaks(text) for text in texts)


# --- calls: the 401 error, and DEBUG logs of failed and successful calls ---


def error_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for attr in ("body", "message", "request_id", "args"):
        texts.append(repr(getattr(exc, attr, None)))
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        texts += error_texts(cause)
    return texts


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_a_401_names_no_key_in_its_error_or_logs(
    strict_server: LocalServer, debug_logs: pytest.LogCaptureFixture, path: CallPath
) -> None:
    if (missing := adapter_missing(path.adapter)) is not None:
        pytest.skip(missing)
    result = path(strict_server, None, api_key=SECRET, max_retries=1)
    assert type(result.error) is AuthenticationError, repr(result.error)
    assert isinstance(result.error, ModelsLabError)
    assert "invalid x-api-key" in str(result.error)  # the server's words are quoted...
    assert not any(leaks(text) for text in error_texts(result.error))  # ...but never the key
    assert debug_logs.records, "nothing was logged at DEBUG: the check would be empty"
    assert not leaks(log_text(debug_logs))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_debug_logs_of_a_successful_call_with_a_retry_hold_no_key(
    server: LocalServer, debug_logs: pytest.LogCaptureFixture, path: CallPath
) -> None:
    if (missing := adapter_missing(path.adapter)) is not None:
        pytest.skip(missing)
    key = f"secrets-{path.name}"
    result = path(server, f"rate-limit-once;retry-after=0;key={key}", api_key=SECRET)
    assert result.error is None, repr(result.error)
    assert any("retrying" in r.getMessage() for r in debug_logs.records)  # the client's own DEBUG line
    assert any(r.name.startswith(("httpx", "httpcore")) for r in debug_logs.records)
    assert not leaks(log_text(debug_logs))


# --- cassettes ---------------------------------------------------------------------------------------------


def test_no_cassette_holds_a_key_or_an_auth_header() -> None:
    files = [
        p for p in (ROOT / "cassettes").rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json")
    ]
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        lowered = text.lower()
        assert not any(key in text for key in KNOWN_TEST_KEYS), file
        assert "x-api-key:" not in lowered and "authorization:" not in lowered, file
        assert "bearer " not in lowered, file


def test_recording_through_the_suite_config_filters_the_key(
    server: LocalServer, vcr_config: dict[str, Any], tmp_path: Path
) -> None:
    """Record a call with the suite's own vcrpy settings and read the file: the key must not be in it."""
    import vcr

    recorder = vcr.VCR(**vcr_config, cassette_library_dir=str(tmp_path), record_mode="all")
    with recorder.use_cassette("secret.yaml"):
        for cls_call in (PATHS[0], PATHS[1]):
            assert cls_call(server, None, api_key=SECRET).error is None
        with Client(api_key=SECRET, base_url=server.base_url, auth="bearer") as client:
            client.create(model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    text = (tmp_path / "secret.yaml").read_text(encoding="utf-8")
    assert "/v1/messages" in text  # something was recorded
    assert not leaks(text)
