"""Word-level alignment of a text with a reference through MiniLM token embeddings.

The embedder (:mod:`harness.metrics.embedding`) gives one contextual vector per
word piece; a spaCy word gets the mean of the vectors of the pieces it covers
(matched by character offsets). A word of one text is *covered* by the other
text to the degree of its best cosine with the other text's words, or fully
when the other text has the same lemma, a synonym or a derived form.

The uncovered *mass* (sum over content words of how far each falls short of
being covered) counts meaning that one side has and the other lacks: the
reference's uncovered mass is what the text dropped or changed, the text's is
what it added or changed. Unlike a ratio it grows with the amount of missing
content, as an error count does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import lexicon

CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"})
#: a word whose best cosine reaches this is fully covered
COVERED_COSINE = 0.75
#: ... and one at or below this not at all (linear in between)
UNCOVERED_COSINE = 0.35


def is_content(token) -> bool:
    return token.pos_ in CONTENT_POS and not token.is_stop and not token.is_punct and any(c.isalnum() for c in token.text)


def _windows_of(embedder, text: str) -> list[str]:
    return embedder._windows(text) if embedder.was_windowed(text) else [text]


def piece_offsets(embedder, texts) -> dict[str, list[tuple[int, int]] | None]:
    """Character offsets of the word pieces of each text (None where a window
    cannot be found in its text), from one batched tokenizer call for all of
    them; what :func:`word_vectors` matches spaCy tokens with."""
    texts = list(dict.fromkeys(t for t in texts if t.strip()))
    windows: list[str] = []
    starts: list[int] = []
    owners: list[int] = []
    failed: set[int] = set()
    for k, text in enumerate(texts):
        position = 0
        for window in _windows_of(embedder, text):
            start = text.find(window, position)
            if start < 0:
                failed.add(k)
                break
            windows.append(window)
            starts.append(start)
            owners.append(k)
            position = start + len(window)
    out: dict[str, list[tuple[int, int]] | None] = {t: [] for t in texts}
    if windows:
        encoded = embedder.model.tokenizer(windows, add_special_tokens=False, return_offsets_mapping=True,
                                           truncation=True, max_length=embedder.max_tokens - 2)
        for owner, start, mapping in zip(owners, starts, encoded["offset_mapping"]):
            if owner not in failed:
                out[texts[owner]].extend((start + a, start + b) for a, b in mapping)
    for k in failed:
        out[texts[k]] = None
    return out


def word_vectors(embedder, doc, offsets: list[tuple[int, int]] | None = ...) -> np.ndarray | None:
    """One unit vector per spaCy token of ``doc`` (zeros where no word piece
    covers it), or None if the word pieces cannot be matched to the text.
    ``offsets``: the text's word-piece offsets from :func:`piece_offsets`
    (computed here when not given)."""
    text = doc.text
    if not text.strip():
        return None
    pieces = embedder.token_embeddings(text)
    if offsets is ...:
        offsets = piece_offsets(embedder, [text])[text]
    if offsets is None or len(offsets) != len(pieces.vectors):
        return None
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    spans = doc.to_array(["IDX", "LENGTH"]).astype(np.int64).reshape(len(doc), 2)
    los, his = spans[:, 0], spans[:, 0] + spans[:, 1]
    # the pieces each token overlaps, for all tokens at once
    masks = (starts[None, :] < his[:, None]) & (ends[None, :] > los[:, None])
    counts = masks.sum(axis=1)
    out = np.zeros((len(doc), pieces.vectors.shape[1]), dtype=np.float32)
    covered = np.flatnonzero(counts)
    if not len(covered):
        return out
    # the mean of a token's pieces: a token of one piece is that piece (+ 0.0, as
    # the mean's sum starts from it); a longer one averaged as before
    means = pieces.vectors[masks[covered].argmax(axis=1)] + np.float32(0.0)
    for k in np.flatnonzero(counts[covered] > 1).tolist():
        means[k] = pieces.vectors[masks[covered[k]]].mean(axis=0)
    # np.linalg.norm of a vector is the square root of its dot with itself
    norms = np.sqrt(np.array([row.dot(row) for row in means], dtype=means.dtype))
    keep = norms > 0
    out[covered[keep]] = means[keep] / norms[keep, None]
    return out


@dataclass(frozen=True)
class Coverage:
    """How well each content word of ``doc`` is covered by the other text."""

    doc: object
    #: token index -> coverage in 0..1
    coverage: dict
    #: token index -> index of the best-matching token of the other text (or -1)
    match: dict
    #: token indices matched by lemma, synonym or derived form (not only by embedding)
    lexical: frozenset = frozenset()
    #: token index -> best cosine with a word of the other text (1.0 for lexical matches)
    cosine: dict = None
    #: the word vectors of ``doc`` and of the other text (None without the embedder)
    vectors: object = None
    other_vectors: object = None

    @property
    def uncovered_mass(self) -> float:
        return float(sum(1.0 - c for c in self.coverage.values()))

    def uncovered(self, below: float = 0.5) -> list:
        return [self.doc[i] for i, c in self.coverage.items() if c < below]


def _words(doc) -> list[tuple[int, str, str, bool, bool]]:
    """``(index, lemma, lower-cased form, is content, is a verb)`` of each token,
    read once (a spaCy token is a new Python object at every access)."""
    return [(t.i, t.lemma_.lower(), t.lower_, is_content(t), t.pos_ == "VERB") for t in doc]


def _lexical_match(token, other_words: list, other_lemmas: set, other_content: list | None = None) -> int:
    """``other_content``: the content words of ``other_words`` (index, lemma, is a verb), if known."""
    lemma, lower = token.lemma_.lower(), token.lower_
    if lemma in other_lemmas or lower in other_lemmas:
        for i, other_lemma, other_lower, _, _ in other_words:
            if other_lemma == lemma or other_lower == lower:
                return i
    verb = token.pos_ == "VERB"
    if other_content is None:
        other_content = [(i, other_lemma, other_verb) for i, other_lemma, _, content, other_verb in other_words if content]
    related = lexicon.related
    for i, other_lemma, other_verb in other_content:
        if related(lemma, other_lemma, verb and other_verb):
            return i
    return -1


def coverage(doc, doc_vectors, other_doc, other_vectors) -> Coverage:
    """Coverage of ``doc``'s content words by ``other_doc`` (vectors may be None:
    then only lemmas, synonyms and derived forms count)."""
    other_words = _words(other_doc)
    other_lemmas = {w[1] for w in other_words} | {w[2] for w in other_words}
    other_content = [(i, lemma, verb) for i, lemma, _, content, verb in other_words if content]
    candidates = [t.i for t in other_doc if not t.is_punct]
    # the candidates' vectors, gathered once for all words of ``doc``
    candidate_vectors = other_vectors[candidates] if other_vectors is not None and candidates else None
    result, match, lexical_hits, cosines = {}, {}, set(), {}
    for token in doc:
        if not is_content(token):
            continue
        lexical = _lexical_match(token, other_words, other_lemmas, other_content)
        if lexical >= 0:
            result[token.i], match[token.i], cosines[token.i] = 1.0, lexical, 1.0
            lexical_hits.add(token.i)
            continue
        best, best_j = 0.0, -1
        if doc_vectors is not None and candidate_vectors is not None:
            sims = candidate_vectors @ doc_vectors[token.i]
            k = int(np.argmax(sims))
            best, best_j = float(sims[k]), candidates[k]
        value = (best - UNCOVERED_COSINE) / (COVERED_COSINE - UNCOVERED_COSINE)
        result[token.i], match[token.i], cosines[token.i] = float(min(1.0, max(0.0, value))), best_j, best
    return Coverage(doc, result, match, frozenset(lexical_hits), cosines, doc_vectors, other_vectors)


def best_coverage(doc, doc_vectors, others: Sequence[tuple[object, np.ndarray | None]]) -> Coverage:
    """Per word, the best coverage by any of ``others`` (several references)."""
    covers = [coverage(doc, doc_vectors, other, vectors) for other, vectors in others]
    if len(covers) == 1:
        return covers[0]
    merged, match, lexical, cosines = {}, {}, set(), {}
    for i in covers[0].coverage:
        k = max(range(len(covers)), key=lambda c: covers[c].coverage[i])
        merged[i], match[i], cosines[i] = covers[k].coverage[i], covers[k].match[i], covers[k].cosine[i]
        if any(i in c.lexical for c in covers):
            lexical.add(i)
    return Coverage(doc, merged, match, frozenset(lexical), cosines, doc_vectors)
