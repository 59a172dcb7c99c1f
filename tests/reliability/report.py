"""Numbers the reliability tests measured, printed at the end of the pytest session (see conftest)."""

from __future__ import annotations

LINES: list[str] = []


def note(line: str) -> None:
    """Add a line to the session's "reliability" summary."""
    LINES.append(line)
