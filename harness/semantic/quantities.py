"""Quantifiers, degrees and the bounds of numbers, read off a parsed text.

* ``quantifier_mentions``: every quantifier, focus particle, degree adverb
  and frequency adverb with its class ("most of the shops" -> ``most``,
  "slightly smaller" -> ``slight_degree``), multi-word ones included ("a few",
  "almost all");
* ``number_bounds``: numbers with a bound ("more than $44 billion" ->
  ``above``, "one subject at most" -> ``below``, "cooler than 40 degrees" ->
  ``below``).

Comparing two texts' mentions is :func:`changed_classes`: a class the text
has and no reference has, against a class on the same scale that the
reference has and the text lacks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from . import lexicon


@dataclass(frozen=True)
class Mention:
    klass: str
    scale: str
    tokens: tuple  # spaCy tokens that say it

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)


@lru_cache(maxsize=1)
def _scale_of() -> dict[str, str]:
    out = {}
    for scale, names in lexicon.lexicon()["quantifier_scales"].items():
        for name in names:
            out[name] = scale
    for name in lexicon.lexicon()["frequency"]:
        out[name] = "frequency"
    return out


@lru_cache(maxsize=1)
def _phrases() -> dict[tuple[str, ...], str]:
    """Word sequence -> class, for quantifiers and frequency adverbs."""
    out: dict[tuple[str, ...], str] = {}
    for section in ("quantifiers", "frequency"):
        for name, words in lexicon.lexicon()[section].items():
            for word in words:
                out.setdefault(tuple(str(word).split()), name)
    return out


_COMPARATIVE_TAGS = {"JJR", "RBR"}
#: words that are quantifiers only in some uses
_DEGREE_OR_AMOUNT = {"much": ("much_degree", "many"), "little": ("slight_degree", "few"), "far": ("much_degree", None),
                     "way": ("much_degree", None)}


def _before_comparative(doc, end: int) -> bool:
    return end < len(doc) and (doc[end].tag_ in _COMPARATIVE_TAGS or doc[end].lower_ in ("more", "less", "fewer"))


#: fixed phrases whose quantifier word quantifies nothing ("in all likelihood", "how much")
_IDIOMS = [("in", "all", "likelihood"), ("in", "all", "probability"), ("at", "all"), ("after", "all"),
           ("above", "all"), ("all", "the", "same"), ("all", "in", "all"), ("how", "much"), ("how", "many"),
           ("first", "of", "all"), ("once", "and", "for", "all"), ("all", "along"), ("for", "all", "that"),
           ("much", "as"), ("as", "much", "as"), ("as", "many", "as"), ("for", "the", "most", "part"),
           ("at", "most"), ("at", "the", "most"), ("at", "least"), ("more", "or", "less")]


def _idiom_tokens(doc, words: list[str] | None = None) -> set[int]:
    """Indices of the tokens in idioms; ``words``: the lower-cased forms of the tokens."""
    words = [t.lower_ for t in doc] if words is None else words
    out: set[int] = set()
    for idiom in _IDIOMS:
        n = len(idiom)
        for i in range(len(words) - n + 1):
            if words[i] == idiom[0] and tuple(words[i:i + n]) == idiom:
                out.update(range(i, i + n))
    return out


def quantifier_mentions(doc) -> list[Mention]:
    """Quantifier-like words of ``doc`` with their classes, longest phrases first."""
    phrases = _phrases()
    scale_of = _scale_of()
    longest = max(len(p) for p in phrases)
    mentions: list[Mention] = []
    lowers = [t.lower_ for t in doc]  # read once (a spaCy token is a new object at every access)
    idioms = _idiom_tokens(doc, lowers)
    i = 0
    while i < len(doc):
        if i in idioms:
            i += 1
            continue
        found = None
        for size in range(min(longest, len(doc) - i), 0, -1):
            words = tuple(lowers[i:i + size])
            if words in phrases:
                found = (size, phrases[words])
                break
        if found is None:
            i += 1
            continue
        size, klass = found
        token = doc[i]
        word = token.lower_
        if size == 1 and word in _DEGREE_OR_AMOUNT:
            degree, amount = _DEGREE_OR_AMOUNT[word]
            klass = degree if _before_comparative(doc, i + 1) else amount
        elif size == 1 and word == "some" and i + 1 < len(doc) and (doc[i + 1].like_num or doc[i + 1].tag_ == "CD"):
            klass = None  # "some 400,000": about, a bound of the number
        elif size == 1 and word == "certain" and not (token.dep_ == "amod" and token.head.i > token.i):
            klass = None  # "scientists are certain": not a quantifier
        elif size == 1 and word == "part" and any(c.dep_ == "amod" for c in token.children):
            klass = None  # "the old part of the city": a place, not a share
        elif klass == "never" or klass == "none":
            klass = None  # negations: the polarity check reports them
        if klass is not None and klass in scale_of:
            mentions.append(Mention(klass, scale_of[klass], tuple(doc[i:i + size])))
        i += size
    return mentions


def changed_classes(hyp_mentions: list[Mention], ref_mentions_list: list[list[Mention]]):
    """(hyp mention, ref mention, reference index) for each class the text has and
    no reference has, paired with a class on the same scale that a reference
    says more often than the text ("most of year seven ... all of the teachers" /
    "every pupil ... all the teachers": one "all" became "most")."""
    hyp_counts = Counter(m.klass for m in hyp_mentions)
    all_ref_classes = {m.klass for ms in ref_mentions_list for m in ms}
    out = []
    for m in hyp_mentions:
        if m.klass in all_ref_classes:
            continue
        for j, ref_mentions in enumerate(ref_mentions_list):
            ref_counts = Counter(r.klass for r in ref_mentions)
            partner = next((r for r in ref_mentions
                            if r.scale == m.scale and ref_counts[r.klass] > hyp_counts[r.klass]), None)
            if partner is not None:
                out.append((m, partner, j))
                break
    return out


#: classes that restrict a set the references speak of whole ("households must" /
#: "some households must")
RESTRICTING = frozenset({"some", "few", "most"})
_AMOUNT_HEADS = {"%", "percent", "per", "cent", "proportion", "share", "number", "fraction", "half", "third",
                 "quarter", "majority", "minority", "part", "rest", "remainder"}


def quantified_noun(mention: Mention):
    """The noun a quantifier speaks of: "some households", "most of the teachers",
    "half of its stations"; None for a pronoun or a quantifier on its own."""
    last = mention.tokens[-1]
    if last.lower_ == "of":
        objects = [c for c in last.children if c.dep_ == "pobj"]
    else:
        objects = [c for p in last.children if p.dep_ == "prep" and p.lower_ == "of"
                   for c in p.children if c.dep_ == "pobj"]
        if not objects and last.dep_ in ("det", "amod", "nummod", "quantmod", "predet") \
                and last.head.pos_ in ("NOUN", "PROPN") and last.head.i > last.i:
            objects = [last.head]
    noun = objects[0] if objects else None
    if noun is None or noun.pos_ not in ("NOUN", "PROPN"):
        return None
    return noun


#: "a couple of days" is a number; "in places" is "in some places"
_NOT_RESTRICTING = {"a couple"}
_SETTING_PREPOSITIONS = {"in", "at", "on", "during", "within", "for", "over", "after", "before", "across",
                         "throughout", "around"}


def _is_measure(noun) -> bool:
    return bool(set(lexicon._ancestors(noun.lemma_.lower())) & lexicon._measure_roots())


def _setting(noun) -> bool:
    """A bare plural of place or time ("in places", "at times") restricts by itself."""
    return noun.dep_ == "pobj" and noun.head.lower_ in _SETTING_PREPOSITIONS \
        and not any(c.dep_ in ("det", "poss") for c in noun.children)


def _counted(noun) -> bool:
    """The noun already comes with an amount of its own: "50% of the stations",
    "a third of the homes", "40 of the stations" (a number, not the whole set)."""
    head = noun.head
    if head.lower_ == "of" and head.head.i != head.i:
        owner = head.head
        if owner.like_num or owner.tag_ == "CD" or owner.lemma_.lower() in _AMOUNT_HEADS:
            return True
    return False


def restricted_sets(hyp_mentions: list[Mention], ref_docs, ref_mentions_list: list[list[Mention]],
                    same_noun) -> list[tuple[Mention, object, int]]:
    """(text mention, reference noun, reference index): a restricting quantifier
    the text puts on a set that the references name with no quantifier or
    amount of their own, and whose class no reference has."""
    ref_classes = {m.klass for ms in ref_mentions_list for m in ms}
    out = []
    for mention in hyp_mentions:
        if mention.scale != "amount" or mention.klass not in RESTRICTING or mention.klass in ref_classes:
            continue
        noun = quantified_noun(mention)
        if noun is None or mention.text.lower() in _NOT_RESTRICTING or _is_measure(noun):
            continue
        partners, amounted = [], False
        for j, (doc, ref_mentions) in enumerate(zip(ref_docs, ref_mentions_list)):
            quantified = {n.i for n in (quantified_noun(r) for r in ref_mentions) if n is not None}
            for token in doc:
                if token.pos_ in ("NOUN", "PROPN") and same_noun(noun, token):
                    amounted = amounted or token.i in quantified or _counted(token) or _setting(token)
                    partners.append((token, j))
        if partners and not amounted:
            out.append((mention, *partners[0]))
    return out


# --------------------------------------------------------------------------
# bounds of numbers
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Bound:
    number: object  # the first token of the number
    klass: str  # 'above', 'below', 'about', 'exactly', 'far_above', 'far_below'
    tokens: tuple

    @property
    def value(self) -> str:
        return number_value(self.number)


def _is_number(token) -> bool:
    return token.like_num or token.tag_ == "CD"


_MAGNITUDES = {"hundred", "thousand", "million", "billion", "trillion", "percent", "%", "per"}


def number_value(token) -> str:
    """A number with its magnitude, as one value where it can be read ("44 billion"
    and "forty-four billion" both "44000000000"; "a hundred and ten" "110"), else
    as written ("65")."""
    parts = [token.lower_.replace(",", "")]
    k = token.i + 1
    while k < len(token.doc) and (token.doc[k].lower_ in _MAGNITUDES) and len(parts) < 3:
        parts.append(token.doc[k].lower_)
        k += 1
    words, k = [], token.i
    while k < len(token.doc) and (_is_number(token.doc[k]) or token.doc[k].lower_ in ("and", "-")) \
            and token.doc[k].lower_ not in ("percent", "per", "%"):
        words.extend(w for w in token.doc[k].lower_.replace(",", "").split("-") if w)
        k += 1
    while words and words[-1] == "and":
        words.pop()
    value = _read_number(words)
    if value is not None:
        unit = [w for w in parts[1:] if w in ("percent", "per", "%")]
        return " ".join([format(value.normalize(), "f"), *unit])
    return " ".join(parts)


def _read_number(words: list[str]):
    from decimal import Decimal, InvalidOperation

    from ..numberwords import SCALES, parse_number_words

    if not words:
        return None
    try:
        first = Decimal(words[0])
    except InvalidOperation:
        return parse_number_words(words)
    rest = words[1:]
    if all(w in SCALES or w == "hundred" for w in rest):
        for w in rest:
            first *= 100 if w == "hundred" else SCALES[w]
        return first
    return None


@lru_cache(maxsize=1)
def _bound_phrases() -> list[tuple[tuple[str, ...], str]]:
    bounds = lexicon.lexicon()["number_bounds"]
    pairs = [(tuple(str(p).split()), name) for name, phrases in bounds.items() for p in phrases]
    return sorted(pairs, key=lambda p: -len(p[0]))


def _comparative_bound(doc, than_index: int) -> str | None:
    """"cooler than 40 degrees": the comparative before "than" gives the direction."""
    if than_index < 1:
        return None
    word = doc[than_index - 1]
    if word.tag_ not in _COMPARATIVE_TAGS:
        return None
    poles = lexicon.poles_of(word.lemma_.lower()) | lexicon.poles_of(word.lower_)
    if poles == {"up"}:
        return "above"
    if poles == {"down"}:
        return "below"
    return None


def number_bounds(doc) -> list[Bound]:
    out = []
    phrases = _bound_phrases()
    for token in doc:
        if not _is_number(token) or (token.i > 0 and _is_number(doc[token.i - 1])):
            continue
        start = token.i
        while start > 0 and doc[start - 1].text in ("$", "€", "£", "US$"):
            start -= 1
        if start > 0 and doc[start - 1].lower_ in ("a", "an"):
            start -= 1  # "at least a hundred and ten"
        before = [t.lower_ for t in doc[max(0, start - 4):start]]
        end = token.i + 1
        while end < len(doc) and (_is_number(doc[end]) or doc[end].lower_ in _MAGNITUDES):
            end += 1
        # a unit noun may stand between the number and a trailing bound: "one subject at most"
        after_start = end + 1 if end < len(doc) and doc[end].pos_ == "NOUN" else end
        after = [t.lower_ for t in doc[after_start:after_start + 4]]
        bound = None
        for words, name in phrases:
            n = len(words)
            if before[-n:] == list(words):
                bound = Bound(token, name, tuple(doc[start - n:start]))
                break
            if after[:n] == list(words) and words[0] in ("or", "at", "and"):
                bound = Bound(token, name, tuple(doc[after_start:after_start + n]))
                break
        if bound is None and before[-1:] == ["than"]:
            klass = _comparative_bound(doc, start - 1)
            if klass:
                bound = Bound(token, klass, (doc[start - 2], doc[start - 1]))
        if bound is not None:
            if _negated_clause(token, {t.i for t in bound.tokens}) and bound.klass in _FLIPPED:
                # "no student failed more than one subject": at most one
                bound = Bound(bound.number, _FLIPPED[bound.klass], bound.tokens)
            out.append(bound)
    return out


def numbers(doc) -> list:
    """The first token of every number of ``doc`` (as :func:`number_bounds` reads them)."""
    out = []
    for token in doc:
        if _is_number(token) and not (token.i > 0 and _is_number(doc[token.i - 1])):
            out.append(token)
    return out


#: bounds that say a number is a limit, not the amount ("about" is left aside: a
#: paraphrase rounds freely)
LIMITS = frozenset({"above", "below", "far_above", "far_below"})


_PREPOSITIONS = frozenset({"over", "under", "above", "below", "beyond"})


def bounds_the_number(bound: Bound) -> bool:
    """A one-word preposition bounds the number only where the parse says so ("over
    5,000 trees"), not in "over two years" (a duration) or "beat over five rivals"."""
    if len(bound.tokens) != 1 or bound.tokens[0].lower_ not in _PREPOSITIONS:
        return True
    word = bound.tokens[0]
    return word.dep_ in ("quantmod", "advmod") and word.head.i == bound.number.i


def after_than(number) -> bool:
    """"longer than two days": a limit whatever the comparative ("than $5", "than a week")."""
    doc, k = number.doc, number.i - 1
    while k >= 0 and (doc[k].text in ("$", "€", "£", "US$") or doc[k].lower_ in ("a", "an")):
        k -= 1
    return k >= 0 and doc[k].lower_ == "than"


_FLIPPED = {"above": "below", "below": "above", "far_above": "below", "far_below": "above"}
_NEGATIVE_SUBJECTS = {"no", "nobody", "none", "nothing", "neither", "never"}


def _negated_clause(token, bound_tokens: frozenset | set = frozenset()) -> bool:
    """Whether the verb the number belongs to is negated ("did not spend more than");
    the "no" of the bound itself ("no more than two ships") does not count."""
    verb = token
    steps = 0
    while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i and steps < 8:
        verb = verb.head
        steps += 1
    if verb.pos_ not in ("VERB", "AUX"):
        return False
    for child in verb.children:
        if child.dep_ == "neg":
            return True
        if child.dep_ in ("nsubj", "nsubjpass") and (
                child.lower_ in _NEGATIVE_SUBJECTS or any(g.lower_ == "no" and g.dep_ == "det" and g.i not in bound_tokens
                                                          for g in child.children)):
            return True
    return False


#: bound classes that contradict each other
_CONTRADICTING = {frozenset(p) for p in [("above", "below"), ("far_above", "below"), ("far_below", "above"),
                                         ("far_above", "far_below"), ("far_above", "about"), ("far_below", "about"),
                                         ("far_above", "exactly"), ("far_below", "exactly")]}


def contradicting(a: str, b: str) -> bool:
    return frozenset((a, b)) in _CONTRADICTING
