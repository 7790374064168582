"""``casing``: restore the capitals of lowered proper nouns, "I" and sentence starts.

Rules (the rule name is in each edit):

``pronoun-i``       a stand-alone lower-case ``i`` and its contractions
                    (``i've``, ``i'd``, ``i'm``, ``i'll``) -> ``I``; never
                    ``i.e.``, a list marker ``(i)`` or a variable ``x_i``;
``proper-noun``     an all-lower-case name from the gazetteer
                    (``harness/data/cleaner_casing.yaml``): ``the united
                    states`` -> ``the United States``, ``nato`` -> ``NATO``;
``sentence-start``  a lower-case word right after ``.``, ``!`` or ``?`` and a
                    space, unless the full stop belongs to an abbreviation
                    (``etc.``, ``e.g.``, ``U.S.``, ``No. 5``) or an ellipsis.

The evidence must be clear, so the cleaner does nothing on text written in
lower case on purpose: a passage needs at least one capitalised sentence start
before any rule runs. Words inside URLs, e-mail addresses, @handles and
#hashtags are never touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import CleanResult, apply_replacements
from .lexicon import data_path, read_data
from .protect import SpanSet, address_to_run_end, protected_spans
from .spans import fixpoint
from ..errors import ConfigError

CODE_VERSION = "1.0"

_PRONOUN_I = re.compile(r"(?<![\w.'\u2019(/@#*\"`-])i(?=(?:['\u2019](?:m|ve|d|ll))?(?![\w'\u2019*\"`.-]|\)))")
_SENTENCE_START = re.compile(r"(?<![.!?])([.!?])( +)([a-z])(?=[a-z'\u2019]*(?:\W|$))")
_TOKEN_BEFORE = re.compile(r"(\S+)\Z")
_CAPITALISED_START = re.compile(r"(?:\A|[.!?]\s+)[\"'(]*[A-Z]")
#: URLs, e-mail addresses, @handles, #hashtags and `code`: the matches of
#: ``(?:https?://|www\.)\S+|\S+@\S+|[@#]\w+|`[^`]*```, found in linear time
#: (the e-mail part of that regex backtracks quadratically on a long run
#: without spaces; see :mod:`harness.cleaners.protect`).
_PROTECTED_OTHER = re.compile(r"(?P<before>(?:https?://|www\.)\S+)|[@#]\w+|`[^`]*`")


def protected_spans_of(text: str) -> list[tuple[int, int]]:
    return protected_spans(text, _PROTECTED_OTHER, address_to_run_end)


class CasingCleaner:
    """Capitalise lowered proper nouns, the pronoun I and sentence starts."""

    name = "casing"

    def __init__(self, gazetteer: str | Path | None = None, sentence_starts: bool = True):
        path = Path(gazetteer) if gazetteer is not None else data_path("cleaner_casing.yaml")
        data, sha = read_data(path)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a casing gazetteer is a mapping")
        self.version = f"{CODE_VERSION}+{sha[:10]}" + ("" if sentence_starts else "-nostarts")
        self.sentence_starts = sentence_starts
        proper: dict[str, str] = {}
        for phrase, form in (data.get("phrases") or {}).items():
            if form:
                proper[str(phrase).lower()] = str(form)
        for words in (data.get("capitalise") or {}).values():
            for word in words or ():
                word = str(word).lower()
                proper.setdefault(word, word[:1].upper() + word[1:])
        self.proper = proper
        self.abbreviations = frozenset(str(a).lower() for a in data.get("abbreviations") or ())
        alternatives = "|".join(re.escape(p) for p in sorted(proper, key=lambda p: (-len(p), p)))
        # Lower case only, whole words, not glued to a domain or a path.
        self._proper_re = re.compile(rf"(?<![\w.@#/'\u2019-])(?:{alternatives})(?![\w@/-]|\.\w)")

    def _is_abbreviation(self, token: str) -> bool:
        core = token.rstrip(".!?").lstrip("\"'([")
        if not core:
            return True
        if "." in core or core.isdigit() or len(core) == 1:
            return True  # e.g. U.S. / i.e. / 5. / A.
        return core.lower() in self.abbreviations

    def _step(self, text: str) -> CleanResult:
        protected = SpanSet(protected_spans_of(text))

        def free(start: int, end: int) -> bool:
            return not protected.overlaps(start, end)

        replacements: list[tuple[int, int, str, str]] = []
        for m in _PRONOUN_I.finditer(text):
            if free(m.start(), m.end()):
                replacements.append((m.start(), m.end(), "I", "pronoun-i"))
        for m in self._proper_re.finditer(text):
            if free(m.start(), m.end()):
                replacements.append((m.start(), m.end(), self.proper[m.group()], "proper-noun"))
        if self.sentence_starts:
            for m in _SENTENCE_START.finditer(text):
                letter = m.start(3)
                before = _TOKEN_BEFORE.search(text, max(0, m.start(1) - 40), m.start(1) + 1)
                if before is None or self._is_abbreviation(before.group(1)):
                    continue
                if free(letter, letter + 1):
                    replacements.append((letter, letter + 1, text[letter].upper(), "sentence-start"))
        return apply_replacements(text, replacements)

    def clean(self, text: str) -> CleanResult:
        if not _CAPITALISED_START.search(text):
            return CleanResult(text, [])  # no sign that this text uses normal capitals at all
        return fixpoint(text, self._step)
