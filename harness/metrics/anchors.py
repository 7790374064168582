"""Kept anchors: the numbers, names and negations a passage must not lose.

A paraphrase may change every word and keep the meaning, but not if "$44
billion" becomes "$4 billion", "NATO" disappears or "is not supportive"
becomes "is supportive". This metric extracts those anchors with light,
deterministic rules (no model), normalises them to canonical keys and checks
them in both directions:

* **recall**: the share of the references' *required* anchors that the text
  keeps;
* **precision**: the share of the text's anchors that some reference has
  (an anchor in no reference was added: a changed number, an injected name).

Multi-reference rule: an anchor is *required* when at least
``required_share`` (default: a majority) of the passage's references contain
it. An anchor in only a minority of references is optional: keeping or
dropping it changes nothing, and the text may contain it without it counting
as added (precision checks against *any* reference).

Canonical forms:

* numbers: value and unit, so "$44 billion" = "44 billion dollars" =
  "forty-four billion" = "US$44bn"; a number without a unit matches the same
  number with one ("44 billion" keeps "$44 billion"); percentages and years
  are numbers; the lone word "one" is a number only with a unit ("one
  percent"); otherwise it is usually a pronoun, and it only keeps (or
  supports) a digit 1 of the other side ("1" respelled "one" is no loss),
  never "no one", "the one", "one another";
* names: capitalised word sequences (not a capitalised function word at a
  sentence start), acronyms (NATO, PRC, U.S.), hyphenated names
  (Jean-Claude, Indo-Pacific); possessives stripped; aliases from
  ``harness/data/metric_entity_aliases.yaml`` ("U.S." = "United States",
  "Russian" = "Russia"); a name counts as kept when any of its forms occurs in
  the text in any case, but a name that the text writes *only* with its first
  capital lowered ("united states", "nato": spun text does this) is ``lowered`` and
  counts as ``lowered_name_credit`` (default half) of a kept name;
  capitalising more (a sentence start, "Nato", a SHOUTED label) is not lowering;
* negations: not / n't / cannot, never, no / none / nobody / nothing /
  nowhere / no one, no longer, neither / nor, without (not "not only"), each
  with its *scope*: the next three content words in its sentence ("is not
  particularly supportive of that" -> particularly, supportive). Negations
  are matched by scope, so a negation removed in one place and added in
  another is reported twice although the count is unchanged; paraphrases
  that negate in other words fall back to counting (see
  :func:`_match_negations`).

What the metric found is reported as :class:`~harness.findings.Finding`
records: a required anchor the text lacks is ``lost`` (major; its span in
the reference and which reference), an anchor no reference has is ``added``
(major for numbers and negations, a note for names; its span in the text),
a name written only in lower case is ``changed`` (minor). The ``why`` of a
negation quotes a few words around it. Its details list, per kind, the
required, kept and optional anchors.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Sequence

import numpy as np

from ..findings import Finding, Span
from ..numberwords import NUMBER_WORD, SCALES, TENS, UNITS, is_pronoun_one, parse_number_words
from .base import Measurement, Metric

KINDS: tuple[str, ...] = ("numbers", "names", "negations")
#: how much of a kept name a name written only in lower case counts for (recall)
LOWERED_NAME_CREDIT = 0.5
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


# --------------------------------------------------------------------------
# data files
# --------------------------------------------------------------------------
@lru_cache(maxsize=None)
def stopwords() -> frozenset[str]:
    """English function words (``harness/data/metric_stopwords.txt``)."""
    text = resources.files("harness").joinpath("data/metric_stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=None)
def entity_aliases() -> dict[str, tuple[str, ...]]:
    """Canonical name -> all its forms (canonical first)."""
    import yaml

    raw = yaml.safe_load(resources.files("harness").joinpath("data/metric_entity_aliases.yaml").read_text(encoding="utf-8"))
    aliases = {canonical.translate(_APOSTROPHES): (canonical, *(a.translate(_APOSTROPHES) for a in forms))
               for canonical, forms in raw.items()}
    known = {form.lower() for forms in aliases.values() for form in forms}
    # WordNet's pertainyms: "Nigerian" and "Nigerians" name Nigeria, "Senegalese" Senegal
    pertainyms = resources.files("harness").joinpath("data/wordnet/pertainyms.tsv").read_text(encoding="utf-8")
    for line in pertainyms.splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        adjective, noun = line.split("\t")
        if adjective in known:
            continue
        canonical = next((c for c, forms in aliases.items() if noun in {f.lower() for f in forms}), None)
        if canonical is None:
            canonical = " ".join(w.capitalize() for w in noun.split())
        forms = (adjective.title(), adjective.title() + ("" if adjective.endswith(("s", "ese")) else "s"))
        aliases[canonical] = tuple(dict.fromkeys((*aliases.get(canonical, (canonical,)), *forms)))
        known.update(f.lower() for f in forms)
    return aliases


@lru_cache(maxsize=None)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, forms in entity_aliases().items():
        for form in forms:
            index[form.lower()] = canonical
    return index


# --------------------------------------------------------------------------
# anchors
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Anchor:
    """One anchor found in a text."""

    kind: str  # 'numbers' | 'names' | 'negations'
    key: Any  # canonical form, compared across texts
    label: str  # how reports name it: '$44 billion', 'NATO', 'not'
    text: str  # the surface form as written
    start: int
    end: int
    #: a word that stands for a number ("both", "half") keeps only a number
    #: counting the same thing: the stem of the content word after it ("" for any)
    context: str = ""


# --- numbers ----------------------------------------------------------------
_SHORT_SCALES = {"k": 10**3, "m": 10**6, "mn": 10**6, "mln": 10**6, "b": 10**9, "bn": 10**9, "tn": 10**12, "trn": 10**12}
_CURRENCY_WORDS = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
}
_CURRENCY_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}

_NUMERIC = re.compile(
    r"(?<![\w.,])"
    r"(?P<cur>US\$|\$|€|£|(?:USD|EUR|GBP)\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>trillion|billion|million|thousand|hundred)\b|(?P<short>trn|tn|bn|mln|mn|m|b|k)\b)?"
    r"(?:\s?(?P<pct>%|percent\b|per\s+cent\b)|\s(?P<cursuf>dollars?|euros?|pounds?|USD|EUR|GBP)\b)?",
    re.IGNORECASE,
)
_WORD_OR_HYPHEN = re.compile(r"[A-Za-z]+|\d[\d,.]*|-")
#: a number glued to a name ("COVID-19", "F-16", "Boeing-737") or to a prefix ("post-90s")
_IDENTIFIER_BEFORE = re.compile(r"(?:\b[A-Z][A-Za-z]*\d*-|\b(?:post|pre|mid|late|early)-)$")
#: ... or followed by a capital letter ("5G", "4K", "3D"); not degrees ("40C", "95F")
_IDENTIFIER_AFTER = re.compile(r"[A-Z]")
_DEGREES_AFTER = re.compile(r"[CF](?![A-Za-z0-9])")
_HALVES = re.compile(
    rf"\b(?:(?P<whole>\d+|{NUMBER_WORD}(?:[\s-]{NUMBER_WORD})?)\s+and\s+a\s+half\s+(?P<scale>thousand|million|billion|trillion)"
    r"|half\s+a\s+(?P<scale2>thousand|million|billion|trillion))\b",
    re.IGNORECASE,
)


_DIGIT_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine".split())}
#: "one point three million euros", "three point one per cent"
_SPELLED_DECIMAL = re.compile(
    rf"\b(?P<whole>{NUMBER_WORD}(?:[\s-]{NUMBER_WORD})?)\s+point\s+"
    r"(?P<digits>(?:zero|one|two|three|four|five|six|seven|eight|nine)(?:\s+(?:zero|one|two|three|four|five|six|seven|eight|nine))*)"
    r"(?:\s+(?P<scale>thousand|million|billion|trillion))?\b",
    re.IGNORECASE,
)
_UNIT_AFTER_WORDS = re.compile(r"\s+(dollars?|euros?|pounds?|percent|per\s+cent)\b|\s?%", re.IGNORECASE)


def _format_value(value: Decimal) -> str:
    for size, word in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million")):
        if abs(value) >= size:
            scaled = value / size
            if scaled == scaled.quantize(Decimal("0.001")):
                return f"{_plain_decimal(scaled)} {word}"
    return _plain_decimal(value)


def _plain_decimal(value: Decimal) -> str:
    value = value.normalize()
    if abs(value) >= 10000:  # group digits, but keep years as written ('2008')
        return f"{value:,f}"
    return format(value, "f")


def _number_anchor(value: Decimal, unit: str, surface: str, start: int, end: int,
                   duration: Decimal | None = None) -> Anchor:
    """A number anchor; its key is ``(value, unit, duration in days or None)``."""
    label = _format_value(value)
    if unit in _CURRENCY_SYMBOL:
        label = _CURRENCY_SYMBOL[unit] + label
    elif unit == "%":
        label += "%"
    return Anchor("numbers", (value.normalize(), unit, duration), label, surface, start, end)


#: days in one unit of time ("48 hours" = "two days", "six months" = "half a year")
_DAYS = {"minute": Decimal(1) / 1440, "hour": Decimal(1) / 24, "day": Decimal(1), "week": Decimal(7), "fortnight": Decimal(14),
         "month": Decimal("365.25") / 12, "year": Decimal("365.25"), "decade": Decimal("3652.5"),
         "century": Decimal("36525")}
_TIME_UNIT = re.compile(r"[\s-]+(?P<unit>minutes?|hours?|days?|weeks?|fortnights?|months?|years?|decades?|centur(?:y|ies))\b",
                        re.IGNORECASE)


def _time_unit_days(word: str) -> Decimal:
    word = word.lower()
    word = "century" if word.startswith("centur") else word.rstrip("s")
    return _DAYS[word]


def _duration_after(text: str, end: int, value: Decimal) -> Decimal | None:
    """The number's duration in days when a unit of time follows it ("six months", "five-year")."""
    match = _TIME_UNIT.match(text, end)
    return value * _time_unit_days(match["unit"]) if match else None


