"""Synthetic distortions of clean English text, with a record of every change.

A passage whose meaning is known (a clean reference) is damaged in the ways
spun web text is damaged, and every change is recorded, so that a metric can
be checked against known damage and a cleaner against known repairs.

Kinds (see :data:`KINDS`):

``spin``      thesaurus-without-context substitutions from ``data/distort_spin.yaml``
              (kept apart from the ``spin`` cleaner's lexicon on purpose);
``mojibake``  a word encoded as UTF-8 and decoded with another code page
              (cp1252, cp1251, latin-1, mac_roman or cp437: one per passage);
``inject``    a spam phrase from ``data/distort_spam.yaml`` dropped into a sentence;
``numbers``   a figure changed, respelled (digits <-> words, meaning kept) or dropped;
``negation``  a negation removed ("is not" -> "is") or added ("is" -> "is not");
``drop``      a clause (between commas) or a whole sentence removed;
``case``      a proper noun or acronym lowered ("NATO" -> "nato").

Rate semantics: for each requested kind, every *eligible site* of the clean
text is distorted independently with probability ``rate`` (a pure rate: no
minimum, no maximum; ``rate=0`` returns the text unchanged). Sites are
spin: a word or phrase that is a key of the table; mojibake: a word holding a
non-ASCII character, a quote or apostrophe, or a free-standing ``-``/``--``,
and the space between two sentences (where a word processor put a
non-breaking space after the full stop: ``end.Â  Next``);
inject: a sentence; numbers: a figure in digits or a spelled number; negation:
a negation word or an auxiliary verb that can take "not"; drop: a sentence;
case: a capitalised word or acronym that does not begin a sentence.

All sites are found in the *clean* text and edits never overlap: kinds are
applied in :data:`APPLY_ORDER` and a later kind skips a site that touches an
earlier edit. Two consequences the tests rely on:

* every record's ``before`` is ``source[source_start:source_end]`` and its
  ``after`` is ``output[start:end]`` (``start``/``end`` index the *output*);
* every site takes the same fixed number of uniform draws from the passage's
  RNG whatever the rate (whether it is distorted, then how), so with one seed
  the distortions at rate 0.2 include those at rate 0.1, each made the same
  way (common random numbers: calibration curves are monotone without
  thousands of copies). Only ``drop`` can differ: a sentence dropped at the
  higher rate swallows a clause dropped in it at the lower one.

``drop`` never removes the last remaining sentence of a passage. ``mojibake``
on pure-ASCII text first makes quotes, apostrophes and dashes typographic
(``it's`` -> ``it’s``) and then garbles them (``itâ€™s``), as happens when text
passes through a word processor and then a wrong code page; a gap between
sentences becomes a garbled non-breaking space plus the space, so ASCII text
without any quote gets mojibake too. The gaps draw from a random stream of
their own (seeded from the passage's), so they leave every other distortion
of a seed as it was.
"""

from __future__ import annotations

import bisect
import codecs
import json
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import yaml

from ..errors import ConfigError, InputError
from ..numberwords import ONES, TENS, TENS_WORDS, UNITS, is_pronoun_one, spell_number

#: Bump whenever the output for a given seed can change (tables or code), so a
#: corpus's distort.json says which generator wrote it.
VERSION = "2"
KINDS: tuple[str, ...] = ("spin", "mojibake", "inject", "numbers", "negation", "drop", "case")
#: Structural damage first (so later kinds never edit a removed sentence),
#: insertions last (so spam is never spun or garbled).
APPLY_ORDER: tuple[str, ...] = ("drop", "negation", "numbers", "spin", "case", "mojibake", "inject")
MOJIBAKE_CODECS: tuple[tuple[str, float], ...] = (
    ("cp1252", 0.45), ("cp1251", 0.2), ("latin-1", 0.1), ("mac_roman", 0.15), ("cp437", 0.1),
)
#: How a chosen figure is damaged (``respell`` only where a respelling exists).
NUMBER_OPERATIONS: tuple[tuple[str, float], ...] = (("change", 0.5), ("drop", 0.3), ("respell", 0.2))


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class DistortionRecord:
    """One applied distortion.

    ``start``/``end`` index the distorted *output* (``output[start:end] ==
    after``); ``source_start``/``source_end`` index the clean *input*
    (``source[source_start:source_end] == before``). An insertion has
    ``before == ""``, a removal ``after == ""``.
    """

    kind: str
    start: int
    end: int
    before: str
    after: str
    source_start: int
    source_end: int
    #: true only for changes that keep the meaning (a number respelled)
    meaning_preserving: bool = False
    #: the variant: spin key, code page, spam language, number operation,
    #: "removed"/"added" negation, "clause"/"sentence" drop
    detail: str = ""

    def to_dict(self) -> dict:
        # Spelled out: dataclasses.asdict deep-copies and is the slowest step of a corpus.
        return {"kind": self.kind, "start": self.start, "end": self.end, "before": self.before, "after": self.after,
                "source_start": self.source_start, "source_end": self.source_end,
                "meaning_preserving": self.meaning_preserving, "detail": self.detail}


