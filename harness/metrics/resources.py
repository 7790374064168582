"""Shared resources: models that several metrics use, loaded once per process.

A metric names what it needs in ``requires`` (``("embedder",)``); the scorer
hands it a :class:`Resources` in :meth:`~harness.metrics.base.Metric.bind`,
and ``resources.get(name)`` loads the resource the first time anyone asks.
Before each chunk the scorer gives every required resource all the texts the
chunk will need (:meth:`SharedResource.prefetch`: one batched model call) and
clears it afterwards.

A new resource (a dependency parser, say) is a loader registered here with
:func:`register_resource`; its object may subclass :class:`SharedResource`
to batch its work per chunk.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ..errors import ConfigError


class SharedResource:
    """What the scorer calls on a loaded resource around each chunk (both optional)."""

    def prefetch(self, texts: Iterable[str]) -> None:
        """Prepare every text the chunk will need, in one batch."""

    def clear(self) -> None:
        """Forget what :meth:`prefetch` prepared."""


#: resource name -> loader(metrics config) -> the resource
_LOADERS: dict[str, Callable[[Any], Any]] = {}


def register_resource(name: str, loader: Callable[[Any], Any]) -> None:
    """Make ``name`` available to metrics that require it."""
    _LOADERS[name] = loader


def _load_embedder(config) -> Any:
    from .embedding import load_embedder

    return load_embedder(config.device, config.embedding_batch_size)


register_resource("embedder", _load_embedder)


def _load_parser(config) -> Any:
    from ..nlp import ParseCache

    return ParseCache()


register_resource("nlp", _load_parser)


class Resources:
    """The shared resources of one scorer (``config`` is its metrics config)."""

    def __init__(self, config: Any):
        self.config = config
        self._loaded: dict[str, Any] = {}

    @staticmethod
    def check(name: str, metric: str) -> None:
        if name not in _LOADERS:
            raise ConfigError(f"metric {metric!r} requires the resource {name!r}, which is unknown "
                              f"(known: {', '.join(sorted(_LOADERS))})")

    def get(self, name: str) -> Any:
        """The resource, loaded on first use."""
        if name not in self._loaded:
            self.check(name, "?")
            self._loaded[name] = _LOADERS[name](self.config)
        return self._loaded[name]

    def loaded(self) -> list[Any]:
        return list(self._loaded.values())
