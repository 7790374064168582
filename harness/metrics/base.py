"""The metric protocol shared by built-in and user metrics.

Like sacrebleu, a corpus score is computed from *summed sufficient statistics*
(for BLEU: n-gram matches and lengths), not by averaging sentence scores. That
one design makes corpus scores correct for every metric and lets significance
tests resample any metric the same way: resample rows of the statistics
matrix, sum, and call :meth:`Metric.corpus_from_stats`.

A metric is described by a :class:`MetricInfo` (name, version, direction,
range, default regression margin, display order, what it needs); reports,
``compare`` and ``regress`` read that description (a run records it), so
nothing about a metric is listed anywhere else.

One call, :meth:`Metric.measure`, gives everything a metric says about a
batch of passages: the statistics, the meaning changes it found
(:class:`~harness.findings.Finding`) and optional per-passage details. A
simple metric implements only :meth:`Metric.sentence_stats` (or, as a
:class:`MeanMetric`, ``sentence_scores``). A metric that needs a shared
model names it in ``requires`` and receives it in :meth:`Metric.bind`.

A :class:`CombiningMetric` (the meaning score) measures nothing itself: the
scorer runs it last, on the other metrics' scores and findings of each
passage, and it returns the verdict.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from ..findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Verdict
    from .resources import Resources

#: display order of metrics that do not say (after every built-in)
DEFAULT_ORDER = 100


@dataclass(frozen=True)
class MetricInfo:
    """What a metric is, as reports, ``compare`` and ``regress`` need to know it.

    A run records it (``results.json``: ``signature.metrics.metrics``), so a
    saved run is read without importing the metric.
    """

    name: str
    version: str = "1"
    higher_is_better: bool = True
    #: the score range, for reports and verdicts (``inf`` for an open end)
    range: tuple[float, float] = (-math.inf, math.inf)
    #: the regression gate's default margin, in the metric's units: a corpus
    #: drop no larger than this never fails the gate; None: reported, not gated
    margin: float | None = None
    #: where reports list it (lower first; ties by name)
    order: int = DEFAULT_ORDER
    description: str = ""
    #: 'references' (scored against references) or 'source' (reference-free,
    #: against the text a stage was round-tripped from)
    needs: str = "references"
    #: shared resources it uses (:mod:`harness.metrics.resources`), e.g. ``("embedder",)``
    requires: tuple[str, ...] = ()
    #: runs after the others, on their scores and findings (the meaning score)
    combines: bool = False
    #: sub-scores whose direction differs from the metric's: key -> higher_is_better
    #: (``semantic.missing``: words missing, lower is better)
    sub_directions: Mapping[str, bool] = field(default_factory=dict)

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "higher_is_better": self.higher_is_better,
            "range": [None if math.isinf(b) else float(b) for b in self.range],
            "margin": self.margin,
            "order": self.order,
            "description": self.description,
            "needs": self.needs,
            "requires": list(self.requires),
            "combines": self.combines,
            "sub_directions": dict(self.sub_directions),
        }

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> "MetricInfo":
        low, high = (list(data.get("range") or [None, None]) + [None, None])[:2]
        margin = data.get("margin")
        return cls(
            name=name,
            version=str(data.get("version", "1")),
            higher_is_better=bool(data.get("higher_is_better", True)),
            range=(-math.inf if low is None else float(low), math.inf if high is None else float(high)),
            margin=None if margin is None else float(margin),
            order=int(data.get("order", DEFAULT_ORDER)),
            description=str(data.get("description", "")),
            needs=str(data.get("needs", "references")),
            requires=tuple(data.get("requires") or ()),
            combines=bool(data.get("combines", False)),
            sub_directions={str(k): bool(v) for k, v in (data.get("sub_directions") or {}).items()},
        )


def info_of(name: str, infos: Mapping[str, MetricInfo]) -> MetricInfo:
    """The description of ``name``; a sub-score ``metric.key`` is described by its
    metric, in the direction the metric declares for that key."""
    if name in infos:
        return infos[name]
    parent, _, key = name.partition(".")
    info = infos.get(parent)
    if info is None:
        return MetricInfo(name)
    if key in info.sub_directions:
        return replace(info, higher_is_better=info.sub_directions[key])
    return info


def ordered_metrics(names: Iterable[str], infos: Mapping[str, MetricInfo]) -> list[str]:
    """Metric names in display order (each metric's ``order``, then its name),
    each metric followed by its sub-scores (``anchors``, ``anchors.names_recall``, ...)."""
    names = list(dict.fromkeys(names))
    parents = sorted(dict.fromkeys(n.split(".", 1)[0] for n in names),
                     key=lambda p: (info_of(p, infos).order, p))
    out: list[str] = []
    for parent in parents:
        if parent in names:
            out.append(parent)
        out += sorted(n for n in names if n.startswith(parent + "."))
    return out


def first_paragraph(obj: Any) -> str:
    """The first paragraph of an object's docstring, on one line."""
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


@dataclass
class Measurement:
    """What one :meth:`Metric.measure` call says about ``n`` passages."""

    #: sufficient statistics, shape ``(n, k)``
    stats: np.ndarray
    #: per passage, the meaning changes found (None: the metric finds none)
    findings: list[list[Finding]] | None = None
    #: per passage, optional explanations for reports (None: none)
    details: list[dict[str, Any]] | None = None


@dataclass
class MetricOutput:
    """Scores of one batch of passages (standalone use: :meth:`Metric.compute`)."""

    name: str
    sentence: list[float]
    corpus: float
    stats: np.ndarray  # shape (n_passages, k): sufficient statistics per passage
    findings: list[list[Finding]] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)


