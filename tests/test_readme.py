"""Every snippet of README.md and docs/*.md runs against the local server, as a reader would paste it.

Python snippets run in this process with `MODELSLAB_BASE_URL` pointing at the local server. Shell snippets run
when they can offline (the local server's command line, the catalog); every other shell line must be one of
the kinds listed in NOT_RUN, so a new command in the docs is either run here or named there.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modelslab_core import catalog
from modelslab_core.testing import LocalServer

from .doc_pages import README, ROOT, Block, name, pages, split

BLOCKS = [(page, block) for page in pages() for block in split(page.read_text(encoding="utf-8"))[0]]
PYTHON = [(page, block) for page, block in BLOCKS if block.lang == "python"]
SHELL_LANGS = {"bash", "sh", "shell", "console"}


def shell_lines() -> list[tuple[Path, Block, str]]:
    """Each command of each shell block (comments dropped; `\\` continuations joined)."""
    found = []
    for page, block in BLOCKS:
        if block.lang in SHELL_LANGS:
            for command in block.code.replace("\\\n", " ").splitlines():
                command = re.sub(r"(^|\s)#.*$", "", command).strip()
                if command:
                    found.append((page, block, command))
    return found


SHELL = shell_lines()
NOT_RUN = {
    "pip install": "installs from PyPI (the network)",
    "export ": "sets a variable for the snippets that follow, which run here against the local server",
    "make test": "the suite itself",
    "make bench": "runs for a minute; tests/test_benchmarks_smoke.py runs the harness with tiny sizes",
    "MODELSLAB_API_KEY=your-key": "records from the live API",
}
"""Shell commands the docs show that are not run here, and why."""


def _id(page: Path, block: Block) -> str:
    return f"{name(page)}:{block.line}"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def test_the_docs_have_snippets() -> None:
    assert sum(page == README for page, _ in PYTHON) >= 2  # a LangChain and a LlamaIndex example at least
    assert len(PYTHON) >= 36  # as many as the README had before the pages split it
    for page in ("docs/core.md", "docs/local-server.md", "docs/langchain.md", "docs/llama-index.md"):
        assert any(name(p) == page for p, _ in PYTHON), f"{page} shows no Python snippet"


@pytest.mark.parametrize(("page", "block"), PYTHON, ids=[_id(p, b) for p, b in PYTHON])
def test_snippet_runs(page: Path, block: Block, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELSLAB_API_KEY", "local-demo-key")
    monkeypatch.setenv("MODELSLAB_BASE_URL", server.base_url)
    monkeypatch.chdir(ROOT)  # paths in snippets (tests/data/corpus.jsonl) are from the repository root
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile("\n" * (block.line) + block.code, str(page), "exec"), {"__name__": "__readme__"})
    if "print(" in block.code:
        assert out.getvalue().strip(), (
            f"this snippet of {name(page)} prints, so it should show the reader something"
        )


TESTS = [(page, block) for page, block in PYTHON if re.search(r"^def test_", block.code, re.M)]


@pytest.mark.parametrize(("page", "block"), TESTS, ids=[_id(p, b) for p, b in TESTS])
def test_test_snippet_passes_under_pytest(page: Path, block: Block, tmp_path: Path) -> None:
    """A snippet that is a pytest test (the `modelslab_server` fixture's) passes when pytest runs it."""
    (tmp_path / "test_snippet.py").write_text(block.code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_snippet.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\b[1-9]\d* passed", run.stdout), run.stdout


def _python(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[0] == "python", command
    return [sys.executable, *words[1:]]


def _server_commands() -> list[str]:
    return [c for _, _, c in SHELL if c.startswith("python -m modelslab_core.testing") and "--help" not in c]


@pytest.mark.parametrize("command", sorted(set(_server_commands())))
def test_server_command_starts(command: str) -> None:
    """Each `python -m modelslab_core.testing ...` shown starts and prints its base URL (on a free port)."""
    words = _python(re.sub(r"--port \d+", "--port 0", command))
    with subprocess.Popen(
        words, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        pool = ThreadPoolExecutor(1)  # a server that never says it listens fails the test, not hangs it
        try:
            assert proc.stdout is not None
            first = pool.submit(proc.stdout.readline).result(timeout=60)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            pool.shutdown()
    assert first.startswith("modelslab-local listening: base_url http://127.0.0.1:"), first


def test_server_help_names_every_option_the_docs_name() -> None:
    assert "python -m modelslab_core.testing --help" in {c for _, _, c in SHELL}
    run = subprocess.run(_python("python -m modelslab_core.testing --help"), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    options = set(re.findall(r"--[a-z][a-z-]+", run.stdout)) - {"--help"}
    page = (ROOT / "docs" / "local-server.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(--[a-z][a-z-]+)", page))
    assert options == documented, (
        f"--help has {sorted(options)}, docs/local-server.md names {sorted(documented)}"
    )


def test_catalog_command_prints_the_table() -> None:
    assert "python -m modelslab_core.catalog" in {c for _, _, c in SHELL}
    run = subprocess.run(
        _python("python -m modelslab_core.catalog"), capture_output=True, text=True, check=True
    )
    assert run.stdout.startswith(catalog.format_table())


def test_make_demo_is_the_quickstart_example() -> None:
    """`make demo` runs examples/quickstart.py, which tests/test_examples.py runs and checks offline."""
    assert "make demo" in {c for _, _, c in SHELL}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe is not None and recipe.group(1).strip() == "$(BIN)/python examples/quickstart.py"


def test_every_shell_command_is_run_or_named() -> None:
    run_here = ("python -m modelslab_core.testing", "python -m modelslab_core.catalog", "make demo")
    unknown = [
        f"{name(page)}:{block.line}: {command}"
        for page, block, command in SHELL
        if not command.startswith(run_here + tuple(NOT_RUN))
    ]
    assert not unknown, "run these shell commands in this module, or add them to NOT_RUN:\n" + "\n".join(
        unknown
    )


def test_the_counts_the_docs_quote_are_the_suites() -> None:
    """README.md and docs/reliability.md quote how many faults and malformed calls the suite checks."""
    from .reliability.expected import ROWS
    from .reliability.test_bad_input import CORE, LANGCHAIN, LLAMA_INDEX

    readme = README.read_text(encoding="utf-8")
    page = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert f"the {len(ROWS)} rows of the" in readme
    malformed = len(CORE) + len(LANGCHAIN) + len(LLAMA_INDEX)
    assert f"{malformed} malformed calls" in readme
    assert f"{malformed} malformed calls ({len(CORE)} into the core" in page
    assert f"{len(LANGCHAIN)} into `ChatModelsLab`; {len(LLAMA_INDEX)} into `ModelsLab`" in page
