"""Constructor arguments and cache identity of `ChatModelsLab`, as pure functions. No I/O.

- `sort_arguments`: LangChain's convention for arguments a model does not declare (a request field of the
  Messages API moves to `model_kwargs` with a warning; anything else is a `ValueError` naming the closest
  declared field);
- `header_digest`: `default_headers` as they may appear in a cache key or a trace (values hashed: they may be
  credentials);
- `to_profile`, `default_max_tokens`: what `modelslab_core.catalog` says of a model, in LangChain's terms.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Collection, Mapping
from typing import Any

from langchain_core.language_models.model_profile import ModelProfile

from modelslab_core import catalog
from modelslab_core.params import REQUEST_FIELDS, closest_name

__all__ = [
    "UNKNOWN_MODEL_MAX_TOKENS",
    "default_max_tokens",
    "drop_derived_profile",
    "header_digest",
    "sort_arguments",
    "to_profile",
]

UNKNOWN_MODEL_MAX_TOKENS = 1024
"""`max_tokens` for a model the catalog lacks (the figure every request used before the catalog)."""

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


def default_max_tokens(model: str) -> int:
    """`max_tokens` when the caller sets none: the catalog's output limit, 1024 for models it lacks."""
    spec = catalog.find(model)
    return spec.num_output if spec is not None else UNKNOWN_MODEL_MAX_TOKENS


def to_profile(model: str) -> ModelProfile | None:
    """LangChain's `ModelProfile` from the catalog entry of `model`; None when the catalog lacks it."""
    spec = catalog.find(model)
    if spec is None:
        return None
    return ModelProfile(
        name=model,
        max_input_tokens=spec.context_window,
        max_output_tokens=spec.num_output,
        text_inputs=True,
        image_inputs=spec.vision,
        image_url_inputs=spec.vision,
        image_tool_message=spec.vision,
        pdf_inputs=False,  # no ModelsLab source documents document blocks
        pdf_tool_message=False,
        audio_inputs=False,
        video_inputs=False,
        text_outputs=True,
        image_outputs=False,
        audio_outputs=False,
        video_outputs=False,
        reasoning_output=spec.reasoning,
        tool_calling=spec.function_calling,
        tool_choice=spec.function_calling,
        tool_call_streaming=spec.function_calling,
        structured_output=spec.function_calling,  # with_structured_output forces a tool call
        mid_conversation_system_messages=True,  # system messages anywhere are joined into `system`
        temperature=True,
    )


def drop_derived_profile(values: dict[str, Any]) -> dict[str, Any]:
    """The arguments without a `profile` that is the catalog's for another model.

    LangChain rebuilds a model from its attributes (`configurable_fields(model=...)`), so the profile derived
    for the old model would arrive as if the user had given it; a profile the user wrote is kept.
    """
    profile, model = values.get("profile"), values.get("model", values.get("model_name"))
    name = profile.get("name") if isinstance(profile, Mapping) else None
    if isinstance(name, str) and name != model and profile == to_profile(name):
        return {key: value for key, value in values.items() if key != "profile"}
    return values
