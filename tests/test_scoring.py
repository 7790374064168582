"""The Scorer: per-passage, per-stage scores and statistics, corpus scores from sums."""

from __future__ import annotations

import json
import re
import sys

import pytest
from sacrebleu.metrics import BLEU, CHRF, TER

from harness.errors import InputError
from harness.metrics.config import MetricsConfig
from harness.metrics.sacre import reference_streams
from harness.results import StageResult
from harness.scoring import Scorer

REFS = [
    ["The United States has provided more than $44 billion in security assistance.",
     "America has given over 44 billion dollars of security aid."],
    ["Georgia is one of our closest partners."],
    ["We will have to see whether it comes up over the next two days.",
     "Whether it comes up in the next two days remains to be seen.",
     "We will see if it is raised during the next two days."],
]
STAGES = {
    "distorted": [
        "the united states, i've currently provided over $44 billion You.S. regarding defense assistance",
        "Georgia is among the most our closest couples.",
        "we're going to need find out if it comes up across the next two days.",
    ],
    "retranslated": [
        "The United States has already provided more than $44 billion in defence aid.",
        "Georgia is one of our closest partners.",
        "We will have to see if it comes up in the next two days.",
    ],
}
SACRE_ONLY = MetricsConfig(use=("chrf", "bleu", "ter"))

USER_PLUGIN = '''
import numpy as np

import harness
from harness.findings import Finding, Span
from harness.metrics import MeanMetric, Measurement, Metric


@harness.plugin
def length_ratio(hyps, refs):
    """Hypothesis length over the longest reference's length."""
    return [len(h) / max(len(r) for r in rs) for h, rs in zip(hyps, refs)]


@harness.plugin
class WordCount(MeanMetric):
    """Words in the hypothesis (a reference-free toy)."""

    name = "word_count"

    def sentence_scores(self, hyps, refs):
        return [float(len(h.split())) for h in hyps]


@harness.plugin
class ErrorRate(MeanMetric):
    """Share of words not in the reference (lower is better)."""

    name = "error_rate"
    higher_is_better = False
    margin = 0.5
    order = 35

    def sentence_scores(self, hyps, refs):
        return [sum(w not in rs[0].split() for w in h.split()) / max(1, len(h.split())) for h, rs in zip(hyps, refs)]


@harness.plugin
class Shouting(Metric):
    """Acronyms: statistics, a finding per acronym and details from one call."""

    name = "shouting"

    def measure(self, hyps, refs):
        findings = [[Finding("added", "added", "minor", w, f"shouted: '{w}'", self.name,
                             stage_span=Span(h.index(w), h.index(w) + len(w), w))
                     for w in h.split() if w.isupper() and len(w) > 1] for h in hyps]
        stats = np.array([[1.0, 1.0] for _ in hyps])
        return Measurement(stats, findings, [{"calls": 1} for _ in hyps])

    def corpus_from_stats(self, stats_sum):
        return float(stats_sum[0] / stats_sum[1])
'''


