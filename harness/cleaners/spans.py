"""Span bookkeeping shared by the cleaners.

Every cleaner reports its edits with spans in *its own input*. Two helpers keep
that promise when a cleaner works in several steps or only sees the result of
another function:

* :func:`diff_edits` recovers edits from an input and an output (word-level
  ``difflib`` opcodes mapped back to character spans): used for user functions
  ``str -> str`` and for ftfy, which returns text, not edits;
* :func:`compose` turns "edits of step 1" + "edits of step 2 (spans in step 1's
  output)" into one list of edits with spans in the original input, merging
  edits that touch the same text.  :func:`run_steps` chains any number of
  steps that way, and :func:`fixpoint` repeats one step until it changes
  nothing (cleaners must be idempotent).
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Sequence

from .base import CleanResult, Edit

# Whitespace runs, words (with inner apostrophes), or any single other character:
# together the tokens cover the whole string, so token spans map back exactly.
_DIFF_TOKEN = re.compile(r"\s+|\w+(?:['\u2019]\w+)*|[^\w\s]", re.UNICODE)


def tokenize_with_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each diff token; the spans tile ``text`` exactly."""
    spans = [m.span() for m in _DIFF_TOKEN.finditer(text)]
    # The pattern matches every character, but be defensive about tiling.
    assert sum(e - s for s, e in spans) == len(text)
    return spans


def diff_edits(before: str, after: str, rule: str) -> list[Edit]:
    """Edits that turn ``before`` into ``after``, found by a word-level diff.

    Each opcode of :class:`difflib.SequenceMatcher` over the token sequences
    becomes one :class:`Edit` whose span indexes ``before``; applying the edits
    to ``before`` gives exactly ``after``.
    """
    if before == after:
        return []
    a_spans = tokenize_with_spans(before)
    b_spans = tokenize_with_spans(after)
    a_tokens = [before[s:e] for s, e in a_spans]
    b_tokens = [after[s:e] for s, e in b_spans]
    matcher = difflib.SequenceMatcher(None, a_tokens, b_tokens, autojunk=False)
    edits: list[Edit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = a_spans[i1][0] if i1 < len(a_spans) else len(before)
        end = a_spans[i2 - 1][1] if i2 > i1 else start
        b_start = b_spans[j1][0] if j1 < len(b_spans) else len(after)
        b_end = b_spans[j2 - 1][1] if j2 > j1 else b_start
        edits.append(Edit(start, end, before[start:end], after[b_start:b_end], rule))
    return edits


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (spans in ``text``); the inverse check of every helper here."""
    pieces: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < cursor:
            raise ValueError(f"overlapping edits at {edit.start}")
        pieces.append(text[cursor:edit.start])
        pieces.append(edit.after)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _join_rules(rules: list[str]) -> str:
    seen: list[str] = []
    for rule in rules:
        for part in rule.split("+"):
            if part not in seen:
                seen.append(part)
    return "+".join(seen)


def compose(original: str, first: CleanResult, second: CleanResult) -> CleanResult:
    """Edits of two consecutive steps, as one list with spans in ``original``.

    ``first`` turned ``original`` into ``first.text``; ``second`` turned
    ``first.text`` into ``second.text`` (its spans index ``first.text``). An
    edit of the second step that touches text written by the first is merged
    with it into one edit (rules joined with ``+``); edits that cancel out are
    dropped.
    """
    if not second.edits:
        return CleanResult(second.text, list(first.edits))
    if not first.edits:
        return CleanResult(second.text, list(second.edits))
    firsts = sorted(first.edits, key=lambda e: (e.start, e.end))
    # Where each first-step edit landed in first.text.
    landed: list[tuple[int, int]] = []
    shift = 0
    for edit in firsts:
        start1 = edit.start + shift
        landed.append((start1, start1 + len(edit.after)))
        shift += len(edit.after) - (edit.end - edit.start)

    def to_original(pos: int, is_end: bool) -> int:
        """Map a position of first.text back to ``original``; a position strictly
        inside text written by the first step widens to that edit's bounds."""
        offset = 0
        for edit, (s1, e1) in zip(firsts, landed):
            if s1 < pos < e1:
                return edit.end if is_end else edit.start
            if e1 <= pos:
                offset = (edit.end - edit.start) - (e1 - s1) + offset
                continue
            break
        return pos + offset

    # (start, end, length change, rule) in original coordinates.
    items: list[tuple[int, int, int, str]] = [
        (e.start, e.end, len(e.after) - (e.end - e.start), e.rule) for e in firsts
    ]
    for edit in second.edits:
        start0 = to_original(edit.start, is_end=False)
        end0 = max(start0, to_original(edit.end, is_end=True))
        items.append((start0, end0, len(edit.after) - (edit.end - edit.start), edit.rule))
    items.sort(key=lambda it: (it[0], it[1]))

    clusters: list[list] = []  # [start, end, delta, rules]
    for start, end, delta, rule in items:
        if clusters:
            last = clusters[-1]
            touching_empty = start == last[1] and (start == end or last[0] == last[1])
            if start < last[1] or touching_empty:
                last[1] = max(last[1], end)
                last[2] += delta
                last[3].append(rule)
                continue
        clusters.append([start, end, delta, [rule]])

    edits: list[Edit] = []
    shift = 0
    for start, end, delta, rules in clusters:
        out_start = start + shift
        out_end = end + shift + delta
        before, after = original[start:end], second.text[out_start:out_end]
        if before != after:
            edits.append(Edit(start, end, before, after, _join_rules(rules)))
        shift += delta
    return CleanResult(second.text, edits)


Step = Callable[[str], CleanResult]


def run_steps(text: str, steps: Sequence[Step]) -> CleanResult:
    """Run ``steps`` one after the other; edits are composed onto ``text``."""
    result = CleanResult(text, [])
    for step in steps:
        result = compose(text, result, step(result.text))
    return result


def fixpoint(text: str, step: Step, max_passes: int = 4) -> CleanResult:
    """Repeat ``step`` until it changes nothing (at most ``max_passes`` times).

    Rules are written so that one pass is nearly always enough; the repeat
    catches the rare output of one rule that another rule then matches, and
    makes the cleaner idempotent.
    """
    result = CleanResult(text, [])
    for _ in range(max_passes):
        nxt = step(result.text)
        if nxt.text == result.text:
            break
        result = compose(text, result, nxt)
    return result
