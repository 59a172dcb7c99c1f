"""No cassette may hold an API key: not as a header, not as a body field, not as a key-like string."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
SECRET_HEADERS = {"x-api-key", "authorization", "api-key", "proxy-authorization", "cookie"}
SECRET_FIELDS = {"key", "api_key", "apikey", "api-key", "x-api-key", "token", "access_token", "secret"}
KEY_LIKE = re.compile(r"sk-ant-[\w-]{8,}|\bsk-[A-Za-z0-9_-]{20,}|\bBearer\s+[\w.~+/-]{8,}")
"""Known key prefixes (Anthropic, OpenAI style) and bearer tokens: searched in the whole request."""
TOKEN = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])[A-Za-z0-9]{40,80}$")
"""A header value or URL part that is one 40-80 character mixed-case alphanumeric token (ModelsLab keys)."""


def cassette_files() -> list[Path]:
    return sorted(p for p in CASSETTES.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _body_fields(body: Any) -> Iterator[str]:
    """Field names of a JSON request body, at any depth."""
    if isinstance(body, dict):
        for key, item in body.items():
            yield str(key).lower()
            yield from _body_fields(item)
    elif isinstance(body, list):
        for item in body:
            yield from _body_fields(item)


def problems(path: Path) -> list[str]:
    """Every reason the cassette at ``path`` may leak a key."""
    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    found = []
    live_key = os.environ.get("MODELSLAB_API_KEY")
    if live_key and len(live_key) >= 8 and live_key in text:
        found.append("contains the value of MODELSLAB_API_KEY")
    for number, interaction in enumerate((document or {}).get("interactions", [])):
        request = interaction.get("request", {})
        for name in request.get("headers", {}) or {}:
            if name.lower() in SECRET_HEADERS:
                found.append(f"interaction {number}: request header {name}")
        body = request.get("body")
        raw = body.get("string") if isinstance(body, dict) else body
        try:
            parsed = json.loads(raw) if raw else None
        except (ValueError, TypeError):
            parsed = None
        found.extend(
            f"interaction {number}: body field {field!r}"
            for field in _body_fields(parsed)
            if field in SECRET_FIELDS
        )
        if "key=" in str(request.get("uri", "")).lower():
            found.append(f"interaction {number}: key in the URL")
        for string in _strings([request, interaction.get("response", {}).get("headers", {})]):
            found.extend(
                f"interaction {number}: key-like {m.group(0)[:12]}..." for m in KEY_LIKE.finditer(string)
            )
        headers = [request.get("headers") or {}, interaction.get("response", {}).get("headers") or {}]
        parts = [*_strings(headers), *re.split(r"[/?&=]", str(request.get("uri", "")))]
        found.extend(
            f"interaction {number}: key-like token {p[:8]}..." for p in parts if TOKEN.match(p.strip())
        )
    return found


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_has_no_keys(path: Path) -> None:
    assert problems(path) == []


def test_there_are_cassettes_to_scan() -> None:
    assert cassette_files()


@pytest.mark.parametrize(
    ("header", "body"),
    [
        ({"x-api-key": ["anything"]}, "{}"),
        ({"Authorization": ["Bearer abc"]}, "{}"),
        ({}, '{"key": "x", "model": "m"}'),
        ({}, '{"messages": [{"content": "my key is sk-ant-api03-AbCdEf0123456789"}]}'),
        ({"user-agent": ["7uQoDkX2mPz9RtYb4NcVw1LsHe8JfGa3QiUoZx6KdTr5EyBn"]}, "{}"),
    ],
)
def test_the_scanner_catches_keys(tmp_path: Path, header: dict[str, list[str]], body: str) -> None:
    cassette = {
        "interactions": [{"request": {"headers": header, "body": body, "uri": "https://x/"}, "response": {}}]
    }
    path = tmp_path / "leak.yaml"
    path.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    assert problems(path)


def test_the_scanner_passes_recorded_ids_and_images(tmp_path: Path) -> None:
    body = json.dumps(
        {
            "id": "msg_local_d68daab5c80aae4cd2fcb2bb",
            "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
        }
    )
    cassette = {
        "interactions": [{"request": {"headers": {"host": ["modelslab.com"]}, "body": body}, "response": {}}]
    }
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    assert problems(path) == []
