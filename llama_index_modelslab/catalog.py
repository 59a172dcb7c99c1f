"""The model catalog, from `modelslab_core.catalog`: re-exported so `llama_index_modelslab.catalog` works."""

from __future__ import annotations

from modelslab_core.catalog import (
    CATALOG,
    CATALOG_IDS,
    DEFAULT_SPEC,
    ModelSpec,
    find,
    lookup,
    normalize_model_id,
)

__all__ = ["CATALOG", "CATALOG_IDS", "DEFAULT_SPEC", "ModelSpec", "find", "lookup", "normalize_model_id"]
