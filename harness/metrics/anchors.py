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
  are numbers; the lone word "one" is not (it is usually a pronoun);
* names: capitalised word sequences (not a capitalised function word at a
  sentence start), acronyms (NATO, PRC, U.S.), hyphenated names
  (Jean-Claude, Indo-Pacific); possessives stripped; aliases from
  ``harness/data/metric_entity_aliases.yaml`` ("U.S." = "United States",
  "Russian" = "Russia"); a name counts as kept when any of its forms occurs in
  the text in any case (spun text often lower-cases names);
* negations: not / n't / cannot, never, no / none / nobody / nothing /
  nowhere / no one, no longer, neither / nor, without (not "not only"). They
  are counted: the required count is the one a majority of references reach.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Sequence

import numpy as np

from .base import Metric

KINDS: tuple[str, ...] = ("numbers", "names", "negations")
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
    return {canonical.translate(_APOSTROPHES): (canonical, *(a.translate(_APOSTROPHES) for a in forms)) for canonical, forms in raw.items()}


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


# --- numbers ----------------------------------------------------------------
_UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_SCALES = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
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
_NUMBER_WORD = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
                r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)")
_HALVES = re.compile(
    rf"\b(?:(?P<whole>\d+|{_NUMBER_WORD}(?:[\s-]{_NUMBER_WORD})?)\s+and\s+a\s+half\s+(?P<scale>thousand|million|billion|trillion)"
    r"|half\s+a\s+(?P<scale2>thousand|million|billion|trillion))\b",
    re.IGNORECASE,
)


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


def _number_anchor(value: Decimal, unit: str, surface: str, start: int, end: int) -> Anchor:
    label = _format_value(value)
    if unit in _CURRENCY_SYMBOL:
        label = _CURRENCY_SYMBOL[unit] + label
    elif unit == "%":
        label += "%"
    return Anchor("numbers", (value.normalize(), unit), label, surface, start, end)


def _parse_number_words(words: list[str]) -> Decimal | None:
    """'forty-two million' (as ['forty', 'two', 'million']) -> 42000000."""
    total, current, seen = 0, 0, False
    for word in words:
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        elif word in ("and", "a"):
            continue
        else:
            return None
        seen = True
    return Decimal(total + current) if seen else None


def extract_numbers(text: str) -> list[Anchor]:
    """Numbers in digits or words, with currency, magnitude and percent."""
    anchors: list[Anchor] = []
    taken: list[tuple[int, int]] = []
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
            base = (_parse_number_words(re.split(r"[\s-]+", whole.lower())) or Decimal(0)) + Decimal("0.5")
        value = base * _SCALES[(match["scale"] or match["scale2"]).lower()]
        anchors.append(_number_anchor(value, "", match.group(), match.start(), match.end()))
        taken.append((match.start(), match.end()))

    for match in _NUMERIC.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
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
            value *= _SCALES[match["scale"].lower()]
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
        anchors.append(_number_anchor(value, unit, surface, match.start(), match.start() + len(surface)))
        taken.append((match.start(), end))

    # spelled-out numbers: maximal runs of number words (hyphens and 'and' inside)
    tokens = [(m.group().lower(), m.start(), m.end()) for m in _WORD_OR_HYPHEN.finditer(text)
              if not any(a <= m.start() < b for a, b in taken)]
    i = 0
    number_words = set(_UNITS) | set(_TENS) | set(_SCALES)
    while i < len(tokens):
        word, start, _ = tokens[i]
        starts_run = word in number_words or (word == "a" and i + 1 < len(tokens) and tokens[i + 1][0] in _SCALES)
        if not starts_run or any(a <= start < b for a, b in taken):
            i += 1
            continue
        j = i
        run: list[str] = []
        while j < len(tokens):
            w = tokens[j][0]
            nxt = tokens[j + 1][0] if j + 1 < len(tokens) else ""
            if w in number_words or (w == "a" and not run and nxt in _SCALES):
                run.append(w)
            elif w in ("-", "and") and run and nxt in number_words:
                if w == "and" and run[-1] not in _SCALES:
                    break  # 'two and three' are two numbers; 'hundred and five' is one
            else:
                break
            j += 1
        end = tokens[j - 1][2]
        words = [w for w in run if w != "a"]
        value = _parse_number_words(run)
        i = j
        if value is None or words in (["one"], ["hundred"], ["thousand"]) or not words:
            continue
        if all(w in _SCALES for w in words) and run[0] != "a":
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
        anchors.append(_number_anchor(value, unit, surface, start, end))
    anchors.sort(key=lambda a: a.start)
    return anchors


def numbers_match(a: tuple, b: tuple) -> bool:
    """Same value, and the same unit unless one of them has none."""
    return a[0] == b[0] and (a[1] == b[1] or not a[1] or not b[1])