@dataclass(frozen=True)
class _Edit:
    source_start: int
    source_end: int
    after: str
    kind: str
    detail: str = ""
    meaning_preserving: bool = False


class _Occupied:
    """Source spans already edited; a new edit may touch but not overlap them.

    Spans never overlap one another, so sorted by ``(start, end)`` their ends
    never decrease either: the last span starting before a new edit's end is
    the only one that can overlap it. An insertion is the empty span
    ``(p, p)``; it conflicts only with spans that strictly contain ``p``.
    """

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def is_free(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self.spans, (end, -1))  # the spans starting before `end`
        return index == 0 or self.spans[index - 1][1] <= start

    def add(self, start: int, end: int) -> None:
        bisect.insort(self.spans, (start, end))


# --------------------------------------------------------------------------
# Data tables
# --------------------------------------------------------------------------

def _load_yaml_data(path: Path | None, default_name: str) -> tuple[dict, str]:
    if path is None:
        text = resources.files("harness").joinpath("data", default_name).read_text(encoding="utf-8")
        label = f"harness/data/{default_name}"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read ({exc})") from None
        label = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping at the top level")
    return data, label


def load_spin_table(path: Path | None = None) -> dict[str, list[str]]:
    """The spin substitution table: lower-case word or phrase -> replacements."""
    data, label = _load_yaml_data(path, "distort_spin.yaml")
    table = data.get("substitutions")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{label}: needs a non-empty 'substitutions' mapping")
    result: dict[str, list[str]] = {}
    for key, values in table.items():
        # YAML 1.1 reads bare on/off/yes/no as booleans: insist on strings.
        if not isinstance(key, str) or not isinstance(values, list) or not values \
                or not all(isinstance(v, str) and v.strip() for v in values):
            raise ConfigError(f"{label}: entry {key!r} must map a string to a list of strings (quote on/off/yes/no)")
        normal_key = " ".join(key.lower().split())
        options = [v for v in values if v.lower() != normal_key]
        if options:
            result[normal_key] = options
    return result


@dataclass(frozen=True)
class SpamTable:
    """Spam phrases by group, with the weight of each group."""

    groups: tuple[tuple[str, float, tuple[tuple[str, str], ...]], ...]  # (group, weight, ((phrase, language), ...))

    def pick(self, group_draw: float, phrase_draw: float) -> tuple[str, str]:
        """(phrase, language): a group by weight, then a phrase uniformly, from two uniform draws in [0, 1)."""
        roll = group_draw * sum(weight for _, weight, _ in self.groups)
        for _, weight, phrases in self.groups:
            roll -= weight
            if roll < 0:
                return _pick(phrases, phrase_draw)
        return _pick(self.groups[-1][2], phrase_draw)


def garble(text: str, codec: str) -> str:
    """``text`` encoded as UTF-8 and decoded as ``codec`` (the classic mojibake).

    Bytes the code page leaves undefined (0x81 in cp1252...) become the
    Latin-1 character of the same value, as browsers and ftfy's "sloppy"
    codecs do, rather than U+FFFD.
    """
    return text.encode("utf-8").decode(codec, errors="harness-sloppy")


def _sloppy(error: UnicodeDecodeError) -> tuple[str, int]:
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("harness-sloppy", _sloppy)


