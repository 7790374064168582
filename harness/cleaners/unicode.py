"""``unicode``: mojibake and encoding repair, then quotes, dashes and invisible characters.

Steps, in order (each edit names the step that made it):

``ftfy:<fixes>``
    ftfy's own repairs (mojibake in whole runs of text, HTML entities, C1
    controls, ligatures, full-width Latin, NFC). Its quote un-curling and
    line-break handling are switched off: the ``quotes`` step and the
    ``whitespace`` cleaner own those, so each edit has one clear rule.
``redecode:<codepage>``
    What ftfy leaves: one word of UTF-8 text decoded with a single-byte code
    page inside otherwise good text (``kadД±nlar`` -> ``kadınlar``: the UTF-8
    bytes of ``ı`` read as Windows-1251). A word is a candidate only when it
    mixes scripts or has symbols between its letters; each run of non-ASCII
    characters is re-encoded under each candidate code page and decoded as
    UTF-8, and the result is kept only when it is *clearly* more plausible:
    every re-decoded piece is a letter or common punctuation, and the word's
    script changes (Latin -> Cyrillic -> symbol ...) strictly decrease, down to
    a word written in one script.
``quotes`` / ``dashes`` / ``invisible`` / ``spaces``
    Typographic quotes and apostrophes to ASCII; the hyphen look-alikes
    (U+2010, U+2011, U+2212 between digits) to ``-`` while real en and em
    dashes stay; zero-width and bidi controls removed where they cannot carry
    meaning; exotic spaces to a plain space.

Lone surrogates (text that was never valid Unicode) are left where they are.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

from .base import CleanResult, Edit, apply_replacements
from .spans import diff_edits, fixpoint, run_steps

# Single-byte code pages that UTF-8 text is most often mis-decoded with, in the
# order ties are broken (the most common first).
CANDIDATE_CODEPAGES = ("cp1252", "cp1251", "cp1250", "cp1254", "cp1253", "cp1257", "latin-1", "mac_roman", "cp437")

_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, fix_line_breaks=False, fix_surrogates=False, explain=True)

_SURROGATE = re.compile("[\ud800-\udfff]+")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_WORD = re.compile(r"\S+")

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f"
# An acute accent or backtick used as an apostrophe, between two letters.
_FAKE_APOSTROPHE = re.compile(r"(?<=[^\W\d_])[\u00b4`](?=[^\W\d_])")
_HYPHENS = re.compile("[\u2010\u2011]")
_MINUS_BETWEEN_DIGITS = re.compile(r"(?<=\d)\u2212(?=\d)")
_HORIZONTAL_BAR = "\u2015"
# Zero-width space, word joiner, BOM, soft hyphen, LRM/RLM: never meaningful
# in English prose. ZWJ/ZWNJ only between two ASCII letters (elsewhere they
# build emoji and Indic/Persian words).
_ALWAYS_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad]")
_ZW_JOINERS_IN_LATIN = re.compile(r"(?<=[A-Za-z])[\u200c\u200d]+(?=[A-Za-z])")
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_RTL_LETTERS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_EXOTIC_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f]")


def _script(char: str) -> str:
    """A coarse script class: LATIN, CYRILLIC, GREEK, ... for letters; SYMBOL;
    NEUTRAL for digits, marks and ASCII punctuation (they fit any script)."""
    category = unicodedata.category(char)
    if category.startswith("L"):
        name = unicodedata.name(char, "")
        return name.split(" ", 1)[0] if name else "OTHER"
    if category.startswith("M") or category.startswith("N") or char.isascii():
        return "NEUTRAL"
    return "SYMBOL"


def script_changes(word: str) -> int:
    """How often the script changes along ``word`` (neutral characters skipped)."""
    scripts = [s for s in map(_script, word) if s != "NEUTRAL"]
    return sum(1 for a, b in zip(scripts, scripts[1:]) if a != b)


def _plausible_piece(text: str) -> bool:
    return all(unicodedata.category(c)[0] in "LMN" or c in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026" for c in text)


def _redecode_run(run: str, codepage: str) -> str | None:
    """Greedily turn 2-4 character pieces of ``run`` that are the UTF-8 bytes of
    one character under ``codepage`` back into that character."""
    out: list[str] = []
    i = 0
    changed = False
    while i < len(run):
        for length in (4, 3, 2):
            piece = run[i:i + length]
            if len(piece) < length:
                continue
            try:
                raw = piece.encode(codepage)
                char = raw.decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if len(char) == 1 and _plausible_piece(char):
                out.append(char)
                i += length
                changed = True
                break
        else:
            out.append(run[i])
            i += 1
    return "".join(out) if changed else None


def redecode_word(word: str) -> tuple[str, str] | None:
    """``(fixed word, codepage)`` when re-decoding makes ``word`` clearly more plausible."""
    before = script_changes(word)
    if before == 0:
        return None
    best: tuple[int, str, str] | None = None
    for codepage in CANDIDATE_CODEPAGES:
        pieces: list[str] = []
        cursor = 0
        changed = False
        for match in _NON_ASCII_RUN.finditer(word):
            fixed = _redecode_run(match.group(), codepage)
            pieces.append(word[cursor:match.start()])
            pieces.append(fixed if fixed is not None else match.group())
            changed = changed or fixed is not None
            cursor = match.end()
        if not changed:
            continue
        pieces.append(word[cursor:])
        candidate = "".join(pieces)
        after = script_changes(candidate)
        if after == 0 and (best is None or after < best[0]):
            best = (after, candidate, codepage)
    return (best[1], best[2]) if best else None


def _ftfy_step(text: str) -> CleanResult:
    edits: list[Edit] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        explained = ftfy.fix_and_explain(line, config=_FTFY_CONFIG)
        if explained.text != line:
            fixes = sorted({name for _, name in explained.explanation or []}) or ["fix_text"]
            for edit in diff_edits(line, explained.text, "ftfy:" + ",".join(fixes)):
                edits.append(Edit(edit.start + offset, edit.end + offset, edit.before, edit.after, edit.rule))
        offset += len(line)
    return apply_replacements(text, [(e.start, e.end, e.after, e.rule) for e in edits])


def _redecode_step(text: str) -> CleanResult:
    replacements = []
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isascii():
            continue
        fixed = redecode_word(word)
        if fixed is not None:
            replacements.append((match.start(), match.end(), fixed[0], f"redecode:{fixed[1]}"))
    return apply_replacements(text, replacements)


def _typography_step(text: str, dashes: bool) -> CleanResult:
    replacements: list[tuple[int, int, str, str]] = []
    for i, char in enumerate(text):
        if char in _SINGLE_QUOTES:
            replacements.append((i, i + 1, "'", "quotes"))
        elif char in _DOUBLE_QUOTES:
            replacements.append((i, i + 1, '"', "quotes"))
    replacements += [(m.start(), m.end(), "'", "quotes") for m in _FAKE_APOSTROPHE.finditer(text)]
    if dashes:
        replacements += [(m.start(), m.end(), "-", "dashes") for m in _HYPHENS.finditer(text)]
        replacements += [(m.start(), m.end(), "-", "dashes") for m in _MINUS_BETWEEN_DIGITS.finditer(text)]
        replacements += [(i, i + 1, "\u2014", "dashes") for i, c in enumerate(text) if c == _HORIZONTAL_BAR]
    replacements += [(m.start(), m.end(), "", "invisible") for m in _ALWAYS_INVISIBLE.finditer(text)]
    replacements += [(m.start(), m.end(), "", "invisible") for m in _ZW_JOINERS_IN_LATIN.finditer(text)]
    if not _RTL_LETTERS.search(text):
        replacements += [(m.start(), m.end(), "", "invisible") for m in _BIDI_CONTROLS.finditer(text)]
    replacements += [(m.start(), m.end(), " ", "spaces") for m in _EXOTIC_SPACES.finditer(text)]
    return apply_replacements(text, replacements)


class UnicodeCleaner:
    """Repair mojibake (ftfy, then per-word code-page re-decoding) and normalise typography."""

    name = "unicode"
    version = "1.0"

    def __init__(self, dashes: bool = True, redecode: bool = True):
        self.dashes = dashes
        self.redecode = redecode

    def _clean_segment(self, text: str) -> CleanResult:
        steps = [_ftfy_step]
        if self.redecode:
            steps.append(_redecode_step)
        steps.append(lambda t: _typography_step(t, self.dashes))
        return fixpoint(text, lambda t: run_steps(t, steps))

    def clean(self, text: str) -> CleanResult:
        # Lone surrogates cannot be encoded, so the text around them is cleaned
        # piece by piece and the surrogates are left in place.
        edits: list[Edit] = []
        pieces: list[str] = []
        cursor = 0
        bounds = [(m.start(), m.end()) for m in _SURROGATE.finditer(text)] + [(len(text), len(text))]
        for start, end in bounds:
            segment = self._clean_segment(text[cursor:start])
            pieces.append(segment.text)
            edits += [Edit(e.start + cursor, e.end + cursor, e.before, e.after, e.rule) for e in segment.edits]
            pieces.append(text[start:end])
            cursor = end
        return CleanResult("".join(pieces), edits)
