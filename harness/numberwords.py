"""English number words: the one list that reading numbers (the ``anchors``
metric) and writing them (``harness distort``) share.

"one" is also a pronoun ("no one", "the one", "one another", "one's
own"): :data:`PRONOUN_ONE_BEFORE` and :data:`PRONOUN_ONE_AFTER` say when.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Sequence

ONES: tuple[str, ...] = tuple(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split()
)
TENS_WORDS: tuple[str, ...] = tuple("twenty thirty forty fifty sixty seventy eighty ninety".split())
#: word -> value, 0..19
UNITS: dict[str, int] = {word: value for value, word in enumerate(ONES)}
#: word -> value, 20..90
TENS: dict[str, int] = {word: 10 * value for value, word in enumerate(TENS_WORDS, start=2)}
SCALES: dict[str, int] = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
#: a unit or tens word, as a regular expression
NUMBER_WORD = "(?:" + "|".join(ONES + TENS_WORDS) + ")"

#: "one" after these words is a pronoun ("no one", "the one", "an one"); search the few characters before it
PRONOUN_ONE_BEFORE = re.compile(r"\b(?:no|any|some|every|each|the|this|that|which|a|an|only)\s+$", re.IGNORECASE)
#: ... and before these ("one another", "one's", "oneself"); match right after it
PRONOUN_ONE_AFTER = re.compile(r"(?:\s+another\b|'s\b|self\b)", re.IGNORECASE)


def is_pronoun_one(text: str, start: int, end: int) -> bool:
    """Is the "one" at ``text[start:end]`` a pronoun rather than the number 1?"""
    return bool(PRONOUN_ONE_BEFORE.search(text, max(0, start - 8), start) or PRONOUN_ONE_AFTER.match(text, end))


def parse_number_words(words: Sequence[str]) -> Decimal | None:
    """'forty-two million' (as ['forty', 'two', 'million']) -> 42000000; None
    if a word is not a number word ('and' and 'a' are skipped)."""
    total, current, seen = 0, 0, False
    for word in words:
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in SCALES:
            total += max(current, 1) * SCALES[word]
            current = 0
        elif word in ("and", "a"):
            continue
        else:
            return None
        seen = True
    return Decimal(total + current) if seen else None


def spell_number(n: int) -> str:
    """English words for ``0 <= n < 1_000_000`` ("forty-four", "two thousand eight")."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"spell_number: {n} out of range")
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS_WORDS[tens - 2] + (f"-{ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{ONES[hundreds]} hundred" + (f" {spell_number(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{spell_number(thousands)} thousand" + (f" {spell_number(rest)}" if rest else "")