def load_spam_table(path: Path | None = None) -> SpamTable:
    """Spam phrases: English, other languages, and garbled ones (garbled on load)."""
    data, label = _load_yaml_data(path, "distort_spam.yaml")
    weights = data.get("weights") or {"english": 1.0, "other_languages": 1.0, "garbled": 1.0}
    groups: list[tuple[str, float, tuple[tuple[str, str], ...]]] = []
    english = data.get("english") or []
    if english:
        groups.append(("english", float(weights.get("english", 0)), tuple((str(p), "en") for p in english)))
    others = data.get("other_languages") or {}
    if not isinstance(others, dict):
        raise ConfigError(f"{label}: 'other_languages' must map a language code to phrases")
    foreign = tuple((str(p), str(lang)) for lang, phrases in others.items() for p in (phrases or []))
    if foreign:
        groups.append(("other_languages", float(weights.get("other_languages", 0)), foreign))
    garbled: list[tuple[str, str]] = []
    for entry in data.get("garbled") or []:
        if not isinstance(entry, dict) or "text" not in entry or "codec" not in entry:
            raise ConfigError(f"{label}: each 'garbled' entry needs 'text' and 'codec'")
        try:
            codecs.lookup(entry["codec"])
        except LookupError:
            raise ConfigError(f"{label}: unknown code page {entry['codec']!r}") from None
        garbled.append((garble(str(entry["text"]), entry["codec"]), f"{entry.get('language', '?')}+{entry['codec']}"))
    if garbled:
        groups.append(("garbled", float(weights.get("garbled", 0)), tuple(garbled)))
    groups = [g for g in groups if g[1] > 0]
    if not groups:
        raise ConfigError(f"{label}: no spam phrases with a positive weight")
    return SpamTable(tuple(groups))


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|Gen|Col|Lt|Sgt|Capt|Sen|Rep|Gov|Pres|Amb|No|vs|etc|approx|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Ltd|Co|Corp|e\.g|i\.e|cf|al)"
    r"|(?<![\w.])[A-Za-z](?:\.[A-Za-z])*)$"
)
_OPENERS = "\"'“‘([ "


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)``: a fast rule-based splitter.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (plus closing quotes)
    followed by white space and a capital or digit, unless the word before the
    period is a known abbreviation or an initialism (``U.S.``, ``Dr.``). pysbd
    is more careful but about 1.7 ms per passage, which alone would take three
    minutes for 100,000 passages; passages here are clean, edited prose.
    """
    spans: list[tuple[int, int]] = []
    start = len(text) - len(text.lstrip())
    for match in _SENTENCE_END.finditer(text, start):
        if text[match.start()] == "." and _ABBREVIATION.search(text, max(0, match.start() - 12), match.start()):
            continue
        end = match.end()
        if end > start:
            spans.append((start, end))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    end = len(text.rstrip())
    if end > start:
        spans.append((start, end))
    return spans


def _match_case(original: str, replacement: str) -> str:
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


_WORD_VALUE = UNITS | TENS


# --------------------------------------------------------------------------
# Site patterns
# --------------------------------------------------------------------------

_SCALE = r"(?:thousand|million|billion|trillion)"
_DIGIT_NUMBER = re.compile(
    r"(?<![\w.,$€£])(?P<currency>[$€£])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<dec>\.\d+)?"
    r"(?P<unit>%| percent\b| per cent\b)?(?P<scale>\s" + _SCALE + r"\b)?(?![\w])"
)
_SPELLED_NUMBER = re.compile(
    r"\b(?:(?P<tens>" + "|".join(TENS_WORDS) + r")(?:-(?P<unit>" + "|".join(ONES[1:10]) + r")\b)?"
    r"|(?P<small>" + "|".join(ONES) + r"))(?P<scale>\s(?:hundred|" + _SCALE[3:-1] + r"))?\b",
    re.IGNORECASE,
)

_NEGATED_CONTRACTIONS = {
    "isn't": "is", "aren't": "are", "wasn't": "was", "weren't": "were", "can't": "can", "cannot": "can",
    "couldn't": "could", "won't": "will", "wouldn't": "would", "shouldn't": "should", "don't": "do",
    "doesn't": "does", "didn't": "did", "hasn't": "has", "haven't": "have", "hadn't": "had",
    "mustn't": "must", "needn't": "need", "mightn't": "might", "ain't": "am",
}
_NEGATIVE_WORDS = {"nobody": "everybody", "nothing": "something", "nowhere": "somewhere", "none": "all"}
_NEGATIVE_PHRASES = {"one": "everyone", "longer": "still"}  # "no one" -> "everyone"
_MODALS_AND_COPULAS = {"is", "are", "was", "were", "can", "could", "will", "would", "should", "may",
                       "might", "must", "am"}
_PERFECT_AUXILIARIES = {"has", "have", "had"}
_NEGATORS = {"not", "never", "no", "n't"} | set(_NEGATED_CONTRACTIONS)
_NEGATION_SITES = _NEGATORS | set(_NEGATIVE_WORDS) | _MODALS_AND_COPULAS | _PERFECT_AUXILIARIES

_INITIALISM = re.compile(r"[A-Z]\.(?:[A-Z]\.)+")
_FIRST_PERSON = re.compile(r"I(?:['’](?:m|ve|d|ll))?$")

# A character that garbles (non-ASCII) or turns typographic (' and "), or a free-standing dash.
_MOJIBAKE_TRIGGER = re.compile(r"[^\x00-\x21\x23-\x26\x28-\x7f]|(?<!\S)--?(?!\S)")
_NOT_SPACE_RUN, _GAP = re.compile(r"\S*"), re.compile(r"\s+")


# --------------------------------------------------------------------------
# The distorter
# --------------------------------------------------------------------------

class Distorter:
    """Applies distortions with one pair of data tables (loaded once)."""

    def __init__(self, spin_table: Mapping[str, Sequence[str]] | None = None, spam: SpamTable | None = None):
        table = load_spin_table() if spin_table is None else {k.lower(): list(v) for k, v in spin_table.items()}
        self.spam = load_spam_table() if spam is None else spam
        # word -> replacements; first word of a phrase -> [(later words, key, replacements)], longest first
        self._spin_words: dict[str, tuple[str, ...]] = {}
        self._spin_phrases: dict[str, list[tuple[tuple[str, ...], str, tuple[str, ...]]]] = {}
        for key, options in table.items():
            words = key.replace("’", "'").split()
            if len(words) == 1:
                self._spin_words[words[0]] = tuple(options)
            else:
                self._spin_phrases.setdefault(words[0], []).append((tuple(words[1:]), key, tuple(options)))
        for entries in self._spin_phrases.values():
            entries.sort(key=lambda entry: -len(entry[0]))
        self._spin_firsts = frozenset(self._spin_words) | frozenset(self._spin_phrases)

    # -- public -----------------------------------------------------------
    def distort(self, text: str, rng: random.Random, rate: float,
                kinds: Sequence[str] = KINDS) -> tuple[str, list[DistortionRecord]]:
        """Distort ``text``; see :func:`distort_passage`."""
        check_rate_and_kinds(rate, kinds)
        if rate == 0 or not kinds or not text:
            return text, []
        # Every site takes the same fixed number of draws whether or not it is
        # distorted (whether, then how), so at a higher rate each site that was
        # distorted at a lower rate is distorted the same way, and more join.
        # the sentence gaps' stream, seeded from the passage's state before any draw
        gap_rng = random.Random(hash(rng.getstate()[1]))  # (the ints only: hash(None) differs per process)
        draw = rng.random
        codec = _weighted(draw(), MOJIBAKE_CODECS)  # one code page per passage, drawn always
        context = _Context(text, codec)
        context.gap_draw = gap_rng.random
        occupied = _Occupied()
        edits: list[_Edit] = []
        for kind in APPLY_ORDER:
            if kind in kinds:
                getattr(self, f"_{kind}")(context, draw, rate, occupied, edits)
        return _assemble(text, edits)

    # -- kinds ------------------------------------------------------------
    def _drop(self, ctx: "_Context", draw, rate, occupied: _Occupied, edits: list[_Edit]) -> None:
        sentences = ctx.sentences
        text = ctx.text
        dropped = [False] * len(sentences)
        clause_drops: list[tuple[int, int]] = []
        for index, (start, end) in enumerate(sentences):
            chosen, clause_or_sentence, which = draw() < rate, draw(), draw()
            if not chosen:
                continue
            clauses = _clause_spans(text, start, end)
            if clauses and (clause_or_sentence < 0.5 or len(sentences) == 1):
                clause_drops.append(_pick(clauses, which))
            elif len(sentences) > 1:
                dropped[index] = True
        if all(dropped):  # keep the last sentence: a passage never becomes empty
            dropped[-1] = False
        # Sentences in a trailing run of dropped sentences take the white space
        # before them; others take the white space after them.
        trailing_from = len(sentences)
        while trailing_from > 0 and dropped[trailing_from - 1]:
            trailing_from -= 1
        for index, (start, end) in enumerate(sentences):
            if not dropped[index]:
                continue
            if index >= trailing_from:
                span = (sentences[index - 1][1], end)
            else:
                span = (start, sentences[index + 1][0])
            occupied.add(*span)
            edits.append(_Edit(span[0], span[1], "", "drop", "sentence"))
        for start, end in clause_drops:
            if occupied.is_free(start, end):
                occupied.add(start, end)
                edits.append(_Edit(start, end, "", "drop", "clause"))

    def _negation(self, ctx: "_Context", draw, rate, occupied, edits) -> None:
        text, tokens = ctx.text, ctx.tokens
        for index in [i for i, token in enumerate(tokens) if token[2] in _NEGATION_SITES]:
            start, end, lower = tokens[index]
            word = text[start:end]
            nxt = tokens[index + 1] if index + 1 < len(tokens) else None
            adjacent = nxt is not None and text[end:nxt[0]] == " "
            edit: _Edit | None = None
            if lower in _NEGATED_CONTRACTIONS:
                edit = _Edit(start, end, _match_case(word, _NEGATED_CONTRACTIONS[lower]), "negation", "removed")
            elif lower in ("not", "never"):
                if word.islower() and start > 0 and text[start - 1] == " ":
                    edit = _Edit(start - 1, end, "", "negation", "removed")
            elif lower in _NEGATIVE_WORDS:
                edit = _Edit(start, end, _match_case(word, _NEGATIVE_WORDS[lower]), "negation", "removed")
            elif lower == "no":
                if adjacent:
                    phrase = _NEGATIVE_PHRASES.get(nxt[2])
                    if phrase is not None:
                        edit = _Edit(start, nxt[1], _match_case(word, phrase), "negation", "removed")
                    else:
                        edit = _Edit(start, end, _match_case(word, "some"), "negation", "removed")
            elif word.islower() and adjacent and nxt[2] not in _NEGATORS and (
                lower in _MODALS_AND_COPULAS or nxt[2] == "been" or nxt[2].endswith(("ed", "en"))
            ):
                edit = _Edit(start, end, f"{word} not", "negation", "added")
            if edit is None:
                continue
            if draw() < rate and occupied.is_free(edit.source_start, edit.source_end):
                occupied.add(edit.source_start, edit.source_end)
                edits.append(edit)

    def _numbers(self, ctx: "_Context", draw, rate, occupied, edits) -> None:
        text = ctx.text
        for match in _DIGIT_NUMBER.finditer(text):
            draws = (draw(), draw(), draw(), draw())  # whether, which operation, where, to what
            if draws[0] < rate:
                self._add_number_edit(text, match, draws[1:], occupied, edits, spelled=False)
        covered = -1
        for start, _, lower in [token for token in ctx.tokens if token[2] in _WORD_VALUE]:
            if start < covered:
                continue
            match = _SPELLED_NUMBER.match(text, start)
            if match is None:
                continue
            covered = match.end()
            if match.group("small") and match.group("small").lower() == "one" and not match.group("scale") \
                    and is_pronoun_one(text, match.start(), match.end()):
                continue  # "no one", "the one", "one another": a pronoun, not a figure
            draws = (draw(), draw(), draw(), draw())
            if draws[0] < rate:
                self._add_number_edit(text, match, draws[1:], occupied, edits, spelled=True)

    @classmethod
    def _add_number_edit(cls, text: str, match: re.Match, draws: tuple[float, float, float], occupied: _Occupied,
                         edits: list[_Edit], spelled: bool) -> None:
        if not occupied.is_free(match.start(), match.end()):
            return
        edit = cls._number_edit(text, match, draws, spelled)
        if edit.after == "":  # a dropped figure takes a neighbouring space, if that space is free
            spans = [(match.start() - 1, match.end())] if text[match.start() - 1:match.start()] == " " else []
            spans += [(match.start(), match.end() + 1)] if text[match.end():match.end() + 1] == " " else []
            start, end = next((span for span in spans if occupied.is_free(*span)), (match.start(), match.end()))
            edit = _Edit(start, end, "", "numbers", "drop")
        occupied.add(edit.source_start, edit.source_end)
        edits.append(edit)

    @staticmethod
    def _number_edit(text: str, match: re.Match, draws: tuple[float, float, float], spelled: bool) -> _Edit:
        start, end = match.start(), match.end()
        original = match.group(0)
        scale = match.group("scale") or ""
        if spelled:
            value = _WORD_VALUE[(match.group("tens") or match.group("small")).lower()]
            if match.group("unit"):
                value += _WORD_VALUE[match.group("unit").lower()]
            respelling: str | None = str(value) + scale
        else:
            digits = match.group("int").replace(",", "")
            unit = match.group("unit") or ""
            respelling = None
            if not match.group("currency") and not match.group("dec") and int(digits) < 1_000_000:
                respelling = spell_number(int(digits)) + (" percent" if unit == "%" else unit) + scale
                if _at_sentence_start(text, start):
                    respelling = respelling[0].upper() + respelling[1:]
        operations = [(op, weight) for op, weight in NUMBER_OPERATIONS if op != "respell" or respelling]
        operation = _weighted(draws[0], operations)
        if operation == "respell":
            return _Edit(start, end, respelling, "numbers", "respell", meaning_preserving=True)
        if operation == "drop":
            return _Edit(start, end, "", "numbers", "drop")  # widened to a free neighbouring space by the caller
        if spelled:
            candidates = [value + d for d in (-2, -1, 1, 2, 3, 5, 10) if 0 < value + d < 100]
            new_value = _pick(candidates, draws[1])
            head_end = match.end("unit") if match.group("unit") else match.end("tens" if match.group("tens") else "small")
            changed = _match_case(text[start:head_end], spell_number(new_value)) + text[head_end:end]
            return _Edit(start, end, changed, "numbers", "change")
        # Change one digit of the integer part (never to a leading zero).
        int_start = match.start("int")
        positions = [i for i in range(int_start, match.end("int")) if text[i] != ","]
        position = _pick(positions, draws[1])
        lowest = 1 if position == int_start and len(positions) > 1 else 0
        new_digit = _pick([d for d in "0123456789"[lowest:] if d != text[position]], draws[2])
        changed = text[start:position] + new_digit + text[position + 1:end]
        return _Edit(start, end, changed, "numbers", "change")

    def _spin(self, ctx: "_Context", draw, rate, occupied, edits) -> None:
        text, tokens = ctx.text, ctx.tokens
        words, phrases, firsts = self._spin_words, self._spin_phrases, self._spin_firsts
        count = len(tokens)
        next_index = 0
        for index in [i for i, token in enumerate(tokens) if token[2] in firsts]:
            if index < next_index:  # inside a phrase already taken
                continue
            lower = tokens[index][2]
            last, key, options = index, lower, None
            entries = phrases.get(lower)
            if entries is not None:  # the longest phrase that matches wins
                for rest, phrase_key, phrase_options in entries:
                    stop = index + len(rest)
                    if stop < count and all(
                        tokens[index + 1 + j][2] == rest[j]
                        and text[tokens[index + j][1]:tokens[index + 1 + j][0]] == " " for j in range(len(rest))
                    ):
                        last, key, options = stop, phrase_key, phrase_options
                        break
            if options is None:
                options = words.get(lower)
                if options is None:
                    continue
            next_index = last + 1
            chosen, which = draw() < rate, draw()
            if not chosen:
                continue
            start, span_end = tokens[index][0], tokens[last][1]
            if occupied.is_free(start, span_end):
                after = _match_case(text[start:span_end], _pick(options, which))
                occupied.add(start, span_end)
                edits.append(_Edit(start, span_end, after, "spin", key))

    def _case(self, ctx: "_Context", draw, rate, occupied, edits) -> None:
        text = ctx.text
        first_words = ctx.sentence_first_words
        covered = -1
        for start, end, lower in [token for token in ctx.tokens if text[token[0]].isupper()]:
            if start < covered:
                continue
            if end - start == 1 and text.startswith(".", end):  # an initialism: "U.S." is one site
                initialism = _INITIALISM.match(text, start)
                if initialism is not None:
                    end = covered = initialism.end()
                    lower = text[start:end].lower()
            word = text[start:end]
            if start in first_words or word == lower or _FIRST_PERSON.match(word):
                continue
            if draw() < rate and occupied.is_free(start, end):
                occupied.add(start, end)
                edits.append(_Edit(start, end, word.lower(), "case"))

    def _mojibake(self, ctx: "_Context", draw, rate, occupied, edits) -> None:
        text, codec = ctx.text, ctx.codec
        for start, end in _mojibake_sites(text):
            if draw() >= rate or not occupied.is_free(start, end):
                continue
            word = text[start:end]
            garbled = garble(_typographic(word) if word.isascii() else word, codec)
            occupied.add(start, end)
            edits.append(_Edit(start, end, garbled, "mojibake", codec))
        # a non-breaking space after a full stop, garbled: "end.Â  Next" (one draw per gap, from its own stream)
        nbsp = garble("\u00a0", codec)
        for start, end in _sentence_gaps(text, ctx.sentences):
            if ctx.gap_draw() >= rate or not occupied.is_free(start, end):
                continue
            occupied.add(start, end)
            edits.append(_Edit(start, end, nbsp + text[start:end], "mojibake", codec))

    def _inject(self, ctx: "_Context", draw, rate, occupied, edits) -> None:
        text = ctx.text
        for start, end in ctx.sentences:
            chosen, where, group, which = draw() < rate, draw(), draw(), draw()
            if not chosen:
                continue
            # Before any word but the first (a sentence of one word: before it).
            point = _pick([gap.end() for gap in _GAP.finditer(text, start, end)] or [start], where)
            if not occupied.is_free(point, point):
                continue
            phrase, language = self.spam.pick(group, which)
            occupied.add(point, point)
            edits.append(_Edit(point, point, phrase + " ", "inject", language))


class _Context:
    """Per-passage analyses, computed once and only when a kind needs them."""

    def __init__(self, text: str, codec: str):
        self.text = text
        self.codec = codec  # the code page of this passage's mojibake
        self.gap_draw = random.random  # the sentence gaps' random stream (set by Distorter.distort)
        self._tokens: list[tuple[int, int, str]] | None = None
        self._sentences: list[tuple[int, int]] | None = None

    @property
    def tokens(self) -> list[tuple[int, int, str]]:
        """Words as ``(start, end, lower-case word)``, apostrophes made ASCII."""
        if self._tokens is None:
            lowered = self.text.lower().replace("’", "'")
            if len(lowered) != len(self.text):  # a letter whose lower case is longer ("İ")
                self._tokens = [(m.start(), m.end(), m.group(0).lower().replace("’", "'"))
                                for m in _WORD.finditer(self.text)]
            else:
                self._tokens = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(lowered)]
        return self._tokens

    @property
    def sentences(self) -> list[tuple[int, int]]:
        if self._sentences is None:
            self._sentences = split_sentences(self.text)
        return self._sentences

    @property
    def sentence_first_words(self) -> set[int]:
        firsts = set()
        for start, end in self.sentences:
            while start < end and self.text[start] in _OPENERS:
                start += 1
            firsts.add(start)
        return firsts


def _clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Removable clauses of a sentence: from a ", " up to the next ", " or the final punctuation."""
    content_end = end
    while content_end > start and text[content_end - 1] in ".!?…\"'”’)]":
        content_end -= 1
    commas = [m.start() for m in re.finditer(r", ", text[start:content_end])]
    commas = [start + c for c in commas]
    spans = []
    for i, comma in enumerate(commas):
        stop = commas[i + 1] if i + 1 < len(commas) else content_end
        if stop - comma > 2:
            spans.append((comma, stop))
    return spans