def extract_numbers(text: str) -> list[Anchor]:
    """Numbers in digits or words, with currency, magnitude and percent.

    A lone "one" is not among them unless a unit follows ("one percent"):
    it is usually a pronoun. :func:`spelled_ones` lists the lone "one"s that
    may stand for the digit 1.
    """
    return _extract_numbers(text)[0]


def spelled_ones(text: str) -> list[Anchor]:
    """*Weak* number anchors: never required, never added, but they keep a
    number of the other side with the same value. Lone "one"s that may be the
    number 1 (not "no one", "the one", "one another"), number words naming a
    known group ("the two of them"), and words that stand for a number
    ("both", "a dozen", "half", "a week", "a decade").
    """
    return _extract_numbers(text)[1]


#: "two dozen", "3 dozen": a number of dozens
_DOZENS = re.compile(rf"\b(?P<n>\d+|{NUMBER_WORD})\s+dozen\b", re.IGNORECASE)
#: "four and a half per cent", "a year and a half", "two and a half hours"
_AND_A_HALF = re.compile(
    rf"\b(?:(?P<whole>\d+|{NUMBER_WORD}(?:[\s-]{NUMBER_WORD})?)|(?P<one>an?)\s+(?P<unit>hour|day|week|month|year|decade|"
    r"century))\s+and\s+a\s+half\b(?!\s+(?:thousand|million|billion|trillion)\b)",
    re.IGNORECASE,
)
#: "three in ten", "eight out of every ten": a share, in words or digits
_SHARE = re.compile(rf"\b(?P<n>\d+|{NUMBER_WORD})\s+(?:in|out\s+of)\s+(?:every\s+)?(?P<d>\d+|{NUMBER_WORD})\b",
                    re.IGNORECASE)


def _add_with_unit(text: str, start: int, end: int, value: Decimal, anchors: list, taken: list) -> None:
    """A number read from ``text[start:end]``, with the currency or percent word
    that follows it, or the length of time it counts."""
    unit = ""
    tail = _UNIT_AFTER_WORDS.match(text, end)
    if tail:
        unit_word = (tail.group(1) or "%").lower()
        unit = "%" if unit_word.startswith("per") or unit_word == "%" else _CURRENCY_WORDS[unit_word]
        end = tail.end()
    duration = _duration_after(text, end, value) if not unit else None
    anchors.append(_number_anchor(value, unit, text[start:end], start, end, duration))
    taken.append((start, end))


def _word_or_digits(word: str) -> Decimal | None:
    return Decimal(word) if word[0].isdigit() else parse_number_words([word.lower()])


def _compound_numbers(text: str, anchors: list, ones: list, taken: list) -> None:
    """Numbers said with several words that the plain passes would split: dozens,
    "and a half", and shares ("three in ten": 30%, which keeps the two numbers too)."""
    for match in _DOZENS.finditer(text):
        n = _word_or_digits(match["n"])
        if n is not None and n > 1:
            anchors.append(_number_anchor(n * 12, "", match.group(), match.start(), match.end(),
                                          _duration_after(text, match.end(), n * 12)))
            taken.append(match.span())
    for match in _AND_A_HALF.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        if match["one"]:
            days = _time_unit_days(match["unit"]) * Decimal("1.5")
            anchors.append(_number_anchor(Decimal("1.5"), "", match.group(), match.start(), match.end(), days))
            taken.append(match.span())
            continue
        whole = match["whole"]
        base = Decimal(whole) if whole[0].isdigit() else parse_number_words(re.split(r"[\s-]+", whole.lower()))
        if base is None:
            continue
        _add_with_unit(text, match.start(), match.end(), base + Decimal("0.5"), anchors, taken)
    for match in _SHARE.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        n, d = _word_or_digits(match["n"]), _word_or_digits(match["d"])
        if n is None or not d or n > d:
            continue
        share = (n / d * 100).quantize(Decimal("0.1"))
        for value, unit in {(share, "%"), (share.quantize(Decimal("1")), "%"), (n, ""), (d, "")}:
            ones.append(_number_anchor(value, unit, match.group(), match.start(), match.end()))
        taken.append(match.span())


