"""Spans the cleaners must not touch (URLs, e-mail addresses, handles, code),
found in linear time.

The natural patterns for an e-mail address, ``\\S+@\\S+`` and
``\\S+@\\S+\\.\\w+``, backtrack: on a long run of non-space characters the
regex engine retries the run from every position, which made the
``whitespace`` and ``casing`` cleaners quadratic (200,000 characters without
a space: 86 s). :func:`protected_spans` finds *exactly* the matches that
``re.finditer`` of ``<other alternatives>|<e-mail pattern>`` finds (with the
e-mail pattern at its place in the alternation), but decides the e-mail part
once per run of non-space characters:

* ``\\S+@\\S+`` matches from a position ``p`` of a run iff an ``@`` lies after
  ``p`` with at least one character after it in the run; the match runs to
  the end of the run;
* ``\\S+@\\S+\\.\\w+`` matches from ``p`` iff the run has a "dot followed by a
  word character" at ``d`` and an ``@`` at ``k`` with ``p < k <= d - 2``;
  the match ends after the word characters that follow the *last* such dot.

Both hold for every position of a run before some threshold ``T`` and for
none after it, so one pass over the runs finds them. ``tests/test_linear_time.py``
checks the spans against the regex on random text.
"""

from __future__ import annotations

import bisect
import re
from typing import Callable, Sequence

_RUN = re.compile(r"\S+")

#: ``rule(text, run_start, run_end) -> (T, end)``: the e-mail alternative
#: matches ``[p, end)`` for every ``p`` in ``[run_start, T)``; None: nowhere in the run.
EmailRule = Callable[[str, int, int], "tuple[int, int] | None"]


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w matches in a str pattern


def address_to_run_end(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``\\S+@\\S+``: an ``@`` after ``p`` and before the run's last character."""
    k = text.rfind("@", start, end - 1)
    return (k, end) if k > start else None


def address_with_domain(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``\\S+@\\S+\\.\\w+``: an ``@`` after ``p``, then at least one character,
    then a dot followed by a word character; the match ends after the word
    characters that follow the last such dot of the run."""
    d = end
    while True:
        d = text.rfind(".", start, d)
        if d < 0:
            return None
        if d + 1 < end and _is_word(text[d + 1]):
            break
    if d - 1 <= start:  # (a negative bound would make rfind count from the end)
        return None
    k = text.rfind("@", start, d - 1)
    if k <= start:
        return None
    stop = d + 1
    while stop < end and _is_word(text[stop]):
        stop += 1
    return k, stop


def protected_spans(text: str, other: re.Pattern, email: EmailRule) -> list[tuple[int, int]]:
    """The spans that ``re.finditer`` of a pattern made of ``other``'s
    alternatives plus an e-mail alternative (decided by ``email``) would find,
    in linear time.

    Where ``other`` and the e-mail alternative both match at one position,
    the regex takes the alternative written first: ``other``'s match wins if
    it comes from its group named ``before`` (an alternative written before
    the e-mail one), else the e-mail match wins."""
    eligible: list[tuple[int, int, int]] = []  # (run start, T, match end) of runs where the e-mail part matches
    for run in _RUN.finditer(text):
        found = email(text, run.start(), run.end())
        if found is not None:
            eligible.append((run.start(), *found))
    spans: list[tuple[int, int]] = []
    pos = 0
    at = 0
    cached = other.search(text, 0)
    while True:
        while at < len(eligible) and eligible[at][1] <= pos:
            at += 1
        email_start = max(pos, eligible[at][0]) if at < len(eligible) else None
        if cached is not None and cached.start() < pos:
            cached = other.search(text, pos)
        if cached is None and email_start is None:
            return spans
        if cached is not None and (email_start is None or cached.start() < email_start
                                   or (cached.start() == email_start and cached.lastgroup == "before")):
            spans.append(cached.span())
            pos = cached.end()
        else:
            end = eligible[at][2]
            spans.append((email_start, end))
            pos = end


class SpanSet:
    """Sorted, disjoint spans with the two questions the cleaners ask, each
    answered by bisection (a scan per question made many edits quadratic)."""

    def __init__(self, spans: Sequence[tuple[int, int]]):
        self.spans = list(spans)
        self.starts = [s for s, _ in self.spans]

    def overlaps(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` overlaps a span (``s < end and start < e``)."""
        k = bisect.bisect_left(self.starts, end) - 1
        return k >= 0 and start < self.spans[k][1]

    def holds(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies inside a (non-empty) span, or starts strictly inside one."""
        k = bisect.bisect_right(self.starts, start) - 1
        if k < 0:
            return False
        s, e = self.spans[k]
        return (s <= start and end <= e and s < e) or s < start < e
