"""Long input costs time in proportion to its length (issue 17, point 8).

Each timing test runs one step on a short and on a long input and bounds the
*ratio* of the two times (a generous multiple of the ratio of the lengths),
never an absolute time: a quadratic step fails by a wide margin on any
machine, a linear one passes on a slow or busy one. The inputs are the ones
that were quadratic: a long run of characters without a space (the e-mail
patterns of ``whitespace`` and ``casing`` backtracked), a long line that
ftfy changes in many places (difflib's diff in ``unicode``), many edits to
compose, a long TER passage. Property tests check that the linear versions
give exactly what the old code gave.
"""

from __future__ import annotations

import difflib
import random
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cleaners import DEFAULT_CHAIN, build_cleaner, run_chain
from harness.cleaners.base import CleanResult, Edit
from harness.cleaners.casing import protected_spans_of
from harness.cleaners.protect import SpanSet
from harness.cleaners.spans import (EXACT_DIFF_TOKENS, apply_edits, compose, diff_edits, diff_opcodes,
                                    position_map)
from harness.cleaners.whitespace import url_spans
from harness.metrics.sacre import Ter, aligned_segments

BRIEFING = Path(__file__).resolve().parents[1] / "references" / "briefing" / "transcript.txt"
PROSE = " ".join(BRIEFING.read_text(encoding="utf-8").split())


