"""The issue's bar on the bundled briefing: the default chain must bring every
passage closer to its references (sentence chrF++, all references) than the
distorted text is, and the injected spam must be gone."""

from __future__ import annotations

from pathlib import Path

import pytest
import sacrebleu
import yaml

from harness.cleaners import DEFAULT_CHAIN, build_cleaner, run_chain

BRIEFING = Path(__file__).resolve().parents[1] / "references" / "briefing"
PASSAGES = (BRIEFING / "transcript.txt").read_text(encoding="utf-8").split("\n")
REFERENCES = yaml.safe_load((BRIEFING / "references.yaml").read_text(encoding="utf-8"))
CHAIN = [build_cleaner(name) for name in DEFAULT_CHAIN]


def chrf_pp(hypothesis: str, references: list[str]) -> float:
    return sacrebleu.sentence_chrf(hypothesis, references, word_order=2).score


@pytest.mark.parametrize("index", range(len(PASSAGES)), ids=[f"p{i + 1:02d}" for i in range(len(PASSAGES))])
def test_cleaned_beats_distorted_on_chrf_pp(index):
    distorted = PASSAGES[index]
    refs = REFERENCES[f"p{index + 1:02d}"]
    cleaned, edits = run_chain(CHAIN, distorted)
    assert edits, "every passage of the briefing carries spinner damage"
    assert chrf_pp(cleaned, refs) > chrf_pp(distorted, refs)


def test_injected_spam_is_removed_and_names_kept():
    cleaned, edits = run_chain(CHAIN, PASSAGES[0])
    assert "Rusya" not in cleaned and "kad" not in cleaned
    assert {"cleaner": "injected", "rule": "foreign-span:tr"}.items() <= next(
        e for e in edits if e["cleaner"] == "injected").items()
    for name in ("Ukraine", "Congress", "United States", "U.S."):
        assert name in cleaned
