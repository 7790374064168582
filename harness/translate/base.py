"""The translator interface: a batch of texts from one language to another."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Translator(Protocol):
    """A translation engine.

    ``fingerprint()`` names everything that can change the output (engine,
    model files' hash, decoding settings) and keys the on-disk cache and the
    run signature. Language codes are ISO 639-1 (``en``, ``pt``, ``es``).
    """

    name: str

    def fingerprint(self) -> str: ...

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]: ...