def _mojibake_sites(text: str) -> list[tuple[int, int]]:
    """The white-space-delimited words that hold a mojibake trigger."""
    sites: list[tuple[int, int]] = []
    covered = -1
    for trigger in _MOJIBAKE_TRIGGER.finditer(text):
        if trigger.start() < covered:
            continue
        start = trigger.start()
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        covered = _NOT_SPACE_RUN.match(text, trigger.start()).end()
        sites.append((start, covered))
    return sites


def _sentence_gaps(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The single spaces between two sentences of a line."""
    gaps = []
    for (_, end), (start, _) in zip(sentences, sentences[1:]):
        if text[end:start] == " ":
            gaps.append((end, start))
    return gaps


def _typographic(word: str) -> str:
    """What a word processor makes of ASCII punctuation (before it gets garbled)."""
    if word == "--":
        return "—"
    if word == "-":
        return "–"
    out = []
    for i, char in enumerate(word):
        if char == "'":
            out.append("‘" if i == 0 else "’")
        elif char == '"':
            out.append("“" if i == 0 else "”")
        else:
            out.append(char)
    return "".join(out)


def _at_sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in ".!?…"


def _pick(options: Sequence, draw: float):
    """The option a uniform draw in [0, 1) lands on."""
    return options[min(int(draw * len(options)), len(options) - 1)]


def _weighted(draw: float, options: Sequence[tuple[str, float]]) -> str:
    """The option a uniform draw in [0, 1) lands on, each with its share of the total weight."""
    roll = draw * sum(weight for _, weight in options)
    for option, weight in options:
        roll -= weight
        if roll < 0:
            return option
    return options[-1][0]


def _assemble(text: str, edits: list[_Edit]) -> tuple[str, list[DistortionRecord]]:
    pieces: list[str] = []
    records: list[DistortionRecord] = []
    cursor = 0
    length = 0
    for edit in sorted(edits, key=lambda e: (e.source_start, e.source_end)):
        kept = text[cursor:edit.source_start]
        pieces.append(kept)
        length += len(kept)
        pieces.append(edit.after)
        records.append(DistortionRecord(
            edit.kind, length, length + len(edit.after), text[edit.source_start:edit.source_end], edit.after,
            edit.source_start, edit.source_end, edit.meaning_preserving, edit.detail,
        ))
        length += len(edit.after)
        cursor = edit.source_end
    pieces.append(text[cursor:])
    return "".join(pieces), records


def check_rate_and_kinds(rate: float, kinds: Sequence[str]) -> None:
    """Raise ``ValueError`` for a rate outside [0, 1] or an unknown kind."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be between 0 and 1, got {rate}")
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown distortion kind {unknown[0]!r}; choose from {', '.join(KINDS)}")


