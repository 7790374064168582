"""Name -> implementation lookup shared by cleaners, translators and metrics.

A name resolves in this order:

1. a built-in registered with :meth:`Registry.register`;
2. an installed entry point in the registry's group (``harness.cleaners``,
   ``harness.translators``, ``harness.metrics``);
3. an import path ``package.module:attribute``: the user's own plugin, which
   must be marked with ``@harness.plugin`` (see :mod:`harness.plugins`);
   anything of the standard library is refused before it is imported.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Any, Callable, Generic, Mapping, TypeVar

from .errors import ConfigError
from .plugins import REFUSAL_HINT, is_plugin, stdlib_module

T = TypeVar("T")


def import_object(spec: str, what: str = "object") -> Any:
    """Import ``package.module:attribute`` (dots allowed after the colon).

    No trust check: :meth:`Registry.resolve` adds it for names that come
    from configs, baselines and the command line."""
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise ConfigError(f"{what} {spec!r} is not of the form package.module:name")
    try:
        obj: Any = _import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{what} {spec!r}: cannot import module {module_name!r} ({exc})") from None
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"{what} {spec!r}: module {module_name!r} has no attribute {attr_path!r}") from None
    return obj


def import_plugin(spec: str, what: str = "object") -> Any:
    """Import ``package.module:name`` only if it names a harness plugin.

    Refused with a :class:`ConfigError`: a module of Python's standard
    library or ``builtins`` (before importing it), a dunder attribute in the
    path (``f.__globals__``), and an object not marked with
    ``@harness.plugin``."""
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise ConfigError(f"{what} {spec!r} is not of the form package.module:name")
    stdlib = stdlib_module(module_name)
    if stdlib is not None:
        raise ConfigError(f"{what} {spec!r} refused: {stdlib!r} is part of Python's standard library, "
                          f"not a harness plugin; {REFUSAL_HINT}")
    if any(part.startswith("__") for part in attr_path.split(".")):
        raise ConfigError(f"{what} {spec!r} refused: names a dunder attribute; {REFUSAL_HINT}")
    obj = import_object(spec, what)
    if not is_plugin(obj):
        raise ConfigError(f"{what} {spec!r} refused: it is not marked as a harness plugin (decorate it with "
                          f"@harness.plugin); {REFUSAL_HINT}")
    return obj


def _import_module(module_name: str):
    """Import a user's module; like ``python -m``, the working directory counts,
    so a plugin in the current folder works from the ``harness`` script too."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        cwd = os.getcwd()
        if exc.name != module_name.split(".")[0] or cwd in sys.path:
            raise
        sys.path.append(cwd)
        return importlib.import_module(module_name)


class Registry(Generic[T]):
    """Built-ins by name, then entry points, then ``package.module:name``."""

    def __init__(self, kind: str, entry_point_group: str, declared: Mapping[str, str] | None = None):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._builtins: dict[str, Callable[..., T] | T] = {}
        #: built-ins known by name before they are imported: name -> "module:attribute"
        self._declared: dict[str, str] = dict(declared or {})

    def register(self, name: str, factory: Any | None = None):
        """Register ``factory`` under ``name``; usable as a decorator."""

        def decorate(obj):
            self._builtins[name] = obj
            return obj

        return decorate(factory) if factory is not None else decorate

    def builtin_names(self) -> list[str]:
        return sorted(self._builtins)

    def _entry_points(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=self.entry_point_group)}

    def names(self) -> list[str]:
        return sorted(set(self._builtins) | set(self._declared) | set(self._entry_points()))

    def check(self, name: str) -> None:
        """Raise the :class:`ConfigError` that :meth:`resolve` would, without
        importing a declared built-in (reading a config loads no implementation)."""
        if name not in self._builtins and name not in self._declared:
            self.resolve(name)

    def resolve(self, name: str) -> Any:
        """The registered object (class, factory or function) for ``name``."""
        if name in self._builtins:
            return self._builtins[name]
        if name in self._declared:
            module, _, attribute = self._declared[name].partition(":")
            return self.register(name, getattr(importlib.import_module(module), attribute))
        if ":" in name:
            return import_plugin(name, what=self.kind)
        eps = self._entry_points()
        if name in eps:
            try:
                return eps[name].load()
            except Exception as exc:  # a broken third-party plugin is a config problem
                raise ConfigError(f"{self.kind} {name!r}: entry point failed to load ({exc})") from None
        known = self.names()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown {self.kind} {name!r}{hint} (known: {', '.join(known)}; "
            f"or package.module:name of a function or class marked @harness.plugin)"
        )
