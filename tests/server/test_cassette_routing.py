"""The cassette wiring: requests to the real endpoint are recorded (from the local server without a key)
and replayed from ``cassettes/server/test_cassette_routing/`` with the network blocked."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from modelslab_core.testing import LocalServer
from tests.conftest import route_to_local_server, scrub_request

from .conftest import body

URL = "https://modelslab.com/api/v7/llm/v1/messages"


def _headers() -> dict[str, str]:
    return {
        "x-api-key": os.environ.get("MODELSLAB_API_KEY", "replayed-key"),
        "anthropic-version": "2023-06-01",
    }


def _check(response: httpx.Response, local_answer: str) -> None:
    assert response.status_code == 200, response.text
    if response.headers.get("server", "").startswith("modelslab-local/"):
        assert local_answer in response.text
    else:  # recorded from the live API: the text is the model's own
        assert "message" in response.text


@pytest.mark.vcr
def test_sync_request_through_a_cassette() -> None:
    with httpx.Client(timeout=30) as client:
        response = client.post(URL, json=body("What is 3 + 5?", max_tokens=64), headers=_headers())
    _check(response, '"text":"3 + 5 = 8."')
    assert response.json()["type"] == "message"


@pytest.mark.vcr
async def test_async_stream_through_a_cassette() -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        request = body("What is 3 + 5?", max_tokens=64, stream=True)
        async with client.stream("POST", URL, json=request, headers=_headers()) as response:
            await response.aread()
    _check(response, '"text":" 8."')
    assert response.text.startswith("event: message_start")
    assert response.headers["content-type"].startswith("text/event-stream")


def test_routing_sends_live_requests_to_the_local_server() -> None:
    with LocalServer() as server, route_to_local_server(server), httpx.Client() as client:
        response = client.post(URL, json=body("What is 3 + 5?"), headers={"x-api-key": "k"})
    assert response.headers["server"].startswith("modelslab-local/")
    assert response.json()["content"][0]["text"] == "3 + 5 = 8."
    assert str(response.request.url) == URL
    assert server.stats.by_path == {"/api/v7/llm/v1/messages": 1}


def test_vcr_config(vcr_config: dict[str, Any], vcr_cassette_dir: str) -> None:
    assert "record_mode" not in vcr_config
    assert set(vcr_config["filter_headers"]) == {"x-api-key", "authorization"}
    assert vcr_cassette_dir.endswith(os.path.join("cassettes", "server", "test_cassette_routing"))
    assert os.path.isabs(vcr_cassette_dir)


def test_uuid4_is_scrubbed_from_bodies() -> None:
    class Request:
        body: Any = (
            b'{"id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "n": "12345678-1234-1234-1234-123456789012"}'
        )

    scrubbed = scrub_request(Request())
    assert (
        scrubbed.body
        == b'{"id": "00000000-0000-4000-8000-000000000000", "n": "12345678-1234-1234-1234-123456789012"}'
    )