def _extract_numbers(text: str) -> tuple[list[Anchor], list[Anchor]]:
    anchors: list[Anchor] = []
    ones: list[Anchor] = []
    taken: list[tuple[int, int]] = []
    _compound_numbers(text, anchors, ones, taken)
    # 'one and a half million', '2 and a half billion', 'half a million'
    for match in _HALVES.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        whole = match["whole"]
        if whole is None:
            base = Decimal("0.5")
        elif whole[0].isdigit():
            base = Decimal(whole) + Decimal("0.5")
        else:
            base = (parse_number_words(re.split(r"[\s-]+", whole.lower())) or Decimal(0)) + Decimal("0.5")
        value = base * SCALES[(match["scale"] or match["scale2"]).lower()]
        anchors.append(_number_anchor(value, "", match.group(), match.start(), match.end()))
        taken.append((match.start(), match.end()))

    for match in _SPELLED_DECIMAL.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        whole = parse_number_words(re.split(r"[\s-]+", match["whole"].lower()))
        if whole is None:
            continue
        digits = "".join(str(_DIGIT_WORDS[w]) for w in match["digits"].lower().split())
        value = whole + Decimal("0." + digits)
        if match["scale"]:
            value *= SCALES[match["scale"].lower()]
        _add_with_unit(text, match.start(), match.end(), value, anchors, taken)

    for match in _NUMERIC.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        year = re.fullmatch(r"(?:1[5-9]|20)\d\d", match["num"]) is not None
        before = _IDENTIFIER_BEFORE.search(text, max(0, match.start() - 12), match.start())
        if (before and not (year and re.search(r"(?:mid|late|early)-$", before.group(), re.IGNORECASE))) or \
                (_IDENTIFIER_AFTER.match(text, match.end()) and not _DEGREES_AFTER.match(text, match.end())):
            continue  # part of a name or a decade: "COVID-19", "F-16", "5G", "the post-90s" (not "mid-2025", "40C")
        try:
            value = Decimal(match["num"].replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex only admits valid numbers
            continue
        unit = ""
        currency = (match["cur"] or "").strip().lower() or (match["cursuf"] or "").lower()
        if currency:
            unit = _CURRENCY_WORDS[currency]
        end = match.end()
        if match["scale"]:
            value *= SCALES[match["scale"].lower()]
        elif match["short"]:
            short = match["short"].lower()
            # '42m' could be metres; single-letter magnitudes count only with a currency
            if short in ("m", "b", "k") and not unit:
                end = match.start("short")
            else:
                value *= _SHORT_SCALES[short]
        if match["pct"]:
            unit = "%"
        surface = text[match.start():end].strip()
        duration = _duration_after(text, match.start() + len(surface), value) if not unit else None
        anchors.append(_number_anchor(value, unit, surface, match.start(), match.start() + len(surface), duration))
        taken.append((match.start(), end))

    # spelled-out numbers: maximal runs of number words (hyphens and 'and' inside)
    fractions = [m.span() for m in _FRACTION.finditer(text)]
    tokens = [(m.group().lower(), m.start(), m.end()) for m in _WORD_OR_HYPHEN.finditer(text)
              if not any(a <= m.start() < b for a, b in taken + fractions)]
    i = 0
    number_words = set(UNITS) | set(TENS) | set(SCALES)
    while i < len(tokens):
        word, start, _ = tokens[i]
        starts_run = word in number_words or (word == "a" and i + 1 < len(tokens) and tokens[i + 1][0] in SCALES)
        if not starts_run or any(a <= start < b for a, b in taken):
            i += 1
            continue
        j = i
        run: list[str] = []
        while j < len(tokens):
            w = tokens[j][0]
            nxt = tokens[j + 1][0] if j + 1 < len(tokens) else ""
            if w in number_words or (w == "a" and not run and nxt in SCALES):
                run.append(w)
            elif w in ("-", "and") and run and nxt in number_words:
                if w == "and" and run[-1] not in SCALES:
                    break  # 'two and three' are two numbers; 'hundred and five' is one
                if w == "-" and run[-1] in UNITS and nxt in UNITS:
                    break  # a score, 'three-one': two numbers; 'forty-four' is one
            else:
                break
            j += 1
        end = tokens[j - 1][2]
        words = [w for w in run if w != "a"]
        value = spelled_year(words) or parse_number_words(run)
        i = j
        if value is None or words in (["hundred"], ["thousand"]) or not words:
            continue
        if all(w in SCALES for w in words) and run[0] != "a":
            continue  # a bare scale word is not a specific number ('a million' is)
        after = text[end:end + 20].lower()
        if re.match(r"-?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b", after):
            continue  # ordinals ('twenty-first') are positions, not quantities
        unit = ""
        tail = re.match(r"\s+(dollars?|euros?|pounds?|percent|per\s+cent)\b|\s?%", text[end:], re.IGNORECASE)
        if tail:
            unit_word = (tail.group(1) or "%").lower()
            unit = "%" if unit_word.startswith("per") or unit_word == "%" else _CURRENCY_WORDS[unit_word]
            end += tail.end()
        surface = text[start:end]
        duration = _duration_after(text, end, value) if not unit else None
        if words == ["one"] and not unit:
            if not is_pronoun_one(text, start, end):
                ones.append(_number_anchor(value, unit, surface, start, end, duration))
            continue
        if not unit and _refers_to_a_group(text, start, end):
            ones.append(_number_anchor(value, unit, surface, start, end))  # 'the two of them'
            continue
        anchors.append(_number_anchor(value, unit, surface, start, end, duration))
    anchors.sort(key=lambda a: a.start)
    return anchors, ones + _lexical_quantities(text, taken)


_GROUP_BEFORE = re.compile(r"\b(?:the|all|both)\s+$", re.IGNORECASE)
_GROUP_AFTER = re.compile(r"(?:\s+(?:of\s+(?:them|us|you|those|these)\b|(?:have|has|had|are|were|will|would|said|agreed|"
                          r"signed|met|spoke)\b)|\s*[,;:.])", re.IGNORECASE)


def _refers_to_a_group(text: str, start: int, end: int) -> bool:
    """"the two of them", "the two have signed": a number word naming a group
    already known, not a quantity the text asserts."""
    return bool(_GROUP_BEFORE.search(text, max(0, start - 6), start) and _GROUP_AFTER.match(text, end))


def spelled_year(words: Sequence[str]) -> Decimal | None:
    """'eighteen ninety-seven' -> 1897, 'twenty twenty-four' -> 2024, 'twenty
    fifteen' -> 2015: two number words of 10..99 side by side, which no cardinal
    reading allows."""
    words = [w for w in words if w != "-"]
    for cut in (1, 2):
        first, second = words[:cut], words[cut:]
        if not second or any(w in SCALES for w in words):
            continue
        a, b = parse_number_words(first), parse_number_words(second)
        if a is None or b is None or not (10 <= a <= 99 and 10 <= b <= 99):
            continue
        teen = 10 <= UNITS.get(second[0], 0) <= 19 and len(second) == 1
        if (second[0] in TENS or teen) and (first[-1] in TENS or 10 <= UNITS.get(first[-1], 0) <= 19):
            return a * 100 + b
    return None


#: words that stand for a number without saying it: they keep a reference's
#: number of the same value, but are never required or added themselves
_LEXICAL_QUANTITIES: list[tuple[re.Pattern[str], tuple[tuple[str, str], ...], bool]] = [
    # (pattern, values (value, unit), whether it must count the same thing as the number it keeps)
    (re.compile(p, re.IGNORECASE), values, counted) for p, values, counted in [
        (r"\b(?:both|(?:a\s+)?pair\s+of|a\s+couple\s+of)\b", (("2", ""),), True),
        (r"\b(?:twice|double|a\s+brace)\b", (("2", ""),), False),
        (r"\b(?:doubled?|doubling)\b", (("100", "%"),), False),
        (r"\ba\s+dozen\b", (("12", ""),), True),
        (r"\bhalf\b(?!\s+(?:a|an)\s+(?:hour|day|week|month|year|decade|century)\b)", (("0.5", ""), ("50", "%")), False),
        (r"\bone\s+in\s+(?:every\s+)?two\b", (("50", "%"), ("0.5", "")), False),
        (r"\b(?:a|one)\s+third\b", (("33.3", "%"), ("33", "%")), False),
        (r"\b(?:a|one)\s+quarter\b", (("25", "%"), ("0.25", "")), False),
        (r"\bone\s+in\s+(?:every\s+)?four\b", (("25", "%"),), False),
        (r"\bone\s+in\s+(?:every\s+)?ten\b", (("10", "%"),), False),
        (r"\b(?:one\s+in\s+(?:every\s+)?three|a\s+third\s+of)\b", (("33.3", "%"),), False),
        (r"\b(?:two[\s-]+thirds|two\s+in\s+(?:every\s+)?three|two\s+out\s+of\s+(?:every\s+)?three)\b",
         (("66.7", "%"), ("67", "%")), False),
        (r"\b(?:three[\s-]+quarters|three\s+in\s+(?:every\s+)?four|three\s+out\s+of\s+(?:every\s+)?four)\b",
         (("75", "%"),), False),
        (r"\ba\s+quarter\s+of\s+a\s+(?P<quarter>year|century)\b", (), False),
        (r"\b(?:a|an|one|per|each|every|the\s+(?:last|past|next|coming))\s+(?P<unit>hour|day|week|fortnight|month|year|"
         r"decade|century)\b", (), False),
        # "a fifth", "one in five" is above; "two-fifths"
        *[(rf"\b(?:a|one)\s+{word}\b", ((str((Decimal(100) / n).quantize(Decimal("0.1"))), "%"),), False)
          for n, word in ((5, "fifth"), (6, "sixth"), (8, "eighth"), (10, "tenth"))],
        *[(rf"\b{count}[\s-]+{word}s\b", ((str((Decimal(100) * k / n).quantize(Decimal("0.1"))), "%"),), False)
          for n, word in ((5, "fifth"), (10, "tenth")) for k, count in ((2, "two"), (3, "three"), (4, "four"))
          if k < n],
        # "the nineties": the 1990s
        *[(rf"\bthe\s+{word}\b", ((str(1900 + 10 * k), ""),), False)
          for k, word in enumerate("twenties thirties forties fifties sixties seventies eighties nineties".split(),
                                   start=2)],
        (r"\bhalf\s+(?:a|an)\s+(?P<half>hour|day|week|month|year|decade|century)\b", (), False),
        (r"\b(?:a|the\s+last|the\s+past|the\s+next|the\s+coming|the\s+following|the\s+previous|within\s+a|"
         r"another|a\s+further|an\s+extra|an\s+additional)"
         r"\s+(?P<whole>decade|century|fortnight)\b", (), False),
    ]
] + [
    # ordinals keep the cardinal of the same count ("a third year" / "three years in a row")
    (re.compile(rf"\b{word}\b", re.IGNORECASE), ((str(n), ""),), True)
    for n, word in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
                             "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split(), start=1)
] + [
    # "twenty-first", "thirtieth"
    (re.compile(rf"\b{ten}[\s-]+{unit}\b" if unit else rf"\b{ten[:-1]}ieth\b", re.IGNORECASE),
     ((str(10 * t + u), ""),), True)
    for t, ten in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)
    for u, unit in enumerate(["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"])
]
#: spans that hold a number word that is part of a fraction, not a count ("one in two")
_FRACTION = re.compile(r"\b(?:(?:one|two|three)\s+(?:in|out\s+of)\s+(?:every\s+)?(?:two|three|four|five|ten)"
                       r"|two[\s-]+thirds|three[\s-]+quarters)\b", re.IGNORECASE)


