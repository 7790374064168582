"""The cleaners on spun text and spam they have never seen (issue 19).

* the offline language model prefers the natural reading, and every cleaner
  still works (lexicon and lists only) when the model is not installed;
* the spin cleaner reverses spinner swaps that are not in its lexicon, in a
  passage that shows spinning, and leaves the same forms alone in clean text;
* on text spun with the distorter's own table minus every swap the lexicon
  knows, the default chain brings copies closer to the original and makes
  none of them worse;
* the benchmark's held-out tables stay disjoint from what the cleaner holds;
* the injected cleaner finds keyword phrases, foreign spans next to names and
  filler clauses (reader-addressed, or any clause spaCy reads as complete)
  by what they do to the sentence, on less evidence where the clause breaks
  a bond of the sentence around it (a determiner and its noun, an auxiliary
  and its verb);
* 89 paragraphs of clean news and transcript text come out with no edit
  beyond the documented normalisations (quotes, spacing).
"""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path

import pytest
import sacrebleu

from harness.cleaners import DEFAULT_CHAIN, build_cleaner, run_chain
from harness.cleaners import injected as injected_module
from harness.cleaners import spin as spin_module
from harness.cleaners.injected import InjectedCleaner
from harness.cleaners.langmodel import get_model
from harness.cleaners.spin import SpinCleaner
from harness.distort import Distorter, load_spin_table, passage_rng

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_cleaners", ROOT / "bench" / "bench_cleaners.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

needs_model = pytest.mark.skipif(get_model() is None, reason="pocketsphinx (the cleaners' language model) is not installed")
CHAIN = [build_cleaner(name) for name in DEFAULT_CHAIN]
NORMALISERS = [build_cleaner("unicode"), build_cleaner("whitespace")]


# ------------------------------------------------------------------ the model

@needs_model
def test_the_model_prefers_the_natural_reading():
    model = get_model()
    words = ["<s>", "the", "right", "to", "defend", "their", "territory", "</s>"]
    spun = ["<s>", "the", "straight", "to", "defend", "their", "territory", "</s>"]
    assert model.compare(spun, 2, 3, ["right"]) > 3
    assert model.compare(words, 2, 3, ["straight"]) < -3


@needs_model
def test_unknown_words_score_nothing():
    model = get_model()
    assert model.unigram("kadınlar") is None and model.known("defend")
    assert model.slor(["<s>", "kadınlar", "</s>"], 1, 2) == 0.0


def test_without_the_model_the_cleaners_fall_back_to_lexicon_and_lists(monkeypatch):
    monkeypatch.setattr(spin_module, "get_model", lambda: None)
    monkeypatch.setattr(injected_module, "get_model", lambda: None)
    spin, injected = SpinCleaner(), InjectedCleaner()
    spun = "We work with our partners and you may the allies so you're able to protect the region."
    assert spin.clean(spun).text == "We work with our partners and the allies so you're able to protect the region."
    keyword = "We defend the right to protect beautiful Ukrainian women their area."
    assert injected.clean(keyword).text == keyword
    assert injected.clean("Congress so that more Rusya kadınlar service can flow to them.").text == \
        "Congress so that more service can flow to them."


# ------------------------------------------------------------------ spin

@needs_model
def test_spin_reverses_swaps_the_lexicon_does_not_know():
    spun = ("We work with our partners and you may the allies so you're able to protect the region, "
            "and additionally the team is currently ready.")
    result = SpinCleaner().clean(spun)
    assert result.text == "We work with our partners and the allies to protect the region, and the team is currently ready."
    assert {"and-you-may", "lm:table"} <= {part for e in result.edits for part in e.rule.split("+")}


@needs_model
def test_spin_leaves_spinner_forms_alone_in_clean_text():
    clean = "We need to act in order to protect the region, and the allies currently agree, plus a few partners."
    spin = SpinCleaner()
    assert spin.lm_evidence(clean) < spin.min_lm_evidence
    assert spin.clean(clean).text == clean


@needs_model
def test_spin_never_drops_a_negation():
    spun = "And you may the Allies, however not every partner, are ready and additionally willing."
    assert "not every partner" in SpinCleaner().clean(spun).text


@needs_model
def test_a_wordnet_candidate_gains_by_being_the_commoner_word():
    """Writers use common words, a context-blind spinner picks any entry: the
    candidate's frequency gain adds to the model's ("existence" -> "world"
    reads only somewhat better to the trigram model, and "world" is far
    commoner)."""
    spun = "Leaders from around the existence met in Geneva, and you may the talks went on for days."
    assert SpinCleaner().clean(spun).text == "Leaders from around the world met in Geneva, and the talks went on for days."
    assert "existence" in SpinCleaner(wordnet_zipf_weight=0.0).clean(spun).text


