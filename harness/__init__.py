"""harness: measure how much meaning survives in distorted English text."""

__version__ = "0.1.0"
