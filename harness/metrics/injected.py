"""Injected content: the share of a passage that does not belong in it.

Spun web text often carries material that was never part of the original:
SEO keywords in another language ("Rusya kadınlar"), mojibake, or English
spam phrases. A token is *injected* when it is

1. **foreign script**: it has a letter of a non-Latin script (Cyrillic,
   Greek, Arabic, CJK, ...);
2. **mojibake**: it is UTF-8 text decoded with a legacy code page
   ("kadД±nlar" is "kadınlar" read as cp1251); the repaired form is reported;
3. **foreign letters**: it has a Latin letter English never uses (ı, ş, ğ,
   ł, ã, õ, ...);
4. **other language**: a neighbour of 1-3 that py3langid finds likelier in
   the neighbour's language than in English and that is in no reference
   ("Rusya" next to "kadınlar"), or a whole sentence py3langid assigns to
   another language with probability >= ``language_min_prob`` (its words
   that the references also use excepted);
5. **off topic** (needs the embedding model): a run of at least
   ``off_topic_min_run`` content words found in no reference whose removal
   raises the passage's best cosine with the references by at least
   ``off_topic_min_gain``, and which is itself dissimilar to the references
   (cosine < ``off_topic_max_cosine``), and which is not the sentence's own
   predicate (a verb in it whose subject or object lies outside it: "put pen
   to paper", said of the sentence's subject). Removing a spinner's synonym swap
   makes the passage *less* like the references; removing spam makes it more
   like them, which is what the test asks.

Score: injected tokens / tokens (0..1, lower is better); statistics
``[injected tokens, tokens]`` so the corpus share is a ratio of sums.
Each span is a finding (kind ``injected``) with its text and why it was flagged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .anchors import stopwords
from ..findings import Finding
from ..findings import Span as FoundSpan
from .base import Measurement, Metric

_FOREIGN_LATIN_LETTERS = set("ıİşŞğĞłŁőŐűŰřŘěĚąĄęĘćĆśŚźŹżŻãÃõÕđĐħĦŋŊþÞðÐßœŒ")
_LEGACY_CODECS = ("cp1251", "cp1252", "cp1250", "cp1254", "latin-1")
_EDGE_PUNCTUATION = "\"'“”‘’()[]{}.,;:!?…–—-*"
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Whitespace tokens with edge punctuation removed (inner symbols kept: mojibake has them)."""
    tokens = []
    for match in re.finditer(r"\S+", text):
        raw = match.group()
        left = len(raw) - len(raw.lstrip(_EDGE_PUNCTUATION))
        core = raw.strip(_EDGE_PUNCTUATION)
        if core and any(ch.isalnum() for ch in core):
            start = match.start() + left
            tokens.append(Token(core, start, start + len(core)))
    return tokens


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    for suffix in ("'s", "ies", "ing", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def reference_vocabulary(refs: Sequence[str]) -> set[str]:
    """Lower-cased words and crude stems of every reference."""
    vocab: set[str] = set()
    for ref in refs:
        for token in tokenize(ref):
            for part in re.split(r"[-'’]", token.text.lower()):
                vocab.update((part, _stem(part)))
            vocab.update((token.text.lower(), _stem(token.text)))
    return vocab


def in_references(token: str, vocab: set[str]) -> bool:
    lower = token.lower()
    return lower in vocab or _stem(lower) in vocab or all(
        p in vocab or _stem(p) in vocab for p in re.split(r"[-'’]", lower) if p
    )


def repair_mojibake(token: str) -> str | None:
    """The token's intended text if it is UTF-8 misread with a legacy code page, else None."""
    if token.isascii():
        return None
    for codec in _LEGACY_CODECS:
        try:
            repaired = token.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if repaired != token and all(ch.isalpha() or ch in "'-’" for ch in repaired):
            return repaired
    return None


def foreign_script(token: str) -> bool:
    """A letter of a non-Latin script."""
    return any(ch.isalpha() and not unicodedata.name(ch, "LATIN").startswith("LATIN") for ch in token)


@lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_of(text: str) -> tuple[str, float]:
    """(language code, probability) by py3langid."""
    lang, prob = _language_identifier().classify(text)
    return str(lang), float(prob)


def language_probabilities(text: str) -> dict[str, float]:
    return {str(lang): float(p) for lang, p in _language_identifier().rank(text)}


@dataclass
class Span:
    start: int
    end: int
    text: str
    why: str
    tokens: int

    def finding(self, text: str) -> Finding:
        """This span as a finding: content the text has and no reference does."""
        return Finding("injected", "added", "major", " ".join(self.text.split()), f"injected: '{self.text}' ({self.why})",
                       "injected", stage_span=FoundSpan(self.start, self.end, text[self.start:self.end]))


def carries_the_clause(text: str, span: "Span") -> bool:
    """The span holds a verb whose subject or object stands outside it ("Oduya ...
    put pen to paper on a contract", "the minister has left the door open"): it is
    the sentence's own predicate in other words, not something inserted into it.
    An inserted clause brings its own subject ("as everyone knows")."""
    doc = _parse(text)
    inside = {t.i for t in doc if span.start <= t.idx < span.end}
    for i in inside:
        verb = doc[i]
        if verb.pos_ not in ("VERB", "AUX"):
            continue
        for child in verb.children:
            if child.dep_ in ("nsubj", "nsubjpass", "dobj") and child.i not in inside:
                return True
    return False


@lru_cache(maxsize=256)
def _parse(text: str):
    from ..nlp import fix_lemmas, pipeline

    return fix_lemmas(pipeline()(text))


class Injected(Metric):
    """Share of a passage's tokens that were injected: other languages, mojibake, off-topic spam (0..1, lower is better)."""

    name = "injected"
    version = "2"
    higher_is_better = False
    range = (0.0, 1.0)
    margin = 0.01
    order = 70

    def __init__(self, options=None, embedder_factory=None):
        from .config import InjectedOptions

        self.options = options or InjectedOptions()
        self._embedder_factory = embedder_factory
        self._embedder = None

    @classmethod
    def from_config(cls, config) -> "Injected":
        return cls(config.injected)

    @property
    def requires(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("embedder",) if self.options.off_topic else ()

    def bind(self, resources) -> None:
        if self.options.off_topic:
            self._embedder = resources.get("embedder")

    @property
    def embedder(self):
        if self._embedder is None:
            from .embedding import load_embedder

            self._embedder = (self._embedder_factory or load_embedder)()
        return self._embedder

    def signature(self) -> str:
        o = self.options
        parts = ["injected", "script", "mojibake", "letters", f"lang:{o.language_min_prob:g}"]
        if o.off_topic:
            parts.append(f"offtopic:run{o.off_topic_min_run}+gain{o.off_topic_min_gain:g}+cos{o.off_topic_max_cosine:g}")
        return "|".join(parts) + f"|v:{self.version}"

    # --- detection -----------------------------------------------------------
    def foreign_spans(self, hyp: str, refs: Sequence[str]) -> list[Span]:
        """Spans in another language or script, or mojibake (no model needed)."""
        tokens = tokenize(hyp)
        vocab = reference_vocabulary(refs)
        stop = stopwords()
        reasons: dict[int, str] = {}
        repaired: dict[int, str] = {}
        for k, token in enumerate(tokens):
            fixed = repair_mojibake(token.text) if self.options.mojibake else None
            if fixed:
                reasons[k], repaired[k] = "mojibake", fixed
            elif self.options.foreign_scripts and foreign_script(token.text):
                reasons[k] = "foreign script"
            elif self.options.foreign_letters and any(ch in _FOREIGN_LATIN_LETTERS for ch in token.text):
                reasons[k] = "foreign letters"
        # grow each foreign core into neighbours that read as the same language
        for core in sorted(reasons):
            core_text = repaired.get(core, tokens[core].text)
            lang, _ = language_of(core_text)
            if lang == "en":
                continue
            for step in (-1, 1):
                k = core + step
                while 0 <= k < len(tokens) and k not in reasons:
                    word = tokens[k].text
                    if word.lower() in stop or in_references(word, vocab) or not word.isalpha():
                        break
                    probs = language_probabilities(word)
                    if probs.get(lang, 0.0) <= 3 * probs.get("en", 0.0):
                        break
                    reasons[k] = f"language {lang}"
                    k += step
        # whole sentences in another language
        for sentence in _SENTENCE.finditer(hyp):
            words = [t for t in tokens if sentence.start() <= t.start < sentence.end()]
            if len(words) < 4:
                continue
            lang, prob = language_of(sentence.group())
            if lang != "en" and prob >= self.options.language_min_prob:
                for t in words:  # words the references use are English, whatever surrounds them
                    if not in_references(t.text, vocab):
                        reasons.setdefault(tokens.index(t), f"language {lang}")
        return self._merge(hyp, tokens, reasons, repaired)

    @staticmethod
    def _merge(hyp: str, tokens: list[Token], reasons: dict[int, str], repaired: dict[int, str]) -> list[Span]:
        spans: list[Span] = []
        for k in sorted(reasons):
            token = tokens[k]
            why = reasons[k] + (f" ({repaired[k]})" if k in repaired else "")
            if spans and spans[-1].tokens and k - 1 in reasons and spans[-1].end == tokens[k - 1].end:
                last = spans[-1]
                last.end, last.tokens = token.end, last.tokens + 1
                last.text = hyp[last.start:last.end]
                if why not in last.why.split("; "):
                    last.why += f"; {why}"
            else:
                spans.append(Span(token.start, token.end, token.text, why, 1))
        return spans

    def off_topic_candidates(self, hyp: str, refs: Sequence[str], exclude: Sequence[Span] = ()) -> list[Span]:
        """Runs of content words found in no reference (stop words may sit inside)."""
        tokens = tokenize(hyp)
        vocab = reference_vocabulary(refs)
        stop = stopwords()
        taken = [(s.start, s.end) for s in exclude]
        candidates: list[Span] = []
        run: list[Token] = []

        def close() -> None:
            while run and run[-1].text.lower() in stop:
                run.pop()
            content = [t for t in run if t.text.lower() not in stop]
            # names are the anchors metric's business ('AMBASSADOR SMITH' is a speaker label, not spam)
            name_like = all(t.text[:1].isupper() for t in content)
            # a run that is most of the passage is not an insertion: the passage is
            # then simply different, which the similarity metrics judge
            most = len(run) > 0.5 * len(tokens)
            if len(content) >= self.options.off_topic_min_run and not name_like and not most:
                candidates.append(Span(run[0].start, run[-1].end, hyp[run[0].start:run[-1].end], "off topic", len(run)))
            run.clear()

        for k, token in enumerate(tokens):
            word = token.text
            foreign = any(a <= token.start < b for a, b in taken)
            sentence_break = k and re.search(r"[.!?;:]\s*$", hyp[tokens[k - 1].end:token.start] or "")
            if sentence_break:
                close()
            if foreign or any(ch.isdigit() for ch in word):
                close()
            elif word.lower() in stop:
                if run:
                    run.append(token)
            elif in_references(word, vocab):
                close()
            else:
                run.append(token)
        close()
        return candidates

    def _variants(self, hyp: str, candidates: list[Span]) -> list[str]:
        return [" ".join((hyp[:c.start] + " " + hyp[c.end:]).split()) for c in candidates]

    def prefetch_texts(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[str]:
        """Every text the off-topic test will embed (the scorer encodes them in its one batch)."""
        if not self.options.off_topic:
            return []
        texts: list[str] = []
        for hyp, ref_list in zip(hyps, refs):
            candidates = self.off_topic_candidates(hyp, ref_list, self.foreign_spans(hyp, ref_list))
            texts += [hyp, *ref_list, *self._variants(hyp, candidates), *(c.text for c in candidates)]
        return texts

    def spans(self, hyp: str, refs: Sequence[str]) -> list[Span]:
        """All injected spans of one passage, in text order."""
        found = self.foreign_spans(hyp, refs)
        if self.options.off_topic:
            candidates = self.off_topic_candidates(hyp, refs, found)
            if candidates:
                embedder = self.embedder
                ref_vectors = embedder.sentence_vectors(list(refs))
                base = float(np.max(ref_vectors @ embedder.sentence_vectors([hyp])[0]))
                without = embedder.sentence_vectors(self._variants(hyp, candidates)) @ ref_vectors.T
                alone = embedder.sentence_vectors([c.text for c in candidates]) @ ref_vectors.T
                for c, gain_row, alone_row in zip(candidates, without, alone):
                    gain = float(np.max(gain_row)) - base
                    similarity = float(np.max(alone_row))
                    if gain >= self.options.off_topic_min_gain and similarity < self.options.off_topic_max_cosine \
                            and not carries_the_clause(hyp, c):
                        c.why = f"off topic (cosine +{gain:.2f} without it; {similarity:.2f} alone)"
                        found.append(c)
        return sorted(found, key=lambda s: s.start)

    # --- metric interface ----------------------------------------------------------
    def measure(self, hyps, refs) -> Measurement:
        rows, findings = [], []
        for hyp, ref_list in zip(hyps, refs):
            spans = self.spans(hyp, ref_list)
            rows.append([float(sum(s.tokens for s in spans)), float(len(tokenize(hyp)))])
            findings.append([s.finding(hyp) for s in spans])
        return Measurement(np.asarray(rows, dtype=float).reshape(len(hyps), 2), findings)

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        return float(stats_sum[0] / stats_sum[1]) if stats_sum[1] else 0.0