def _lexical_quantities(text: str, taken: list[tuple[int, int]]) -> list[Anchor]:
    out = []
    for pattern, values, counted in _LEXICAL_QUANTITIES:
        for match in pattern.finditer(text):
            if any(a <= match.start() < b for a, b in taken):
                continue
            start, end = match.span()
            groups = match.groupdict()
            if groups.get("unit") or groups.get("whole"):
                unit = groups.get("unit") or groups.get("whole")
                days = _time_unit_days(unit)
                out.append(_number_anchor(Decimal(1), "", match.group(), start, end, days))
                if unit.lower() in ("decade", "century", "dozen", "fortnight"):
                    years = {"decade": 10, "century": 100}.get(unit.lower())
                    if years:
                        out.append(_number_anchor(Decimal(years), "", match.group(), start, end, days))
                continue
            if groups.get("quarter"):
                days = _time_unit_days(groups["quarter"]) / 4
                out.append(_number_anchor(Decimal("0.25"), "", match.group(), start, end, days))
                continue
            if groups.get("half"):
                days = _time_unit_days(groups["half"]) / 2
                out.append(_number_anchor(Decimal("0.5"), "", match.group(), start, end, days))
                continue
            context = _next_content_stem(text, end) if counted else ""
            for value, unit in values:
                anchor = _number_anchor(Decimal(value), unit, match.group(), start, end)
                out.append(Anchor(anchor.kind, anchor.key, anchor.label, anchor.text, start, end, context))
    return out


_COUNTED_AFTER = re.compile(r"(?:\s+(?:of|the|a|an|its|their|our|those|these|them|us|per|cent|percent|%|hundred|"
                            r"thousand|million|billion|-))*\s*(?P<word>[A-Za-z]+)")


def _next_content_stem(text: str, end: int) -> str:
    """The stem of the word a quantity counts: "both city hospitals" -> "city", "half of the homes" -> "home"."""
    match = _COUNTED_AFTER.match(text, end)
    return stem(match["word"]) if match else ""


def _next_content_stems(text: str, end: int, count: int) -> list[str]:
    """The stems of the first ``count`` words after a number: "two city hospitals"
    counts hospitals, with "city" before them."""
    stems = []
    for _ in range(count):
        match = _COUNTED_AFTER.match(text, end)
        if not match:
            break
        stems.append(stem(match["word"]))
        end = match.end()
    return stems


def _keeps(strong: Anchor, text: str, weak: Anchor) -> bool:
    """Does a weak anchor keep this number: same value, and counting the same thing when it says what it counts."""
    if not numbers_match(strong.key, weak.key):
        return False
    return not weak.context or weak.context in _next_content_stems(text, strong.end, 3)


def numbers_match(a: tuple, b: tuple) -> bool:
    """Same value, and the same unit unless one of them has none; or the same
    length of time in other units ("48 hours" and "two days")."""
    if a[0] == b[0] and (a[1] == b[1] or not a[1] or not b[1]):
        return True
    da, db = a[2], b[2]
    return da is not None and db is not None and abs(da - db) <= Decimal("0.01") * max(abs(da), abs(db))


