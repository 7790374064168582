"""harness: measure how much meaning survives in distorted English text."""

from .plugins import plugin

__version__ = "0.1.0"
__all__ = ["plugin", "__version__"]