@lru_cache(maxsize=1)
def default_distorter() -> Distorter:
    """The distorter with the bundled tables (loaded once per process)."""
    return Distorter()


def distort_passage(text: str, rng: random.Random, rate: float,
                    kinds: Sequence[str] = KINDS) -> tuple[str, list[DistortionRecord]]:
    """Distort one clean passage with the bundled tables.

    Returns the distorted text and one record per applied distortion, in
    output order. ``rng`` is consumed: pass a fresh ``random.Random`` seeded
    per passage (see :func:`passage_rng`) for reproducible corpora.
    """
    return default_distorter().distort(text, rng, rate, kinds)


def passage_rng(seed: int, source_id: str, copy: int) -> random.Random:
    """The RNG of one copy of one passage: depends on nothing but its arguments,
    so output does not change with input order, chunking or other passages."""
    return random.Random(f"harness-distort\x1f{seed}\x1f{source_id}\x1f{copy}")


# --------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------

TRANSCRIPT_FILE = "transcript.jsonl"
REFERENCES_FILE = "references.jsonl"
DISTORTIONS_FILE = "distortions.jsonl"
SUMMARY_FILE = "distort.json"


@dataclass
class DistortSummary:
    """What :func:`distort_corpus` wrote (also saved as ``distort.json``)."""

    sources: int
    passages: int
    copies: int
    rate: float
    kinds: list[str]
    seed: int
    #: applied distortions per kind (respellings included)
    distortions_by_kind: dict[str, int] = field(default_factory=dict)
    #: passages that received at least one distortion of the kind
    passages_by_kind: dict[str, int] = field(default_factory=dict)
    #: passages identical to their clean source
    unchanged: int = 0
    generator: str = f"harness.distort/{VERSION}"

    def to_dict(self) -> dict:
        return asdict(self)


