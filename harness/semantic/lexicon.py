"""Word relations for the semantic comparison: synonyms, opposites, closed classes.

Two sources, both data files that ship with harness:

* WordNet 3.0 (``harness/data/wordnet/``): synsets ranked by sense frequency,
  and direct antonym pairs;
* ``harness/data/semantic_lexicon.yaml``: scales of everyday oppositions,
  converse verbs, negative predicates, quantifier / frequency / modal classes.

Every lookup takes lemmas in lower case. Synonymy is restricted to a word's
most frequent senses (``MAX_SENSE_RANK``): "bank" is not a synonym of "rely"
because of a rare sense of both.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

#: senses of a word considered for synonymy (1 = most frequent)
MAX_SENSE_RANK = 3
#: WordNet's part-of-speech letters for spaCy's coarse tags
WORDNET_POS = {"NOUN": "n", "PROPN": "n", "VERB": "v", "AUX": "v", "ADJ": "a", "ADV": "r"}


def _data(path: str):
    return resources.files("harness").joinpath("data", path)


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """``semantic_lexicon.yaml`` as loaded."""
    return yaml.safe_load(_data("semantic_lexicon.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class WordNet:
    """The parts of WordNet the comparison reads."""

    #: (pos, lemma) -> [(synset id, the lemma's sense rank there)], rank <= MAX_SENSE_RANK
    senses: dict
    #: synset id -> its lemmas
    members: dict
    #: (pos, lemma) -> direct antonyms
    antonyms: dict
    #: lemma -> derivationally related lemmas ("support" -> "supportive")
    derivations: dict
    #: satellite adjective -> [(head of its cluster, the satellite's sense rank)] ("distant" -> "far")
    heads: dict = field(default_factory=dict)
    #: (lemma, pos, max_rank) -> :meth:`synonyms` (memoised: the lookup runs for every word pair compared)
    _synonyms: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def cluster_heads(self, lemma: str, max_rank: int = 1) -> frozenset[str]:
        """The head adjectives whose antonyms a satellite adjective shares
        (WordNet's indirect antonymy: "nearby" ~ "near" <-> "far" ~ "distant"),
        for its ``max_rank`` most frequent senses."""
        return frozenset(head for head, rank in self.heads.get(lemma, ()) if rank <= max_rank)

    def synonyms(self, lemma: str, pos: str | None = None, max_rank: int = MAX_SENSE_RANK) -> frozenset[str]:
        """Lemmas sharing one of the word's ``max_rank`` most frequent senses
        (a sense that is among the frequent ones of the other word too)."""
        key = (lemma, pos, max_rank)
        if key not in self._synonyms:
            if len(self._synonyms) >= 65536:
                self._synonyms.clear()
            self._synonyms[key] = self._find_synonyms(lemma, pos, max_rank)
        return self._synonyms[key]

    def _find_synonyms(self, lemma: str, pos: str | None, max_rank: int) -> frozenset[str]:
        found: set[str] = set()
        for p in (pos,) if pos else ("n", "v", "a", "r"):
            for synset, rank in self.senses.get((p, lemma), ()):
                if rank <= max_rank:
                    found.update(self.members[synset])
        found.discard(lemma)
        return frozenset(found)

    def is_word(self, lemma: str) -> bool:
        return any((p, lemma) in self.senses for p in ("n", "v", "a", "r"))


@lru_cache(maxsize=1)
def wordnet() -> WordNet:
    senses: dict = defaultdict(list)
    members: dict = {}
    with gzip.open(_data("wordnet/synsets.tsv.gz").open("rb"), "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            pos, offset, words = line.rstrip("\n").split("\t")
            synset = f"{pos}{offset}"
            ranked = [(w.replace("_", " "), int(rank)) for w, rank in (x.rsplit(":", 1) for x in words.split())]
            frequent = [(w, rank) for w, rank in ranked if rank <= MAX_SENSE_RANK]
            if frequent:
                members[synset] = frozenset(w for w, _ in frequent)
                for word, rank in frequent:
                    senses[(pos, word)].append((synset, rank))
    antonyms: dict = defaultdict(set)
    for line in _data("wordnet/antonyms.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        pos, word, antonym = line.split("\t")
        antonyms[(pos, word)].add(antonym)
    derivations: dict = defaultdict(set)
    for line in _data("wordnet/derivations.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        word, related = line.split("\t")
        derivations[word].add(related)
    heads: dict = defaultdict(list)
    for line in _data("wordnet/similar.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        word, rank, head = line.split("\t")
        heads[word].append((head, int(rank)))
    return WordNet(dict(senses), members, {k: frozenset(v) for k, v in antonyms.items()},
                   {k: frozenset(v) for k, v in derivations.items()}, dict(heads))


# --------------------------------------------------------------------------
# oppositions
# --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _poles() -> dict[str, dict[str, set[str]]]:
    """lemma -> scale -> poles it sits on ('up' / 'down')."""
    poles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for scale, ends in lexicon()["scales"].items():
        for pole in ("up", "down"):
            for word in ends[pole]:
                poles[word][scale].add(pole)
    return poles


def poles_of(word: str) -> set[str]:
    """The poles ('up' / 'down') a word sits on, over all scales."""
    return {pole for poles in _poles().get(word, {}).values() for pole in poles}


def _scale_opposite(a: str, b: str) -> bool:
    poles = _poles()
    if a not in poles or b not in poles:
        return False
    shared = set(poles[a]) & set(poles[b])
    opposite = any(poles[a][s] ^ poles[b][s] == {"up", "down"} for s in shared)
    same = any(poles[a][s] & poles[b][s] for s in shared)
    return opposite and not same


#: the senses of a satellite adjective whose cluster head counts (1: its most frequent)
CLUSTER_RANK = 1


@lru_cache(maxsize=65536)
def opposite(a: str, b: str, pos: str | None = None) -> bool:
    """True when lemmas ``a`` and ``b`` say opposite things (increase / decrease).

    WordNet's direct antonyms, the antonyms of a word's frequent synonyms
    ("boost" ~ "increase" <-> "decrease"), negating prefixes ("likely" /
    "unlikely", "agree" / "disagree") and the scales of the lexicon.
    """
    if a == b or not a or not b:
        return False
    if _scale_opposite(a, b):
        return True
    if _prefix_opposite(a, b):
        return True
    net = wordnet()
    positions = (pos,) if pos else ("n", "v", "a", "r")
    for p in positions:
        if b in net.antonyms.get((p, a), ()) or a in net.antonyms.get((p, b), ()):
            return True
    # one synonym step on each side, each word's most frequent sense only; an
    # adjective also through the head of its cluster (indirect antonymy)
    for p in positions:
        a_side = {a} | net.synonyms(a, p, max_rank=1) | (net.cluster_heads(a, CLUSTER_RANK) if p == "a" else set())
        b_side = {b} | net.synonyms(b, p, max_rank=1) | (net.cluster_heads(b, CLUSTER_RANK) if p == "a" else set())
        if b_side & a_side:
            return False  # a shared sense: related, not opposite
        for word in a_side:
            if net.antonyms.get((p, word), frozenset()) & b_side:
                return True
    return False


def same_pole(a: str, b: str) -> bool:
    """Both on the same end of one scale of the lexicon ("boost" / "raise")."""
    poles = _poles()
    if a == b or a not in poles or b not in poles:
        return False
    return any(poles[a][s] & poles[b][s] for s in set(poles[a]) & set(poles[b])) and not _scale_opposite(a, b)


_NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "non-", "mis")


def _prefix_opposite(a: str, b: str) -> bool:
    shorter, longer = sorted((a, b), key=len)
    for prefix in _NEGATING_PREFIXES:
        if longer == prefix + shorter and len(shorter) >= 4 and wordnet().is_word(longer) and \
                wordnet().is_word(shorter):  # not "united" / "ited", "understated" / "derstated"
            if prefix in ("in", "im", "il", "ir") and not any(
                    (p, longer) in wordnet().senses for p in ("a", "r")):
                continue  # "impress", "insight": a Latin prefix that negates only adjectives
            return True
    return False


@lru_cache(maxsize=1)
def _converses() -> frozenset[frozenset[str]]:
    return frozenset(frozenset(pair) for pair in lexicon()["converses"])


def converse(a: str, b: str) -> bool:
    """True for verbs naming one event from its two sides (buy / sell)."""
    return frozenset((a, b)) in _converses()


@lru_cache(maxsize=65536)
def same_meaning(a: str, b: str, pos: str | None = None) -> bool:
    """The same lemma, or synonyms in a frequent sense."""
    if a == b:
        return True
    if pos in (None, "n") and interchangeable(a, b):
        return True
    return b in wordnet().synonyms(a, pos) or a in wordnet().synonyms(b, pos)


@dataclass(frozen=True)
class _Concepts:
    """What a lemma can mean, as sets that two related lemmas share."""

    #: the lemma and its derived forms, and their frequent senses (synset ids)
    own: frozenset
    #: the more general verbs (two steps up) of its frequent verb senses
    up: frozenset


#: verbs in -en that do not mean "make or become more <adjective>"
_NOT_CAUSATIVE = frozenset({"fasten", "listen", "glisten", "often", "open", "even"})


def _causative_forms(lemma: str) -> set[str]:
    """A verb in -en and its adjective: "widen" / "wide", "flatten" / "flat",
    "weaken" / "weak" ("get wider" is "widen")."""
    net = wordnet()
    if lemma.endswith("en") and lemma not in _NOT_CAUSATIVE and ("v", lemma) in net.senses:
        bases = {lemma[:-2], lemma[:-1]} | ({lemma[:-3]} if len(lemma) > 4 and lemma[-3] == lemma[-4] else set())
        return {b for b in bases if len(b) > 2 and ("a", b) in net.senses}
    if ("a", lemma) in net.senses:
        verbs = {lemma + "en", lemma + "n", lemma + lemma[-1] + "en"}
        return {v for v in verbs if v not in _NOT_CAUSATIVE and ("v", v) in net.senses}
    return set()


@lru_cache(maxsize=65536)
def _concepts(lemma: str) -> _Concepts:
    net = wordnet()
    forms = {lemma} | net.derivations.get(lemma, frozenset()) | _causative_forms(lemma)
    own = {f"={form}" for form in forms}
    for form in forms:
        for pos in ("n", "v", "a", "r"):
            own.update(synset for synset, _ in net.senses.get((pos, form), ()))
    hypernyms = _hypernyms()
    frontier = [synset for synset, rank in net.senses.get(("v", lemma), ()) if rank <= 2]
    up: set[str] = set()
    for _ in range(2):
        frontier = [p for s in frontier for p in hypernyms.get(s, ())]
        up.update(frontier)
    return _Concepts(frozenset(own), frozenset(up))


@lru_cache(maxsize=262144)
def related(a: str, b: str, verbs: bool = True) -> bool:
    """The same concept in any part of speech: synonyms, derived forms of the
    word or of a synonym ("support" / "supportive", "decide" / "decision"), or
    a verb and the more general verb it is a way of ("buy" / "acquire").
    ``verbs=False`` says the two words are not both verbs in the text: then
    the more general verb does not count ("rejecting" is a way of judging, not
    "the judge")."""
    if a == b or interchangeable(a, b):
        return True
    ca, cb = _concepts(a), _concepts(b)
    return bool(ca.own & cb.own or verbs and (ca.up & cb.own or ca.own & cb.up))


# --------------------------------------------------------------------------
# closed classes
# --------------------------------------------------------------------------
def _classes(section: str) -> dict[str, str]:
    """word or phrase -> its class, for one section of the lexicon."""
    out: dict[str, str] = {}
    for name, words in lexicon()[section].items():
        for word in words:
            out.setdefault(str(word), name)
    return out


@lru_cache(maxsize=None)
def classes(section: str) -> dict[str, str]:
    return _classes(section)


@lru_cache(maxsize=None)
def classes_list(section: str) -> frozenset[str]:
    """A plain word list of the lexicon, as a set."""
    return frozenset(str(w) for w in lexicon()[section])


@lru_cache(maxsize=65536)
def negated_by_prefix(word: str) -> bool:
    """"unaware", "inadequate", "dishonest": a negating prefix on a word that exists
    without it; "unexposed", "unencrypted": "un-" on the participle of a verb."""
    for prefix in _NEGATING_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 4 and _prefix_opposite(word, word[len(prefix):]):
            return True
    if word.startswith("un") and word.endswith("ed") and len(word) >= 8:
        stem = word[2:-2]
        net = wordnet()
        return any(("v", verb) in net.senses for verb in (stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else stem))
    return False


@lru_cache(maxsize=1)
def negative_predicates() -> frozenset[str]:
    return frozenset(lexicon()["negative_predicates"])


@lru_cache(maxsize=1)
def negative_words() -> frozenset[str]:
    return frozenset(lexicon()["negative_words"])


# --------------------------------------------------------------------------
# kinds of things (noun hierarchy)
# --------------------------------------------------------------------------
#: noun senses considered when asking what a word is a kind of
KIND_SENSES = 2
#: how many "is a kind of" steps up count as close
KIND_DEPTH = 4


@lru_cache(maxsize=1)
def _hypernyms() -> dict[str, tuple[str, ...]]:
    """synset id ('n01234567') -> its hypernyms' ids."""
    out: dict[str, tuple[str, ...]] = {}
    with gzip.open(_data("wordnet/hypernyms.tsv.gz").open("rb"), "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            pos, offset, parents = line.rstrip("\n").split("\t")
            out[f"{pos}{offset}"] = tuple(f"{pos}{p}" for p in parents.split())
    return out


@lru_cache(maxsize=65536)
def _ancestors(lemma: str) -> dict[str, int]:
    """Synsets the noun is (a kind of), with the fewest steps up, over its frequent senses."""
    hypernyms = _hypernyms()
    found: dict[str, int] = {}
    frontier = [synset for synset, rank in wordnet().senses.get(("n", lemma), ()) if rank <= KIND_SENSES]
    for depth in range(KIND_DEPTH + 1):
        next_frontier = []
        for synset in frontier:
            if synset not in found:
                found[synset] = depth
                next_frontier.extend(hypernyms.get(synset, ()))
        frontier = next_frontier
    return found


#: synsets too general to make two things siblings ("entity", "person", "abstraction" ...)
_TOO_GENERAL_DEPTH_FROM_ROOT = 5


@lru_cache(maxsize=1)
def _measure_roots() -> frozenset[str]:
    """Time periods and units: "fortnight" and "week" differ as amounts, not as things."""
    roots = set()
    for word in ("time period", "unit of measurement", "measure", "time unit", "amount"):
        roots.update(s for s, rank in wordnet().senses.get(("n", word), ()) if rank == 1)
    return frozenset(roots)


@lru_cache(maxsize=1)
def _participant_roots() -> frozenset[str]:
    """Kinds of things that take part in events: people, organisms, organisations, artefacts, places."""
    roots = set()
    for word in ("person", "organism", "organization", "artifact", "location", "institution"):
        roots.update(s for s, rank in wordnet().senses.get(("n", word), ()) if rank == 1)
    return frozenset(roots)


@lru_cache(maxsize=65536)
def _participant_kinds(lemma: str) -> bool:
    """Is the noun, in a frequent sense, a person, organism, organisation, artefact or place?"""
    hypernyms = _hypernyms()
    roots = _participant_roots()
    frontier = [s for s, rank in wordnet().senses.get(("n", lemma), ()) if rank <= KIND_SENSES]
    for _ in range(12):
        if roots & set(frontier):
            return True
        frontier = [p for s in frontier for p in hypernyms.get(s, ())]
        if not frontier:
            return False
    return False


@lru_cache(maxsize=65536)
def _root_distance(synset: str) -> int:
    hypernyms = _hypernyms()
    depth, frontier = 0, [synset]
    while frontier and depth < 30:
        parents = [p for s in frontier for p in hypernyms.get(s, ())]
        if not parents:
            return depth
        frontier, depth = parents, depth + 1
    return depth


def kind_of_either(a: str, b: str) -> bool:
    """One noun is a kind of the other within a few steps ("lorry" / "vehicle")."""
    up_a, up_b = _ancestors(a), _ancestors(b)
    own_a = {s for s, d in up_a.items() if d == 0}
    own_b = {s for s, d in up_b.items() if d == 0}
    return bool(own_a & set(up_b) or own_b & set(up_a))


def interchangeable(a: str, b: str) -> bool:
    """Two nouns news copy uses for one another ("regulator" / "watchdog"): the
    lexicon's ``interchangeable`` groups."""
    groups = _interchangeable_index()
    return bool(groups.get(a, _NO_GROUPS) & groups.get(b, _NO_GROUPS))


_NO_GROUPS: frozenset = frozenset()


@lru_cache(maxsize=1)
def _interchangeable_index() -> dict[str, frozenset[int]]:
    """word -> the interchangeable groups it is in (by position)."""
    index: dict[str, set[int]] = {}
    for k, group in enumerate(_interchangeable_groups()):
        for word in group:
            index.setdefault(word, set()).add(k)
    return {word: frozenset(ks) for word, ks in index.items()}


@lru_cache(maxsize=1)
def _interchangeable_groups() -> tuple[frozenset, ...]:
    return tuple(frozenset(str(w) for w in group) for group in lexicon().get("interchangeable", []))


def participant_kinds(lemma: str) -> bool:
    """Is the noun, in a frequent sense, a person, organism, organisation, artefact or place?"""
    return _participant_kinds(lemma)


def sibling_kinds(a: str, b: str, min_depth: int = _TOO_GENERAL_DEPTH_FROM_ROOT, any_kind: bool = False) -> bool:
    """Two different kinds of one thing: "doctor" / "nurse", "bus" / "lorry".

    Not when they share a sense (synonyms), when one is a kind of the other
    ("downpour" / "rain"), when their closest common kind is too general
    ("person"), or when both are measures of time or amount.
    """
    if a == b or same_meaning(a, b, "n"):
        return False
    up_a, up_b = _ancestors(a), _ancestors(b)
    if not up_a or not up_b:
        return False
    own_a = {s for s, d in up_a.items() if d == 0}
    own_b = {s for s, d in up_b.items() if d == 0}
    if own_a & set(up_b) or own_b & set(up_a):
        return False  # one is a kind of the other
    measures = _measure_roots()
    if (set(up_a) & measures) and (set(up_b) & measures):
        return False
    if not any_kind and not (_participant_kinds(a) and _participant_kinds(b)):
        return False  # abstractions ("course", "ownership") are worded many ways
    common = set(up_a) & set(up_b)
    return any(_root_distance(s) >= min_depth for s in common)


def _verb_kind_of(specific: str, general: str) -> bool:
    """``specific`` is a way of doing ``general`` within two steps ("buy" -> "get, acquire")."""
    senses = wordnet().senses
    targets = {synset for synset, rank in senses.get(("v", general), ()) if rank <= 2}
    if not targets:
        return False
    hypernyms = _hypernyms()
    frontier = [synset for synset, rank in senses.get(("v", specific), ()) if rank <= 2]
    for _ in range(2):
        frontier = [p for s in frontier for p in hypernyms.get(s, ())]
        if targets & set(frontier):
            return True
    return False
