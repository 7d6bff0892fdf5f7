"""llmreplay: a stand-in for the LLM provider APIs."""

__version__ = "0.1.0"
__all__ = ["__version__"]
