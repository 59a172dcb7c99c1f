"""The LlamaIndex adapter over the core's tolerant reading (issue 12): one catalog, absent usage, model id."""

from __future__ import annotations

import llama_index_modelslab
import llama_index_modelslab.catalog
import modelslab_core.catalog
from llama_index_modelslab import ModelsLab


def test_the_catalog_is_the_core_one() -> None:
    names = ("CATALOG", "CATALOG_IDS", "DEFAULT_SPEC", "ModelSpec", "lookup", "find", "normalize_model_id")
    for name in names:
        assert getattr(llama_index_modelslab.catalog, name) is getattr(modelslab_core.catalog, name), name
    assert llama_index_modelslab.lookup is modelslab_core.catalog.lookup


def test_metadata_of_an_id_added_to_the_core_catalog() -> None:
    metadata = ModelsLab("mistralai-Mistral-Small-24B-Instruct-2501", api_key="k").metadata
    assert (metadata.context_window, metadata.is_function_calling_model) == (32_768, True)
    assert ModelsLab("mistralai/Mixtral-8x7B-Instruct-v0.1").metadata.is_function_calling_model is False
