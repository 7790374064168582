"""Text cleaners: the built-ins, the user's own, and running them as a chain.

Built-ins (each with a ``name`` and a ``version`` that enter the run signature):

=============  ================================================================
``unicode``    mojibake and encoding repair, quotes, dashes, invisible characters
``whitespace`` spaces, line breaks, doubled punctuation, spacing around punctuation
``injected``   foreign-language spans and off-topic keyword strings dropped in
``spin``       spinner substitutions undone from a lexicon with context rules
``casing``     lowered proper nouns, the pronoun "I", sentence starts
=============  ================================================================

A user's cleaner is named ``package.module:function`` (or registered under the
``harness.cleaners`` entry point group). A plain function ``str -> str`` is
wrapped in :class:`FunctionCleaner`; a class, or a factory that returns an
object with a ``clean`` method, is used as it is.
"""

from __future__ import annotations

import hashlib
import inspect
import traceback
from typing import Any, Callable

from ..config import DEFAULT_CLEANERS
from ..errors import ConfigError, PassageError
from ..registry import Registry
from .base import CleanResult, Cleaner, Edit
from .casing import CasingCleaner
from .injected import InjectedCleaner
from .spans import diff_edits
from .spin import SpinCleaner
from .unicode import UnicodeCleaner
from .whitespace import WhitespaceCleaner

__all__ = [
    "CLEANERS",
    "DEFAULT_CHAIN",
    "FunctionCleaner",
    "build_cleaner",
    "run_chain",
    "Cleaner",
    "CleanResult",
    "Edit",
]

CLEANERS: Registry = Registry("cleaner", "harness.cleaners")
CLEANERS.register("unicode", UnicodeCleaner)
CLEANERS.register("whitespace", WhitespaceCleaner)
CLEANERS.register("injected", InjectedCleaner)
CLEANERS.register("spin", SpinCleaner)
CLEANERS.register("casing", CasingCleaner)

#: the default chain, listed (and explained) in :data:`harness.config.DEFAULT_CLEANERS`
DEFAULT_CHAIN = DEFAULT_CLEANERS


def _source_hash(func: Callable) -> str:
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        source = f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', repr(func))}"
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class FunctionCleaner:
    """A user's function ``str -> str`` as a cleaner.

    Its version is a hash of the function's source code (of its qualified name
    when the source is not available), so editing the function changes the
    run signature. Edits are recovered with a word-level diff, rule ``name``.
    """

    def __init__(self, name: str, func: Callable[[str], str]):
        self.name = name
        self.func = func
        self.version = _source_hash(func)

    def clean(self, text: str) -> CleanResult:
        result = self.func(text)
        if not isinstance(result, str):
            raise PassageError(
                f"cleaner {self.name!r} returned {type(result).__name__}, not str",
                detail=f"{self.name}({text[:60]!r}...) -> {result!r:.200}",
            )
        return CleanResult(result, diff_edits(text, result, self.name))


def _is_text_function(obj: Any) -> bool:
    """A function of one required positional argument is a cleaner; one with
    none (only options) is a factory."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return True
    required = [
        p for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(required) == 1


def build_cleaner(spec: str, options: dict | None = None) -> Cleaner:
    """The cleaner named ``spec``: a built-in name, an entry point name, or
    ``package.module:name``. ``options`` go to the constructor or factory;
    unknown options are a :class:`~harness.errors.ConfigError`."""
    obj = CLEANERS.resolve(spec)
    options = dict(options or {})
    if inspect.isclass(obj) or (callable(obj) and not hasattr(obj, "clean") and not _is_text_function(obj)):
        try:
            made = obj(**options)
        except TypeError as exc:
            raise ConfigError(f"cleaner {spec!r}: bad options {sorted(options)} ({exc})") from None
        return _ensure_cleaner(made, spec)
    if hasattr(obj, "clean"):
        if options:
            raise ConfigError(f"cleaner {spec!r} is an object and takes no options")
        return _ensure_cleaner(obj, spec)
    if callable(obj):
        if options:
            raise ConfigError(f"cleaner {spec!r} is a plain function and takes no options")
        return FunctionCleaner(spec, obj)
    raise ConfigError(f"cleaner {spec!r} is a {type(obj).__name__}, not a function or a class")


def _ensure_cleaner(obj: Any, spec: str) -> Cleaner:
    if not callable(getattr(obj, "clean", None)):
        raise ConfigError(f"cleaner {spec!r} made a {type(obj).__name__} without a clean(text) method")
    if not getattr(obj, "name", None):
        try:
            obj.name = spec
        except AttributeError:
            pass
    if not getattr(obj, "version", None):
        try:
            obj.version = _source_hash(type(obj))
        except AttributeError:
            pass
    return obj


def run_chain(cleaners: list[Cleaner], text: str) -> tuple[str, list[dict]]:
    """Apply ``cleaners`` in order; returns the final text and every edit.

    Each edit is a dict with ``cleaner``, ``start``, ``end``, ``before``,
    ``after`` and ``rule``; its span indexes the text *that cleaner* received.
    A cleaner that raises, or returns something other than a str or a
    :class:`CleanResult`, fails the passage with a
    :class:`~harness.errors.PassageError` that carries the traceback.
    """
    edits: list[dict] = []
    for cleaner in cleaners:
        name = getattr(cleaner, "name", type(cleaner).__name__)
        try:
            result = cleaner.clean(text)
        except PassageError:
            raise
        except Exception as exc:
            raise PassageError(f"cleaner {name!r} raised {type(exc).__name__}: {exc}",
                               detail=traceback.format_exc()) from None
        if isinstance(result, str):
            result = CleanResult(result, diff_edits(text, result, name))
        if not isinstance(result, CleanResult) or not isinstance(result.text, str):
            raise PassageError(f"cleaner {name!r} returned {type(result).__name__}, not str or CleanResult")
        for edit in result.edits:
            edits.append({"cleaner": name, **edit.to_dict()})
        text = result.text
    return text, edits