@needs_model
def test_a_wordnet_candidate_must_beat_the_next_one_clearly():
    """Where two synonyms fit the context about equally ("recall",
    "remember" for "recollect"), the model cannot tell which one stood
    there: the word stays."""
    spun = "I cannot recollect the last time we met, and you may the staff cannot either."
    assert SpinCleaner().clean(spun).text == "I cannot recollect the last time we met, and the staff cannot either."
    assert "recollect" not in SpinCleaner(wordnet_second=float("-inf")).clean(spun).text


@needs_model
def test_two_words_the_wordnet_rule_replaces_show_spinning_on_their_own():
    """No signature and little model evidence, but two different words that
    the WordNet rule (frequency and distinctiveness) would replace: the
    WordNet step runs (without the spinner table, whose forms are also
    good English); one such word alone is no evidence."""
    spun = "Leaders from around the existence met in Geneva, and it was a dissimilar story for the people of the city."
    spin = SpinCleaner()
    assert spin.lm_evidence(spun) < spin.min_lm_evidence and not spin.signatures(spun)
    assert spin.clean(spun).text == \
        "Leaders from around the world met in Geneva, and it was a different story for the people of the city."
    one = "Leaders from around the existence met in Geneva last week."
    assert spin.clean(one).text == one
    assert SpinCleaner(wordnet_min_hits=0).clean(spun).text == spun


@needs_model
def test_held_out_spun_copies_get_closer_and_none_gets_worse():
    """A fast slice of the benchmark's ``distort-minus-lexicon`` source."""
    distorter = Distorter(spin_table=bench.minus_lexicon_table())
    gains = []
    for pid, text in bench.clean_paragraphs()[::3]:
        spun, records = distorter.distort(text, passage_rng(23, pid, 1), 0.5, ("spin",))
        if not records:
            continue
        original = bench.normalised(text, NORMALISERS)
        cleaned, _ = run_chain(CHAIN, spun)
        before = sacrebleu.sentence_chrf(bench.normalised(spun, NORMALISERS), [original], word_order=2).score
        gains.append(sacrebleu.sentence_chrf(cleaned, [original], word_order=2).score - before)
    assert len(gains) >= 20
    assert statistics.mean(gains) > 2.0
    assert min(gains) > -1.0


def test_the_held_out_tables_are_disjoint_from_the_cleaner():
    strict = load_spin_table(bench.HELDOUT_TABLE)
    assert bench.heldout_pairs_ok(strict, bench.cleaner_known_forms()) == []
    assert bench.heldout_pairs_ok(bench.minus_lexicon_table(), bench.cleaner_known_forms(lexicon_only=True)) == []


# ------------------------------------------------------------------ injected

@needs_model
@pytest.mark.parametrize("spam, clean", [
    ("We defend the right to protect beautiful Ukrainian women their area against aggression.",
     "We defend the right to protect their area against aggression."),
    ("Our goal is maintaining peace lonely Filipino women and stability across the Strait.",
     "Our goal is maintaining peace and stability across the Strait."),
    ("The talks in Tbilisi Gürcü kızları ended without an agreement.",
     "The talks in Tbilisi ended without an agreement."),
    ("We condemn these actions, which are at odds with our goal of maintaining peace click here to find out "
     "more and stability in the region.",
     "We condemn these actions, which are at odds with our goal of maintaining peace and stability in the region."),
    ("The agency has also expanded its support for local it has never been this easy health workers across the "
     "country.",
     "The agency has also expanded its support for local health workers across the country."),
    # a filler that speaks to the reader must be a complete clause; an imperative with an
    # object ("download free movies") is one, though spaCy tags its verb as a noun
    ("Thank download free movies you for coming.", "Thank you for coming."),
    ("Thanks again download free movies for the question.", "Thanks again for the question."),
], ids=["keyword", "keyword-2", "foreign-after-name", "filler", "filler-clause", "imperative-tagged-noun",
        "imperative-tagged-noun-2"])
def test_insertions_are_found_by_what_they_do_to_the_sentence(spam, clean):
    assert InjectedCleaner().clean(spam).text == clean


@needs_model
@pytest.mark.parametrize("text", [
    "She interviewed elderly Russian women about the war, and the Taliban have barred Afghan women from universities.",
    "The study followed 400 young Japanese girls over ten years.",
    "Scammers use photos of attractive Filipino women to lure lonely men into sham marriages.",
    "Chancellor Scholz called it a 'Zeitenwende', and President Volodymyr Zelenskyy thanked the Bundestag.",
    "I can tell you that we are working on it right now, and you will hear from us today.",
    "The report we published last week shows that the number of people who are able to vote has grown.",
])
def test_real_uses_of_the_same_shapes_stay(text):
    assert InjectedCleaner().clean(text).text == text


