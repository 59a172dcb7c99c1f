"""Unclosed sockets, transports and event loops, as a test sees them: the ResourceWarnings of a block."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def resource_warnings() -> Iterator[list[str]]:
    """Collect the ResourceWarnings raised in the block and by the garbage it leaves (collected at its end).

    Garbage from before the block is collected first, so it is not counted; the list fills as the block ends.
    """
    leaked: list[str] = []
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield leaked
        gc.collect()
    leaked += [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
