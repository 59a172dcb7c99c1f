"""ModelsLab's Messages API as a LlamaIndex LLM: `from llama_index_modelslab import ModelsLab`."""

from .base import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, ModelsLab
from .catalog import CATALOG, CATALOG_IDS, DEFAULT_SPEC, ModelSpec, lookup, normalize_model_id

__all__ = [
    "CATALOG",
    "CATALOG_IDS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MODEL",
    "DEFAULT_SPEC",
    "ModelSpec",
    "ModelsLab",
    "lookup",
    "normalize_model_id",
]