def best_time(function, argument, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function(argument)
        best = min(best, time.perf_counter() - started)
    return best


def assert_linear(function, make, small: int, large: int, slack: float = 3.0) -> None:
    """time(make(large)) / time(make(small)) stays within ``slack`` times large / small."""
    short, long = make(small), make(large)
    function(short)  # warm caches (lexicons, compiled patterns)
    ratio = best_time(function, long, repeat=2) / max(best_time(function, short, repeat=5), 1e-4)
    assert ratio <= slack * large / small, f"{large / small:.0f}x the input took {ratio:.0f}x the time"


def prose(n: int) -> str:
    return (PROSE * (n // len(PROSE) + 1))[:n]


def mojibake_prose(n: int) -> str:
    """Prose with a mojibake apostrophe every few sentences: ftfy repairs it
    all along the line, so the cleaner diffs a long, many-times-changed line."""
    return prose(n).replace("'", "\u00e2\u20ac\u2122")


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda n: "A" + "a" * n, lambda n: "A" + "a@" * (n // 2)], ids=["letters", "at-signs"])
@pytest.mark.parametrize("name", ["whitespace", "casing"])
def test_a_long_run_without_spaces_is_linear(name, make):
    """whitespace: 25,000 characters took 1.3 s, 200,000 took 86 s."""
    cleaner = build_cleaner(name)
    assert_linear(cleaner.clean, make, 10_000, 80_000)


def test_urls_among_many_edits_are_linear():
    cleaner = build_cleaner("whitespace")
    assert_linear(cleaner.clean, lambda n: ("see http://x.org/a ok , and  www.y.com ! " * n)[:n], 10_000, 80_000)


def test_unicode_repair_of_a_long_line_is_linear():
    """The ftfy step diffed each changed line with difflib: 200,000 characters of
    distorted text took 325 s."""
    cleaner = build_cleaner("unicode")
    assert_linear(cleaner.clean, mojibake_prose, 10_000, 80_000)


def test_diff_of_long_texts_is_linear():
    def make(n):
        text = prose(n)
        return text, text.replace(" the ", " a ").replace("'", "\u2019")

    assert_linear(lambda pair: diff_edits(pair[0], pair[1], "x"), make, 10_000, 80_000)


def test_composing_many_edits_is_linear():
    def make(n):
        text = "ab " * (n // 3)
        first = CleanResult(text.replace("ab", "abc"), [Edit(i, i + 2, "ab", "abc", "one") for i in range(0, len(text), 3)])
        second = CleanResult(first.text.replace("c", "d"),
                             [Edit(i + 2, i + 3, "c", "d", "two") for i in range(0, len(first.text), 4)])
        return text, first, second

    assert_linear(lambda args: compose(*args), make, 5_000, 40_000)


def test_ter_of_a_long_passage_is_linear():
    """sacrebleu's TER of one 20,000-character passage took 438 s."""
    ter = Ter()
    words = PROSE.split()
    rng = random.Random(7)

    def make(n):
        ref = " ".join(words[i % len(words)] for i in range(n))
        hyp = " ".join(w for w in ref.split() if rng.random() > 0.1)
        return hyp, ref

    assert_linear(lambda pair: ter.sentence_stats([pair[0]], [[pair[1]]]), make, 300, 2_400)


def offtopic_prose(n: int) -> str:
    """Prose with an off-topic keyword phrase in every sentence, in a text that
    names the topic: each match was checked by re-tokenising the whole text."""
    return prose(n).replace(". ", ". You can buy viagra online here and ")[:n]


def test_offtopic_spans_are_linear():
    """injected: the off-topic check re-tokenised the whole text per match
    (0.55 s at 100,000 characters, 5.15 s at 400,000)."""
    cleaner = build_cleaner("injected")
    assert_linear(cleaner._offtopic_spans, offtopic_prose, 10_000, 80_000)
    assert_linear(cleaner.clean, offtopic_prose, 10_000, 80_000)


def test_spin_on_a_long_line_is_linear():
    """spin's quote check scanned back to the line start for every word."""
    cleaner = build_cleaner("spin")
    assert_linear(cleaner.clean, mojibake_prose, 20_000, 160_000)


@pytest.mark.slow
def test_clean_of_a_1_mb_line_is_linear():
    """``harness clean`` on a 1 MB line ran past 200 s."""
    chain = [build_cleaner(name) for name in DEFAULT_CHAIN]
    assert_linear(lambda text: run_chain(chain, text), lambda n: mojibake_prose(n), 100_000, 1_000_000)


# --------------------------------------------------------------------------
# Same results as the old, quadratic code
# --------------------------------------------------------------------------

_OLD_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+")
_OLD_PROTECTED = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+|[@#]\w+|`[^`]*`")
_PIECES = st.sampled_from(["a", "b", "_", ".", "@", " ", "\n", "-", "#", "`", "é", "http://", "https://", "www.",
                           ",", "1", "/"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_protected_spans_are_the_old_regex_matches(text):
    assert url_spans(text) == [m.span() for m in _OLD_URL.finditer(text)]
    assert protected_spans_of(text) == [m.span() for m in _OLD_PROTECTED.finditer(text)]


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join), st.data())
def test_span_questions_answer_as_the_old_scans(text, data):
    spans = [m.span() for m in _OLD_URL.finditer(text)]
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    old_inside = any(s <= start and end <= e and s < e for s, e in spans) or any(s < start < e for s, e in spans)
    assert SpanSet(spans).holds(start, end) == old_inside
    assert SpanSet(spans).overlaps(start, end) == any(s < end and start < e for s, e in spans)


def _old_quoted(text: str, start: int, end: int) -> bool:
    """InjectedCleaner._quoted as it was (copies of the text's prefix and suffix)."""
    from harness.cleaners.injected import _CLOSERS, _OPENERS

    before = text[:start].rstrip()
    after = text[end:].lstrip()
    if before[-1:] and before[-1] in _OPENERS and after[:1] and after[0] in _CLOSERS:
        return True
    sentence_start = max(before.rfind(". "), before.rfind("\n"))
    return before[sentence_start + 1:].count('"') % 2 == 1


def _old_topic_outside(text: str, start: int, end: int, topic) -> bool:
    from harness.cleaners.injected import _WORD

    rest = text[:start] + " " + text[end:]
    return bool({w.lower() for w in _WORD.findall(rest)} & topic)


_INJECTED_PIECES = st.sampled_from(["buy viagra", "viagra", "Viagra's", "drugs", "a", "word", "-", "'", "’",
                                    " ", "  ", ". ", ".", "\n", '"', "“", "(", ")", "*", "é", "1"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_INJECTED_PIECES, max_size=30).map("".join), st.data())
def test_injected_questions_answer_as_the_old_scans(text, data):
    from harness.cleaners.injected import _TextIndex

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    index = _TextIndex(text)
    topic = frozenset({"viagra", "drugs", "viagra's"})
    assert index.quoted(start, end) == _old_quoted(text, start, end)
    assert index.topic_outside(start, end, topic) == _old_topic_outside(text, start, end, topic)


def test_offtopic_removals_are_the_old_ones():
    cleaner = build_cleaner("injected")
    text = "We met today. You can buy viagra online at a good price and we talked about trade."
    assert cleaner._offtopic_spans(text) == [(21, 32, "", "offtopic:pharmacy")]
    assert cleaner._offtopic_spans(text + " Viagra is a drug.") == []  # a text about the topic keeps it
    assert cleaner._offtopic_spans(text.replace("buy viagra", '"buy viagra"')) == []  # quoted


def _old_position_map(firsts):
    """compose()'s position mapping as it was (a scan per position), to compare with."""
    landed, shift = [], 0
    for edit in firsts:
        start1 = edit.start + shift
        landed.append((start1, start1 + len(edit.after)))
        shift += len(edit.after) - (edit.end - edit.start)

    def to_original(pos, is_end):
        offset = 0
        for edit, (s1, e1) in zip(firsts, landed):
            if s1 < pos < e1:
                return edit.end if is_end else edit.start
            if e1 <= pos:
                offset = (edit.end - edit.start) - (e1 - s1) + offset
                continue
            break
        return pos + offset

    return to_original


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab .,", max_size=40), st.text(alphabet="ab .,c", max_size=40),
       st.text(alphabet="abd .,", max_size=40))
def test_compose_maps_positions_as_before(a, b, c):
    firsts = sorted(diff_edits(a, b, "one"), key=lambda e: (e.start, e.end))
    new, old = position_map(firsts), _old_position_map(firsts)
    for pos in range(len(b) + 1):
        assert new(pos, False) == old(pos, False) and new(pos, True) == old(pos, True)
    composed = compose(a, CleanResult(b, firsts), CleanResult(c, diff_edits(b, c, "two")))
    assert apply_edits(a, composed.edits) == c


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", " ", ".", "d"]), min_size=0, max_size=60),
       st.lists(st.sampled_from(["a", "b", "c", " ", ".", "e"]), min_size=0, max_size=60),
       st.integers(0, 12))
def test_linear_diff_opcodes_tile_both_sides(a, b, limit):
    opcodes = diff_opcodes(a, b, exact_limit=limit)
    rebuilt: list[str] = []
    i = j = 0
    for tag, i1, i2, j1, j2 in opcodes:
        assert (i1, j1) == (i, j)
        assert tag in ("equal", "replace", "delete", "insert")
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
        rebuilt += b[j1:j2]
        i, j = i2, j2
    assert (i, j) == (len(a), len(b)) and rebuilt == b


def test_diffs_of_normal_length_are_difflibs():
    a, b = prose(3000).split(" "), prose(3000).replace(" the ", " a ").split(" ")
    assert len(a) <= EXACT_DIFF_TOKENS
    assert diff_opcodes(a, b) == difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def test_a_long_diff_rebuilds_the_text():
    before = mojibake_prose(60_000)
    after = build_cleaner("unicode").clean(before).text
    assert apply_edits(before, diff_edits(before, after, "x")) == after


# --------------------------------------------------------------------------
# TER's length rule
# --------------------------------------------------------------------------

def test_ter_of_normal_passages_is_sacrebleus_exactly():
    from sacrebleu.metrics import TER

    ter = Ter()
    hyps = [line for line in BRIEFING.read_text(encoding="utf-8").splitlines() if line.strip()]
    refs = [[h.replace(" the ", " a "), h.lower()[::-1]] for h in hyps]
    assert all(len(h.split()) <= Ter.SEGMENT_ABOVE_WORDS for h in hyps)
    ours = ter.sentence_stats(hyps, refs)
    theirs = TER()._extract_corpus_statistics(hyps, [[r[0] for r in refs], [r[1] for r in refs]])
    assert ours.tolist() == [[float(x) for x in row] for row in theirs]


def test_ter_of_a_long_passage_is_summed_over_aligned_segments():
    ter = Ter()
    ref = prose(20_000)
    hyp = ref.replace(" the ", " a ")
    edits, length = ter.sentence_stats([hyp], [[ref]])[0]
    assert length == len(ref.lower().split())
    assert edits == ref.count(" the ")  # one substitution per changed word, however long the passage


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcde"), max_size=300), st.lists(st.sampled_from("abcdf"), max_size=300),
       st.integers(1, 50))
def test_aligned_segments_tile_both_texts(hyp, ref, target):
    segments = aligned_segments(hyp, ref, target)
    i = j = 0
    for i1, i2, j1, j2 in segments:
        assert (i1, j1) == (i, j) and (i2, j2) != (i1, j1)
        i, j = i2, j2
    assert (i, j) == (len(hyp), len(ref))
