"""chrF++, BLEU and TER equal sacrebleu's own API, sentence and corpus level,
with any number of references per passage."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF, TER

from harness.metrics import build_metric
from harness.metrics.sacre import reference_streams

HYPS = [
    "The United States has given over $44 billion in security assistance.",
    "We are not particularly supportive of striking targets inside Russia.",
    "He was able to visit two different capitals.",
    "Georgia is one of our closest partners .",
    "",
]
# A varying number of references per passage (1 to 3), as the harness allows.
REFS = [
    [
        "The United States has already provided more than $44 billion in security assistance.",
        "We have given Ukraine over $44 billion in security aid.",
        "More than 44 billion dollars of U.S. security assistance has been provided.",
    ],
    ["The United States is not particularly supportive of going after targets inside Russia."],
    [
        "He managed to visit two different capitals.",
        "He went to two different capitals.",
    ],
    ["Georgia is among our closest partners.", "Georgia is one of our closest partners."],
    ["Nothing was said."],
]

SACREBLEU = {
    "chrf": (CHRF(word_order=2), CHRF(word_order=2)),
    "bleu": (BLEU(), BLEU(effective_order=True)),
    "ter": (TER(), TER()),
}


@pytest.mark.parametrize("name", ["chrf", "bleu", "ter"])
def test_sentence_scores_equal_sacrebleu_sentence_score(name):
    _, sentence_metric = SACREBLEU[name]
    output = build_metric(name).compute(HYPS, REFS)
    expected = [sentence_metric.sentence_score(h, r).score for h, r in zip(HYPS, REFS)]
    assert output.sentence == expected


@pytest.mark.parametrize("name", ["chrf", "bleu", "ter"])
def test_corpus_score_equals_sacrebleu_corpus_score_with_variable_references(name):
    corpus_metric, _ = SACREBLEU[name]
    output = build_metric(name).compute(HYPS, REFS)
    assert output.corpus == corpus_metric.corpus_score(HYPS, reference_streams(REFS)).score


@pytest.mark.parametrize("name", ["chrf", "bleu", "ter"])
def test_corpus_score_from_streamed_sums_equals_one_shot(name):
    metric = build_metric(name)
    first, second = metric.compute(HYPS[:2], REFS[:2]), metric.compute(HYPS[2:], REFS[2:])
    summed = first.stats.sum(axis=0) + second.stats.sum(axis=0)
    assert metric.corpus_from_stats(summed) == pytest.approx(metric.compute(HYPS, REFS).corpus, abs=1e-12)


@pytest.mark.parametrize("name", ["chrf", "bleu", "ter"])
def test_single_reference_equals_sacrebleu(name):
    corpus_metric, sentence_metric = SACREBLEU[name]
    refs = [[r[0]] for r in REFS]
    output = build_metric(name).compute(HYPS, refs)
    assert output.corpus == corpus_metric.corpus_score(HYPS, [[r[0] for r in refs]]).score
    assert output.sentence == [sentence_metric.sentence_score(h, r).score for h, r in zip(HYPS, refs)]


def test_reference_streams_pad_with_none_not_empty_strings():
    assert reference_streams([["a", "b"], ["c"]]) == [["a", "c"], ["b", None]]
    with pytest.raises(ValueError):
        reference_streams([["a"], []])


def test_signatures_are_sacrebleus_and_say_var_for_variable_reference_counts():
    bleu = build_metric("bleu")
    bleu.compute(HYPS, REFS)
    expected = BLEU()
    expected.corpus_score(HYPS, reference_streams(REFS))
    assert bleu.signature() == expected.get_signature().format()
    assert "nrefs:var" in bleu.signature()
    assert "eff:yes" in bleu.sentence_signature()
    chrf = build_metric("chrf")
    chrf.compute(HYPS[:1], REFS[:1])
    assert chrf.signature().startswith("nrefs:3|") and "nw:2" in chrf.signature()


def test_ter_is_lower_is_better_and_bleu_chrf_higher():
    assert build_metric("ter").higher_is_better is False
    assert build_metric("bleu").higher_is_better and build_metric("chrf").higher_is_better


def test_stats_rows_are_sacrebleus_sufficient_statistics():
    stats = build_metric("bleu").compute(HYPS, REFS).stats
    expected = BLEU()._extract_corpus_statistics(HYPS, reference_streams(REFS))
    np.testing.assert_array_equal(stats, np.asarray(expected, dtype=float))
