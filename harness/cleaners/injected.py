"""``injected``: remove spam dropped into the text.

Two kinds of injection, each removed only on strong evidence:

``foreign-span:<lang>``
    A run of words in another language inside an English sentence (SEO link
    text such as ``Rusya kadınlar``). Candidates are runs of words that are
    rare in English (wordfreq Zipf frequency below ``max_english_zipf``). A run
    is removed only when *all* of these hold:

    * the passage as a whole is identified as English;
    * the run sits inside a sentence (words before and after it) and is less
      than half the passage;
    * py3langid (its model ships inside the package) gives it a non-English
      language with probability >= ``min_confidence``, and wordfreq confirms
      every word is common in that language (Zipf >= ``min_foreign_zipf``) and
      clearly more common there than in English;
    * it is not name-like (every word capitalised: "Volodymyr Zelenskyy",
      "Bundestag"), not quoted or in parentheses ('Zeitenwende'), and not
      announced by a cue word ("the German word ...", "so-called ...").

``offtopic:<group>``
    An English keyword string from ``harness/data/cleaner_injected.yaml``
    ("payday loans") inside a sentence of a passage in which no other word
    belongs to that topic.

What is left after a removal is spaced normally (one space goes with the span).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .base import CleanResult, apply_replacements
from .lexicon import data_path, read_data
from .spans import fixpoint
from ..errors import ConfigError

CODE_VERSION = "1.0"

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_GAP_INSIDE_RUN = re.compile(r"[ \t]+|[ \t]*-[ \t]*")
_SENTENCE_BREAK = re.compile(r"[.!?;:\n]")
_OPENERS = "\"'\u201c\u2018\u00ab\u201e*_(["
_CLOSERS = "\"'\u201d\u2019\u00bb*_)]"


@lru_cache(maxsize=1)
def _language_identifier():
    """py3langid's bundled model, loaded once (about a second)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _wordfreq_languages() -> frozenset[str]:
    import wordfreq

    return frozenset(wordfreq.available_languages())


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str) -> float:
    """wordfreq's Zipf frequency of ``word`` in ``lang`` (0 when unknown or unsupported)."""
    import wordfreq

    if lang not in _wordfreq_languages():
        return 0.0
    try:
        return float(wordfreq.zipf_frequency(word, lang))
    except Exception:  # some languages need optional tokenisers (jieba, mecab): no evidence
        return 0.0


def identify(text: str) -> tuple[str, float]:
    """``(language, probability)`` from py3langid."""
    lang, prob = _language_identifier().classify(text)
    return str(lang), float(prob)


