"""Round-trip retranslation with pluggable engines.

Built-in backends: ``bergamot`` (bundled en<->pt, the default), ``apertium``
(Debian rule-based engine), ``transformers`` (a local seq2seq model
directory), ``ctranslate2`` (a local converted model; optional extra) and
``none`` (no retranslation). Others register in the ``harness.translators``
entry-point group or are named as ``package.module:Class`` in the config; the
object is called with the backend options as keyword arguments and must
return a :class:`~harness.translate.base.Translator`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..registry import Registry
from .base import DirectionChecked, Translator
from .config import NO_BACKEND, DirectionConfig, RetranslationConfig

if TYPE_CHECKING:  # pragma: no cover
    from .cache import TranslationCache
    from .roundtrip import RoundTrip

#: The built-in backends: name -> where the class lives (imported on first use,
#: so importing this package or the run config loads no engine). This is the one
#: registration of a built-in backend.
BUILTIN_TRANSLATORS: dict[str, str] = {
    "bergamot": "harness.translate.bergamot:BergamotTranslator",
    "apertium": "harness.translate.apertium:ApertiumTranslator",
    "transformers": "harness.translate.hf:TransformersTranslator",
    "ctranslate2": "harness.translate.ct2:CTranslate2Translator",
}
TRANSLATORS: Registry[Translator] = Registry("translator", "harness.translators", declared=BUILTIN_TRANSLATORS)
# What ``from harness.translate import X`` gives, imported when first asked for.
_LAZY = {
    "Hop": "roundtrip", "RoundTrip": "roundtrip", "RoundTripResult": "roundtrip", "RoundTripStats": "roundtrip",
    "Stage": "roundtrip", "TranslationCache": "cache", "default_cache_dir": "cache", "open_cache": "cache",
    "settings_digest": "fingerprint",
}

__all__ = [
    "TRANSLATORS",
    "DirectionConfig",
    "Hop",
    "RetranslationConfig",
    "RoundTrip",
    "RoundTripResult",
    "RoundTripStats",
    "TranslationCache",
    "Translator",
    "build_round_trip",
    "build_translator",
    "default_cache_dir",
    "open_cache",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_builtins() -> None:
    """Import and register the built-in backends (once, on first use)."""
    for name, spec in BUILTIN_TRANSLATORS.items():
        if name not in TRANSLATORS.builtin_names():
            module, _, attribute = spec.partition(":")
            TRANSLATORS.register(name, getattr(importlib.import_module(module), attribute))


def build_translator(backend: str, options: dict[str, Any]) -> Translator:
    """Resolve ``backend`` (built-in, entry point or ``package.module:Class``) and
    construct it with ``options``."""
    register_builtins()
    factory = TRANSLATORS.resolve(backend)
    try:
        translator = factory(**options)
    except TypeError as exc:  # a third-party factory that does not take these options
        raise ConfigError(f"translator {backend!r} rejected its options {sorted(options)} ({exc})") from None
    if not isinstance(translator, Translator):
        raise ConfigError(
            f"translator {backend!r} built a {type(translator).__name__}, which lacks "
            f"name / fingerprint() / translate_batch(texts, src, tgt)"
        )
    return translator


def build_round_trip(config: RetranslationConfig, cache: TranslationCache | None = None) -> RoundTrip | None:
    """The configured round trip, or None for ``backend: none``.

    Every hop's backend is built and asked whether it can do its language
    pair, so a missing engine or model fails here, before any passage is run.
    Hops with the same backend and options share one translator (one loaded
    model, one thread pool).
    """
    from .fingerprint import settings_digest
    from .roundtrip import RoundTrip, Stage

    if config.backend == NO_BACKEND:
        return None
    shared: dict[tuple[str, str], Translator] = {}
    stages = []
    for src, tgt in config.hops():
        backend, options = config.direction(src, tgt)
        key = (backend, settings_digest(options))
        translator = shared.get(key)
        if translator is None:
            translator = shared[key] = build_translator(backend, options)
        if isinstance(translator, DirectionChecked):
            translator.check_direction(src, tgt)
        stages.append(Stage(src, tgt, backend, translator))
    return RoundTrip(stages, config, cache)
