"""Metrics: what a careful evaluator measures to tell whether meaning survived.

Built-ins and the user's own metrics share one interface (:class:`Metric`:
sentence statistics, corpus score from summed statistics, signature) and one
lookup (:data:`METRICS`): a built-in name, an entry point in the
``harness.metrics`` group, or ``package.module:name``. A user metric is
either a :class:`Metric` subclass/instance or a plain function
``(hyps, refs) -> list[float]``, wrapped as a :class:`MeanMetric`.

Importing this package imports no model: torch and sentence-transformers are
loaded by :mod:`harness.metrics.embedding` the first time an embedding metric
scores something.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from ..errors import ConfigError
from ..registry import Registry
from .base import MeanMetric, Metric, MetricOutput
from .config import MetricsConfig

METRICS: Registry = Registry("metric", "harness.metrics")


def _register_builtins() -> None:
    from .anchors import Anchors
    from .bertscore import BertScore
    from .injected import Injected
    from .meaning import Meaning
    from .sacre import Bleu, ChrF, Ter
    from .similarity import Cosine, RoundTrip

    METRICS.register("chrf", ChrF)
    METRICS.register("bleu", Bleu)
    METRICS.register("ter", Ter)
    METRICS.register("cosine", Cosine)
    METRICS.register("bertscore", BertScore)
    METRICS.register("anchors", Anchors)
    METRICS.register("injected", Injected)
    METRICS.register("roundtrip", RoundTrip)
    METRICS.register("meaning", Meaning)


_register_builtins()


class FunctionMetric(MeanMetric):
    """A user function ``(hyps, refs) -> list[float]`` as a metric (corpus = mean)."""

    def __init__(self, name: str, function: Callable[[Sequence[str], Sequence[Sequence[str]]], Sequence[float]]):
        self.name = name
        self.function = function
        self.version = str(getattr(function, "version", "1"))
        self.higher_is_better = bool(getattr(function, "higher_is_better", True))
        self.needs = str(getattr(function, "needs", "references"))
        self.range = tuple(getattr(function, "range", (float("-inf"), float("inf"))))

    def sentence_scores(self, hyps, refs) -> list[float]:
        scores = [float(s) for s in self.function(list(hyps), [list(r) for r in refs])]
        if len(scores) != len(hyps):
            raise ConfigError(f"metric {self.name!r} returned {len(scores)} scores for {len(hyps)} passages")
        return scores


def build_metric(name: str, config: MetricsConfig | None = None) -> Metric:
    """Resolve ``name`` and return a ready metric object.

    Classes are instantiated with ``from_config(config)`` when they define it,
    else with no arguments; instances are used as they are; plain functions
    are wrapped in :class:`FunctionMetric`.
    """
    config = config or MetricsConfig()
    obj: Any = METRICS.resolve(name)
    if inspect.isclass(obj) and issubclass(obj, Metric):
        factory = getattr(obj, "from_config", None)
        metric = factory(config) if callable(factory) else obj()
        if metric.name == Metric.name:  # a user class that did not name itself
            metric.name = name
        return metric
    if isinstance(obj, Metric):
        return obj
    if callable(obj):
        return FunctionMetric(name, obj)
    raise ConfigError(f"metric {name!r} is neither a Metric nor a function (got {type(obj).__name__})")


__all__ = ["METRICS", "Metric", "MeanMetric", "MetricOutput", "MetricsConfig", "FunctionMetric", "build_metric"]
