"""Every internal link in README.md and docs/*.md points at a file that exists, and at a heading it has.

Anchors follow GitHub's rules (tests/doc_pages.py). Links to other sites are not followed (no network).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from .doc_pages import DOCS, README, ROOT, Link, anchors, links, name, pages

PAGES = pages()
EXPECTED_PAGES = {
    "index.md",
    "langchain.md",
    "llama-index.md",
    "core.md",
    "local-server.md",
    "reliability.md",
    "benchmarks.md",
    "what-happens-when.md",
}
"""The pages issue 16 asks for (docs/index.md gives each one a paragraph)."""


def internal(page: Path) -> list[Link]:
    return [link for link in links(page.read_text(encoding="utf-8")) if ":" not in link.target.split("/")[0]]


def resolve(page: Path, link: Link) -> tuple[Path, str]:
    """The file a link points at, and its anchor ('' when it has none)."""
    path, _, anchor = link.target.partition("#")
    return (page.parent / unquote(path)).resolve() if path else page, unquote(anchor)


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_internal_links_point_at_files_and_headings(page: Path) -> None:
    broken = []
    for link in internal(page):
        target, anchor = resolve(page, link)
        if not target.exists():
            broken.append(f"line {link.line}: {link.target} (no file {target})")
        elif not target.is_relative_to(ROOT):
            broken.append(f"line {link.line}: {link.target} (outside the repository)")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target.read_text(encoding="utf-8")):
            broken.append(f"line {link.line}: {link.target} (no heading #{anchor} in {name(target)})")
        elif anchor and target.suffix != ".md":
            broken.append(f"line {link.line}: {link.target} (an anchor into a file that is not Markdown)")
    assert not broken, f"{name(page)} has broken links:\n" + "\n".join(broken)


def test_the_pages_exist() -> None:
    assert {page.name for page in DOCS.glob("*.md")} >= EXPECTED_PAGES


def test_the_readme_and_the_index_link_every_page() -> None:
    for source in (README, DOCS / "index.md"):
        linked = {resolve(source, link)[0] for link in internal(source)}
        missing = sorted(name(p) for p in DOCS.glob("*.md") if p not in linked and p != source)
        assert not missing, f"{name(source)} does not link {missing}"


def test_every_page_links_back_to_the_index_or_readme() -> None:
    for page in DOCS.glob("*.md"):
        if page.name in ("index.md", "what-happens-when.md"):  # the generated page has no links of its own
            continue
        linked = {resolve(page, link)[0] for link in internal(page)}
        assert linked & {README, DOCS / "index.md"}, f"{name(page)} links neither README.md nor docs/index.md"


def test_the_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines; move detail to a page under docs/"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("What happens when...", "what-happens-when"),
        (
            "Switching models at run time (instead of `init_chat_model`)",
            "switching-models-at-run-time-instead-of-init_chat_model",
        ),
        (
            "Why not point ChatAnthropic or LlamaIndex's Anthropic class at ModelsLab?",
            "why-not-point-chatanthropic-or-llamaindexs-anthropic-class-at-modelslab",
        ),
        ("Tools and agents: `create_agent`, LangGraph", "tools-and-agents-create_agent-langgraph"),
        ("Caching & serialization", "caching--serialization"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert anchors(f"# {heading}\n\n## {heading}\n") == {anchor, f"{anchor}-1"}


def test_code_is_neither_heading_nor_link() -> None:
    text = "# Title\n\n```bash\n# not a heading [x](missing.md)\n```\n\n"
    text += "See `[y](missing.md)` and [z](real.md#title).\n"
    assert anchors(text) == {"title"}
    assert [link.target for link in links(text)] == ["real.md#title"]
