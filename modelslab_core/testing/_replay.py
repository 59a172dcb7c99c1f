"""Replay mode: serve recorded exchanges from a JSONL corpus byte for byte.

Each record has ``source``, ``request_body`` (object or null), ``status``, ``response_headers``,
``response_body`` (text) and ``is_stream``. A request picks its record by the ``x-modelslab-replay`` header
(an index or a source), else by an equal request body, else the records are served in order.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Record", "ReplayCorpus"]


@dataclass(frozen=True)
class Record:
    """One recorded exchange."""

    source: str
    request_body: object
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    is_stream: bool


class ReplayCorpus:
    """The records of a JSONL corpus, and the cursor for serving them in order."""

    def __init__(self, path: str | Path) -> None:
        """Load every record of the JSONL file at ``path``."""
        self.records: list[Record] = []
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                self.records.append(
                    Record(
                        source=str(raw["source"]),
                        request_body=raw.get("request_body"),
                        status=int(raw["status"]),
                        headers=tuple(
                            (str(k).lower(), str(v)) for k, v in dict(raw["response_headers"]).items()
                        ),
                        body=str(raw["response_body"]).encode("utf-8"),
                        is_stream=bool(raw.get("is_stream", False)),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a corpus record ({exc})") from exc
        if not self.records:
            raise ValueError(f"{path}: no records")
        self._by_source = {record.source: record for record in self.records}
        self._cursor = 0
        self._lock = threading.Lock()

    def select(self, selector: str | None, body: bytes) -> Record | None:
        """The record for a request: by selector (index or source), else by equal JSON body, else the next.

        Returns None when ``selector`` names no record.
        """
        if selector:
            selector = selector.strip()
            if selector.isdigit():
                index = int(selector)
                return self.records[index] if index < len(self.records) else None
            return self._by_source.get(selector)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        if parsed is not None:
            for record in self.records:
                if record.request_body == parsed:
                    return record
        with self._lock:
            record = self.records[self._cursor % len(self.records)]
            self._cursor += 1
        return record