# --- names -----------------------------------------------------------------
_TOKEN = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Z]&[A-Z]\b|[^\W\d_]+(?:[-'][^\W\d_]+)*(?:'s?)?", re.UNICODE)
_PRONOUN_I = {"i", "i'm", "i've", "i'd", "i'll"}


def _is_acronym(token: str) -> bool:
    bare = token.replace(".", "")
    return bare.isalpha() and bare.isupper() and 2 <= len(bare) <= 5


def _strip_possessive(token: str) -> str:
    if token.endswith("'s"):
        return token[:-2]
    if token.endswith("'"):
        return token[:-1]
    return token


def _sentence_initial(text: str, start: int, previous: str | None) -> bool:
    before = text[:start].rstrip(" \t\"'(\u201c[-\u2013\u2014")
    if not before or before.endswith("\n"):
        return True
    if before[-1] in ".!?:;":
        # 'the U.S. Congress': a dotted abbreviation does not end a sentence
        return not (previous and re.fullmatch(r"(?:[A-Za-z]\.){2,}", previous))
    return False


@lru_cache(maxsize=None)
def _multiword_forms() -> re.Pattern[str]:
    forms = sorted((f for f in _alias_index() if " " in f), key=len, reverse=True)
    return re.compile("|".join(re.escape(f) for f in forms), re.IGNORECASE)


def _known_name_at(text: str, start: int) -> str | None:
    """A multi-word alias ('People's Republic of China') starting at ``start``, capitalised as a name."""
    match = _multiword_forms().match(text, start)
    if match and match.group()[0].isupper() and (match.end() == len(text) or not text[match.end()].isalnum()):
        return match.group()
    return None


def _canonical_name(words: list[str]) -> str:
    name = " ".join(words)
    return _alias_index().get(name.lower(), name)


def name_forms(canonical: str) -> tuple[str, ...]:
    """Every way of writing a name: the canonical one and its aliases."""
    return entity_aliases().get(canonical, (canonical,))


def _form_pattern(form: str) -> re.Pattern[str]:
    # 'US' must not match the pronoun 'us': forms that are also function words match case-sensitively
    flags = 0 if form.lower() in stopwords() else re.IGNORECASE
    return re.compile(r"(?<![\w.])" + re.escape(form) + r"(?![\w])", flags)


@lru_cache(maxsize=4096)
def _compiled_form(form: str) -> re.Pattern[str]:
    return _form_pattern(form)


def mentions(text: str, canonical: str) -> bool:
    """Does ``text`` mention the name in any of its forms (case-insensitively)?"""
    text = text.translate(_APOSTROPHES)
    return any(_compiled_form(form).search(text) for form in name_forms(canonical))


def _lowers_a_capital(occurrence: str, form: str) -> bool:
    """Is the first capital of ``form`` in lower case in ``occurrence``? ('united
    States' for 'United States', 'nato' for 'NATO', 'u.s.'; not 'Nato' or
    'UKRAINE', and not 'Secretary general': a later word in lower case is often
    house style, not damage)."""
    first = next((k for k, f in enumerate(form) if f.isupper()), None)
    return first is not None and first < len(occurrence) and occurrence[first].islower()


def lowered_mention(text: str, canonical: str) -> str | None:
    """The text's mention of a name when every mention of it lowers the name's
    first capital (spun text writes 'united states'), else None (capitalised somewhere, or
    not mentioned at all). Capitalising more than the name does (a sentence
    start, a SHOUTED speaker label) is not lowering."""
    match = _lowered_match(text, canonical)
    return match.group() if match else None


def _lowered_match(text: str, canonical: str) -> re.Match[str] | None:
    """The first mention of :func:`lowered_mention` (offsets into ``text``)."""
    text = text.translate(_APOSTROPHES)
    lowered = None
    for form in name_forms(canonical):
        for match in _compiled_form(form).finditer(text):
            if not _lowers_a_capital(match.group(), form):
                return None
            lowered = lowered or match
    return lowered


def mention_span(text: str, canonical: str) -> tuple[int, int] | None:
    """Where ``text`` first mentions the name, in any of its forms."""
    text = text.translate(_APOSTROPHES)
    found = [m.span() for form in name_forms(canonical) for m in [_compiled_form(form).search(text)] if m]
    return min(found) if found else None


def extract_names(text: str, context: Iterable[str] = ()) -> list[Anchor]:
    """Named entities by rule: capitalised sequences, acronyms, hyphenated names.

    A capitalised word that starts a sentence is a name only if it is an
    acronym, a known alias, part of a multi-word name, or capitalised
    mid-sentence somewhere in ``text`` or ``context`` (e.g. the other
    references).
    """
    text = text.translate(_APOSTROPHES)
    stop = stopwords()
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]

    def candidate(token: str) -> bool:
        bare = _strip_possessive(token)
        if _is_acronym(bare) and bare.lower() not in ("ok", "am", "pm"):
            return True  # 'US' is the United States even though 'us' is a function word
        return bool(bare) and bare[0].isupper() and bare.lower() not in stop and bare.lower() not in _PRONOUN_I

    capitalised_mid_sentence: set[str] = set()
    for source in (text, *(c.translate(_APOSTROPHES) for c in context)):
        source_tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(source)]
        for k, (token, start) in enumerate(source_tokens):
            previous = source_tokens[k - 1][0] if k else None
            if candidate(token) and not _sentence_initial(source, start, previous):
                capitalised_mid_sentence.add(_strip_possessive(token))

    anchors: list[Anchor] = []
    k = 0
    while k < len(tokens):
        token, start, end = tokens[k]
        if not candidate(token):
            k += 1
            continue
        known = _known_name_at(text, start)
        if known:
            k = next((g for g in range(k, len(tokens)) if tokens[g][2] >= start + len(known)), len(tokens) - 1) + 1
            canonical = _alias_index()[known.lower()]
            anchors.append(Anchor("names", canonical, canonical, known, start, start + len(known)))
            continue
        group = [k]
        shouted = token.isalpha() and token.isupper() and len(token) > 1
        # join Titlecase words separated by single spaces ('Secretary General',
        # 'People's Republic of China'); acronyms stand alone ('U.S. NATO' is two names)
        if shouted and k + 1 < len(tokens) and tokens[k + 1][0].isalpha() and tokens[k + 1][0].isupper() \
                and text[end:tokens[k + 1][1]] == " ":
            # a SHOUTED phrase ('AMBASSADOR SMITH') is one name, not two acronyms
            j = k + 1
            while j < len(tokens) and tokens[j][0].isalpha() and tokens[j][0].isupper() \
                    and text[tokens[j - 1][2]:tokens[j][1]] == " ":
                group.append(j)
                j += 1
            words = [tokens[g][0].title() for g in group]
        elif not _is_acronym(token):
            j = k + 1
            while j < len(tokens):
                gap = text[tokens[j - 1][2]:tokens[j][1]]
                word = tokens[j][0]
                if gap == " " and candidate(word) and not _is_acronym(word) and not tokens[j - 1][0].endswith("'s"):
                    group.append(j)
                    j += 1
                elif (word == "of" and gap == " " and j + 1 < len(tokens) and candidate(tokens[j + 1][0])
                      and text[tokens[j][2]:tokens[j + 1][1]] == " " and not _is_acronym(tokens[j + 1][0])):
                    group.extend([j, j + 1])
                    j += 2
                else:
                    break
        k = group[-1] + 1
        words = [_strip_possessive(tokens[g][0]) for g in group]
        if len(group) > 1 and all(tokens[g][0].isupper() for g in group) or (words[0].isupper() and len(words[0]) > 5):
            words = [w.title() for w in words]  # SHOUTED words, not acronyms
        previous = tokens[group[0] - 1][0] if group[0] else None
        if _sentence_initial(text, start, previous):
            # 'Regarding Georgia', 'Obviously': a capitalised first word is a
            # name only if it is known or capitalised mid-sentence somewhere
            first = words[0]
            hyphenated = bool(re.fullmatch(r"[A-Z]\w*(?:-[A-Z]\w*)+", first))  # Jean-Claude
            if not (_is_acronym(first) or hyphenated or shouted or first.lower() in _alias_index()
                    or first in capitalised_mid_sentence):
                if len(words) == 1:
                    continue
                words = words[1:]
                start = tokens[group[1]][1]
        canonical = _canonical_name(words)
        surface = text[start:tokens[group[-1]][2]]
        anchors.append(Anchor("names", canonical, canonical, surface, start, start + len(surface)))
    return anchors


# --- negations --------------------------------------------------------------
# "no more than", "no later than", "no bigger than": a bound on a quantity
# (at most, by), not a negation of the clause
_NEGATION = re.compile(
    r"\b(?P<cue>no\s+longer|no\s+one|not(?!\s+(?:only|just|long\s+ago|to\s+mention)\b)|cannot|never|none|nobody"
    r"|nothing(?!\s+but\b)|nowhere|neither|nor|without|no(?!\s*[,!?])(?!\s+sooner\b)(?!\s+(?:more|less|fewer|[a-z]+er)\s+than\b))\b"
    r"|(?P<nt>n't)\b",
    re.IGNORECASE,
)
_NEGATION_GROUP = {
    "not": "not", "cannot": "not", "n't": "not",
    "never": "never",
    "no": "no", "none": "no", "nobody": "no", "nothing": "no", "nowhere": "no", "no one": "no",
    "no longer": "no longer",
    "neither": "neither/nor", "nor": "neither/nor",
    "without": "without",
}


