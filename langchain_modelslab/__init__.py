"""LangChain integration for ModelsLab: `ChatModelsLab`, a chat model over ModelsLab's Messages API.

`ChatModelsLab` is loaded on first use (PEP 562): `import langchain_modelslab` alone stays cheap, and the
first `from langchain_modelslab import ChatModelsLab` pays for LangChain's `BaseChatModel` machinery.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chat_models import ChatModelsLab

__all__ = ["ChatModelsLab"]


def __getattr__(name: str) -> Any:
    if name == "ChatModelsLab":
        from .chat_models import ChatModelsLab

        return ChatModelsLab
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
