"""Name -> implementation lookup shared by cleaners, translators and metrics.

A name resolves in this order:

1. a built-in registered with :meth:`Registry.register`;
2. an installed entry point in the registry's group (``harness.cleaners``,
   ``harness.translators``, ``harness.metrics``);
3. an import path ``package.module:attribute`` (the user's own plugin).
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Any, Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def import_object(spec: str, what: str = "object") -> Any:
    """Import ``package.module:attribute`` (dots allowed after the colon)."""
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

    def __init__(self, kind: str, entry_point_group: str):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._builtins: dict[str, Callable[..., T] | T] = {}

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
        return sorted(set(self._builtins) | set(self._entry_points()))

    def resolve(self, name: str) -> Any:
        """The registered object (class, factory or function) for ``name``."""
        if name in self._builtins:
            return self._builtins[name]
        if ":" in name:
            return import_object(name, what=self.kind)
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
            f"or give package.module:name)"
        )
