"""LangChain integration for ModelsLab."""
