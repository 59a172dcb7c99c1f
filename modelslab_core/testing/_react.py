"""ReAct-format answers (pure): for agents that describe tools in the prompt instead of sending `tools`.

LlamaIndex's `ReActAgent` lists each tool as `> Tool Name: NAME / Tool Description / Tool Args: SCHEMA` in
the system prompt, parses `Thought / Action / Action Input` from the reply, runs the tool and sends its result
back as a user turn starting with `Observation:`. The rule answers in that format: an action for the tool the
user names (else the first), then, once an observation arrives, an answer that quotes it.
"""

from __future__ import annotations

import json
import re

from ._tools import build_arguments

__all__ = ["react_answer"]

# the description may span several lines (a docstring); the args are one line of JSON schema
_TOOL = re.compile(r"^> Tool Name: (\S+)\s*\nTool Description:[\s\S]*?\nTool Args: ([^\n]*)$", re.MULTILINE)


def _schema(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def react_answer(system: str, text: str) -> str | None:
    """The next ReAct step for the last user `text`, or None when `system` does not ask for ReAct."""
    if "Action Input:" not in system:
        return None
    tools = [(name, _schema(args)) for name, args in _TOOL.findall(system)]
    if not tools:
        return None
    if text.lstrip().startswith("Observation:"):
        result = text.split("Observation:", 1)[1].strip()
        return (
            "Thought: I can answer without using any more tools. I'll use the user's language to answer\n"
            f"Answer: The tool returned {result}."
        )
    named = [tool for tool in tools if re.search(rf"\b{re.escape(tool[0])}\b", text)]
    name, schema = (named or tools)[0]
    arguments = build_arguments(schema, text)
    return (
        "Thought: The current language of the user is: English. I need to use a tool to help me answer the "
        f"question.\nAction: {name}\nAction Input: {json.dumps(arguments)}"
    )