_JSON_LINE = json.JSONEncoder(ensure_ascii=False).encode


def copy_id(source_id: str, copy: int) -> str:
    """Id of copy ``copy`` (1-based) of passage ``source_id``: ``p01-c1``."""
    return f"{source_id}-c{copy}"


def distort_corpus(passages: Iterable[tuple[str, str] | tuple[str, str, str | None]], out_dir: Path,
                   rate: float, kinds: Sequence[str] = KINDS, seed: int = 0, copies: int = 1,
                   distorter: Distorter | None = None) -> DistortSummary:
    """Write ``copies`` distorted copies of each clean ``(id, text)`` passage.

    Streams into ``out_dir`` (created; existing files of the same names are
    replaced):

    * ``transcript.jsonl``: ``{"id": "<source>-c<k>", "text": ...}`` (plus
      ``"speaker"`` when the source item is ``(id, text, speaker)``);
    * ``references.jsonl``: ``{"id": ..., "references": [clean text]}``;
    * ``distortions.jsonl``: one line per *applied* distortion,
      ``{"id", "source_id", "copy", "kind", "start", "end", "before",
      "after", "source_start", "source_end", "meaning_preserving", "detail"}``
      (``start``/``end`` in the distorted text; a passage left unchanged has
      no line);
    * ``distort.json``: the returned summary.

    The output feeds ``harness run`` as transcript + references. Each copy's
    randomness comes from :func:`passage_rng` ``(seed, source id, copy)``.
    """
    check_rate_and_kinds(rate, kinds)
    if copies < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    distorter = distorter or default_distorter()
    kinds = [kind for kind in KINDS if kind in kinds]
    from ..runstore import atomic_open, atomic_write_text

    out_dir = Path(out_dir)
    by_kind: Counter[str] = Counter()
    passages_by_kind: Counter[str] = Counter()
    seen: set[str] = set()
    sources = written = unchanged = 0
    dumps = _JSON_LINE  # one encoder for the whole corpus: json.dumps(..., ensure_ascii=False) builds one per call
    # Each file replaces the old one only once it is complete (and a link
    # planted in the folder is replaced, never written through).
    with atomic_open(out_dir / TRANSCRIPT_FILE) as transcript, \
            atomic_open(out_dir / REFERENCES_FILE) as references, \
            atomic_open(out_dir / DISTORTIONS_FILE) as distortions:
        for item in passages:
            source_id, text = item[0], item[1]
            speaker = item[2] if len(item) > 2 else None
            if source_id in seen:
                raise InputError(f"duplicate passage id {source_id!r}")
            seen.add(source_id)
            sources += 1
            for copy in range(1, copies + 1):
                pid = copy_id(source_id, copy)
                output, records = distorter.distort(text, passage_rng(seed, source_id, copy), rate, kinds)
                line = {"id": pid, "text": output}
                if speaker:
                    line["speaker"] = speaker
                transcript.write(dumps(line) + "\n")
                references.write(dumps({"id": pid, "references": [text]}) + "\n")
                written += 1
                if not records:
                    unchanged += 1
                    continue
                for record in records:
                    distortions.write(dumps({"id": pid, "source_id": source_id, "copy": copy, **record.to_dict()}) + "\n")
                counts = Counter(record.kind for record in records)
                by_kind.update(counts)
                passages_by_kind.update(counts.keys())
    summary = DistortSummary(
        sources=sources, passages=written, copies=copies, rate=rate, kinds=list(kinds),
        seed=seed, distortions_by_kind={k: by_kind[k] for k in kinds},
        passages_by_kind={k: passages_by_kind[k] for k in kinds}, unchanged=unchanged,
    )
    atomic_write_text(out_dir / SUMMARY_FILE, json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary


def read_distortions(path: Path) -> dict[str, list[DistortionRecord]]:
    """``distortions.jsonl`` back into records, by passage id."""
    result: dict[str, list[DistortionRecord]] = {}
    names = set(DistortionRecord.__dataclass_fields__)
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                obj = json.loads(line)
                result.setdefault(obj["id"], []).append(DistortionRecord(**{k: v for k, v in obj.items() if k in names}))
    return result


__all__ = [
    "VERSION", "KINDS", "APPLY_ORDER", "DistortionRecord", "Distorter", "DistortSummary", "SpamTable",
    "distort_passage", "distort_corpus", "passage_rng", "copy_id", "split_sentences", "spell_number",
    "garble", "load_spin_table", "load_spam_table", "default_distorter", "read_distortions",
    "check_rate_and_kinds",
]
