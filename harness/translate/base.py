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


# Optional capabilities. A translator may implement any of these; the round
# trip uses them when present (checked with ``isinstance``), so a minimal
# third-party translator needs only ``name``, ``fingerprint`` and
# ``translate_batch``.


@runtime_checkable
class DescribedTranslator(Protocol):
    """Says what it runs, for the run signature and ``harness cache info``.

    ``describe()`` returns JSON-able facts: ``{"backend": ..., "model": <short
    label>, ...decoding settings}``. It must not load the model.
    """

    def describe(self) -> dict: ...


@runtime_checkable
class DirectionChecked(Protocol):
    """Refuses, before any text is translated, a language pair it cannot do.

    ``check_direction`` raises ``ModelError`` / ``BackendUnavailable`` with a
    one-line reason.
    """

    def check_direction(self, src: str, tgt: str) -> None: ...


@runtime_checkable
class LengthLimited(Protocol):
    """Has a maximum input length in tokens (a sequence-to-sequence model).

    The round trip splits a longer sentence at clause, then word, boundaries
    and reports it, so that nothing is truncated silently.
    """

    def max_input_tokens(self, src: str, tgt: str) -> int | None: ...

    def count_tokens(self, texts: list[str], src: str, tgt: str) -> list[int]: ...


@runtime_checkable
class AnnotatingTranslator(Protocol):
    """Can say, per text, what went wrong that the text alone does not show
    (an output cut at the decoding length limit). The round trip prefers this
    to ``translate_batch`` and reports the notes with the sentence."""

    def translate_batch_annotated(self, texts: list[str], src: str, tgt: str) -> list[tuple[str, list[str]]]: ...


@runtime_checkable
class Loadable(Protocol):
    """Optional: a translator whose models can be loaded before the first
    batch, so that the progress display shows loading as its own step
    (otherwise they load on first use)."""

    def load(self, src: str, tgt: str) -> None: ...

