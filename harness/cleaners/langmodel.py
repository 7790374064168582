"""An offline English n-gram language model for the cleaners: "which reads better here?".

The ``spin`` and ``injected`` cleaners decide between two readings of the same
spot (the word that stands there or a thesaurus candidate; a sentence with or
without a suspect span) by how natural each is *in context*. Without a
masked language model, the signal is a trigram model of US English: the
CMU Sphinx generic ``en-us`` model (72,547 words, 2.05 million bigrams, 1.67
million trigrams; BSD-2 licence) that ships inside the ``pocketsphinx`` wheel
on PyPI. It is memory-mapped from a trie (about 0.1 s to open) and answers
a query in about a microsecond, so the cleaners can afford thousands of them
per passage.

Readings are compared with SLOR (the syntactic log-odds ratio): for each
token, its log probability in context minus its unigram log probability.
Raw probabilities favour frequent words and short texts, so a swap to a more
common word or the deletion of any words would always "win"; SLOR asks only
how much better each word fits *this* context than it does on average.

Tokens are lower-cased words; a token the model does not know contributes
nothing and cuts the history (the next word is scored as if a sentence
started there). When ``pocketsphinx`` is not installed, :func:`get_model`
returns ``None`` and the cleaners skip every step that needs the model.
"""

from __future__ import annotations

import math
import os
import threading
from functools import lru_cache
from typing import Sequence

#: The model's log unit: log base 1.0001 (sphinxbase's LogMath default).
_LOG_UNIT = math.log(1.0001)
_LOG_ZERO = -500_000_000
BOS = "<s>"
EOS = "</s>"
_lock = threading.Lock()


class NgramModel:
    """Trigram log probabilities (natural log) from a Sphinx trie model."""

    def __init__(self, path: str):
        from pocketsphinx import NGramModel

        self.path = path
        self._model = NGramModel.readfile(path)
        self._prob = self._model.prob
        self._cache: dict[tuple[str, ...], float | None] = {}

    def known(self, word: str) -> bool:
        return self.unigram(word) is not None

    def unigram(self, word: str) -> float | None:
        """log P(word), or None for a word the model does not know."""
        return self._query((word,))

    def logprob(self, word: str, history: Sequence[str] = ()) -> float | None:
        """log P(word | history), history most recent *last* (at most two words used)."""
        return self._query((word, *reversed(tuple(history)[-2:])))

    def _query(self, key: tuple[str, ...]) -> float | None:
        cached = self._cache.get(key, 0.0)
        if cached != 0.0:
            return cached
        value = self._prob(list(key))
        result = None if value <= _LOG_ZERO else value * _LOG_UNIT
        if len(self._cache) > 500_000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def slor(self, tokens: Sequence[str], start: int, end: int) -> float:
        """Sum of SLOR terms of ``tokens[start:end]``, each scored with up to
        two known words before it (unknown words cut the history)."""
        total = 0.0
        for k in range(max(start, 0), min(end, len(tokens))):
            word = tokens[k]
            if word == BOS:
                continue
            uni = self.unigram(word) if word != EOS else 0.0
            if uni is None:
                continue
            history: list[str] = []
            for j in (k - 1, k - 2):
                if j < 0 or tokens[j] == "" or (tokens[j] != BOS and not self.known(tokens[j])):
                    break
                history.insert(0, tokens[j])
                if tokens[j] == BOS:
                    break
            lp = self.logprob(word, history)
            if lp is None:
                continue
            total += lp - uni
        return total

    def compare(self, tokens: Sequence[str], start: int, end: int, replacement: Sequence[str]) -> float:
        """How much better (SLOR, natural log) ``tokens`` reads with
        ``tokens[start:end]`` replaced by ``replacement``.

        Only the *seams* are scored, in both readings: the first word of the
        span given the words before it, and the two words after the span given
        the span. The words inside a span are left out: that "armed forces" or
        "and you may" hang together says nothing about whether they fit here.
        """
        new = list(tokens[:start]) + list(replacement) + list(tokens[end:])
        n = len(replacement)
        before = self.slor(tokens, start, start + 1) if end > start else 0.0
        before += self.slor(tokens, end, end + 2)
        after = self.slor(new, start, start + 1) if n else 0.0
        after += self.slor(new, start + n, start + n + 2)
        return after - before


def _model_path() -> str | None:
    override = os.environ.get("HARNESS_CLEANER_LM")
    if override:
        return override
    try:
        from pocketsphinx import get_model_path
    except ImportError:
        return None
    path = get_model_path("en-us/en-us.lm.bin")
    return path if os.path.exists(path) else None


@lru_cache(maxsize=1)
def _load() -> NgramModel | None:
    path = _model_path()
    if path is None:
        return None
    try:
        import pocketsphinx

        if hasattr(pocketsphinx, "set_loglevel"):
            pocketsphinx.set_loglevel("FATAL")
        return NgramModel(path)
    except Exception:  # a broken install: the cleaners work without the model
        return None


def get_model() -> NgramModel | None:
    """The process-wide model (loaded once, lazily), or None when unavailable."""
    with _lock:
        return _load()


def model_id() -> str:
    """What enters the cleaners' versions: which model (or none) they use."""
    model = get_model()
    if model is None:
        return "nolm"
    try:
        from importlib.metadata import version

        return "ps" + version("pocketsphinx")
    except Exception:  # pragma: no cover
        return "ps"
