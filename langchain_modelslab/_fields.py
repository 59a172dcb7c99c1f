"""Constructor arguments and cache identity of `ChatModelsLab`, as pure functions. No I/O.

- `sort_arguments`: LangChain's convention for arguments a model does not declare (a request field of the
  Messages API moves to `model_kwargs` with a warning; anything else is a `ValueError` naming the closest
  declared field);
- `header_digest`: `default_headers` as they may appear in a cache key or a trace (values hashed: they may be
  credentials).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Collection, Mapping
from typing import Any

from modelslab_core.params import REQUEST_FIELDS, closest_name

__all__ = ["header_digest", "sort_arguments"]

_PER_CALL = {
    "messages": "pass the messages to invoke / stream",
    "system": "pass a SystemMessage with the messages",
    "stream": "call stream() / astream(), or set streaming=True",
    "tools": "use bind_tools([...])",
    "tool_choice": "use bind_tools([...], tool_choice=...)",
}


def sort_arguments(values: Mapping[str, Any], declared: Collection[str]) -> dict[str, Any]:
    """The constructor arguments with undeclared request fields moved into `model_kwargs`.

    `declared` holds the field names and aliases of the model class. Raises `ValueError` for an argument that
    is neither declared nor a Messages request field. `model_kwargs` may hold any body field (it is merged
    last, over the declared ones), as the Messages API may grow fields before this class does.
    """
    result = dict(values)
    extra = dict(result.get("model_kwargs") or {})
    for name in list(result):
        if name in declared:
            continue
        if name in _PER_CALL:
            raise ValueError(f"`{name}` is not a ChatModelsLab argument: {_PER_CALL[name]}")
        if name in REQUEST_FIELDS:
            if name in extra:
                raise ValueError(f"{name} is given both as an argument and in model_kwargs: give it once")
            warnings.warn(
                f"{name} is not a ChatModelsLab field: it was moved to model_kwargs and is sent in every "
                f"request body; pass model_kwargs={{{name!r}: ...}} to silence this warning",
                UserWarning,
                stacklevel=2,
            )
            extra[name] = result.pop(name)
            continue
        suggestion = closest_name(name, [field for field in declared if not field.startswith("_")])
        hint = f"; did you mean `{suggestion}`?" if suggestion else " (see the ChatModelsLab fields)"
        raise ValueError(f"ChatModelsLab got an unknown argument `{name}`{hint}")
    if extra or "model_kwargs" in result:
        result["model_kwargs"] = extra
    return result


def header_digest(headers: Mapping[str, str] | None) -> list[tuple[str, str]] | None:
    """`(name, sha256 prefix of the value)` per header, sorted: what is sent, without any header's value."""
    if not headers:
        return None
    return sorted(
        (name.lower(), hashlib.sha256(value.encode()).hexdigest()[:16]) for name, value in headers.items()
    )
