"""Every Python snippet in README.md runs, against the local server, exactly as a reader would paste it."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelslab_core.testing import LocalServer

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def test_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 20


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet-{i}" for i in range(len(SNIPPETS))])
def test_snippet_runs(code: str, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELSLAB_API_KEY", "local-demo-key")
    monkeypatch.setenv("MODELSLAB_BASE_URL", server.base_url)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    if "print(" in code:
        assert out.getvalue().strip(), "this README snippet prints, so it should show the reader something"