#: how many content words after a cue make up its scope, and how far to look for them
SCOPE_WORDS = 3
SCOPE_WINDOW = 6
_SCOPE_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_SCOPE_BREAK = re.compile(r"[.!?;:\n]")  # a scope never crosses a sentence
_NEGATIVE_TOKENS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor",
                              "without", "cannot", "longer"})
_STEM_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "ly", "es", "s")


def stem(word: str) -> str:
    """A crude stem that is enough to see the same word in two paraphrases:
    'supportive' = 'supporting' = 'support', 'formally' = 'formal', 'focused' = 'focus'."""
    word = word.lower().translate(_APOSTROPHES)
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in _STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not (suffix == "s" and word.endswith(("ss", "us", "is"))):
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word[:6]


def _content_word(word: str) -> bool:
    lower = word.lower()
    bare = lower[:-2] if lower.endswith("'s") else lower
    return bare not in stopwords() and bare not in _NEGATIVE_TOKENS and not lower.endswith("n't") and len(bare) > 1


@dataclass(frozen=True)
class Negation:
    """A negation cue and its scope: the content words it governs (the next
    few after the cue in the same sentence). ``span`` is the part of the text
    the negation covers, from the cue to its last scope word."""

    anchor: Anchor
    scope: tuple[str, ...]
    span: tuple[int, int]
    #: stem -> its first rank in the scope
    ranks: dict[str, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        ranks: dict[str, int] = {}
        for rank, word in enumerate(self.scope):
            ranks.setdefault(stem(word), rank)
        object.__setattr__(self, "ranks", ranks)

    @property
    def stems(self) -> frozenset[str]:
        return frozenset(self.ranks)


def _cue_word(text: str, start: int, end: int) -> str:
    """The whole word a cue is part of ('n't' -> "don't"), lower case."""
    while start > 0 and (text[start - 1].isalpha()):
        start -= 1
    return " ".join(text[start:end].lower().split())


def find_negations(text: str) -> list[Negation]:
    """Negation cues with their scopes, in text order (apostrophes normalised)."""
    text = text.translate(_APOSTROPHES)
    cues: list[Anchor] = []
    for match in _NEGATION.finditer(text):
        cue = " ".join((match["cue"] or match["nt"]).lower().split())
        if cue == "nor" and cues and cues[-1].text.lower() == "neither" \
                and not re.search(r"[.!?]", text[cues[-1].end:match.start()]):
            continue  # 'neither ... nor' is one negation
        cues.append(Anchor("negations", _NEGATION_GROUP[cue], _NEGATION_GROUP[cue], match.group(),
                           match.start(), match.end()))
    negations = []
    for cue in cues:
        scope: list[str] = []
        span_end = cue.end
        previous_end = cue.end
        for seen, token in enumerate(_SCOPE_TOKEN.finditer(text, cue.end)):
            if seen >= SCOPE_WINDOW or len(scope) >= SCOPE_WORDS or _SCOPE_BREAK.search(text, previous_end, token.start()):
                break
            previous_end = token.end()
            if _content_word(token.group()):
                scope.append(token.group().lower())
                span_end = token.end()
        word = _cue_word(text, cue.start, cue.end)
        head = next((w for w in scope if not w.endswith("ly")), scope[0] if scope else "")
        label = word
        if head:
            adjacent = re.match(r"\s+" + re.escape(head) + r"\b", text[cue.end:], re.IGNORECASE)
            label = f"{word} {head}" if adjacent else f"{word} \u2026 {head}"
        anchor = Anchor("negations", cue.key, label, cue.text, cue.start, cue.end)
        negations.append(Negation(anchor, tuple(scope), (cue.start, span_end)))
    return negations


def extract_negations(text: str) -> list[Anchor]:
    """Negation cues, each keyed by the group it belongs to ('n't' is 'not') and
    labelled with the cue and the head of its scope ("not \u2026 supportive")."""
    return [n.anchor for n in find_negations(text)]


def context_of(text: str, anchor: Anchor, words: int = 4) -> str:
    """A few words either side of an anchor, for reasons like "negation dropped: 'not' (…)"."""
    reach = 80 * words  # enough text for the words, without splitting all of a long passage
    before = text[max(0, anchor.start - reach):anchor.start].split()[-words:]
    after = text[anchor.end:anchor.end + reach].split()[:words]
    return " ".join([*before, text[anchor.start:anchor.end], *after])


# --------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------
#: the finding kind of each anchor kind
FINDING_KIND = {"numbers": "number", "names": "name", "negations": "negation"}


@dataclass
class KindReport:
    """One kind of anchor in one passage: what the references require, what the
    text kept, and each anchor lost, added or lowered as a :class:`Finding`."""

    kind: str = "numbers"
    required: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    hypothesis: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    #: names: required names the text has only in lower case ('united states'), and how
    #: much of a kept name each of them counts for in recall
    lowered: list[str] = field(default_factory=list)
    lowered_credit: float = 1.0
    #: lost, added and lowered anchors, in that order of discovery
    findings: list[Finding] = field(default_factory=list)

    @property
    def stats(self) -> list[float]:
        """[required, found (a lowered name counts ``lowered_credit``), in hypothesis,
        of those supported by a reference]"""
        return [float(len(self.required)), len(self.found) + self.lowered_credit * len(self.lowered),
                float(len(self.hypothesis)), float(len(self.hypothesis) - len(self.added))]

    def lose(self, label: str, why: str, reference: str, index: int, start: int, end: int) -> None:
        """A required anchor of reference ``index`` (at ``start:end``) that the text lacks."""
        self.lost.append(label)
        self.findings.append(Finding(FINDING_KIND[self.kind], "lost", "major", label, why, "anchors",
                                     reference_span=Span(start, end, reference[start:end]), reference_index=index))

    def add(self, label: str, why: str, text: str, start: int, end: int, severity: str = "major") -> None:
        """An anchor of the text (at ``start:end``) that no reference has."""
        self.added.append(label)
        self.findings.append(Finding(FINDING_KIND[self.kind], "added", severity, label, why, "anchors",
                                     stage_span=Span(start, end, text[start:end])))

    def lower(self, label: str, text: str, start: int, end: int) -> None:
        """A required name the text writes only in lower case (at ``start:end``)."""
        self.lowered.append(label)
        surface = text[start:end]
        self.findings.append(Finding("name", "changed", "minor", label, f"name {label} lowered ('{surface}')",
                                     "anchors", stage_span=Span(start, end, surface)))

    def summary(self) -> dict[str, list[str]]:
        """What the passage's details show of this kind (the findings say the rest)."""
        return {"required": self.required, "kept": self.found, "optional": self.optional}


def required_by(present: int, references: int, share: float) -> bool:
    """Is an anchor that ``present`` of ``references`` references contain required?
    More than ``share`` of them must have it (with the default half: a true
    majority, so one of two references is not enough), or all of them."""
    return present > share * references + 1e-9 or present == references


def _required_count(counts: list[int], share: float) -> int:
    """The largest count that at least ``share`` of the references reach."""
    for c in sorted(set(counts), reverse=True):
        if sum(1 for x in counts if x >= c) >= share * len(counts) - 1e-9:
            return c
    return 0


def compare_numbers(hyp: str, refs: Sequence[str], share: float) -> KindReport:
    """Numbers matched by value and unit (or length of time); a word that stands
    for a number ("one", "both", "half", "a week") keeps the same number of the
    other side, when it counts the same thing."""
    report = KindReport("numbers")
    extracted = [_extract_numbers(r) for r in refs]
    ref_numbers = [numbers for numbers, _ in extracted]
    hyp_numbers, hyp_ones = _extract_numbers(hyp)
    seen: dict[tuple, tuple[Anchor, int]] = {}  # one entry per distinct number; a unit wins over none
    for index, anchors in enumerate(ref_numbers):
        for a in anchors:
            same = next((k for k in seen if numbers_match(a.key, k)), None)
            if same is None:
                seen[a.key] = (a, index)
            elif a.key[1] and not same[1]:
                del seen[same]
                seen[a.key] = (a, index)

    def kept_by(anchor: Anchor, where: str, numbers: list[Anchor], ones: list[Anchor]) -> bool:
        return any(numbers_match(anchor.key, n.key) for n in numbers) or any(_keeps(anchor, where, w) for w in ones)

    for key, (anchor, index) in seen.items():
        present = sum(1 for r, (numbers, ones) in zip(refs, extracted)
                      if any(numbers_match(key, a.key) for a in numbers) or any(numbers_match(key, w.key) for w in ones))
        if required_by(present, len(refs), share):
            report.required.append(anchor.label)
            if kept_by(anchor, refs[index], hyp_numbers, hyp_ones):
                report.found.append(anchor.label)
            else:
                first = _first_with(ref_numbers, key)
                where = _first_anchor(ref_numbers, key)
                report.lose(anchor.label, f"number {anchor.label} missing", refs[first], first, where.start, where.end)
        else:
            report.optional.append(anchor.label)
    distinct_hyp: dict[tuple, Anchor] = {}
    for h in hyp_numbers:
        distinct_hyp.setdefault(h.key, h)
    for key, anchor in distinct_hyp.items():
        report.hypothesis.append(anchor.label)
        if not any(kept_by(anchor, hyp, numbers, ones) for numbers, ones in extracted):
            report.add(anchor.label, f"number {anchor.label} added (in no reference)", hyp, anchor.start, anchor.end)
    return report


def _first_with(ref_anchors: list[list[Anchor]], key) -> int:
    return next(i for i, anchors in enumerate(ref_anchors) if any(numbers_match(key, a.key) for a in anchors))


def _first_anchor(ref_anchors: list[list[Anchor]], key) -> Anchor:
    return next(a for anchors in ref_anchors for a in anchors if numbers_match(key, a.key))


#: last words of multi-word names that are not surnames ("United States", "Security Council")
_GENERIC_NAME_HEADS = frozenset("""states kingdom union nations republic council party bank league court house
committee ministry department agency office university college school company group club city county river
sea ocean island islands street road square centre center hospital airport station foods cup fc""".split())


def _mentions_surname(text: str, name: str) -> bool:
    """A person named in full by the references and by surname in the text ("Maria Santos" / "Santos")."""
    words = name.split()
    if len(words) < 2 or len(words) > 3 or not all(w[:1].isupper() for w in words):
        return False
    last = words[-1]
    if len(last) < 3 or last.lower() in _GENERIC_NAME_HEADS or name in entity_aliases():
        return False
    return bool(re.search(r"(?<![\w.])" + re.escape(last) + r"(?![\w])", text.translate(_APOSTROPHES)))


def compare_names(hyp: str, refs: Sequence[str], share: float,
                  lowered_credit: float = LOWERED_NAME_CREDIT) -> KindReport:
    """Names matched in any of their forms; a required name the text has only
    in lower case is ``lowered`` (partly kept: ``lowered_credit`` in recall)."""
    report = KindReport("names", lowered_credit=lowered_credit)
    ref_names: dict[str, None] = {}
    for i, ref in enumerate(refs):
        for a in extract_names(ref, context=[r for j, r in enumerate(refs) if j != i]):
            ref_names.setdefault(a.key, None)
    for name in ref_names:
        present = sum(1 for ref in refs if mentions(ref, name))
        if required_by(present, len(refs), share):
            report.required.append(name)
            if not mentions(hyp, name) and not _mentions_surname(hyp, name):
                index = next(i for i, ref in enumerate(refs) if mentions(ref, name))
                start, end = mention_span(refs[index], name)
                report.lose(name, f"name {name} missing", refs[index], index, start, end)
            elif (match := _lowered_match(hyp, name)) is not None:
                report.lower(name, hyp, match.start(), match.end())
            else:
                report.found.append(name)
        else:
            report.optional.append(name)
    hyp_names: dict[str, Anchor] = {}
    for a in extract_names(hyp, context=refs):
        hyp_names.setdefault(a.key, a)
    for name, anchor in hyp_names.items():
        report.hypothesis.append(name)
        if not any(mentions(ref, name) for ref in refs):
            report.add(name, f"name {name} added (in no reference)", hyp, anchor.start, anchor.end, severity="note")
    return report


#: scope words of an unmatched negation found this close together (in words), un-negated, in the
#: other text: the same claim is there without its negation
EVIDENCE_WINDOW = 5
#: a text negation is compared with this many reference negations either side of its place
MATCH_NEIGHBOURS = 16


@dataclass
class _NegatedText:
    """One text's negations and where its content words occur outside every negation."""

    text: str
    negations: list[Negation]
    #: stem -> word positions (token indices) of content words that no negation covers
    free: dict[str, list[int]]

    @classmethod
    def of(cls, text: str) -> "_NegatedText":
        text = text.translate(_APOSTROPHES)
        negations = find_negations(text)
        free: dict[str, list[int]] = {}
        spans = iter(sorted(n.span for n in negations))  # spans may nest or overlap; starts ascend
        span = next(spans, None)
        covered_to = -1
        for index, token in enumerate(_SCOPE_TOKEN.finditer(text)):
            while span is not None and span[0] <= token.start():
                covered_to = max(covered_to, span[1])
                span = next(spans, None)
            if token.start() >= covered_to and _content_word(token.group()):
                free.setdefault(stem(token.group()), []).append(index)
        return cls(text, negations, free)

    def says_without_negation(self, negation: Negation) -> bool:
        """Does this text contain the negation's scope un-negated: its first
        word, and for a longer scope another of its words within a few words?"""
        if not negation.scope:
            return False
        head = stem(negation.scope[0])
        heads = self.free.get(head, ())
        if len(negation.stems) == 1:
            return bool(heads)
        others = [self.free[s] for s in negation.stems - {head} if s in self.free]  # each list ascends
        return any(bisect.bisect_right(places, i + EVIDENCE_WINDOW) > bisect.bisect_left(places, i - EVIDENCE_WINDOW)
                   for i in heads for places in others)

    def relative(self, negation: Negation) -> float:
        return negation.anchor.start / max(1, len(self.text))


def _shared_scope(a: Negation, b: Negation) -> int:
    """How many scope words two negations share at about the same place (rank
    in the scope within one): 'not particularly supportive' and 'not really
    supportive' share one; 'not see it as formal' and 'not need to wait and
    see' share none."""
    return sum(1 for word, rank in b.ranks.items() if word in a.ranks and abs(a.ranks[word] - rank) <= 1)


def _match_negations(hyp: _NegatedText, ref: _NegatedText) -> tuple[list[int], list[int]]:
    """Indices of the reference's negations the text dropped, and of the text's
    negations the reference does not have.

    1. A text negation and a reference negation whose scopes share a word
       (stemmed, at about the same place) are the same negation, unless each text says the other's
       scope without a negation (a negation moved: both are reported).
    2. An unmatched one whose scope the other text says *without* a negation
       was dropped (or added): "is not supportive" -> "is supportive".
    3. The rest (paraphrases negate in other words) are paired by count, as
       kinds of cue allow; only the surplus is dropped or added.
    """
    # A shared word does not pair two negations when each text says the other's
    # scope un-negated: one negation was moved ("I do not see it as formal ... we
    # will need to see" -> "I do see it as formal ... we will not need to see").
    dropped_evidence = [hyp.says_without_negation(r) for r in ref.negations]
    added_evidence = [ref.says_without_negation(h) for h in hyp.negations]
    # candidates: the reference negations nearest in relative position (all of
    # them in any passage of ordinary length; bounded for very long ones)
    ref_places = [ref.relative(r) for r in ref.negations]
    candidates = []
    for i, h in enumerate(hyp.negations):
        middle = bisect.bisect_left(ref_places, hyp.relative(h))
        for j in range(max(0, middle - MATCH_NEIGHBOURS), min(len(ref_places), middle + MATCH_NEIGHBOURS + 1)):
            shared = _shared_scope(h, ref.negations[j])
            if shared and not (added_evidence[i] and dropped_evidence[j]):
                candidates.append((-shared, abs(hyp.relative(h) - ref_places[j]), i, j))
    candidates.sort()
    hyp_matched: set[int] = set()
    ref_matched: set[int] = set()
    for _, _, i, j in candidates:
        if i not in hyp_matched and j not in ref_matched:
            hyp_matched.add(i)
            ref_matched.add(j)
    dropped = [j for j in range(len(ref.negations)) if j not in ref_matched and dropped_evidence[j]]
    added = [i for i in range(len(hyp.negations)) if i not in hyp_matched and added_evidence[i]]
    open_ref = [j for j in range(len(ref.negations)) if j not in ref_matched and j not in dropped]
    open_hyp = [i for i in range(len(hyp.negations)) if i not in hyp_matched and i not in added]
    # pair the same kind of cue first, then any
    for same_kind in (True, False):
        for j in list(open_ref):
            i = next((i for i in open_hyp
                      if not same_kind or hyp.negations[i].anchor.key == ref.negations[j].anchor.key), None)
            if i is not None:
                open_hyp.remove(i)
                open_ref.remove(j)
    return sorted(dropped + open_ref), sorted(added + open_hyp)


def compare_negations(hyp: str, refs: Sequence[str], share: float) -> KindReport:
    """Negations matched by scope, with the multi-reference rule.

    A reference negation is lost when the text dropped it relative to at
    least ``share`` of the references (the count lost is the largest that
    that share reach); a text negation is added when it is added relative to
    every reference.
    """
    report = KindReport("negations")
    if not refs:
        for negation in find_negations(hyp):
            report.hypothesis.append(negation.anchor.label)
            report.add(negation.anchor.label, f"negation added: '{negation.anchor.label}'", hyp, *negation.span)
        return report
    text = _NegatedText.of(hyp)
    references = [_NegatedText.of(r) for r in refs]
    results = [_match_negations(text, ref) for ref in references]
    counts = [len(ref.negations) for ref in references]
    required = _required_count(counts, share)
    lost_count = _required_count([len(dropped) for dropped, _ in results], share)
    # the reference that shows the required negations; the one that shows what was lost
    model = next(i for i, c in enumerate(counts) if c >= required)
    lost_in = next(i for i, (dropped, _) in enumerate(results) if len(dropped) >= lost_count)
    lost_indices = results[lost_in][0][:lost_count]
    model_cues = [n.anchor for n in references[model].negations]
    report.required = [a.label for a in model_cues[:required]]
    for j in lost_indices:
        negation = references[lost_in].negations[j]
        label = negation.anchor.label
        report.lose(label, f"negation dropped: '{label}' ({context_of(references[lost_in].text, negation.anchor)})",
                    refs[lost_in], lost_in, *negation.span)
    skipped = set(lost_indices) if lost_in == model else set()
    report.found = [a.label for j, a in enumerate(model_cues) if j not in skipped][: required - lost_count]
    report.hypothesis = [n.anchor.label for n in text.negations]
    added_count = min(len(added) for _, added in results)
    times_added = Counter(i for _, added in results for i in added)
    added = sorted(sorted(times_added, key=lambda i: (-times_added[i], i))[:added_count])
    for i in added:
        negation = text.negations[i]
        label = negation.anchor.label
        report.add(label, f"negation added: '{label}' ({context_of(text.text, negation.anchor)})", hyp, *negation.span)
    return report


_COMPARE = {"numbers": compare_numbers, "names": compare_names, "negations": compare_negations}


def compare(hyp: str, refs: Sequence[str], kinds: Sequence[str] = KINDS, required_share: float = 0.5,
            lowered_name_credit: float = LOWERED_NAME_CREDIT) -> dict[str, KindReport]:
    """Anchor reports per kind for one passage."""
    return {kind: compare_names(hyp, refs, required_share, lowered_name_credit) if kind == "names"
            else _COMPARE[kind](hyp, refs, required_share) for kind in kinds}


# --------------------------------------------------------------------------
# the metric
# --------------------------------------------------------------------------
def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 1.0  # nothing to keep: nothing lost


class Anchors(Metric):
    """Kept anchors: F1 of recall and precision over numbers, names and negations (0..1).

    Recall = required reference anchors kept; precision = the text's anchors
    found in some reference. 1.0 when there is nothing to keep or add.
    """

    name = "anchors"
    version = "7"
    higher_is_better = True
    range = (0.0, 1.0)
    margin = 0.02  # single lost anchors are caught per passage, as findings
    order = 60

    def __init__(self, kinds: Sequence[str] = ("numbers", "names"), required_share: float = 0.5,
                 lowered_name_credit: float = LOWERED_NAME_CREDIT):
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown anchor kinds {sorted(unknown)}")
        self.kinds = tuple(kinds)
        self.required_share = required_share
        self.lowered_name_credit = lowered_name_credit

    @classmethod
    def from_config(cls, config) -> "Anchors":
        return cls(config.anchors.kinds, config.anchors.required_share, config.anchors.lowered_name_credit)

    def signature(self) -> str:
        return (f"anchors|kinds:{'+'.join(self.kinds)}|required:{self.required_share:g}"
                f"|lowered:{self.lowered_name_credit:g}|v:{self.version}")

    def measure(self, hyps, refs) -> Measurement:
        rows, findings, details = [], [], []
        for hyp, ref_list in zip(hyps, refs):
            reports = compare(hyp, ref_list, self.kinds, self.required_share, self.lowered_name_credit)
            rows.append([x for kind in KINDS for x in (reports[kind].stats if kind in reports else [0.0] * 4)])
            findings.append([f for report in reports.values() for f in report.findings])
            details.append({kind: report.summary() for kind, report in reports.items()})
        return Measurement(np.asarray(rows, dtype=float).reshape(len(hyps), 4 * len(KINDS)), findings, details)

    def _totals(self, stats: np.ndarray) -> tuple[float, float]:
        stats = np.asarray(stats, dtype=float).reshape(len(KINDS), 4)
        return _ratio(stats[:, 1].sum(), stats[:, 0].sum()), _ratio(stats[:, 3].sum(), stats[:, 2].sum())

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        recall, precision = self._totals(stats_sum)
        return 2 * recall * precision / (recall + precision) if recall + precision else 0.0

    def breakdown_from_stats(self, stats: np.ndarray) -> dict[str, float]:
        """Recall and precision overall and per kind."""
        recall, precision = self._totals(stats)
        out = {"recall": recall, "precision": precision}
        table = np.asarray(stats, dtype=float).reshape(len(KINDS), 4)
        for k, kind in enumerate(KINDS):
            if kind in self.kinds:
                out[f"{kind}_recall"] = _ratio(table[k, 1], table[k, 0])
                out[f"{kind}_precision"] = _ratio(table[k, 3], table[k, 2])
        return out
