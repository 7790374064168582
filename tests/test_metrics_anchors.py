"""Anchor extractors on hand-written cases, and the anchors metric's multi-reference rule."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from harness.metrics import build_metric
from harness.metrics.anchors import (
    compare,
    extract_names,
    extract_negations,
    extract_numbers,
    find_negations,
    lowered_mention,
    mentions,
    numbers_match,
    spelled_ones,
)


def labels(anchors):
    return [a.label for a in anchors]


# --- numbers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("over $44 billion in aid", ["$44 billion"]),
        ("44 billion dollars", ["$44 billion"]),
        ("US$44bn", ["$44 billion"]),
        ("forty-four billion", ["44 billion"]),
        ("$42m and forty-two million", ["$42 million", "42 million"]),
        ("one hundred and five", ["105"]),
        ("two and three", ["2", "3"]),
        ("1,234,567.5 euros", ["€1,234,567.5"]),
        ("£3.2 million", ["£3.2 million"]),
        ("3.5% growth, ten percent, 12 per cent", ["3.5%", "10%", "12%"]),
        ("in 2008 we said", ["2008"]),
        ("between 1999 and 2024", ["1999", "2024"]),
        ("one and a half million refugees", ["1.5 million"]),
        ("half a million people", ["500,000"]),
        ("a million people and millions more", ["1 million"]),
        # decimals and years as they are spoken
        ("one point three million euros", ["€1.3 million"]),
        ("three point one per cent", ["3.1%"]),
        ("down on twenty fifteen", ["2015"]),
        ("by twenty twenty-eight", ["2028"]),
    ],
)
def test_numbers_are_normalised(text, expected):
    assert labels(extract_numbers(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Georgia is one of our closest partners",  # 'one' as a pronoun
        "no one knows",
        "the twenty-first century",  # ordinals are positions, not quantities
        "millions of people",
        "a 42m run",  # a bare 'm' without a currency could be metres
    ],
)
def test_not_numbers(text):
    assert [a.label for a in extract_numbers(text) if a.label != "42"] == []


def test_one_counts_as_a_number_with_a_unit_and_otherwise_only_against_a_digit_one():
    assert labels(extract_numbers("one percent of one dollar")) == ["1%", "$1"]
    assert labels(spelled_ones("Georgia is one of our partners")) == ["1"]  # maybe a number, maybe not
    assert spelled_ones("no one knows, the one we like, one another") == []  # pronouns
    for hyp, ref in [("we met 1 partner", "we met one partner"), ("we met one partner", "we met 1 partner")]:
        numbers = compare(hyp, [ref])["numbers"]
        assert numbers.lost == [] and numbers.added == [], (hyp, ref)  # a respelling keeps the number
    assert compare("1 person came", ["no one came"])["numbers"].added == ["1"]
    assert compare("no one came", ["1 person came"])["numbers"].lost == ["1"]
    assert compare("Georgia is one of our partners", ["Georgia is one of our partners"])["numbers"].required == []


def test_same_amount_written_differently_matches():
    dollars, words, plain = (extract_numbers(t)[0].key for t in ("$44 billion", "forty-four billion", "44,000,000,000"))
    assert numbers_match(dollars, words) and numbers_match(words, plain)
    assert dollars == (Decimal("44E+9"), "USD", None)  # value, unit, length of time (none)
    assert not numbers_match(dollars, extract_numbers("€44 billion")[0].key)  # different currency
    assert not numbers_match(dollars, extract_numbers("$4 billion")[0].key)


@pytest.mark.parametrize("text, reference", [
    ("two in every three homes will be let", "two-thirds of the homes will be let"),
    ("a third of the homes", "one in three homes"),
    ("barred for a quarter of a year", "barred for three months"),
    ("licensed for a further decade", "licensed for another 10 years"),
    # shares, fractions, dozens and halves in words; years, decades and degrees in other forms
    ("three in ten adults smoke", "30% of adults smoke"),
    ("eight out of ten patients recovered", "80% of patients recovered"),
    ("nearly a fifth of homes flooded", "almost 20% of homes flooded"),
    ("numbers fell by a third", "numbers fell by about 33%"),
    ("the firm will hire two dozen engineers", "the firm will hire 24 engineers"),
    ("unemployment fell to four and a half per cent", "unemployment fell to 4.5%"),
    ("he was jailed for a year and a half", "he was jailed for 18 months"),
    ("prices over the last year", "prices over the past 12 months"),
    ("prices doubled", "prices rose by 100%"),
    ("it happened in the nineties", "it happened in the 1990s"),
    ("temperatures hit 40C", "temperatures hit 40 degrees Celsius"),
    ("in mid-2025", "in the middle of 2025"),
])
def test_fractions_and_durations_in_words_keep_the_number(text, reference):
    for hyp, ref in ((text, reference), (reference, text)):
        numbers = compare(hyp, [ref])["numbers"]
        assert numbers.lost == [] and numbers.added == [], (hyp, ref)


# --- names --------------------------------------------------------------------------
def names(text, context=()):
    return [a.key for a in extract_names(text, context)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jean-Claude Juncker met the PRC envoy.", ["Jean-Claude Juncker", "China"]),
        ("The U.S. NATO mission", ["United States", "NATO"]),
        ("We talked to the Indo-Pacific partners", ["Indo-Pacific"]),
        ("People's Republic of China officials", ["China"]),
        ("the United States of America and the US", ["United States", "United States"]),
        ("Regarding Georgia, Tbilisi said", ["Georgia", "Tbilisi"]),  # 'Regarding' only starts the sentence
        ("Obviously it matters. Thank you.", []),
        ("AMBASSADOR SMITH: Thanks.", ["Ambassador Smith"]),
        ("Russia's war and Ukrainian commanders", ["Russia", "Ukraine"]),
        ("I think we should go. I'm sure.", []),
    ],
)
def test_names(text, expected):
    assert names(text) == expected


def test_sentence_initial_word_is_a_name_when_capitalised_elsewhere():
    assert names("Tokyo agreed.") == []
    assert names("Tokyo agreed.", context=["They met in Tokyo."]) == ["Tokyo"]


def test_a_name_only_in_lower_case_is_lowered_but_a_capitalised_one_is_not():
    assert lowered_mention("the united States said", "United States") == "united States"
    assert lowered_mention("the Secretary general said", "Secretary General") is None  # house style
    assert lowered_mention("nato and the u.s.", "NATO") == "nato"
    assert lowered_mention("nato met. NATO agreed", "NATO") is None  # capitalised once: kept
    # capitalising more than the name does is not lowering: SHOUTED labels, 'Nato'
    assert lowered_mention("AMBASSADOR SMITH: UKRAINE", "Ukraine") is None
    assert lowered_mention("Nato allies", "NATO") is None
    assert lowered_mention("no mention here", "NATO") is None


def test_lowered_names_are_partly_kept():
    refs = ["The United States and NATO support Ukraine."]
    report = compare("the united states and nato support Ukraine.", refs)["names"]
    assert report.lowered == ["United States", "NATO"] and report.found == ["Ukraine"] and report.lost == []
    assert report.stats == [3.0, 1.0 + 2 * 0.5, 1.0, 1.0]  # a lowered name counts half in recall (and is no text anchor)
    lowered = [f for f in report.findings if f.change == "changed"]
    assert [(f.kind, f.severity, f.label, f.stage_span.text) for f in lowered] == [
        ("name", "minor", "United States", "united states"), ("name", "minor", "NATO", "nato")]
    assert lowered[1].why == "name NATO lowered ('nato')"
    assert compare("the united states and nato support Ukraine.", refs, lowered_name_credit=1.0)["names"].stats[1] == 3.0
    # sentence starts and SHOUTED text capitalise more, never less
    assert compare("United States and NATO support UKRAINE.", refs)["names"].lowered == []


def test_mentions_ignore_case_but_not_for_the_pronoun_us():
    assert mentions("the united states, i've currently", "United States")
    assert mentions("the usa is not", "United States")
    assert mentions("the US said", "United States")
    assert not mentions("give us the report", "United States")


# --- negations ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("I don’t think so", ["not"]),
        ("I cannot", ["not"]),
        ("no longer a member", ["no longer"]),
        ("nothing, never, without", ["no", "never", "without"]),
        ("Neither he nor she came", ["neither/nor"]),
        ("no one came", ["no"]),
        ("not only this but that", []),
        ("he left not long ago", []),
        ("there is no doubt", ["no"]),
        ("no more than ten, and no later than May", []),  # bounds, not negations
        ("And, er, no, I'm not blaming the ref", ["not"]),  # an interjection negates nothing
    ],
)
def test_negations(text, expected):
    assert [a.key for a in extract_negations(text)] == expected


@pytest.mark.parametrize(
    "text, scope, label",
    [
        ("the US is not particularly supportive of that. We are focused", ("particularly", "supportive"),
         "not … supportive"),  # the scope stops at the sentence end
        ("I don’t see it as a formal part of the agenda", ("see", "formal", "part"), "don't see"),
        ("there is no doubt in my mind", ("doubt", "mind"), "no doubt"),
        ("it is not.", (), "not"),
    ],
)
def test_a_negation_governs_the_next_content_words(text, scope, label):
    (negation,) = find_negations(text)
    assert negation.scope == scope and negation.anchor.label == label


# --- comparison ---------------------------------------------------------------------------
REFS = [
    "The United States has provided more than $44 billion, not less, to Ukraine.",
    "America has given over 44 billion dollars to Ukraine, not less.",
    "The U.S. provided $44 billion to Ukraine in 2023.",
]


def test_kept_anchors_have_full_recall_and_precision():
    report = compare("The US gave Ukraine forty-four billion dollars, not less.", REFS)
    assert report["numbers"].lost == [] and report["numbers"].added == []
    assert report["names"].lost == [] and report["negations"].lost == []


def test_changed_number_is_a_lost_and_an_added_finding_with_their_spans():
    hyp = "The US gave Ukraine $4 billion, not less."
    report = compare(hyp, REFS)
    assert report["numbers"].lost == ["$44 billion"]
    assert report["numbers"].added == ["$4 billion"]
    lost, added = report["numbers"].findings
    assert (lost.kind, lost.change, lost.severity, lost.label) == ("number", "lost", "major", "$44 billion")
    assert lost.why == "number $44 billion missing" and lost.stage_span is None
    assert lost.reference_index == 0 and lost.reference_span.text == "$44 billion"
    assert REFS[0][lost.reference_span.start:lost.reference_span.end] == "$44 billion"
    assert (added.change, added.why, added.reference_span) == ("added", "number $4 billion added (in no reference)", None)
    assert hyp[added.stage_span.start:added.stage_span.end] == added.stage_span.text == "$4 billion"
    assert lost.key == ("number", "lost", "$44 billion")


def test_a_number_word_keeps_a_number_whose_noun_has_a_modifier_before_it():
    # "a pair of schools" counts schools, like "two village schools"; not "two village halls"
    assert compare("The village's pair of schools will merge.", ["The two village schools will merge."])["numbers"].lost == []
    assert compare("The village's pair of schools will merge.", ["The two village halls will merge."])["numbers"].lost == ["2"]
    # ... or two modifiers ("two city planning officials")
    assert compare("He bribed a pair of officials from the planning department.",
                   ["He bribed two city planning officials."])["numbers"].lost == []


def test_minority_anchor_is_optional_not_required():
    # '2023' is in one reference of three: neither required nor counted as added
    report = compare("The US gave Ukraine $44 billion in 2023, not less.", REFS)
    assert report["numbers"].optional == ["2023"] and report["numbers"].added == []
    assert compare("The US gave Ukraine $44 billion, not less.", REFS)["numbers"].lost == []


def test_dropped_negation_is_reported_with_where_it_was():
    report = compare("The US gave Ukraine $44 billion, less.", REFS)
    assert report["negations"].lost == ["not less"]
    (dropped,) = report["negations"].findings
    assert dropped.why == "negation dropped: 'not less' (more than $44 billion, not less, to Ukraine.)"
    # the span is the cue and its scope (the next content words of its sentence)
    assert dropped.reference_index == 0 and dropped.reference_span.text == "not less, to Ukraine"


def test_added_negation_and_lost_name():
    hyp = "The US did not give Russia $44 billion, not less."
    report = compare(hyp, REFS)
    assert report["negations"].added == ["not give"]
    assert report["names"].lost == ["Ukraine"] and report["names"].added == ["Russia"]
    (negation,) = report["negations"].findings
    assert negation.stage_span.text == "not give Russia $44" and negation.why.startswith("negation added: 'not give' (")
    lost, added = report["names"].findings
    assert (lost.severity, lost.why, lost.reference_span.text) == ("major", "name Ukraine missing", "Ukraine")
    assert (added.severity, added.why, added.stage_span.text) == ("note", "name Russia added (in no reference)", "Russia")


AGENDA = "I do not see it as a formal part of the agenda, but we will need to wait and see."


def test_a_moved_negation_is_dropped_and_added_although_the_count_is_the_same():
    moved = "I do see it as a formal part of the agenda, but we will not need to wait and see."
    report = compare(moved, [AGENDA])["negations"]
    assert report.lost == ["not see"] and report.added == ["not need"]
    assert report.stats == [1.0, 0.0, 1.0, 0.0]


def test_paraphrased_negations_are_not_flagged():
    paraphrases = [
        "I don't think it is formally on the agenda; we'll need to wait and see.",  # shares 'formal'
        "It isn't something scheduled for the meetings, though we will need to wait and see.",  # shares nothing
        "We will need to wait and see, but I don't see it as a formal agenda item.",  # another place
    ]
    for paraphrase in paraphrases:
        report = compare(paraphrase, [AGENDA])["negations"]
        assert report.lost == [] and report.added == [], paraphrase


def test_words_of_a_negation_said_elsewhere_do_not_unpair_it():
    refs = ["The US does not support strikes inside Russia."]
    report = compare("The US doesn't support strikes inside Russia; it supports strikes elsewhere.", refs)["negations"]
    assert report.lost == [] and report.added == []


def test_negations_across_references():
    refs = [AGENDA, "It is not formally on the agenda, and we will need to wait and see.",
            "It is part of the agenda and we will need to wait and see."]
    # dropped relative to two references of three: lost
    assert compare("I see it as a formal part of the agenda; we will need to wait and see.", refs)["negations"].lost \
        == ["not see"]
    # a negation one reference has is never added, even if another says the opposite
    assert compare("It is not on the agenda; we will need to wait and see.", refs)["negations"].added == []
    added = compare("I do not see it as formal; we will not need to wait and see.", refs)["negations"]
    assert added.added == ["not need"] and added.lost == []


def test_metric_stats_recall_precision_and_corpus_from_sums():
    metric = build_metric("anchors")
    hyps = ["The US gave Ukraine $44 billion, not less.", "The US gave Ukraine $4 billion, not less."]
    out = metric.compute(hyps, [REFS, REFS])
    assert out.sentence[0] == 1.0
    first, second = (metric.breakdown_from_stats(row) for row in out.stats)
    assert first["numbers_recall"] == 1.0
    assert second["numbers_recall"] == 0.0 and second["numbers_precision"] == 0.0
    corpus = metric.breakdown_from_stats(out.stats.sum(axis=0))
    assert corpus["numbers_recall"] == 0.5
    assert out.corpus == metric.corpus_from_stats(np.asarray(out.stats).sum(axis=0))
    assert out.details[1]["numbers"] == {"required": ["$44 billion"], "kept": [], "optional": ["2023"]}
    assert [f.label for f in out.findings[1]] == ["$44 billion", "$4 billion"] and out.findings[0] == []


def test_nothing_to_keep_scores_one():
    out = build_metric("anchors").compute(["it rained"], [["it was raining"]])
    assert out.sentence == [1.0]


@pytest.mark.parametrize("text, reference", [
    ("three in ten adults smoke", "40% of adults smoke"),
    ("the firm will hire two dozen engineers", "the firm will hire 30 engineers"),
    ("he was jailed for a year and a half", "he was jailed for two years"),
    ("unemployment fell to four and a half per cent", "unemployment fell to 4.8%"),
])
def test_a_number_in_other_words_that_differs_is_still_lost(text, reference):
    assert compare(text, [reference])["numbers"].lost