# --- names -----------------------------------------------------------------
_TOKEN = re.compile(r"(?:[A-Za-z]\.){2,}|[^\W\d_]+(?:[-'][^\W\d_]+)*(?:'s?)?", re.UNICODE)
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
_NEGATION = re.compile(
    r"\b(?P<cue>no\s+longer|no\s+one|not(?!\s+(?:only|just|long\s+ago|to\s+mention)\b)|cannot|never|none|nobody"
    r"|nothing(?!\s+but\b)|nowhere|neither|nor|without|no(?!\s+sooner\b))\b"
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


def extract_negations(text: str) -> list[Anchor]:
    """Negation cues, each with the group it belongs to ('n't' is 'not')."""
    text = text.translate(_APOSTROPHES)
    anchors = []
    for match in _NEGATION.finditer(text):
        cue = " ".join((match["cue"] or match["nt"]).lower().split())
        if cue == "nor" and anchors and anchors[-1].text.lower() == "neither" \
                and not re.search(r"[.!?]", text[anchors[-1].end:match.start()]):
            continue  # 'neither ... nor' is one negation
        group = _NEGATION_GROUP[cue]
        anchors.append(Anchor("negations", group, group, match.group(), match.start(), match.end()))
    return anchors


def context_of(text: str, anchor: Anchor, words: int = 4) -> str:
    """A few words either side of an anchor, for reasons like "negation dropped: 'not' (…)"."""
    before = text[:anchor.start].split()[-words:]
    after = text[anchor.end:].split()[:words]
    return " ".join([*before, text[anchor.start:anchor.end], *after])


# --------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------
@dataclass
class KindReport:
    """One kind of anchor in one passage: what the references require and what the text kept."""

    required: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    hypothesis: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    #: label -> where each lost/added occurrence is, in order (a few words either side)
    context: dict[str, list[str]] = field(default_factory=dict)

    @property
    def stats(self) -> list[float]:
        """[required, found, in hypothesis, of those supported by a reference]"""
        return [float(len(self.required)), float(len(self.found)),
                float(len(self.hypothesis)), float(len(self.hypothesis) - len(self.added))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "required": self.required, "lost": self.lost, "added": self.added,
            "optional": self.optional, "found": self.found, "in_text": self.hypothesis,
            "context": self.context,
        }


def _required_count(counts: list[int], share: float) -> int:
    """The largest count that at least ``share`` of the references reach."""
    for c in sorted(set(counts), reverse=True):
        if sum(1 for x in counts if x >= c) >= share * len(counts) - 1e-9:
            return c
    return 0


def compare_numbers(hyp: str, refs: Sequence[str], share: float) -> KindReport:
    report = KindReport()
    ref_numbers = [extract_numbers(r) for r in refs]
    hyp_numbers = extract_numbers(hyp)
    seen: dict[tuple, Anchor] = {}  # one entry per distinct number; a unit wins over none
    for anchors in ref_numbers:
        for a in anchors:
            same = next((k for k in seen if numbers_match(a.key, k)), None)
            if same is None:
                seen[a.key] = a
            elif a.key[1] and not same[1]:
                del seen[same]
                seen[a.key] = a
    for key, anchor in seen.items():
        present = sum(1 for anchors in ref_numbers if any(numbers_match(key, a.key) for a in anchors))
        if present >= share * len(refs) - 1e-9:
            report.required.append(anchor.label)
            if any(numbers_match(key, h.key) for h in hyp_numbers):
                report.found.append(anchor.label)
            else:
                report.lost.append(anchor.label)
                report.context.setdefault(anchor.label, []).append(
                    context_of(refs[_first_with(ref_numbers, key)], _first_anchor(ref_numbers, key)))
        else:
            report.optional.append(anchor.label)
    distinct_hyp: dict[tuple, Anchor] = {}
    for h in hyp_numbers:
        distinct_hyp.setdefault(h.key, h)
    for key, anchor in distinct_hyp.items():
        report.hypothesis.append(anchor.label)
        if not any(numbers_match(key, a.key) for anchors in ref_numbers for a in anchors):
            report.added.append(anchor.label)
            report.context.setdefault(anchor.label, []).append(context_of(hyp, anchor))
    return report


def _first_with(ref_anchors: list[list[Anchor]], key) -> int:
    return next(i for i, anchors in enumerate(ref_anchors) if any(numbers_match(key, a.key) for a in anchors))


def _first_anchor(ref_anchors: list[list[Anchor]], key) -> Anchor:
    return next(a for anchors in ref_anchors for a in anchors if numbers_match(key, a.key))


def compare_names(hyp: str, refs: Sequence[str], share: float) -> KindReport:
    report = KindReport()
    ref_names: dict[str, None] = {}
    for i, ref in enumerate(refs):
        for a in extract_names(ref, context=[r for j, r in enumerate(refs) if j != i]):
            ref_names.setdefault(a.key, None)
    for name in ref_names:
        present = sum(1 for ref in refs if mentions(ref, name))
        if present >= share * len(refs) - 1e-9:
            report.required.append(name)
            (report.found if mentions(hyp, name) else report.lost).append(name)
        else:
            report.optional.append(name)
    hyp_names: dict[str, Anchor] = {}
    for a in extract_names(hyp, context=refs):
        hyp_names.setdefault(a.key, a)
    for name, anchor in hyp_names.items():
        report.hypothesis.append(name)
        if not any(mentions(ref, name) for ref in refs):
            report.added.append(name)
            report.context.setdefault(name, []).append(context_of(hyp.translate(_APOSTROPHES), anchor))
    return report


def compare_negations(hyp: str, refs: Sequence[str], share: float) -> KindReport:
    report = KindReport()
    ref_negations = [extract_negations(r) for r in refs]
    hyp_negations = extract_negations(hyp)
    counts = [len(n) for n in ref_negations]
    required = _required_count(counts, share)
    most = max(counts) if counts else 0
    # the reference that shows the required negations: the first with that many
    model = next((i for i, c in enumerate(counts) if c >= required), 0)
    model_cues = ref_negations[model][:] if refs else []
    hyp_left = Counter(a.key for a in hyp_negations)
    matched: list[Anchor] = []
    unmatched: list[Anchor] = []
    for cue in model_cues:
        if hyp_left[cue.key] > 0:
            hyp_left[cue.key] -= 1
            matched.append(cue)
        else:
            unmatched.append(cue)
    kept = min(len(hyp_negations), required)
    report.required = [a.label for a in model_cues[:required]] if required else []
    # which cues are lost: those of the model reference the text has no cue of the same kind for
    lost_count = required - kept
    lost = unmatched[:lost_count] if lost_count else []
    if len(lost) < lost_count:  # a different cue kind stood in for some, yet too few remain
        lost += [a for a in matched if a not in lost][: lost_count - len(lost)]
    report.lost = [a.label for a in lost]
    for a in lost:
        report.context.setdefault(a.label, []).append(context_of(refs[model].translate(_APOSTROPHES), a))
    report.found = [a.label for a in model_cues if a not in lost][:kept]
    report.optional = []
    report.hypothesis = [a.label for a in hyp_negations]
    added_count = max(0, len(hyp_negations) - most)
    ref_kinds = Counter(a.key for anchors in ref_negations for a in anchors)
    surplus = [a for a in hyp_negations if ref_kinds[a.key] == 0] or hyp_negations
    added = surplus[:added_count] if added_count else []
    report.added = [a.label for a in added]
    for a in added:
        report.context.setdefault(a.label, []).append(context_of(hyp.translate(_APOSTROPHES), a))
    return report


_COMPARE = {"numbers": compare_numbers, "names": compare_names, "negations": compare_negations}


def compare(hyp: str, refs: Sequence[str], kinds: Sequence[str] = KINDS, required_share: float = 0.5) -> dict[str, KindReport]:
    """Anchor reports per kind for one passage."""
    return {kind: _COMPARE[kind](hyp, refs, required_share) for kind in kinds}


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
    version = "1"
    higher_is_better = True
    range = (0.0, 1.0)

    def __init__(self, kinds: Sequence[str] = KINDS, required_share: float = 0.5):
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown anchor kinds {sorted(unknown)}")
        self.kinds = tuple(kinds)
        self.required_share = required_share

    @classmethod
    def from_config(cls, config) -> "Anchors":
        return cls(config.anchors.kinds, config.anchors.required_share)

    def signature(self) -> str:
        return f"anchors|kinds:{'+'.join(self.kinds)}|required:{self.required_share:g}|v:{self.version}"

    def sentence_stats(self, hyps, refs) -> np.ndarray:
        rows = []
        for hyp, ref_list in zip(hyps, refs):
            reports = compare(hyp, ref_list, self.kinds, self.required_share)
            rows.append([x for kind in KINDS for x in (reports[kind].stats if kind in reports else [0.0] * 4)])
        return np.asarray(rows, dtype=float).reshape(len(hyps), 4 * len(KINDS))

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

    def details(self, hyps, refs) -> list[dict[str, Any]]:
        return [
            {kind: report.as_dict() for kind, report in compare(hyp, ref_list, self.kinds, self.required_share).items()}
            for hyp, ref_list in zip(hyps, refs)
        ]
