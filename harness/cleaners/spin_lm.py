"""Spin reversal beyond the lexicon: thesaurus candidates judged by a language model.

The lexicon knows the swaps it was written from. Another run of the spinner
picks other synonyms for the same words, so the ``spin`` cleaner also tries,
at every word of a passage that shows spinning, the words the spinner could
have been given (:mod:`.thesaurus`: spinner-style table entries and WordNet
synonyms), and keeps a candidate only where the language model
(:mod:`.langmodel`) finds it clearly more natural in that context than what
stands there: its SLOR gain over the changed words and the two after them
must reach a margin (natural log; a margin of 4 asks for the candidate to be
about 55 times more likely in context, relative to how common each word is).

A WordNet candidate is judged on two more signals, measured on development
copies spun by a context-blind WordNet spinner (``python bench/dev_spin.py
--signals``): *frequency* (writers use common words, a spinner picks any
entry: the candidate's wordfreq Zipf gain over the word adds, weighted, to
the model's gain) and *distinctiveness* (the best candidate must beat the
next one clearly: where two synonyms fit equally well, the model cannot tell
which one was there). Together they raised the restorations kept on that set
from 131 (3 edits of unspun words, 3 wrong synonyms) to 175 (none of either).

What it never touches: capitalised words inside a sentence (names), words
in quotes, words next to digits, and words the model does not know.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .langmodel import BOS, EOS, NgramModel
from .thesaurus import candidates, english_zipf, spinner_table

_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")
_SENTENCE_END = re.compile(r"[.!?;:\n]|\s[-\u2013\u2014]\s|[()\[\]\"\u201c\u201d]")
#: Words the thesaurus never replaces: function words are the table's job,
#: and their WordNet "synonyms" ("a" -> "angstrom") are noise.
_FUNCTION_WORDS = frozenset(
    """a an the and or but if of to in on at by for from with into onto over under about as than then
    that this these those there here what which who whom whose when where why how is are was were be been
    being am do does did done have has had having will would shall should can could may might must not no
    nor so too very just also only even still yet i me my mine we us our ours you your yours he him his she
    her hers it its they them their theirs one ones all any some each every both either neither such own
    same other another more most less least much many few up down out off again once""".split()
)
_QUOTES = "\"\u201c\u201d"
_NEGATIONS = frozenset({"not", "no", "never", "nor", "neither", "nothing", "none", "nobody", "nowhere"})
#: A WordNet candidate may be rarer than the word it replaces by at most this
#: much (natural log of unigram probability): a spinner is given common words
#: far more often than rare ones.
_WORDNET_MAX_RARER = 1.0


def _negations(words: list[str]) -> int:
    return sum(w in _NEGATIONS or w.endswith("n't") for w in words)


@dataclass(frozen=True)
class Proposal:
    start: int  # character span in the text
    end: int
    before: str
    after: str
    gain: float
    source: str  # "table" | "wordnet"
    fit: float = 0.0  # SLOR of what stands there, at its seams


@dataclass
class _Token:
    start: int
    end: int
    text: str
    lower: str


def _sentences(text: str) -> list[list[_Token]]:
    """Runs of words between sentence punctuation; a comma keeps the run going
    (the model was trained on text without punctuation)."""
    runs: list[list[_Token]] = [[]]
    cursor = 0
    for match in _WORD.finditer(text):
        if _SENTENCE_END.search(text, cursor, match.start()) and runs[-1]:
            runs.append([])
        runs[-1].append(_Token(match.start(), match.end(), match.group(),
                               match.group().lower().replace("\u2019", "'")))
        cursor = match.end()
    return [run for run in runs if run]


class _QuoteParity:
    """Whether a position of ``text`` is inside double quotes on its line: an
    odd number of quote marks between the line's start and the position.
    The quote marks and line breaks are found once for the whole text, so
    each question is two bisections: scanning back to the line start for
    every word was quadratic on a long line."""

    def __init__(self, text: str):
        self._quotes = [i for i, char in enumerate(text) if char in _QUOTES]
        self._breaks = [m.start() for m in re.finditer("\n", text)]

    def inside(self, position: int) -> bool:
        k = bisect.bisect_left(self._breaks, position)
        line_start = self._breaks[k - 1] + 1 if k else 0
        count = bisect.bisect_left(self._quotes, position) - bisect.bisect_left(self._quotes, line_start)
        return count % 2 == 1


def _protected(text: str, token: _Token, first: bool, quotes: _QuoteParity | None = None) -> bool:
    """Names, words in quotes and words next to digits stay as they are."""
    if token.text[:1].isupper() and not first:
        return True
    if token.text.isupper() and len(token.text) > 1:
        return True
    before = text[max(0, token.start - 2):token.start]
    after = text[token.end:token.end + 2]
    if any(c.isdigit() for c in before + after):
        return True
    return (quotes or _QuoteParity(text)).inside(token.start)


def _after_comma(text: str, position: int) -> bool:
    """Whether the last non-space character before ``position`` is a comma
    (``text[:position].rstrip().endswith(",")`` without copying the prefix)."""
    i = position - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i >= 0 and text[i] == ","


def _joined_by_spaces(text: str, tokens: list[_Token], i: int, j: int) -> bool:
    return all(text[tokens[k].end:tokens[k + 1].start] == " " for k in range(i, j - 1))


def propose(text: str, model: NgramModel, table_margin: float, wordnet_margin: float,
            use_wordnet: bool = True, wordnet_max_fit: float = 0.0,
            padding_margin: float | None = None, wordnet_zipf_weight: float = 0.0,
            wordnet_second: float = float("-inf"), use_table: bool = True) -> list[Proposal]:
    """Every replacement whose gain reaches its margin (overlapping ones included).

    A WordNet candidate also needs the word that stands there to fit its
    context badly (SLOR at its seams below ``wordnet_max_fit``): a synonym the
    model merely prefers is no evidence of spinning, a word that does not fit
    and has a synonym that does is. Its score is the model's gain plus
    ``wordnet_zipf_weight`` times its Zipf frequency gain over the word, and
    the model's gain must beat the next candidate's by ``wordnet_second``
    (defaults: neither, as before; the cleaner passes 2 and 2).

    A table form that only pads its original ("and additionally" for "and",
    "in order to" for "to": every word of the original is in it) needs
    ``padding_margin`` instead of ``table_margin`` (default: the same). In a
    passage that shows spinning such a form is a priori spun, and the model
    only vetoes the repair where it clearly prefers the padded reading."""
    if padding_margin is None:
        padding_margin = table_margin
    table = spinner_table() if use_table else {}
    longest = max((len(k.split()) for k in table), default=1)
    quotes = _QuoteParity(text)
    proposals: list[Proposal] = []
    for run in _sentences(text):
        words = [BOS] + [t.lower for t in run] + [EOS]
        for i, token in enumerate(run):
            first = i == 0
            # spinner-table forms of 1..longest words starting here
            for n in range(min(longest, len(run) - i), 0, -1):
                key = " ".join(t.lower for t in run[i:i + n])
                originals = table.get(key)
                if not originals or not _joined_by_spaces(text, run, i, i + n):
                    continue
                if any(_protected(text, t, first and k == 0, quotes) for k, t in enumerate(run[i:i + n])):
                    continue
                span_words = key.split()
                if n == 1 and (text[run[i].end:run[i].end + 1] == "," or _after_comma(text, run[i].start)):
                    continue  # a word set off by commas is an adverb used for real ("We will, however, ...")
                options = [o for o in originals if _negations(o.split()) == _negations(span_words)]
                if not options:
                    continue
                best = max(((model.compare(words, i + 1, i + 1 + n, o.split()), o) for o in options))
                pads = set(best[1].split()) <= set(span_words)
                if best[0] >= (padding_margin if pads else table_margin):
                    span = run[i:i + n]
                    proposals.append(Proposal(span[0].start, span[-1].end, text[span[0].start:span[-1].end],
                                              _carry_case(span[0].text, best[1]), best[0], "table:" + key))
            if not use_wordnet or token.lower in _FUNCTION_WORDS or len(token.lower) < 3:
                continue
            if not token.text.isalpha() or _protected(text, token, first, quotes) or not model.known(token.lower):
                continue
            floor = model.unigram(token.lower) - _WORDNET_MAX_RARER
            options = {o for o in candidates(token.lower, model.known)
                       if " " not in o and o not in _FUNCTION_WORDS and model.unigram(o) >= floor}
            if not options:
                continue
            ranked = sorted(((model.compare(words, i + 1, i + 2, o.split()), o) for o in options), reverse=True)
            best = ranked[0]
            # distinctiveness: the best candidate must clearly beat the next one
            if len(ranked) > 1 and best[0] - ranked[1][0] < wordnet_second:
                continue
            # frequency: writers use common words, a context-blind spinner picks
            # entries of any frequency (the candidate's Zipf gain is worth
            # ``wordnet_zipf_weight`` nats of the model's gain)
            score = best[0]
            if wordnet_zipf_weight:
                score += wordnet_zipf_weight * (english_zipf(best[1]) - english_zipf(token.lower))
            if score >= wordnet_margin:
                fit = model.slor(words, i + 1, i + 2) + model.slor(words, i + 2, i + 4)
                if fit >= wordnet_max_fit:
                    continue
                proposals.append(Proposal(token.start, token.end, token.text, _carry_case(token.text, best[1]),
                                          score, "wordnet", fit))
    return proposals


def choose(proposals: list[Proposal]) -> list[Proposal]:
    """Non-overlapping proposals, the strongest first."""
    chosen: list[Proposal] = []
    for proposal in sorted(proposals, key=lambda p: -p.gain):
        if all(proposal.end <= c.start or proposal.start >= c.end for c in chosen):
            chosen.append(proposal)
    return sorted(chosen, key=lambda p: p.start)


def _carry_case(old: str, new: str) -> str:
    if old[:1].isupper() and new[:1].islower():
        return new[0].upper() + new[1:]
    return new
