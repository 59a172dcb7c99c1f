"""Just enough Markdown for the documentation tests: fenced blocks, headings, links and GitHub's anchors.

README.md and every `docs/*.md` page are read the way GitHub renders them: text inside a fenced block (```)
is code, never a heading or a link; a heading's anchor is made by GitHub's rules (github-slugger).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def pages() -> list[Path]:
    """README.md, then every page under docs/, in name order."""
    return [README, *sorted(DOCS.glob("*.md"))]


def name(page: Path) -> str:
    """A page's path from the repository root, as tests name it (`docs/core.md`)."""
    return page.relative_to(ROOT).as_posix()


@dataclass(frozen=True)
class Block:
    """One fenced block: its info string (`python`, `bash`, ...), its text and the line it starts on."""

    lang: str
    code: str
    line: int


_FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")


def split(text: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """The fenced blocks of `text`, and its other lines (line number, text) outside any block."""
    blocks: list[Block] = []
    prose: list[tuple[int, str]] = []
    fence: str | None = None
    lang, start, body = "", 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if fence is None and match:
            fence, lang, start, body = match.group(1), match.group(2), number, []
        elif fence is not None and line.strip().startswith(fence) and not line.strip()[len(fence) :].strip():
            blocks.append(Block(lang, "".join(f"{b}\n" for b in body), start))
            fence = None
        elif fence is not None:
            body.append(line)
        else:
            prose.append((number, line))
    if fence is not None:
        raise ValueError(f"a fenced block opened on line {start} is never closed")
    return blocks, prose


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK_TEXT = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_NOT_SLUG = re.compile(r"[^\w\- ]", re.UNICODE)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces as hyphens."""
    text = _LINK_TEXT.sub(r"\1", heading)
    text = text.replace("`", "").replace("*", "")
    return _NOT_SLUG.sub("", text.strip().lower()).replace(" ", "-")


def headings(text: str) -> list[str]:
    """The headings outside fenced blocks, as written (without the leading #s)."""
    return [m.group(2) for _, line in split(text)[1] if (m := _HEADING.match(line))]


def anchors(text: str) -> set[str]:
    """Every anchor GitHub gives the page's headings (a repeated heading gets `-1`, `-2`, ...)."""
    seen: dict[str, int] = {}
    result: set[str] = set()
    for heading in headings(text):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


@dataclass(frozen=True)
class Link:
    """A link or image target written in a page's prose, and the line it is on."""

    target: str
    line: int


def links(text: str) -> list[Link]:
    """Every inline link and image target outside code (fenced blocks and `code spans`)."""
    found: list[Link] = []
    for number, line in split(text)[1]:
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            found.append(Link(match.group(1), number))
    return found
