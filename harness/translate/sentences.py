"""Sentence splitting that keeps the text's own spacing.

Machine translation models are trained on sentences: given a whole passage
the bundled en->pt model returns a text about a third shorter, silently
dropping content. So passages are translated sentence by sentence and
rejoined with the whitespace that separated the sentences in the source.

The splitter is pysbd (rule-based, the Golden Rules set: keeps "U.S.",
"p.m.", "$44.5 billion" and "e.g." inside their sentence), with one repair
on top: a piece that starts with a lowercase letter is not a new sentence
("... over $44 billion You.S. regarding defense ..." in spun text), so it is
joined back to the one before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pysbd

# Part of every round-trip fingerprint: a change in how text is cut into
# sentences changes what the engine sees, so cached results must not be reused.
SPLITTER_VERSION = f"pysbd-{pysbd.__version__}/lowercase-join-1"

# pysbd has no rules for these languages; the closest rule set it has.
_FALLBACK_RULES = {"pt": "es", "gl": "es", "ca": "es", "ro": "it", "uk": "ru", "be": "ru"}


@dataclass(frozen=True)
class Segment:
    """One sentence and the text that separated it from the previous one."""

    text: str
    """The sentence without surrounding whitespace (what is translated)."""
    before: str
    """Whitespace before the sentence (for the first one: the text's leading whitespace)."""


@dataclass(frozen=True)
class SplitText:
    segments: list[Segment]
    trailing: str
    """Whitespace after the last sentence."""

    def join(self, sentences: list[str]) -> str:
        """Rejoin ``sentences`` (one per segment) with the original spacing."""
        if len(sentences) != len(self.segments):
            raise ValueError(f"expected {len(self.segments)} sentences, got {len(sentences)}")
        return "".join(seg.before + s for seg, s in zip(self.segments, sentences)) + self.trailing


@lru_cache(maxsize=None)
def _segmenter(lang: str) -> pysbd.Segmenter:
    rules = lang if lang in pysbd.languages.LANGUAGE_CODES else _FALLBACK_RULES.get(lang, "en")
    return pysbd.Segmenter(language=rules, clean=False)


def segment_text(text: str, lang: str) -> SplitText:
    """Cut ``text`` into sentences, recording the whitespace between them.

    ``SplitText.join`` with the unchanged sentences gives back ``text``
    exactly. A text with no non-whitespace content has no segments.
    """
    if not text.strip():
        return SplitText([], text)
    pieces = [p.strip() for p in _segmenter(lang).segment(text)]
    segments: list[Segment] = []
    cursor = 0
    for piece in pieces:
        if not piece:
            continue
        start = text.find(piece, cursor)
        if start < 0 or text[cursor:start].strip():
            # pysbd changed or skipped text (it should not with clean=False):
            # keep everything that is left as one sentence rather than lose it.
            break
        before = text[cursor:start]
        if segments and piece[0].islower() and "\n" not in before:
            previous = segments.pop()
            piece = previous.text + before + piece
            before = previous.before
            start = cursor - len(previous.text)
        segments.append(Segment(piece, before))
        cursor = start + len(piece)
    rest = text[cursor:]
    if rest.strip():
        core = rest.strip()
        lead = rest[: len(rest) - len(rest.lstrip())]
        segments.append(Segment(core, lead))
        cursor += len(lead) + len(core)
    return SplitText(segments, text[cursor:])


def split_sentences(text: str, lang: str) -> list[str]:
    """Sentences of ``text``, each with the whitespace that follows it.

    ``"".join(split_sentences(text, lang)) == text`` always holds; the first
    piece also carries the text's leading whitespace.
    """
    split = segment_text(text, lang)
    if not split.segments:
        return [text] if text else []
    pieces = [seg.text for seg in split.segments]
    # Attach each gap to the sentence before it (the first gap to the first one).
    out = [split.segments[0].before + pieces[0]]
    for seg, sentence in zip(split.segments[1:], pieces[1:]):
        out[-1] += seg.before
        out.append(sentence)
    out[-1] += split.trailing
    return out