class InjectedCleaner:
    """Remove injected foreign-language spans and off-topic keyword strings."""

    name = "injected"

    def __init__(
        self,
        min_confidence: float = 0.75,
        max_english_zipf: float = 2.0,
        min_foreign_zipf: float = 2.5,
        offtopic: bool = True,
        data: str | Path | None = None,
    ):
        path = Path(data) if data is not None else data_path("cleaner_injected.yaml")
        raw, sha = read_data(path)
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the injected-spam data is a mapping")
        self.min_confidence = float(min_confidence)
        self.max_english_zipf = float(max_english_zipf)
        self.min_foreign_zipf = float(min_foreign_zipf)
        self.offtopic = bool(offtopic)
        self.cue_words = frozenset(str(w).lower() for w in raw.get("cue_words") or ())
        self.groups: dict[str, tuple[re.Pattern, frozenset[str]]] = {}
        for group, spec in (raw.get("offtopic_groups") or {}).items():
            phrases = sorted((str(p) for p in spec.get("phrases") or ()), key=len, reverse=True)
            if not phrases:
                continue
            pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(p) for p in phrases) + r")(?![\w-])",
                                 re.IGNORECASE)
            self.groups[str(group)] = (pattern, frozenset(str(w).lower() for w in spec.get("topic") or ()))
        settings = (self.min_confidence, self.max_english_zipf, self.min_foreign_zipf, self.offtopic)
        default = (0.75, 2.0, 2.5, True)
        self.version = f"{CODE_VERSION}+{sha[:10]}" + ("" if settings == default else "-" + "-".join(map(str, settings)))

    # -- helpers -----------------------------------------------------------------
    @staticmethod
    def _inside_sentence(text: str, start: int, end: int) -> bool:
        """Words on both sides of ``[start, end)`` within the same sentence."""
        left = _SENTENCE_BREAK.split(text[max(0, start - 200):start])[-1]
        right = _SENTENCE_BREAK.split(text[end:end + 200])[0]
        return bool(_WORD.search(left)) and bool(_WORD.search(right))

    @staticmethod
    def _quoted(text: str, start: int, end: int) -> bool:
        before = text[:start].rstrip()
        after = text[end:].lstrip()
        if before[-1:] and before[-1] in _OPENERS and after[:1] and after[0] in _CLOSERS:
            return True
        sentence_start = max(before.rfind(". "), before.rfind("\n"))
        return before[sentence_start + 1:].count('"') % 2 == 1

    def _cued(self, text: str, start: int) -> bool:
        previous = [w.lower() for w in _WORD.findall(text[max(0, start - 60):start])][-3:]
        return any(w in self.cue_words for w in previous)

    @staticmethod
    def _removal(text: str, start: int, end: int) -> tuple[int, int]:
        """The span to delete: the words plus one neighbouring space."""
        if start > 0 and text[start - 1] == " ":
            return start - 1, end
        if end < len(text) and text[end] == " ":
            return start, end + 1
        return start, end

    # -- the two detectors ---------------------------------------------------------
    def _candidate_runs(self, text: str, words: list[re.Match]) -> list[list[re.Match]]:
        runs: list[list[re.Match]] = []
        current: list[re.Match] = []
        for word in words:
            rare = len(word.group()) >= 2 and zipf(word.group().lower(), "en") < self.max_english_zipf
            if rare and current and _GAP_INSIDE_RUN.fullmatch(text[current[-1].end():word.start()]):
                current.append(word)
                continue
            if current:
                runs.append(current)
            current = [word] if rare else []
        if current:
            runs.append(current)
        return runs

    def _foreign_spans(self, text: str) -> list[tuple[int, int, str, str]]:
        words = list(_WORD.finditer(text))
        if len(words) < 4:
            return []
        runs = self._candidate_runs(text, words)
        if not runs:
            return []
        host, _ = identify(text)
        if host != "en":
            return []
        removals: list[tuple[int, int, str, str]] = []
        for run in runs:
            start, end = run[0].start(), run[-1].end()
            tokens = [w.group() for w in run]
            if 2 * len(tokens) >= len(words):
                continue
            if all(t[:1].isupper() for t in tokens):
                continue  # names, places, titles
            if not self._inside_sentence(text, start, end) or self._quoted(text, start, end) or self._cued(text, start):
                continue
            lang, prob = identify(text[start:end])
            if lang == "en" or prob < self.min_confidence:
                continue
            if not all(
                zipf(t.lower(), lang) >= self.min_foreign_zipf and zipf(t.lower(), lang) >= zipf(t.lower(), "en") + 1.0
                for t in tokens
            ):
                continue
            cut_start, cut_end = self._removal(text, start, end)
            removals.append((cut_start, cut_end, "", f"foreign-span:{lang}"))
        return removals

    def _offtopic_spans(self, text: str) -> list[tuple[int, int, str, str]]:
        removals: list[tuple[int, int, str, str]] = []
        for group, (pattern, topic) in self.groups.items():
            for match in pattern.finditer(text):
                start, end = match.span()
                rest = text[:start] + " " + text[end:]
                if {w.lower() for w in _WORD.findall(rest)} & topic:
                    continue
                if not self._inside_sentence(text, start, end) or self._quoted(text, start, end):
                    continue
                cut_start, cut_end = self._removal(text, start, end)
                removals.append((cut_start, cut_end, "", f"offtopic:{group}"))
        return removals

    def _step(self, text: str) -> CleanResult:
        removals = self._foreign_spans(text)
        if self.offtopic:
            removals += self._offtopic_spans(text)
        return apply_replacements(text, removals)

    def clean(self, text: str) -> CleanResult:
        return fixpoint(text, self._step)
