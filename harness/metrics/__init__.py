"""Metrics: what a careful evaluator measures to tell whether meaning survived.

Built-ins and the user's own metrics share one protocol (:class:`Metric`:
one :meth:`~Metric.measure` call gives statistics, findings and details; the
corpus score comes from summed statistics; a :class:`MetricInfo` describes
it) and one lookup (:data:`METRICS`): a built-in name
(:data:`~harness.metrics.catalog.BUILTIN_METRICS`), an entry point in the
``harness.metrics`` group, or ``package.module:name``. A user metric is a
:class:`Metric` subclass or instance, or a plain function
``(hyps, refs) -> list[float]``, wrapped as a :class:`FunctionMetric`.

Importing this package imports no metric implementation: built-ins are
imported when the first metric is built, and torch and sentence-transformers
only when an embedding metric first scores something.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Sequence

from ..errors import ConfigError
from ..registry import Registry
from .base import CombiningMetric, MeanMetric, Measurement, Metric, MetricInfo, MetricOutput
from .catalog import BUILTIN_METRICS
from .config import MetricsConfig

METRICS: Registry = Registry("metric", "harness.metrics", declared=BUILTIN_METRICS)


def _register_builtins() -> None:
    """Import and register the built-in metrics (once, on first use)."""
    for name, spec in BUILTIN_METRICS.items():
        if name not in METRICS.builtin_names():
            module, _, attribute = spec.partition(":")
            METRICS.register(name, getattr(importlib.import_module(module), attribute))


class FunctionMetric(MeanMetric):
    """A user function ``(hyps, refs) -> list[float]`` as a metric (corpus = mean).

    The function may carry the attributes a metric declares: ``version``,
    ``higher_is_better``, ``range``, ``margin`` (the regression gate's default
    margin), ``order`` (where reports list it), ``needs``.
    """

    def __init__(self, name: str, function: Callable[[Sequence[str], Sequence[Sequence[str]]], Sequence[float]]):
        self.name = name
        self.function = function
        self.version = str(getattr(function, "version", "1"))
        self.higher_is_better = bool(getattr(function, "higher_is_better", True))
        self.needs = str(getattr(function, "needs", "references"))
        self.range = tuple(getattr(function, "range", (float("-inf"), float("inf"))))
        self.margin = getattr(function, "margin", None)
        self.order = int(getattr(function, "order", self.order))

    def documented(self) -> Any:
        return self.function

    def sentence_scores(self, hyps, refs) -> list[float]:
        scores = [float(s) for s in self.function(list(hyps), [list(r) for r in refs])]
        if len(scores) != len(hyps):
            raise ConfigError(f"metric {self.name!r} returned {len(scores)} scores for {len(hyps)} passages")
        return scores


def build_metric(name: str, config: MetricsConfig | None = None) -> Metric:
    """Resolve ``name`` and return a ready metric object.

    Classes are instantiated with :meth:`Metric.from_config`; instances are used as they are; plain functions
    are wrapped in :class:`FunctionMetric`.
    """
    config = config or MetricsConfig()
    _register_builtins()
    obj: Any = METRICS.resolve(name)
    if inspect.isclass(obj) and issubclass(obj, Metric):
        metric = obj.from_config(config)
        if metric.name == Metric.name:  # a user class that did not name itself
            metric.name = name
        return metric
    if isinstance(obj, Metric):
        return obj
    if callable(obj):
        return FunctionMetric(name, obj)
    raise ConfigError(f"metric {name!r} is neither a Metric nor a function (got {type(obj).__name__})")


__all__ = ["METRICS", "Metric", "MeanMetric", "CombiningMetric", "Measurement", "MetricInfo", "MetricOutput",
           "MetricsConfig", "FunctionMetric", "build_metric"]
