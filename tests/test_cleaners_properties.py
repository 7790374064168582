"""Properties every built-in cleaner (and the default chain) must have, tested with hypothesis.

* it never crashes, on any string (lone surrogates and control characters included);
* it is idempotent: cleaning the output again changes nothing more;
* its edits explain the whole change (applied to the input they give the output);
* it never touches clean ASCII English prose from a fixed sample, including
  sentences that use the spinner's favourite words for real.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cleaners import DEFAULT_CHAIN, build_cleaner, run_chain
from harness.cleaners.spans import apply_edits

BUILTINS = ["unicode", "whitespace", "injected", "spin", "casing"]
CLEANERS = {name: build_cleaner(name) for name in BUILTINS}
CHAIN = [CLEANERS[name] for name in DEFAULT_CHAIN]

# Any code point, surrogates included (hypothesis leaves them out by default).
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=120)

# Text that looks like spun web copy: the spinner's phrases, real words,
# damaged characters and punctuation in random order, so that the rules fire
# on each other's output.
SPUN_PIECES = [
    "and you may", "and you can", "the fresh new", "the brand new", "brand new", "individuals", "the individuals",
    "that", "otherwise", "regarding", "hand", "You.S.", "Your.S.", "the usa", "the", "a", "an", "in the", "2008",
    "Georgia", "Russia", "inside the", "in to the", "our very own", "lovers", "couples", "try", "recently",
    "depending", "each other", "The japanese", "Allow me to", "Let me", "just like the", "I'm", "i've", "i'd",
    "united states", "nato", "they'lso are", "wear't", "I'meters", "out-of", "needed seriously to", "cyber symptoms",
    "Rusya", "kadД±nlar", "kadınlar", "payday loans", "it’s", "“quoted”", "–", ",", ".", "..", ",,", "  ", "\n",
    "(", ")", "we", "go", "see", "Ukraine", "to possess", "collaboration", "which have", "among the most", "our",
]
spun_text = st.lists(st.sampled_from(SPUN_PIECES), min_size=1, max_size=25).map(" ".join)

# Clean ASCII English prose: none of the cleaners may change a word of it.
CLEAN_PROSE = [
    "Thank you. On the question of how Ukraine conducts this war, let me first say that we believe Ukraine has "
    "every right to defend its territory.",
    "The United States has already provided more than $44 billion in security assistance so that Ukraine can do "
    "this effectively.",
    "We are not particularly supportive of strikes inside Russia, and we are focused on the right to defend.",
    "You can stay here, and you may leave whenever you like.",
    "Many individuals trust their doctors, and the challenges that individuals face are real.",
    "The couples danced all night, and the lovers walked along the river.",
    "Unless otherwise stated, prices are in euros; otherwise, we would have said so.",
    "Questions regarding the policy go to the press office, and the rest goes to the U.S. embassy.",
    "The team unveiled the brand new stadium, a fresh new look for the club.",
    "They love each other and their children, and they try hard to be fair.",
    "Citizens have the right to possess firearms, and countries which have the resources should help.",
    "She is among the most talented players, and he was capable of more.",
    "An out-of-state visitor found an out-of-date map in the 1990s archive.",
    "The Ukraine desk and the Russia desk of the paper share an office.",
    "In 2008 we said that both Ukraine and Georgia would become members of NATO.",
    "The Secretary General was recently in the region, which was a very important trip.",
    "Not every partner is seeking membership per se, and the status quo is not an option.",
    "Chancellor Scholz called it a 'Zeitenwende', a turning point for Germany.",
    "President Volodymyr Zelenskyy spoke in Kyiv before the Bundestag debate.",
    "Wait... what? See e.g. the report, i.e. the 3.5 percent figure, on page 12.",
    "I'm sure we don't need to wait, and they're ready if you're ready.",
    "Hello. Thank you very much. I'd like to ask how the U.S. views the Indo-Pacific region.",
    "Well, let me first say that we find ourselves engaged in more discussions with our partners.",
    "We see the PRC and Russia relying on disruptive technologies, both relying on malicious cyber attacks.",
    "As I noted, the shared security challenges we face with our partners in the Caucasus are similar.",
    "The bank warned that payday loans carry very high interest for borrowers.",
    "Read the guide and you can install it in minutes; and you may also call us.",
    "I try walking every day, and users try clicking twice.",
]
clean_prose = st.lists(st.sampled_from(CLEAN_PROSE), min_size=1, max_size=3).map(" ".join)

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", BUILTINS)
@PROPERTY_SETTINGS
@given(text=st.one_of(any_text, spun_text))
def test_never_crashes_and_edits_explain_the_output(name, text):
    result = CLEANERS[name].clean(text)
    assert isinstance(result.text, str)
    assert apply_edits(text, result.edits) == result.text
    for edit in result.edits:
        assert text[edit.start:edit.end] == edit.before


@pytest.mark.parametrize("name", BUILTINS)
@PROPERTY_SETTINGS
@given(text=st.one_of(any_text, spun_text))
def test_idempotent(name, text):
    once = CLEANERS[name].clean(text).text
    assert CLEANERS[name].clean(once).text == once


@PROPERTY_SETTINGS
@given(text=st.one_of(any_text, spun_text))
def test_default_chain_is_idempotent(text):
    once, _ = run_chain(CHAIN, text)
    twice, edits = run_chain(CHAIN, once)
    assert twice == once and edits == []


@settings(max_examples=60, deadline=None)
@given(text=clean_prose)
def test_clean_ascii_prose_is_never_touched(text):
    cleaned, edits = run_chain(CHAIN, text)
    assert edits == [] and cleaned == text


def test_surrogates_are_left_in_place():
    text = "broken \ud800 text with kadД±nlar and it’s"
    result = CLEANERS["unicode"].clean(text)
    assert "\ud800" in result.text and "kadınlar" in result.text


@pytest.mark.xfail(strict=True, reason="found by the property test above on random examples: spin repairs "
                   "\"WEAR'T\" to \"DON'T\" after injected ran, and on the second pass injected's language "
                   "identification, seeing the repaired word beside it, takes 'SYa abk' for Indonesian")
def test_default_chain_is_idempotent_when_a_later_repair_changes_what_an_earlier_cleaner_sees():
    once, _ = run_chain(CHAIN, "A:WEAR'T:A0SYa abk")
    assert run_chain(CHAIN, once) == (once, [])