@pytest.fixture
def user_plugin(tmp_path, monkeypatch):
    """A user's own metrics module, importable as ``my_metrics``."""
    (tmp_path / "my_metrics.py").write_text(USER_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_metrics"
    sys.modules.pop("my_metrics", None)


@pytest.fixture(scope="session")
def embedding_scorer():
    """One scorer with the embedding metrics; the model loads once per process."""
    return Scorer(MetricsConfig(use=("chrf", "cosine", "roundtrip")))


def test_sacrebleu_scores_in_score_chunk_equal_sacrebleus_api():
    scorer = Scorer(SACRE_ONLY)
    results = scorer.score_chunk(STAGES, REFS)
    for stage, hyps in STAGES.items():
        for i, hyp in enumerate(hyps):
            scores = results[i][stage].scores
            assert scores["chrf"] == CHRF(word_order=2).sentence_score(hyp, REFS[i]).score
            assert scores["bleu"] == BLEU(effective_order=True).sentence_score(hyp, REFS[i]).score
            assert scores["ter"] == TER().sentence_score(hyp, REFS[i]).score


def test_corpus_from_streamed_chunks_equals_sacrebleu_corpus_score():
    scorer = Scorer(SACRE_ONLY)
    sums = None
    for start in range(len(REFS)):  # one passage per chunk: the most streamed case
        chunk = {stage: texts[start:start + 1] for stage, texts in STAGES.items()}
        sums = Scorer.sum_stats(scorer.score_chunk(chunk, REFS[start:start + 1]), sums)
    corpus = scorer.corpus(sums)
    streams = reference_streams(REFS)
    for stage, hyps in STAGES.items():
        assert corpus[stage]["chrf"] == CHRF(word_order=2).corpus_score(hyps, streams).score
        assert corpus[stage]["bleu"] == BLEU().corpus_score(hyps, streams).score
        assert corpus[stage]["ter"] == pytest.approx(TER().corpus_score(hyps, streams).score, abs=1e-9)


def test_results_are_typed_stage_records_that_serialise_to_plain_json():
    results = Scorer(SACRE_ONLY).score_chunk(STAGES, REFS)
    row = results[0]["distorted"]
    assert isinstance(row, StageResult) and row.text == STAGES["distorted"][0] and row.verdict is None
    assert all(type(v) is float for v in row.scores.values())
    assert all(type(x) is float for stats in row.stats.values() for x in stats)
    data = json.loads(json.dumps(row.to_json(), allow_nan=False))
    assert StageResult.from_json(data) == row


def test_passage_without_references_gets_only_reference_free_metrics():
    scorer = Scorer(SACRE_ONLY)
    results = scorer.score_chunk({"distorted": ["a text", "another"]}, [["a text"], []])
    assert results[1]["distorted"].scores == {}
    assert set(results[0]["distorted"].scores) == {"chrf", "bleu", "ter"}


def test_mismatched_lengths_are_input_errors():
    scorer = Scorer(SACRE_ONLY)
    with pytest.raises(InputError):
        scorer.score_chunk({"distorted": ["only one"]}, REFS)
    with pytest.raises(InputError):
        scorer.score_chunk(STAGES, REFS, roundtrip_sources={"retranslated": ["x"]})


def test_signatures_include_sentence_bleu_with_effective_order():
    scorer = Scorer(SACRE_ONLY)
    scorer.score_chunk(STAGES, REFS)
    signatures = scorer.signatures()
    assert signatures["bleu"].startswith("nrefs:var|") and "eff:no" in signatures["bleu"]
    assert "eff:yes" in signatures["bleu.sentence"]
    assert "nw:2" in signatures["chrf"]


def test_user_function_metric_by_import_path(user_plugin):
    scorer = Scorer(MetricsConfig(use=("chrf",), extra=("my_metrics:length_ratio",)))
    results = scorer.score_chunk({"distorted": ["abcd"]}, [["ab", "abcdefgh"]])
    assert results[0]["distorted"].scores["my_metrics:length_ratio"] == 0.5
    sums = Scorer.sum_stats(results)
    assert scorer.corpus(sums)["distorted"]["my_metrics:length_ratio"] == 0.5
    assert "Hypothesis length" in scorer.describe()["metrics"]["my_metrics:length_ratio"]["description"]


def test_user_metric_class_by_import_path_keeps_its_name(user_plugin):
    scorer = Scorer(MetricsConfig(use=(), extra=("my_metrics:WordCount",)))
    results = scorer.score_chunk({"cleaned": ["one two three"]}, [["x"]])
    assert results[0]["cleaned"].scores == {"word_count": 3.0}
    assert scorer.signatures() == {"word_count": "word_count|v:1"}


def test_a_user_metric_declares_its_direction_margin_and_order(user_plugin):
    scorer = Scorer(MetricsConfig(use=("chrf",), extra=("my_metrics:ErrorRate", "my_metrics:length_ratio")))
    described = scorer.describe()["metrics"]
    assert described["error_rate"]["higher_is_better"] is False
    assert described["error_rate"]["margin"] == 0.5 and described["error_rate"]["order"] == 35
    assert described["my_metrics:length_ratio"]["higher_is_better"] is True
    assert described["my_metrics:length_ratio"]["margin"] is None  # reported, not gated


def test_a_metric_returns_statistics_findings_and_details_from_one_call(user_plugin):
    scorer = Scorer(MetricsConfig(use=("anchors", "meaning"), extra=("my_metrics:Shouting",)))
    (passage,) = scorer.score_chunk({"cleaned": ["The UN gave 12 boats."]}, [["The UN gave 12 boats."]])
    stage = passage["cleaned"]
    assert stage.scores["shouting"] == 1.0 and stage.details["shouting"] == {"calls": 1}
    (finding,) = stage.findings
    assert (finding.kind, finding.source, finding.stage_span.text) == ("added", "shouting", "UN")
    # the combining metric sees every metric's findings: a minor one is a reason after the summary
    assert stage.verdict.reasons[-1] == "shouted: 'UN'"


def test_the_scorer_calls_only_declared_hooks():
    # every hook the scorer calls is declared on the base class (no probing with getattr)
    import inspect

    from harness import scoring
    from harness.metrics.base import CombiningMetric, Metric

    source = inspect.getsource(scoring)
    assert "getattr(" not in source and "hasattr(" not in source
    called = set(re.findall(r"(?<!`)\bmetric\.(\w+)", source))  # not in ``docstrings``
    declared = set(dir(Metric)) | {"combine"}  # combine: CombiningMetric's, called only when metric.combines
    assert {"measured", "bind", "prefetch_texts", "combine"} <= called and called <= declared, called - declared
    assert "combine" in vars(CombiningMetric) and Metric.combines is False


@pytest.mark.slow
def test_embedding_metrics_batch_the_whole_chunk_in_one_encode_call(embedding_scorer):
    embedder_calls_before = embedding_scorer.resources.get("embedder").encode_calls
    results = embedding_scorer.score_chunk(STAGES, REFS, roundtrip_sources={"retranslated": STAGES["distorted"]})
    assert embedding_scorer.resources.get("embedder").encode_calls == embedder_calls_before + 1
    for i in range(len(REFS)):
        assert -1.0 <= results[i]["distorted"].scores["cosine"] <= 1.0
        assert "roundtrip" in results[i]["retranslated"].scores
        assert "roundtrip" not in results[i]["distorted"].scores
    # the cleaner text is closer in meaning to the references
    assert results[1]["retranslated"].scores["cosine"] > results[1]["distorted"].scores["cosine"]


@pytest.mark.slow
def test_describe_names_the_embedding_model_and_its_hash(embedding_scorer):
    info = embedding_scorer.describe()
    json.dumps(info, allow_nan=False)
    assert info["embedding_model"]["name"] == "all-MiniLM-L6-v2"
    assert len(info["embedding_model"]["sha256"]) == 64
    assert info["thresholds"]["preserved"] > info["thresholds"]["lost"]


@pytest.mark.slow
def test_all_builtin_metrics_share_one_encode_call_and_give_a_verdict():
    scorer = Scorer(MetricsConfig())
    embedder = scorer.resources.get("embedder")
    before = embedder.encode_calls
    results = scorer.score_chunk(STAGES, REFS, roundtrip_sources={"retranslated": STAGES["distorted"]})
    assert embedder.encode_calls == before + 1
    for passage in results:
        for stage, entry in passage.items():
            json.dumps(entry.to_json(), allow_nan=False)
            assert set(entry.stats) >= {"chrf", "bleu", "ter", "cosine", "bertscore", "anchors", "injected", "meaning"}
            assert entry.verdict.band in {"preserved", "degraded", "lost"} and entry.verdict.reasons
            assert entry.scores["meaning"] == entry.verdict.score
    corpus = scorer.corpus(Scorer.sum_stats(results))
    assert {"anchors.numbers_recall", "bertscore.precision", "meaning", "roundtrip"} <= set(corpus["retranslated"])
