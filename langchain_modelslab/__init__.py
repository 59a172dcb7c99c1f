"""LangChain integration for ModelsLab: `ChatModelsLab`, a chat model over ModelsLab's Messages API."""

from .chat_models import ChatModelsLab

__all__ = ["ChatModelsLab"]
