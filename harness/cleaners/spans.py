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

import bisect
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


#: Up to this many tokens on each side, :func:`diff_edits` uses difflib's
#: full diff (worst case quadratic: 12,000 tokens took 10 s); longer texts are
#: cut into short regions at points where both texts agree, in linear time.
EXACT_DIFF_TOKENS = 2000
#: How far (in tokens of ``before``) a changed region may reach before the
#: linear diff gives up looking for the point where the texts agree again.
_RESYNC_WINDOW = 400
#: Tokens that must agree for the texts to count as back in step.
_ANCHOR = 4

Opcode = tuple[str, int, int, int, int]


def diff_opcodes(a: Sequence[str], b: Sequence[str], exact_limit: int = EXACT_DIFF_TOKENS) -> list[Opcode]:
    """``difflib``-style opcodes turning token list ``a`` into ``b``.

    Short inputs get :class:`difflib.SequenceMatcher`'s exact result. Longer
    ones are diffed in linear time: common prefix and suffix; then, walking
    both lists, at each mismatch the nearest point where ``_ANCHOR`` tokens
    agree again (found through an index of ``b``'s token runs) closes a
    changed region, which SequenceMatcher diffs on its own when it is short.
    Either way the opcodes tile both lists exactly. ``exact_limit`` is the
    length up to which SequenceMatcher is used (a smaller one keeps the
    alignment near the diagonal: SequenceMatcher matches the longest common
    block first, wherever it is)."""
    if len(a) <= exact_limit and len(b) <= exact_limit:
        return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    opcodes: list[Opcode] = []

    def emit(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 and j1 == j2:
            return
        if tag != "equal":
            if i1 == i2 or j1 == j2 or (i2 - i1 <= exact_limit and j2 - j1 <= exact_limit):
                for op, x1, x2, y1, y2 in difflib.SequenceMatcher(None, a[i1:i2], b[j1:j2],
                                                                  autojunk=False).get_opcodes():
                    emit_one(op, i1 + x1, i1 + x2, j1 + y1, j1 + y2)
                return
        emit_one(tag, i1, i2, j1, j2)

    def emit_one(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if opcodes and opcodes[-1][0] == tag == "equal":
            opcodes[-1] = ("equal", opcodes[-1][1], i2, opcodes[-1][3], j2)
        else:
            opcodes.append((tag, i1, i2, j1, j2))

    n, m = len(a), len(b)
    prefix = 0
    while prefix < n and prefix < m and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < n - prefix and suffix < m - prefix and a[n - 1 - suffix] == b[m - 1 - suffix]:
        suffix += 1
    a_end, b_end = n - suffix, m - suffix
    emit("equal", 0, prefix, 0, prefix)

    # anchors start on a token that is not whitespace (half the index, same result)
    index: dict[tuple[str, ...], list[int]] = {}
    for y in range(prefix, b_end - _ANCHOR + 1):
        if not b[y].isspace():
            index.setdefault(tuple(b[y:y + _ANCHOR]), []).append(y)

    i = j = prefix
    while i < a_end and j < b_end:
        start_i, start_j = i, j
        while i < a_end and j < b_end and a[i] == b[j]:
            i += 1
            j += 1
        emit("equal", start_i, i, start_j, j)
        if i >= a_end or j >= b_end:
            break
        best: tuple[int, int, int] | None = None  # (cost, di, y)
        for di in range(min(_RESYNC_WINDOW, a_end - i - _ANCHOR + 1)):
            if best is not None and di >= best[0]:
                break
            if a[i + di].isspace():
                continue
            positions = index.get(tuple(a[i + di:i + di + _ANCHOR]))
            if not positions:
                continue
            k = bisect.bisect_left(positions, j)
            if k < len(positions):
                cost = di + positions[k] - j
                if best is None or cost < best[0]:
                    best = (cost, di, positions[k])
        if best is None:
            break
        _, di, y = best
        emit("replace", i, i + di, j, y)
        i, j = i + di, y
    emit("replace", i, a_end, j, b_end)
    emit("equal", a_end, n, b_end, m)
    return [(("delete" if j1 == j2 else "insert" if i1 == i2 else tag) if tag != "equal" else tag, i1, i2, j1, j2)
            for tag, i1, i2, j1, j2 in opcodes]


def diff_edits(before: str, after: str, rule: str) -> list[Edit]:
    """Edits that turn ``before`` into ``after``, found by a word-level diff.

    Each opcode of :func:`diff_opcodes` over the token sequences (difflib's
    :class:`~difflib.SequenceMatcher` for texts of normal length, a linear
    anchored diff beyond ``EXACT_DIFF_TOKENS`` tokens) becomes one
    :class:`Edit` whose span indexes ``before``; applying the edits to
    ``before`` gives exactly ``after``.
    """
    if before == after:
        return []
    a_spans = tokenize_with_spans(before)
    b_spans = tokenize_with_spans(after)
    a_tokens = [before[s:e] for s, e in a_spans]
    b_tokens = [after[s:e] for s, e in b_spans]
    edits: list[Edit] = []
    for tag, i1, i2, j1, j2 in diff_opcodes(a_tokens, b_tokens):
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


def position_map(firsts: Sequence[Edit]) -> Callable[[int, bool], int]:
    """``to_original(pos, is_end)``: a position in the text that the sorted,
    disjoint edits ``firsts`` produced, mapped back to their input; a position
    strictly inside text written by an edit widens to that edit's bounds.

    The edits that ended at or before a position are a prefix of ``firsts``
    (their landed spans are sorted and disjoint), found by bisection: a scan
    per position made composing many edits quadratic."""
    landed: list[tuple[int, int]] = []  # where each edit landed in the output
    shift = 0
    for edit in firsts:
        start1 = edit.start + shift
        landed.append((start1, start1 + len(edit.after)))
        shift += len(edit.after) - (edit.end - edit.start)
    ends = [e1 for _, e1 in landed]
    offsets = [0]
    for edit, (s1, e1) in zip(firsts, landed):
        offsets.append(offsets[-1] + (edit.end - edit.start) - (e1 - s1))

    def to_original(pos: int, is_end: bool) -> int:
        k = bisect.bisect_right(ends, pos)
        if k < len(firsts) and landed[k][0] < pos < landed[k][1]:
            return firsts[k].end if is_end else firsts[k].start
        return pos + offsets[k]

    return to_original


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
    to_original = position_map(firsts)

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
