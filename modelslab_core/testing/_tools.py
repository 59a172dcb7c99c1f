"""Tool selection and argument synthesis for the local model (pure functions, no I/O).

Arguments are built from a tool's JSON schema: required fields take values found in the user text (numbers
for integer/number fields, quoted strings then a short phrase for string fields, in order of appearance),
other fields keep their schema ``default``; anything still missing gets a type-appropriate value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Tool", "ToolCall", "build_arguments", "mentioned_tools"]

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"\"([^\"]*)\"|“([^”]*)”|(?<!\w)'([^']*)'(?!\w)")
_PHRASE = re.compile(r"\b(?:in|for|about|of|at|named|called)\s+([A-Za-z][\w-]*(?:\s+[A-Z][\w-]*){0,3})")
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Tool:
    """A client tool definition: its name and JSON schema."""

    name: str
    input_schema: Mapping[str, object]


@dataclass(frozen=True)
class ToolCall:
    """A tool call the model makes: the tool's name and its arguments."""

    name: str
    input: dict[str, object]


@dataclass
class _Values:
    """Values found in a piece of user text, consumed in order by the fields that need them."""

    numbers: list[str]
    strings: list[str]
    words: set[str] = field(default_factory=set)

    @classmethod
    def from_text(cls, text: str) -> _Values:
        strings = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
        unquoted = _QUOTED.sub(" ", text)
        phrase = _PHRASE.search(unquoted)
        if phrase is not None:
            strings.append(phrase.group(1))
        words = {w.lower() for w in re.findall(r"[\w-]+", text)}
        return cls(numbers=_NUMBER.findall(unquoted), strings=strings, words=words)


def mentioned_tools(tools: Sequence[Tool], text: str) -> list[tuple[Tool, str]]:
    """Return the tools whose name occurs in ``text``, in order of first mention, each with its text segment.

    A tool's segment runs from its mention to the next tool's mention; the first segment also holds the text
    before it, so "What is 3 + 5? Use add." gives ``add`` the numbers 3 and 5.
    """
    hits: list[tuple[int, Tool]] = []
    for tool in tools:
        spelled = {tool.name, tool.name.replace("_", " ")}
        positions = [
            m.start()
            for name in spelled
            if name
            for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)
        ]
        if positions:
            hits.append((min(positions), tool))
    hits.sort(key=lambda hit: hit[0])
    segments: list[tuple[Tool, str]] = []
    for i, (pos, tool) in enumerate(hits):
        start = 0 if i == 0 else pos
        end = hits[i + 1][0] if i + 1 < len(hits) else len(text)
        segments.append((tool, text[start:end]))
    return segments


def build_arguments(schema: Mapping[str, object], text: str) -> dict[str, object]:
    """Build a tool's ``input`` object from its JSON schema and the user ``text``."""
    value = _value(schema, _Values.from_text(text), schema, name="input", required=True, depth=0)
    return value if isinstance(value, dict) else {}


def _resolve(schema: Mapping[str, object], root: Mapping[str, object]) -> Mapping[str, object]:
    """Follow a local ``$ref`` (``#/$defs/X`` or ``#/definitions/X``) and pick the first non-null variant."""
    for _ in range(_MAX_DEPTH):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: object = root
            for part in ref[2:].split("/"):
                target = target.get(part) if isinstance(target, Mapping) else None
            schema = target if isinstance(target, Mapping) else {}
            continue
        for key in ("anyOf", "oneOf", "allOf"):
            variants = schema.get(key)
            if isinstance(variants, list):
                usable = [v for v in variants if isinstance(v, Mapping) and v.get("type") != "null"]
                if usable:
                    merged = {k: v for k, v in schema.items() if k != key}
                    schema = {**usable[0], **merged}
                    break
        else:
            return schema
    return schema


def _schema_type(schema: Mapping[str, object]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    return "object" if "properties" in schema else "string"


def _value(
    schema: Mapping[str, object],
    values: _Values,
    root: Mapping[str, object],
    *,
    name: str,
    required: bool,
    depth: int,
) -> object:
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return next((e for e in enum if isinstance(e, str) and e.lower() in values.words), enum[0])
    if not required and "default" in schema:
        return schema["default"]
    kind = _schema_type(schema)
    if kind == "object":
        return _object(schema, values, root, depth)
    if kind in ("integer", "number") and values.numbers:
        number = float(values.numbers.pop(0))
        return int(number) if kind == "integer" or number.is_integer() else number
    if kind == "string" and values.strings:
        return values.strings.pop(0)
    if "default" in schema:
        return schema["default"]
    return _fallback(kind, schema, values, root, name, depth)


def _object(
    schema: Mapping[str, object], values: _Values, root: Mapping[str, object], depth: int
) -> dict[str, object]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or depth >= _MAX_DEPTH:
        return {}
    required_list = schema.get("required")
    required = set(required_list) if isinstance(required_list, list) else set()
    result: dict[str, object] = {}
    for name, sub in properties.items():
        if not isinstance(sub, Mapping):
            continue
        is_required = name in required
        resolved = _resolve(sub, root)
        if not is_required and "default" not in resolved:
            continue
        result[str(name)] = _value(sub, values, root, name=str(name), required=is_required, depth=depth + 1)
    return result


def _fallback(
    kind: str,
    schema: Mapping[str, object],
    values: _Values,
    root: Mapping[str, object],
    name: str,
    depth: int,
) -> object:
    """A type-appropriate value: the minimum or 0, False, [], None, or the field's name for a string."""
    if kind == "integer":
        minimum = schema.get("minimum")
        return minimum if isinstance(minimum, int) and not isinstance(minimum, bool) else 0
    if kind == "number":
        minimum = schema.get("minimum")
        return minimum if isinstance(minimum, (int, float)) and not isinstance(minimum, bool) else 0
    if kind == "boolean":
        return False
    if kind == "array":
        items = schema.get("items")
        min_items = schema.get("minItems")
        if isinstance(items, Mapping) and isinstance(min_items, int) and min_items > 0:
            return [
                _value(items, values, root, name=name, required=True, depth=depth + 1)
                for _ in range(min_items)
            ]
        return []
    if kind == "null":
        return None
    return name
