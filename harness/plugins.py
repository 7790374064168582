"""Which code a name in a config, a baseline or on the command line may run.

A config or a baseline is a data file: people commit it, review it as data,
and hand it to ``harness regress`` in CI. A name in it must never be able to
run arbitrary code, so a ``package.module:name`` spec loads only an object
that *declares itself* a harness plugin::

    import harness

    @harness.plugin
    def fix_quotes(text: str) -> str:
        return text.replace("``", '"')

The same decorator marks a cleaner (function, class or factory), a metric
(function or :class:`~harness.metrics.Metric` subclass) and a translator
class. Built-in names and installed entry points (``harness.cleaners``,
``harness.metrics``, ``harness.translators``) are trusted as they are:
installing a package is the trust decision.

Everything else is refused with one line: any callable of Python's standard
library or builtins (``os:system``, ``builtins:exec``, ``subprocess:run``),
refused before its module is even imported, and any object that carries no
marker (a function of a third-party package, a function your module merely
imported).

What a spec can still do: import the named module (running its top-level
code, as any ``import`` does) from the Python path or the working directory,
then call the marked object on each passage. Use configs and baselines that
name your own modules, from folders you trust.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any, TypeVar

T = TypeVar("T")

#: The attribute the decorator sets; only the value ``True`` found in an
#: object's own ``__dict__`` (or a class's, along its MRO) counts, so an
#: object cannot claim it through ``__getattr__``.
MARK = "__harness_plugin__"


def plugin(obj: T) -> T:
    """Mark ``obj`` (a function, a class or an object) as a harness plugin, so
    that a config, a baseline or ``--cleaner`` may name it as
    ``package.module:name``. Returns ``obj`` unchanged (use as a decorator)."""
    try:
        setattr(obj, MARK, True)
    except (AttributeError, TypeError):
        raise TypeError(f"@harness.plugin cannot mark a {type(obj).__name__}: wrap it in a function "
                        f"of your own module") from None
    return obj


def _own(namespace_owner: Any) -> bool:
    try:
        return vars(namespace_owner).get(MARK) is True
    except TypeError:  # no __dict__
        return False


def is_plugin(obj: Any) -> bool:
    """Whether ``obj`` was marked with :func:`plugin`: a function itself, a
    class itself or through a marked base class, an object through its class,
    a bound method through its function."""
    if isinstance(obj, type):
        return any(_own(cls) for cls in obj.__mro__)
    if _own(obj):
        return True
    if inspect.ismethod(obj):
        return _own(obj.__func__)
    if inspect.isroutine(obj):  # an unmarked function, a builtin
        return False
    return any(_own(cls) for cls in type(obj).__mro__)


def stdlib_module(module_name: str) -> str | None:
    """The top-level name when ``module_name`` belongs to Python's standard
    library (or is ``builtins`` / ``__main__``), else None."""
    top = module_name.split(".", 1)[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names or top in ("builtins", "__main__"):
        return top
    return None


REFUSAL_HINT = "only objects marked with @harness.plugin can be named (see the README, 'Your own plugins')"
