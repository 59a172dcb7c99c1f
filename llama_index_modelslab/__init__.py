"""LlamaIndex integration for ModelsLab."""