class Metric:
    """Base class. Set the class attributes that describe the metric, and
    implement :meth:`measure` (or only :meth:`sentence_stats`),
    :meth:`corpus_from_stats` and, when it differs, :meth:`sentence_from_stats`."""

    name: str = "metric"
    version: str = "1"
    higher_is_better: bool = True
    needs: str = "references"
    range: tuple[float, float] = (0.0, 100.0)
    #: default regression margin (metric units); None: reported, not gated
    margin: float | None = None
    order: int = DEFAULT_ORDER
    requires: tuple[str, ...] = ()
    combines: bool = False
    #: sub-scores whose direction differs from the metric's (key -> higher_is_better)
    sub_directions: Mapping[str, bool] = {}

    @classmethod
    def from_config(cls, config: Any) -> "Metric":
        """The metric as the run's ``metrics:`` section configures it (default: no options)."""
        return cls()

    def describe(self) -> MetricInfo:
        """This metric's :class:`MetricInfo` (from the class attributes and docstring)."""
        return MetricInfo(
            name=self.name, version=str(self.version), higher_is_better=bool(self.higher_is_better),
            range=(float(self.range[0]), float(self.range[1])),
            margin=None if self.margin is None else float(self.margin), order=int(self.order),
            description=first_paragraph(self.documented()), needs=self.needs, requires=tuple(self.requires),
            combines=bool(self.combines), sub_directions=dict(self.sub_directions),
        )

    def documented(self) -> Any:
        """The object whose docstring describes the metric (the class itself)."""
        return type(self)

    def signature(self) -> str:
        return f"{self.name}|v:{self.version}"

    def sentence_signature(self) -> str:
        """The signature of the sentence-level score, when it differs (BLEU's effective order)."""
        return self.signature()

    # --- resources -----------------------------------------------------------
    def bind(self, resources: "Resources") -> None:
        """Receive the shared resources named in ``requires`` (loaded once per process)."""

    def prefetch_texts(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[str]:
        """Texts besides the passages and references that :meth:`measure` will
        give the shared resources (the scorer prepares them all in one batch)."""
        return []

    def note_references(self, refs: Sequence[Sequence[str]]) -> None:
        """Reference lists of passages scored in an earlier run (the passage
        cache), for signatures that count references (sacrebleu's ``nrefs``)."""

    # --- to implement -----------------------------------------------------
    def measure(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> Measurement:
        """Statistics, findings and details of ``hyps[i]`` against ``refs[i]``
        (a list of any number of references). Default: :meth:`sentence_stats` only."""
        return Measurement(self.sentence_stats(hyps, refs))

    def sentence_stats(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> np.ndarray:
        """Sufficient statistics, shape ``(len(hyps), k)``."""
        raise NotImplementedError(f"metric {self.name!r} implements neither measure() nor sentence_stats()")

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        """The corpus score from statistics summed over passages."""
        raise NotImplementedError

    def sentence_from_stats(self, row: np.ndarray) -> float:
        """The sentence score from one passage's statistics (default: as corpus)."""
        return self.corpus_from_stats(row)

    def corpus_from_stats_batch(self, sums: np.ndarray) -> np.ndarray:
        """Corpus scores of many rows of summed statistics, ``(R, k) -> (R,)``
        (significance tests score thousands of resamples)."""
        return np.fromiter((self.corpus_from_stats(row) for row in sums), dtype=np.float64, count=len(sums))

    def breakdown_from_stats(self, stats: np.ndarray) -> dict[str, float]:
        """Sub-scores (``anchors.numbers_recall``), reported as ``name.key``."""
        return {}

    # --- provided ---------------------------------------------------------
    def measured(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> Measurement:
        """:meth:`measure`, checked: statistics of shape ``(n, k)``, one findings
        and one details entry per passage."""
        out = self.measure(hyps, refs)
        stats = np.asarray(out.stats, dtype=float)
        if stats.ndim != 2 or stats.shape[0] != len(hyps):
            raise ValueError(f"{self.name}: statistics must have shape (n, k), got {stats.shape}")
        for what, rows in (("findings", out.findings), ("details", out.details)):
            if rows is not None and len(rows) != len(hyps):
                raise ValueError(f"{self.name}: {len(rows)} {what} entries for {len(hyps)} passages")
        return Measurement(stats, out.findings, out.details)

    def compute(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> MetricOutput:
        """Measure and score a batch on its own (outside a run)."""
        out = self.measured(hyps, refs)
        sentence = [float(self.sentence_from_stats(row)) for row in out.stats]
        corpus = float(self.corpus_from_stats(out.stats.sum(axis=0))) if len(hyps) else float("nan")
        return MetricOutput(self.name, sentence, corpus, out.stats, out.findings or [[] for _ in hyps],
                            out.details or [])


class MeanMetric(Metric):
    """A metric whose corpus score is the mean of per-passage scores
    (statistics ``[score, 1]``)."""

    def sentence_scores(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[float]:
        raise NotImplementedError

    def sentence_stats(self, hyps, refs) -> np.ndarray:
        return mean_rows(self.sentence_scores(hyps, refs), len(hyps))

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        return float(stats_sum[0] / stats_sum[1]) if stats_sum[1] else float("nan")

    def corpus_from_stats_batch(self, sums: np.ndarray) -> np.ndarray:
        if type(self).corpus_from_stats is not MeanMetric.corpus_from_stats:
            return super().corpus_from_stats_batch(sums)  # a subclass scores its own way
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sums[:, 1] != 0, sums[:, 0] / sums[:, 1], np.nan)


def mean_rows(scores: Sequence[float], n: int) -> np.ndarray:
    """``[score, 1]`` statistics rows of a :class:`MeanMetric`."""
    return np.array([[s, 1.0] for s in scores], dtype=float).reshape(n, 2)


class CombiningMetric(MeanMetric):
    """A metric computed from the other metrics' results of one passage
    (their scores and findings), after them: the meaning score and its verdict.

    It is never asked to :meth:`measure`; the scorer calls :meth:`combine`
    per passage and records ``[score, 1]`` as its statistics.
    """

    combines = True

    def combine(self, scores: Mapping[str, float], findings: Sequence[Finding]) -> "Verdict":
        raise NotImplementedError

    def measure(self, hyps, refs) -> Measurement:
        raise TypeError(f"{self.name} combines other metrics' results: the scorer calls combine(), not measure()")
