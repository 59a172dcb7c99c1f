"""Replay mode: recorded exchanges of the wire corpus served byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelslab_core.testing import LocalServer

from .conftest import Api

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus.jsonl"
RECORDS: list[dict[str, Any]] = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
REPLAY = [{"replay": CORPUS}]


def _same(response: Any, record: dict[str, Any]) -> None:
    assert response.status_code == record["status"]
    assert response.content == record["response_body"].encode("utf-8")
    for name, value in record["response_headers"].items():
        assert response.headers[name] == value
    assert response.headers["server"].startswith("modelslab-local/")


@pytest.mark.parametrize("modelslab_server", REPLAY, indirect=True)
async def test_every_record_by_index(api: Api) -> None:
    for index, record in enumerate(RECORDS):
        path = "/v1/messages/count_tokens" if record["meta"]["endpoint"] == "count_tokens" else "/v1/messages"
        response = await api.post(path, json={}, headers={"x-modelslab-replay": str(index)})
        _same(response, record)
        if record["is_stream"] and record["status"] == 200:
            assert response.headers.get("transfer-encoding") == "chunked"


@pytest.mark.parametrize("modelslab_server", REPLAY, indirect=True)
async def test_by_source(api: Api) -> None:
    record = RECORDS[42]
    _same(await api.post(json={}, headers={"x-modelslab-replay": record["source"]}), record)


@pytest.mark.parametrize("modelslab_server", REPLAY, indirect=True)
async def test_by_request_body(api: Api) -> None:
    bodies = [json.dumps(r["request_body"], sort_keys=True) for r in RECORDS]
    index = next(i for i, r in enumerate(RECORDS) if r["request_body"] and bodies.count(bodies[i]) == 1)
    _same(await api.post(json=RECORDS[index]["request_body"]), RECORDS[index])


@pytest.mark.parametrize("modelslab_server", REPLAY, indirect=True)
async def test_in_order_when_nothing_matches(api: Api) -> None:
    for record in RECORDS[:3]:
        _same(await api.post(json={"unmatched": True}), record)


@pytest.mark.parametrize("modelslab_server", REPLAY, indirect=True)
async def test_unknown_selector(api: Api) -> None:
    for selector in ("9999", "no/such/source"):
        response = await api.post(json={}, headers={"x-modelslab-replay": selector})
        assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("modelslab_server", REPLAY, indirect=True)
async def test_auth_and_faults_still_apply(api: Api) -> None:
    assert (await api.post(json={}, headers={"x-api-key": ""})).status_code == 401
    response = await api.post(
        json={}, headers={"x-modelslab-replay": "0", "x-modelslab-fault": "rate-limit-once"}
    )
    assert response.status_code == 429


def test_bad_corpus(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "x"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        LocalServer(replay=bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="no records"):
        LocalServer(replay=empty)
