"""`with_structured_output` for `ChatModelsLab`: a tool call forced (or JSON text) and its parser. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import LanguageModelInput
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough

from ._convert import to_wire_tool

if TYPE_CHECKING:
    from .chat_models import ChatModelsLab

__all__ = ["StructuredMethod", "structured_output"]

StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]


def structured_output(
    model: ChatModelsLab,
    schema: Mapping[str, Any] | type | None,
    *,
    method: StructuredMethod,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[LanguageModelInput, Any]:
    """The runnable `ChatModelsLab.with_structured_output` returns (see its docstring)."""
    from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
    from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
    from langchain_core.utils.function_calling import convert_to_json_schema
    from langchain_core.utils.pydantic import is_basemodel_subclass

    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    parser: Runnable[Any, Any]
    llm: Runnable[LanguageModelInput, Any]
    if method == "json_mode":
        llm = model.bind(ls_structured_output_format={"kwargs": {"method": method}, "schema": schema})
        parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
    elif method in ("function_calling", "json_schema"):
        if schema is None:
            raise ValueError(f"with_structured_output(method={method!r}) needs a schema")
        tool = to_wire_tool(schema, strict=strict)
        llm = model.bind_tools(
            [tool],
            tool_choice=tool["name"],
            strict=strict,
            ls_structured_output_format={
                "kwargs": {"method": method, "strict": strict},
                "schema": convert_to_json_schema(schema),  # type: ignore[arg-type]
            },
        )
        if is_pydantic:
            parser = PydanticToolsParser(tools=[schema], first_tool_only=True)
        else:
            parser = JsonOutputKeyToolsParser(key_name=tool["name"], first_tool_only=True)
    else:
        raise ValueError(f"method must be 'function_calling', 'json_schema' or 'json_mode', got {method!r}")
    if not include_raw:
        return llm | parser
    parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
    fallback = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parsed.with_fallbacks([fallback], exception_key="parsing_error")
