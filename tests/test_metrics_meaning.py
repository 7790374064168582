"""The meaning score and verdict: the labelled set (tests/data/meaning_labelled.yaml)
and the combination rules on hand-made inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.findings import Finding
from harness.metrics.config import MetricsConfig, Thresholds
from harness.metrics.meaning import Meaning
from harness.scoring import Scorer

LABELLED = yaml.safe_load((Path(__file__).parent / "data" / "meaning_labelled.yaml").read_text(encoding="utf-8"))
REASON_PREFIX = {
    "negation": ("negation",),
    "number": ("number",),
    "name": ("name",),
    "spam": ("injected",),
    "unrelated": ("unrelated",),
}


@pytest.fixture(scope="module")
def labelled_verdicts():
    """Every version of every item, scored in one chunk (one model pass)."""
    scorer = Scorer(MetricsConfig())
    hyps, refs, keys = [], [], []
    for item in LABELLED["items"]:
        for kind, text in [("paraphrase", item["paraphrase"]), *item["damaged"].items()]:
            hyps.append(text)
            refs.append(item["references"])
            keys.append((item["id"], kind))
    results = scorer.score_chunk({"hyp": hyps}, refs)
    return {key: result["hyp"].verdict for key, result in zip(keys, results)}


def test_labelled_set_is_well_formed():
    items = LABELLED["items"]
    assert 15 <= len(items) <= 20
    assert len({i["id"] for i in items}) == len(items)
    kinds = {k for i in items for k in i["damaged"]}
    assert kinds == set(REASON_PREFIX) == set(LABELLED["reason_kinds"])


@pytest.mark.slow
@pytest.mark.parametrize("item", LABELLED["items"], ids=lambda i: i["id"])
def test_paraphrase_scores_above_every_damaged_version(item, labelled_verdicts):
    paraphrase = labelled_verdicts[(item["id"], "paraphrase")]
    assert paraphrase.band == "preserved", paraphrase.reasons
    for kind in item["damaged"]:
        damaged = labelled_verdicts[(item["id"], kind)]
        assert paraphrase.score > damaged.score, (kind, damaged)
        assert damaged.band != "preserved", (kind, damaged)


@pytest.mark.slow
@pytest.mark.parametrize("item", LABELLED["items"], ids=lambda i: i["id"])
def test_each_damaged_version_is_flagged_with_the_right_reason(item, labelled_verdicts):
    for kind in item["damaged"]:
        reasons = labelled_verdicts[(item["id"], kind)].reasons
        assert any(r.startswith(REASON_PREFIX[kind]) for r in reasons), (kind, reasons)


@pytest.mark.slow
def test_unrelated_passages_are_lost(labelled_verdicts):
    for (item, kind), verdict in labelled_verdicts.items():
        if kind == "unrelated":
            assert verdict.band == "lost", (item, verdict)
            assert verdict.reasons[0].startswith("unrelated")


# --- the combination rules, without a model ------------------------------------------------
GOOD = {"cosine": 0.95, "bertscore": 0.9, "chrf": 65.0, "anchors": 1.0, "injected": 0.0}


def finding(kind: str, change: str, severity: str, label: str, why: str) -> Finding:
    return Finding(kind, change, severity, label, why, "anchors")


def test_good_scores_are_preserved_with_a_summary():
    verdict = Meaning().combine(GOOD, [])
    assert verdict.band == "preserved" and verdict.score == 100.0
    assert verdict.reasons == ["meaning kept (cosine 0.95, all anchors kept)"]


def test_lost_number_caps_at_degraded_and_says_which():
    verdict = Meaning().combine(GOOD, [finding("number", "lost", "major", "$44 billion", "number $44 billion missing")])
    assert verdict.band == "degraded"
    assert verdict.reasons[0] == "number $44 billion missing"
    assert verdict.score == 100.0 - MetricsConfig().meaning.hard_anchor_penalty


def test_dropped_negation_reason_quotes_the_reference():
    why = "negation dropped: 'not' (is not particularly supportive)"
    verdict = Meaning().combine(GOOD, [finding("negation", "lost", "major", "not", why)])
    assert verdict.reasons == [why]


def test_lowered_name_costs_a_little_and_is_noted_after_the_summary():
    lowered = finding("name", "changed", "minor", "United States", "name United States lowered ('united states')")
    verdict = Meaning().combine(GOOD, [lowered])
    assert verdict.score == 100.0 - MetricsConfig().meaning.lowered_name_penalty
    assert verdict.band == "preserved"  # a lowered name does not cap the band
    assert verdict.reasons == ["meaning kept (cosine 0.95, all anchors kept)",
                               "name United States lowered ('united states')"]


def test_injected_span_dilutes_the_score_and_is_named():
    scores = dict(GOOD, injected=0.1)
    spam = Finding("injected", "added", "major", "Rusya kadınlar", "injected: 'Rusya kadınlar' (language tr)", "injected")
    verdict = Meaning().combine(scores, [spam])
    assert verdict.score == pytest.approx(100 * (1 - 0.1 * MetricsConfig().meaning.injected_weight))
    assert verdict.reasons[0] == "injected: 'Rusya kadınlar' (language tr)"
    assert verdict.band == "degraded"


def test_reasons_follow_the_findings_order_most_serious_first():
    # kinds that no penalty knows yet still cap the band and give their reason, in kind order
    findings = [finding("name", "added", "note", "Rusya", "name Rusya added (in no reference)"),
                Finding("antonym", "changed", "major", "increase -> decrease", "antonym: increase -> decrease", "x"),
                finding("number", "lost", "major", "19", "number 19 missing")]
    verdict = Meaning().combine(GOOD, findings)
    assert verdict.band == "degraded"
    assert verdict.reasons == ["number 19 missing", "antonym: increase -> decrease", "name Rusya added (in no reference)"]


def test_low_cosine_is_unrelated_and_lost():
    verdict = Meaning().combine(dict(GOOD, cosine=0.1, bertscore=0.2, chrf=15.0), [])
    assert verdict.band == "lost"
    assert verdict.reasons[0] == "unrelated to the references (cosine 0.10)"


def test_thresholds_come_from_the_config():
    middling = dict(GOOD, cosine=0.7, bertscore=0.7, chrf=40.0)
    default = Meaning().combine(middling, [])
    strict = Meaning(MetricsConfig(meaning={"thresholds": {"preserved": 95, "lost": 90}}).meaning).combine(middling, [])
    assert default.band == "preserved" and strict.band == "lost"
    assert default.score == strict.score


def test_missing_components_are_left_out_of_the_weighted_mean():
    verdict = Meaning().combine({"chrf": 60.0}, [])
    assert verdict.score == 100.0 and set(verdict.components) == {"chrf"}


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError):
        Thresholds(preserved=30, lost=50)
