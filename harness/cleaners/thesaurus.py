"""Thesaurus candidates for spun words: "what could the spinner have been given?".

A spinner replaces a word with an entry of its thesaurus without looking at
the context, so the original of a spun word is one of the words whose
thesaurus entry holds it. Thesauri are (nearly) symmetric, so the candidates
of a word are its own synonyms: WordNet's (``harness/data/spin_synonyms.tsv.gz``,
derived by ``tools/extract_spin_synonyms.py`` from the WordNet extract), plus
the spinner-style entries of ``harness/data/spin_candidates.yaml``, whose
header explains them.

WordNet lists base forms; an inflected word ("commanders", "proceeded") is
reduced to a base form by regular suffix rules, and each candidate gets the
same suffix back. Every form, guessed or not, must be a word the language
model knows, which filters out the guesses that are not English.
"""

from __future__ import annotations

import gzip
import threading
from functools import lru_cache
from typing import Callable, Iterable

from .lexicon import data_path, read_data

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _wordnet_index() -> dict[str, str]:
    with gzip.open(data_path("spin_synonyms.tsv.gz"), "rt", encoding="utf-8") as handle:
        text = handle.read()
    index: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, _, rest = line.partition("\t")
            index[word] = rest
    return index


def wordnet_synonyms(word: str) -> dict[str, set[str]]:
    """pos -> WordNet synonyms of the base form ``word``."""
    with _lock:
        index = _wordnet_index()
    raw = index.get(word)
    if not raw:
        return {}
    result: dict[str, set[str]] = {}
    for part in raw.split(";"):
        pos, _, words = part.partition(":")
        result.setdefault(pos, set()).update(words.split(","))
    return result


# --------------------------------------------------------------------------
# Regular inflection
# --------------------------------------------------------------------------

_VOWELS = set("aeiou")


def _plural(base: str) -> str:
    if base.endswith(("s", "x", "z", "ch", "sh")):
        return base + "es"
    if base.endswith("y") and len(base) > 1 and base[-2] not in _VOWELS:
        return base[:-1] + "ies"
    return base + "s"


def _past(base: str) -> str:
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and len(base) > 1 and base[-2] not in _VOWELS:
        return base[:-1] + "ied"
    return base + "ed"


def _gerund(base: str) -> str:
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
        return base[:-1] + "ing"
    return base + "ing"


INFLECT: dict[str, Callable[[str], str]] = {"": lambda b: b, "s": _plural, "ed": _past, "ing": _gerund}
#: Which inflections a part of speech takes.
POS_FORMS = {"n": ("", "s"), "v": ("", "s", "ed", "ing"), "a": ("",), "r": ("",)}


def base_forms(word: str) -> list[tuple[str, str]]:
    """``(base, suffix)`` guesses for ``word`` (the word itself with suffix "" first)."""
    guesses = [(word, "")]
    if len(word) > 3:
        if word.endswith("ies"):
            guesses.append((word[:-3] + "y", "s"))
        if word.endswith("es"):
            guesses.append((word[:-2], "s"))
        if word.endswith("s") and not word.endswith("ss"):
            guesses.append((word[:-1], "s"))
        if word.endswith("ied"):
            guesses.append((word[:-3] + "y", "ed"))
        if word.endswith("ed"):
            guesses += [(word[:-2], "ed"), (word[:-1], "ed")]
            if len(word) > 4 and word[-3] == word[-4]:
                guesses.append((word[:-3], "ed"))
        if word.endswith("ing"):
            guesses += [(word[:-3], "ing"), (word[:-3] + "e", "ing")]
            if len(word) > 5 and word[-4] == word[-5]:
                guesses.append((word[:-4], "ing"))
    return guesses


def inflect(base: str, suffix: str) -> str:
    """``base`` (one or two words) with ``suffix`` on its first word ("go after" + ed -> "goed after")."""
    head, space, rest = base.partition(" ")
    return INFLECT[suffix](head) + space + rest


def candidates(word: str, known: Callable[[str], bool], extra: Iterable[str] = ()) -> set[str]:
    """Words the spinner may have replaced with ``word`` (lower case), in the
    same inflection, each known to the language model (``known``)."""
    found: set[str] = set(extra)
    for base, suffix in base_forms(word):
        if suffix and (base == word or not known(base.split(" ")[0])):
            continue
        for pos, synonyms in wordnet_synonyms(base).items():
            if suffix not in POS_FORMS.get(pos, ("",)):
                continue
            for synonym in synonyms:
                form = inflect(synonym, suffix) if suffix else synonym
                if all(known(part) for part in form.split(" ")):
                    found.add(form)
    found.discard(word)
    return found


@lru_cache(maxsize=1)
def spinner_table() -> dict[str, tuple[str, ...]]:
    """Spun form -> originals from ``spin_candidates.yaml`` (lower case, keys of 1-5 words)."""
    raw, _ = read_data(data_path("spin_candidates.yaml"))
    table: dict[str, tuple[str, ...]] = {}
    for original, spun_forms in (raw.get("candidates") or {}).items():
        for spun in spun_forms:
            key = " ".join(str(spun).lower().split())
            table[key] = tuple(dict.fromkeys(table.get(key, ()) + (str(original).lower(),)))
    return table


@lru_cache(maxsize=65536)
def english_zipf(word: str) -> float:
    """wordfreq's Zipf frequency of ``word`` in English (0 when unknown)."""
    import wordfreq

    return float(wordfreq.zipf_frequency(word, "en"))


def spinner_table_sha() -> str:
    _, sha = read_data(data_path("spin_candidates.yaml"))
    return sha