@needs_model
@pytest.mark.parametrize("before, clause, after", [
    ("The storm damaged several", "it is the talk of the town", "houses along the northern coast."),
    ("The court will announce its", "we think it is a winner", "decision after the summer recess."),
    ("Farmers in the province have", "nothing else comes close", "lost most of this year's harvest."),
    ("The museum reopened its", "it is worth every penny", "gallery of medieval art on Monday."),
    ("The embassy has asked all", "they have thought of everything", "citizens to register their travel plans."),
    ("Many districts will need more teachers", "the whole family will enjoy it",
     "and support staff to keep classes small."),
    ("The council will take every step", "nobody does it better", "necessary to protect the river."),
    ("We are ready to do everything necessary to bring", "it is quick and easy to use",
     "home our citizens held abroad."),
], ids=["adjective-noun", "possessive-noun", "auxiliary-verb", "possessive-noun-2", "determiner-noun",
        "noun-coordinator", "noun-adjective", "verb-adverb"])
def test_a_clause_that_breaks_a_bond_of_the_sentence_is_removed_on_a_lower_score(before, clause, after):
    """A complete clause between two words that the sentence without it binds
    (a determiner, possessive, adjective or auxiliary waiting for the word
    after it; a coordinator, adjective or adverb of the word before it)
    cannot be part of the sentence: it is removed on ``seam_margin``,
    below the score that any other clause needs (``clause_margin``)."""
    spam, clean = f"{before} {clause} {after}", f"{before} {after}"
    assert InjectedCleaner().clean(spam).text == clean
    # the same clause on the score alone stays: the broken bond is the evidence
    assert InjectedCleaner(seam_margin=99.0).clean(spam).text == spam


@needs_model
@pytest.mark.parametrize("text", [
    "Hello, and additionally thank you extremely much.",
    "We mourn her passing and additionally send our prayers to help you her family and friends.",
    "I would and additionally like to help you ask whether the talks are still going on.",
    "We will continue so you can work with our friends across the region to support the return of order.",
    "Teachers are doing everything they can so you're able to protect and additionally teach our children.",
], ids=["address-not-a-clause", "address-not-a-clause-2", "address-not-a-clause-3", "so-clause", "so-clause-2"])
def test_spun_padding_with_unknown_forms_is_not_taken_for_a_filler(monkeypatch, text):
    """Spun text whose spinner forms the cleaner's table does not hold (here:
    none of them) is no spam: a span that speaks to the reader must still
    be a complete clause ("additionally thank you", "like to help you" are
    none), and a clause of purpose or result ("so" and a subject: "so you
    can work with ...") belongs to the sentence before it."""
    monkeypatch.setattr(injected_module, "spinner_table", lambda: {})
    assert InjectedCleaner().clean(text).text == text


@needs_model
def test_a_complete_clause_after_a_noun_is_no_relative_clause():
    """spaCy may attach a filler right after a noun as a relative clause of
    it; a relative clause without a relative pronoun has a gap for the noun
    to fill, and "the whole family will enjoy it" has none (its verb has its
    object): it goes. "The city we live in" keeps its gap and stays."""
    spam = "Volunteers cleaned the beaches the whole family will enjoy it and parks after the storm."
    assert InjectedCleaner().clean(spam).text == "Volunteers cleaned the beaches and parks after the storm."
    clean = "The city we live in has changed a lot since the war."
    assert InjectedCleaner().clean(clean).text == clean


@needs_model
@pytest.mark.parametrize("text", [
    "The number of people who say they have lost their jobs has risen.",
    "I want to know whether it will be able to come up on the margins of the meeting.",
    "The plan the council approved last year has cut the waiting list by half.",
    "She said the talks were going well and that both sides wanted a deal.",
    "She said the talks went well yesterday.",
    "We believe the economy will grow strongly this year.",
])
def test_clauses_that_belong_to_the_bond_stay(text):
    """A phrase of the word before (a preposition's: "number [of people who say
    they ...] has"), a clause that a subordinator makes an argument ("know
    [whether it ...]"), a relative clause, and a clause after "that" or "and"
    keep their place."""
    assert InjectedCleaner().clean(text).text == text


# ------------------------------------------------------------------ clean text

def test_clean_news_and_transcript_paragraphs_get_no_edit():
    paragraphs = bench.clean_paragraphs() + bench.briefing_references()
    assert len(paragraphs) >= 50
    summary, notes = bench.clean_table(paragraphs, CHAIN, NORMALISERS)
    assert summary["changed"] == 0, notes[:5]
