"""Injected content: other languages and scripts, mojibake, off-topic spam."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.metrics.config import InjectedOptions
from harness.metrics.injected import Injected, Span, carries_the_clause, repair_mojibake, tokenize

REFS = [
    "We continue to urge our friends in Congress to get the supplemental done so that more assistance can flow.",
    "We keep encouraging our friends in Congress to pass the supplemental so that more aid can reach Ukraine.",
]
NO_MODEL = Injected(InjectedOptions(off_topic=False))


def spans(metric, hyp, refs=REFS):
    return [(s.text, s.why) for s in metric.spans(hyp, refs)]


def test_mojibake_is_repaired():
    assert repair_mojibake("kadД±nlar") == "kadınlar"
    assert repair_mojibake("Ã©tÃ©") == "été"
    assert repair_mojibake("assistance") is None and repair_mojibake("café") is None


def test_turkish_keyword_with_mojibake_is_one_injected_span():
    hyp = "so that more Rusya kadД±nlar service can also be circulate toward hand"
    found = spans(NO_MODEL, hyp)
    assert [text for text, _ in found] == ["Rusya kadД±nlar"]
    assert "mojibake (kadınlar)" in found[0][1] and "language tr" in found[0][1]


def test_foreign_script_and_letters():
    assert spans(NO_MODEL, "more assistance Не пропустите can flow")[0] == ("Не пропустите", "foreign script")
    found = spans(NO_MODEL, "more assistance ucuz uçak bileti için hemen tıklayın can flow")
    assert found[0][0] == "ucuz uçak bileti için hemen tıklayın" and "foreign letters" in found[0][1]


def test_a_whole_sentence_in_another_language():
    hyp = "More aid can flow. Isso não é algo que os Estados Unidos apoiem particularmente."
    found = spans(NO_MODEL, hyp)
    assert found and found[0][1].startswith("language pt")


def test_english_loanwords_and_clean_text_are_not_injected():
    assert spans(NO_MODEL, "Our friends in Congress met at the café to get the supplemental done.") == []


def test_share_is_injected_tokens_over_tokens():
    hyp = "more Rusya kadД±nlar assistance can flow"
    out = NO_MODEL.compute([hyp], [REFS])
    assert out.stats[0].tolist() == [2.0, float(len(tokenize(hyp)))]
    assert out.sentence == [2 / 6]
    (finding,) = out.findings[0]
    assert (finding.kind, finding.change, finding.severity) == ("injected", "added", "major")
    assert finding.stage_span.text == hyp[finding.stage_span.start:finding.stage_span.end] == "Rusya kadД±nlar"
    assert finding.why == "injected: 'Rusya kadД±nlar' (language tr; mojibake (kadınlar))"


@pytest.mark.slow
def test_off_topic_english_spam_is_found_but_spinner_synonyms_are_not():
    metric = Injected()
    spam = "We keep urging our friends in Congress to pass the supplemental. Best online casino bonus codes, claim your free spins now."
    found = spans(metric, spam)
    assert len(found) == 1 and found[0][0].startswith("Best online casino bonus codes")
    assert found[0][1].startswith("off topic")
    # the bundled briefing's first passage: heavily spun, one injected keyword
    root = Path(__file__).resolve().parents[1] / "references" / "briefing"
    spun = (root / "transcript.txt").read_text(encoding="utf-8").splitlines()[0]
    refs = yaml.safe_load((root / "references.yaml").read_text(encoding="utf-8"))["p01"]
    assert [text for text, _ in spans(metric, spun, refs)] == ["Rusya kadД±nlar"]


@pytest.mark.slow
def test_the_sentences_own_predicate_in_other_words_is_not_spam():
    # "put pen to paper" shares no word with "signed" and embeds far from it, but it is
    # what Oduya did: its subject stands outside the span, so nothing was inserted
    metric = Injected()
    refs = ["The Carston Comets signed point guard Malik Oduya to a three-year contract on Monday, "
            "two weeks after the Belmont Rays released him."]
    idiom = ("Malik Oduya, the point guard whom the Belmont Rays had released two weeks earlier, "
             "put pen to paper on a three-year contract with the Carston Comets on Monday.")
    assert spans(metric, idiom, refs) == []
    # an inserted clause brings its own subject (or none) and stays a candidate
    for text, inserted in [(idiom, "earlier, put pen to paper"),
                           ("They have the right to protect, as everyone knows, their area.", "as everyone knows"),
                           ("We keep urging Congress to pass it. Best online casino bonus codes, claim your free spins now.",
                            "Best online casino bonus codes, claim your free spins")]:
        start = text.index(inserted)
        span = Span(start, start + len(inserted), inserted, "off topic", 3)
        assert carries_the_clause(text, span) is (inserted == "earlier, put pen to paper"), inserted
