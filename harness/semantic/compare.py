"""Compare a text with its references and name what changed in meaning.

For each reference, the frames of the text (:mod:`harness.semantic.frames`)
are aligned with the reference's frames by predicate: the same lemma, a
synonym or a derived form ("support" / "supportive") aligns as *same*, an
opposite ("increase" / "decrease") as *opposite*, a converse ("sold" /
"bought") as *converse*; arguments that match break ties. Then each kind of
change has one detector:

* ``antonym`` / ``quantifier``: an opposite word where the aligned frame or
  phrase has the other pole, with the same polarity ("did not fail" and
  "succeeded" agree); comparatives, superlatives, quantifiers, frequency
  adverbs and the bounds of a number ("more than" / "less than") are
  ``quantifier`` changes;
* ``negation``: aligned frames of the same predicate with opposite polarity,
  polarity read through negative predicates ("is reluctant to support" says
  what "is not supportive" says);
* ``role``: the agent of one is the patient of the other and vice versa;
* ``entity``: the same role filled by another name;
* ``modality``: another modal class (will / might / must ...), an intention
  instead of a fact ("is considering opening" / "will open"), or future
  against past;
* ``dropped`` / ``added``: a clause or phrase of content words that the text
  does not cover (and every other reference does), or that no reference
  covers.

With several references a change counts when no reference says what the
text says: a finding against one reference is withdrawn when another
reference agrees with the text at that place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..findings import Finding, headline
from . import lexicon
from . import quantities
from .content import compare_content
from .frames import Argument, Frame, animate, entity_of, frames_of, same_entity, span_of

SOURCE = "semantic"
#: content words: what "dropped" and "added" count
_CONTENT_POS = {"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"}
#: predicates that carry no content of their own ("be", "say", "have" ...)
_LIGHT_PREDICATES = {"be", "have", "do", "say", "tell", "make", "get", "go", "take", "give", "come", "put",
                     "see", "know", "think", "let", "seem", "become", "keep", "mean", "use"}
_COMPARATIVE_TAGS = {"JJR", "JJS", "RBR", "RBS"}


@dataclass
class _Pair:
    hyp: Frame
    ref: Frame
    relation: str  # 'same' | 'opposite' | 'converse'
    matched_arguments: int


@dataclass
class _Comparison:
    """The text against one reference."""

    hyp_doc: object
    ref_doc: object
    reference_index: int
    pairs: list[_Pair] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    hyp_frames: list = field(default_factory=list)
    ref_frames: list = field(default_factory=list)
    #: id(finding) -> index of the text's token it is about (a predicate or a modifier)
    anchors: dict = field(default_factory=dict)

    def add(self, finding: Finding, anchor) -> None:
        self.findings.append(finding)
        self.anchors[id(finding)] = anchor.i


# --------------------------------------------------------------------------
# word and argument matching
# --------------------------------------------------------------------------
def _lemma(token) -> str:
    return token.lemma_.lower()


def _pos(token) -> str | None:
    return lexicon.WORDNET_POS.get(token.pos_)


def _same_word(a, b) -> bool:
    la, lb = _lemma(a), _lemma(b)
    if la == lb or a.lower_ == b.lower_:
        return True
    return lexicon.related(la, lb)


def _arguments_match(a: Argument, b: Argument) -> bool:
    if a.entity and b.entity:
        return same_entity(a.entity, b.entity)
    if a.pronoun or b.pronoun:
        return False
    x, y = _UNIT_WORDS.get(a.lemma, a.lemma), _UNIT_WORDS.get(b.lemma, b.lemma)
    return x == y or lexicon.related(x, y)


#: one unit written several ways ("40%", "forty per cent", "40 percent")
_UNIT_WORDS = {"%": "percent", "cent": "percent", "pc": "percent"}


def _particle_apart(a: str, b: str) -> bool:
    """"go down" against "go" (of "go on rising"): a particle can turn the verb around."""
    return (" " in a) != (" " in b) and a.split()[0] == b.split()[0]


def _relation(h: Frame, r: Frame) -> str | None:
    if (h.lemma == "be") != (r.lemma == "be"):
        return None  # "there's a reason" / "there's a need": "be" says nothing of its own
    if h.lemma == r.lemma or (lexicon.related(h.lemma, r.lemma) and not _particle_apart(h.lemma, r.lemma)):
        return "same"
    h_forms = [h.lemma, *h.alternatives] + ([h.lemma.split()[0]] if " " in h.lemma else [])
    r_forms = [r.lemma, *r.alternatives] + ([r.lemma.split()[0]] if " " in r.lemma else [])
    pos = _pos(h.predicate) if _pos(h.predicate) == _pos(r.predicate) else None
    for a in h_forms:
        for b in r_forms:
            if lexicon.converse(a, b):
                return "converse"
            if lexicon.opposite(a, b, pos if (a, b) == (h.lemma, r.lemma) else None):
                return "opposite"
    # "go down" is not "go on": a particle verb's bare verb only serves for opposites
    for a in [h.lemma, *h.alternatives]:
        for b in [r.lemma, *r.alternatives]:
            if a == b or lexicon.same_pole(a, b):
                return "similar"  # "boost" / "raise": aligned, compared like the same predicate
    return None


def _matched_arguments(h: Frame, r: Frame) -> int:
    return sum(1 for a in h.arguments if any(_arguments_match(a, b) for b in r.arguments))


def _governors_match(h: Frame, r: Frame) -> bool:
    """Both complements of the same predicate ("will keep going down" / "will keep
    rising"): the same claim even where its subject is worded apart."""
    a, b = h.governor, r.governor
    return a is not None and b is not None and a.lemma not in ("be", "say") and \
        (a.lemma == b.lemma or lexicon.related(a.lemma, b.lemma))


def _modal_have(frame: Frame) -> bool:
    return frame.lemma in ("have", "need") and any(
        c.dep_ == "xcomp" and any(g.dep_ == "aux" and g.lower_ == "to" for g in c.children) for c in frame.predicate.children)


def align(hyp_frames: Sequence[Frame], ref_frames: Sequence[Frame]) -> list[_Pair]:
    """One-to-one alignment of the text's frames with a reference's."""
    candidates = []
    for h in hyp_frames:
        for r in ref_frames:
            relation = _relation(h, r)
            if relation is None or _modal_have(h) != _modal_have(r):
                continue  # "without users having to switch it on": "have to" is a modal, not "keep"
            if relation == "opposite" and (h.predicate.dep_ == "acl") != (r.predicate.dep_ == "acl"):
                continue  # "infections picked up on wards" describes who; "infections fell" says what happened
            matched = _matched_arguments(h, r)
            if relation not in ("same", "similar") and matched == 0 and (h.arguments or r.arguments) \
                    and not _governors_match(h, r):
                continue  # an opposite word elsewhere in the text is not a change of this claim
            weight = {"same": 2.0, "similar": 1.8, "converse": 1.5, "opposite": 1.5}[relation]
            candidates.append((weight + 0.5 * matched, -abs(h.predicate.i / len(h.predicate.doc)
                                                             - r.predicate.i / len(r.predicate.doc)), h, r, relation, matched))
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    used_h, used_r, pairs = set(), set(), []
    for _, _, h, r, relation, matched in candidates:
        if id(h) in used_h or id(r) in used_r:
            continue
        used_h.add(id(h))
        used_r.add(id(r))
        pairs.append(_Pair(h, r, relation, matched))
    return pairs


# --------------------------------------------------------------------------
# detectors over aligned frames
# --------------------------------------------------------------------------
def _finding(kind: str, change: str, label: str, why: str, comparison: _Comparison, stage_tokens=(),
             ref_tokens=(), severity: str = "major") -> Finding:
    why = f"{headline(kind, change)}: {why}"
    return Finding(kind=kind, change=change, severity=severity, label=label, why=why, source=SOURCE,
                   stage_span=span_of(stage_tokens), reference_span=span_of(ref_tokens),
                   reference_index=comparison.reference_index if ref_tokens else None)


def _is_comparative(token) -> bool:
    lemma = _lemma(token)
    return (token.tag_ in _COMPARATIVE_TAGS or lemma in lexicon.classes("quantifiers")
            or lemma in lexicon.classes("frequency") or lemma in ("more", "less", "fewer"))


def _opposite_kind(a, b) -> str:
    if _is_comparative(a) or _is_comparative(b):
        return "quantifier"
    if a.pos_ == "NOUN" and b.pos_ == "NOUN" and animate(_lemma(a)) and animate(_lemma(b)):
        return "entity"  # "the keeper's son" / "daughter", "men" / "women": another participant
    return "antonym"


def detect_opposites(pair: _Pair, comparison: _Comparison) -> None:
    h, r = pair.hyp, pair.ref
    if pair.relation == "opposite" and h.negated == r.negated and not _swapped_comparison(h.predicate, r.predicate):
        kind = _opposite_kind(h.predicate, r.predicate)
        comparison.add(_finding(
            kind, "changed", f"{r.lemma} -> {h.lemma}",
            f"'{h.predicate.text}' where the reference says '{r.predicate.text}'"
            + (" (both negated)" if h.negated else ""),
            comparison, [h.predicate], [r.predicate]), h.predicate)
    if pair.relation == "converse" and h.negated == r.negated:
        # "A sold X to B" / "B bought X from A" agree; "A sold" / "A bought" do not
        h_agents, r_agents = h.by_role("agent"), r.by_role("agent")
        if any(_arguments_match(a, b) for a in h_agents for b in r_agents):
            # the buyer made the seller, the lender the borrower: who does what to whom
            comparison.add(_finding(
                "role", "changed", f"{r.lemma} -> {h.lemma}",
                f"'{h.predicate.text}' where the reference says '{r.predicate.text}', with the same subject",
                comparison, [h.predicate], [r.predicate]), h.predicate)


def _comparatives(frame: Frame) -> list:
    return [t for t in frame.predicate.subtree if t.tag_ in ("JJR", "RBR") and _is_comparative(t)]


def detect_turned_comparisons(pair: _Pair, comparison: _Comparison) -> None:
    """The same comparative with the compared things swapped ("sales in Asia were
    higher than in Europe" / "European sales were higher than Asian ones")."""
    h, r = pair.hyp, pair.ref
    if pair.relation not in ("same", "similar") or h.negated != r.negated:
        return
    for a in _comparatives(h):
        for b in _comparatives(r):
            if (_lemma(a) == _lemma(b) or a.lower_ == b.lower_) and _swapped_comparison(a, b):
                comparison.add(_finding(
                    "quantifier", "changed", f"{_lemma(b)}: turned round",
                    f"'{a.text}' compares the two things the other way round from the reference's '{b.text}'",
                    comparison, [a], [b]), a)
                return


def detect_negation(pair: _Pair, comparison: _Comparison) -> None:
    h, r = pair.hyp, pair.ref
    if pair.relation not in ("same", "similar") or h.negated == r.negated:
        return
    if _negation_explained(r if h.negated else h):
        return
    negated, plain = (h, r) if h.negated else (r, h)
    if _comparison_for_superlative(negated, plain.predicate.doc):
        return
    if _negated_bound(negated) and _says_a_bound(plain.predicate.doc):
        return  # "will not start before 2027" / "in 2027 at the earliest"
    if _excepted(negated) and _only(plain):
        return  # "never calls except at night" / "calls only at night"
    if _negated_elsewhere(negated, comparison.ref_frames if h.negated else comparison.hyp_frames):
        return  # "will not lead to any depot closures" / "no depots will close as a result"
    if h.negated:
        comparison.add(_finding(
            "negation", "added", f"not {h.lemma}",
            f"'{_phrase(h)}' is negated; the reference says '{_phrase(r)}'",
            comparison, [h.predicate, *h.negators], [r.predicate]), h.predicate)
    else:
        comparison.add(_finding(
            "negation", "lost", f"not {r.lemma}",
            f"the reference negates '{_phrase(r)}'; the text says '{_phrase(h)}'",
            comparison, [h.predicate], [r.predicate, *r.negators]), h.predicate)


def _negated_elsewhere(negated: Frame, other_frames: Sequence[Frame]) -> bool:
    """The other text negates what the negated clause is about, as a clause of its
    own: "will not lead to any depot closures" / "no depots will close"."""
    words = {a.lemma for a in negated.arguments if not a.pronoun}
    return any(f.negated and f.kind == "verb" and any(f.lemma == w or lexicon.related(f.lemma, w, False) for w in words)
               for f in other_frames)


def _negation_explained(plain: Frame) -> bool:
    """The side without a negation word says "not" in other words: with its own
    verb ("won't change" / "will be frozen"), with the verb it is the object of
    ("there will be no tour" / "cancelled the tour"), or through the negated
    predicate it is the subject of ("lowering it does not have her backing" /
    "she is not in favour of lowering it")."""
    return _says_not(plain.predicate) or _object_of_negative(plain) or _subject_of_negated(plain) or \
        _restricted(plain) or _until(plain)


#: words that draw a limit: "at the earliest", "within a week", "until May"; and
#: pairs: "at most", "at least", "no later", "no sooner", "no more"
_BOUND_WORDS = {"earliest", "latest", "within", "until", "till"}
_BOUND_PAIRS = {("at", "most"), ("at", "least"), ("no", "later"), ("no", "sooner"), ("no", "more")}


def _negated_bound(frame: Frame) -> bool:
    """The negation is about a limit of the clause: "not before 2027", "not ...
    more than a week", "not ... longer than", "will not let more than two ships dock"
    (the limit on the verb the negation came from)."""
    tokens = list(frame.predicate.subtree)
    if frame.governor is not None and any(t.i in {n.i for n in frame.governor.negators} for t in frame.negators):
        tokens += [t for t in frame.governor.predicate.subtree if t.dep_ != "neg"]
    for token in tokens:
        if token.lower_ == "before" and token.head.i == frame.predicate.i:
            return True
        if token.lower_ == "than" and token.i > 0 and token.doc[token.i - 1].lower_ in (
                "more", "longer", "later", "earlier", "sooner", "fewer", "less"):
            return True
    return False


def _says_a_bound(doc) -> bool:
    return any(t.lower_ in _BOUND_WORDS for t in doc) or \
        any((a.lower_, b.lower_) in _BOUND_PAIRS for a, b in zip(doc, doc[1:]))


def _until(frame: Frame) -> bool:
    """"stays in place until the reservoirs recover": the boundary that "will not be
    lifted until" draws in other words."""
    words = ("until", "till")
    return any(c.lower_ in words or (c.dep_ == "advcl" and any(g.dep_ == "mark" and g.lower_ in words
                                                              for g in c.children))
               for c in frame.predicate.children)


#: adverbs that compare with every earlier time ("never before", "had not won it previously")
_EARLIER = {"before", "previously", "since"}


def _negated_comparison(frame: Frame) -> bool:
    """The negated clause compares: "no cleanup has been bigger than this one",
    "never before has it had results as good", "had never won one before"."""
    p = frame.predicate
    tokens = [p, *p.children] + [g for c in p.children if c.dep_ in ("acomp", "advcl", "oprd", "xcomp", "attr")
                                 for g in c.children]
    return any((t.tag_ in ("JJR", "RBR") and t.lower_ not in ("more", "less", "fewer"))  # not a bound on a number
               or t.lower_ in _EARLIER
               or (t.lower_ == "as" and t.dep_ == "advmod" and t.head.pos_ in ("ADJ", "ADV"))
               for t in tokens)


def _superlative(doc) -> bool:
    """A superlative ("the largest", "the best ever") or "first" ("her first title")."""
    for t in doc:
        if t.lower_ in ("most", "least"):
            if t.dep_ == "advmod" and t.head.pos_ in ("ADJ", "ADV"):  # "the most successful", not "at most"
                return True
        elif t.tag_ in ("JJS", "RBS") or _lemma(t) == "first":
            return True
    return False


def _comparison_for_superlative(negated: Frame, other_doc) -> bool:
    """A negated comparison where the other wording has a superlative and this one
    has none: "no cleanup has been bigger" / "the largest cleanup", "had never
    won before" / "her first win"."""
    return _negated_comparison(negated) and _superlative(other_doc) and not _superlative(negated.predicate.doc)


def _object_of_negative(frame: Frame) -> bool:
    """"cancelled the tour", "the tour was scrapped": the event is the object of
    a verb that says it does not happen."""
    token, verb = frame.predicate, frame.predicate.head
    if token.dep_ == "nsubj" and (frame.kind == "event" or token.tag_ in ("VBG", "NN", "NNS")) and verb.i != token.i \
            and not any(c.dep_ in ("dobj", "obj") for c in verb.children):
        # an event that stops by itself: "heating went off" (no heating), "the service ended"
        return _says_not(verb)
    if token.dep_ not in ("dobj", "obj", "nsubjpass") or verb.i == token.i:
        return False
    phrasal = {f"{_lemma(verb)} {c.lower_}" for c in verb.children if c.dep_ == "prt"}  # "called off"
    return _says_not(verb) or bool(phrasal & lexicon.classes_list("negative_lexicon"))


def _subject_of_negated(frame: Frame) -> bool:
    """The frame is the clausal subject of a negated predicate ("lowering the
    limit does not have her backing", "building it was never approved"): the
    negation is said about it, not about some other claim."""
    token = frame.predicate
    if token.dep_ not in ("csubj", "csubjpass"):
        return False
    head = token.head
    return any(c.dep_ == "neg" or c.lower_ in ("not", "n't", "never") for c in head.children)


def _phrase(frame: Frame) -> str:
    tokens = [frame.predicate, *frame.negators, *frame.modality_tokens]
    tokens = [t for t in tokens if t is not None and t.doc is frame.predicate.doc]
    if not tokens:
        return frame.predicate.text
    span = span_of(tokens)
    return span.text if span and len(span.text) <= 60 else frame.predicate.text


#: modal classes too ambiguous to compare: "would" (reported speech, conditionals,
#: hypotheticals) and "can" (ability, permission or possibility)
_UNCOMPARED_MODALITY = {"would", "can"}


def modality_level(modality: str | None) -> str:
    """'fact', 'planned', 'probable', 'possible', 'attempt', 'directive' or
    'unrealised' (the lexicon's ``modality_levels``)."""
    name = "asserted" if modality is None else modality.replace("intend:", "")
    return lexicon.classes("modality_levels").get(name, "fact")


def _sentence_hedges(frame: Frame) -> set[str]:
    """Levels of the hedging adverbs anywhere in the frame's sentence."""
    modals = lexicon.classes("modals")
    return {modality_level(modals[t.lower_]) for t in frame.sentence if t.pos_ == "ADV" and t.lower_ in modals}


def _modality_equivalent(h: Frame, r: Frame) -> bool:
    if h.modality in _UNCOMPARED_MODALITY or r.modality in _UNCOMPARED_MODALITY:
        return True
    a, b = modality_level(h.modality), modality_level(r.modality)
    if a == b:
        return True
    # an adverb ("probably") may sit on another clause of the sentence in the other wording
    if h.modality_from_adverb and a in _sentence_hedges(r):
        return True
    if r.modality_from_adverb and b in _sentence_hedges(h):
        return True
    return False


#: neighbouring degrees of expectation: news and forecasts use them for one
#: another ("expected to end" / "set to end", "likely" / "could"), and an
#: announcement says "will" for what is planned ("plans to open" / "will open");
#: a change between them alone is minor
_NEIGHBOUR_LEVELS = ({"probable", "possible"}, {"probable", "future"}, {"planned", "future"})


def _level_or_future(frame: Frame) -> str:
    level = modality_level(frame.modality)
    return "future" if level == "fact" and frame.tense == "future" else level


def detect_modality(pair: _Pair, comparison: _Comparison) -> None:
    h, r = pair.hyp, pair.ref
    changes = []
    severity = "major"
    if not _modality_equivalent(h, r):
        changes.append(f"{_modality_name(r.modality)} -> {_modality_name(h.modality)}")
        if {_level_or_future(h), _level_or_future(r)} in _NEIGHBOUR_LEVELS:
            severity = "minor"
    if {h.tense, r.tense} == {"future", "past"} and not (h.tense_inherited or r.tense_inherited):
        changes.append(f"{r.tense} -> {h.tense}")
        severity = "major"
    elif {_done_or_future(h), _done_or_future(r)} == {"done", "future"} and not (h.tense_inherited or r.tense_inherited) \
            and not _communication(h) and not _communication(r) and h.lemma == r.lemma:
        # (only the same verb: "has loaned" / "will borrow", "has barred" / "will not be allowed"
        # tell of an arrangement made and what follows from it)
        # "has opened" / "will open"
        changes.append(f"{_done_or_future(r)} -> {_done_or_future(h)}")
        severity = "major"
    if "no_longer" in (h.aspect ^ r.aspect) and h.negated == r.negated:
        changes.append("'no longer' " + ("added" if "no_longer" in h.aspect else "dropped"))
        severity = "major"
    if {_completion(h), _completion(r)} == {"done", "ongoing"} and not _communication(h) and not _communication(r):
        changes.append(f"{_completion(r)} -> {_completion(h)}")
        severity = "major"
    if changes:
        comparison.add(_finding(
            "modality", "changed", f"{h.lemma}: {'; '.join(changes)}",
            f"'{_phrase(h)}' where the reference says '{_phrase(r)}' ({'; '.join(changes)})",
            comparison, [h.predicate, *h.modality_tokens], [r.predicate, *r.modality_tokens], severity), h.predicate)


def _done_or_future(frame: Frame) -> str | None:
    if frame.tense == "future":
        return None if "perfect" in frame.aspect else "future"  # "will have opened": both
    return "done" if "perfect" in frame.aspect else None


def _communication(frame: Frame) -> bool:
    """Saying, urging, warning: "are urging" and "have urged" report the same act."""
    base = frame.lemma.split()[0]
    return lexicon.classes("intention_verbs").get(base) in ("directive", "belief") or base in _SPEECH_VERBS


_SPEECH_VERBS = {"say", "tell", "announce", "state", "report", "claim", "argue", "insist", "explain", "add", "note",
                 "describe", "suggest", "hint", "signal", "confirm", "deny"}


def _completion(frame: Frame) -> str | None:
    """'done' (past or perfect), 'ongoing' (present progressive) or None."""
    if "progressive" in frame.aspect and frame.tense == "present":
        return "ongoing"
    if "perfect" in frame.aspect or frame.tense == "past":
        return "done"
    return None


def _modality_name(modality: str | None) -> str:
    if modality is None:
        return "asserted"
    return modality.replace("intend:", "")


_CORE_ROLES = ("agent", "patient", "recipient")


#: prepositions that mark a participant of the verb, wherever the parser attached them
_ROLE_PREPOSITIONS = {"from", "to", "by", "with", "against"}


@dataclass
class _Mention:
    """A noun of the text standing in for an argument the parser did not attach."""

    head: object

    @property
    def text(self) -> str:
        return self.head.text


def _mentions(token, argument: Argument) -> bool:
    from .frames import entity_of

    if argument.entity:
        name = entity_of(token)
        return bool(name) and same_entity(name, argument.entity)
    lemma = _lemma(token)
    return lemma == argument.lemma or lexicon.related(lemma, argument.lemma)


def detect_roles(pair: _Pair, comparison: _Comparison) -> bool:
    """The doer and another participant swapped ("the company sued the regulator"
    / "the regulator sued the company", "sold by A to B" / "sold by B to A");
    True if it found one (the entity check then stays quiet)."""
    h, r = pair.hyp, pair.ref
    if pair.relation not in ("same", "similar"):
        return False

    def named(frame, agent: bool):
        return [a for a in frame.arguments if not a.pronoun and (a.role == "agent") == agent]

    h_agents, h_others = named(h, True), named(h, False)
    r_agents, r_others = named(r, True), named(r, False)
    crossed_1 = [(a, b) for a in h_agents for b in r_others if _arguments_match(a, b)]
    crossed_2 = [(a, b) for a in h_others for b in r_agents if _arguments_match(a, b)]
    kept = any(_arguments_match(a, b) for a in h_agents for b in r_agents)
    if crossed_1 and not crossed_2 and not kept:
        # the reference's doer is in the text's clause, attached elsewhere by the parser
        # ("took over the running of the clinics from the trust")
        crossed_2 = [(_Mention(t), b) for b in r_agents for t in h.predicate.subtree
                     if t.pos_ in ("NOUN", "PROPN") and t.dep_ == "pobj" and t.head.lower_ in _ROLE_PREPOSITIONS
                     and _mentions(t, b) and not any(t.i == a.head.i for a in h_agents)]
    if crossed_1 and not crossed_2 and not kept:
        # the reference's other participant became the doer, and the place it left holds
        # someone else, a pronoun perhaps ("the firm is buying it from us" / "we are
        # buying it from the firm")
        _, r_other = crossed_1[0]
        crossed_2 = [(x, b) for x in h.arguments for b in r_agents
                     if x.role == r_other.role and x.role != "agent" and not _arguments_match(x, r_other)
                     and not _arguments_match(x, b) and not (x.entity and b.entity)]
    if not (crossed_1 and crossed_2) or kept:
        return False
    h_agent, r_other = crossed_1[0]
    h_other, r_agent = crossed_2[0]
    with_h = getattr(h_other, "role", None) == "prep:with" or (
        isinstance(h_other, _Mention) and h_other.head.head.lower_ == "with")
    if with_h or r_other.role == "prep:with":
        return False  # "Oduya signed with the Comets" / "the Comets signed Oduya": each does it with the other
    label = f"{h.lemma}: {r_agent.lemma} / {r_other.lemma} swapped"
    comparison.add(_finding(
        "role", "changed", label,
        f"'{h_agent.text}' does what '{r_agent.text}' does in the reference ('{h.predicate.text}')",
        comparison, [h.predicate, h_agent.head], [r.predicate, r_other.head]), h.predicate)
    return True


def detect_entities(pair: _Pair, comparison: _Comparison) -> None:
    h, r = pair.hyp, pair.ref
    if pair.relation not in ("same", "similar") or h.lemma in _LIGHT_PREDICATES:
        return  # "used to supply", "has taken legal action": the light verb's subject is no evidence
    for role in {a.role for a in r.arguments}:
        r_names = [a for a in r.by_role(role) if a.entity]
        h_names = [a for a in h.by_role(role) if a.entity]
        if not r_names or not h_names:
            continue
        for a in h_names:
            if any(same_entity(a.entity, b.entity) for b in r_names):
                continue
            missing = [b for b in r_names if not any(same_entity(b.entity, x.entity) for x in h_names)]
            if not missing:
                continue
            b = missing[0]
            if _turned_round(h, r):
                continue  # "sold fewer cars in Europe than in Asia" / "more ... in Asia than in Europe"
            if _with_each_other(a, b, h, r):
                continue  # "Oduya signed a contract with the Comets" / "the Comets signed Oduya"
            # each name where the other was, in this clause and in another: a swap of roles
            swapped = _exchanged(a, b, pair, comparison)
            comparison.add(_finding(
                "role" if swapped else "entity", "changed", f"{h.lemma} {role}: {b.entity} -> {a.entity}",
                f"'{a.text}' as the {_role_name(role)} of '{h.predicate.text}' where the reference has '{b.text}'"
                + (f" ('{b.text}' is elsewhere in the text)" if swapped else ""),
                comparison, [a.head], [b.head]), h.predicate)


def _with_each_other(a: Argument, b: Argument, h: Frame, r: Frame) -> bool:
    """Both participants are in both clauses, one of them in a "with" phrase: the
    two do it with each other ("signed with", "agreed a deal with")."""
    def under_with(frame, argument):
        return any(t.dep_ == "pobj" and t.head.lower_ == "with" and _mentions(t, argument)
                   for t in frame.predicate.subtree)

    return (under_with(h, b) and any(_arguments_match(a, x) for x in r.arguments)) or \
        (under_with(r, a) and any(_arguments_match(x, b) for x in h.arguments))


def _turned_round(h: Frame, r: Frame) -> bool:
    """Two clauses that compare the same two things the other way round with
    opposite comparatives."""
    h_words = [t for t in h.predicate.subtree if _is_comparative(t) and t.tag_ in _COMPARATIVE_TAGS]
    r_words = [t for t in r.predicate.subtree if _is_comparative(t) and t.tag_ in _COMPARATIVE_TAGS]
    return any(any(lexicon.opposite(x, y) for x in {_lemma(a), a.lower_} for y in {_lemma(b), b.lower_})
               and _swapped_comparison(a, b) for a in h_words for b in r_words)


def _mentions_of(argument: Argument, doc) -> list:
    """The nouns of ``doc`` that name the argument's participant (by name, lemma or synonym)."""
    out = []
    for token in doc:
        if token.pos_ not in ("NOUN", "PROPN"):
            continue
        if argument.entity:
            name = entity_of(token)
            if name and same_entity(name, argument.entity):
                out.append(token)
        elif _lemma(token) == argument.lemma or lexicon.related(_lemma(token), argument.lemma, False):
            out.append(token)
    return out


def _exchanged(a: Argument, b: Argument, pair: _Pair, comparison: _Comparison) -> bool:
    """``a`` (the text's) and ``b`` (the reference's) traded places: in another
    aligned clause the reference has ``a`` in some role and the text ``b`` in
    that same role ("released by the Comets ... signed with the Rays" /
    "released by the Rays ... signed with the Comets")."""
    for other in comparison.pairs:
        if other is pair or other.relation not in ("same", "similar"):
            continue
        for x in other.ref.arguments:
            if _arguments_match(a, x) and any(y.role == x.role and _arguments_match(y, b) for y in other.hyp.arguments):
                return True
    return False


def _participant_elsewhere(argument: Argument, frames: Sequence[Frame], apart_from) -> bool:
    """The participant is a core argument of another frame of the other text, in
    a phrase of its own (not "tuition" of "tuition fees", "fort" of "remains of a fort")."""
    mentions = {t.i for t in _mentions_of(argument, apart_from.doc)}
    inside = _noun_phrase_tokens(apart_from)
    for frame in frames:
        for other in frame.arguments:
            if other.role in _CORE_ROLES and other.head.i in mentions and other.head.i not in inside \
                    and apart_from.i not in _noun_phrase_tokens(other.head):
                return True
    return False


def _noun_phrase_tokens(head) -> set[int]:
    """A noun's own phrase: its modifiers and "of" phrases, not its relative clauses."""
    out = {head.i}
    for child in head.children:
        if child.dep_ not in ("relcl", "acl", "appos", "conj", "cc", "punct", "advcl"):
            out |= _noun_phrase_tokens(child)
    return out


def detect_moved_participants(pair: _Pair, comparison: _Comparison) -> None:
    """Two participants that swapped places between clauses ("arrested the driver
    who assaulted a man" / "arrested the man who assaulted the driver"): a core
    role holds a participant that the reference has as another clause's argument,
    and the reference's filler is another clause's argument in the text; a name
    of the passage in another one's place ("Aldera will build the plant" where
    the reference has Daeyang) is an entity change."""
    h, r = pair.hyp, pair.ref
    if pair.relation != "same" or h.negated != r.negated or h.kind != "verb" or r.kind != "verb" \
            or h.lemma in _LIGHT_PREDICATES \
            or _compared_clause(h) or _compared_clause(r):
        return
    for role in _CORE_ROLES:
        h_args = [a for a in h.by_role(role) if not a.pronoun and a.quantifier is None and a.head.pos_ != "NUM"]
        r_args = [a for a in r.by_role(role) if not a.pronoun and a.quantifier is None and a.head.pos_ != "NUM"]
        if len(h_args) != 1 or len(r_args) != 1 or _arguments_match(h_args[0], r_args[0]):
            continue
        a, b = h_args[0], r_args[0]
        if a.head.pos_ != b.head.pos_ and "PROPN" in (a.head.pos_, b.head.pos_):
            continue  # a name against a common noun: often one participant named two ways
        if any(_arguments_match(a, x) for x in r.arguments) or any(_arguments_match(x, b) for x in h.arguments):
            continue  # in this very clause in another role: the role check's case
        if not _participant_elsewhere(a, comparison.ref_frames, b.head):
            continue
        swapped = _participant_elsewhere(b, comparison.hyp_frames, a.head)
        if not swapped and not (a.entity and b.entity):
            continue
        kind = "role" if swapped else "entity"
        comparison.add(_finding(
            kind, "changed", f"{h.lemma} {role}: {b.lemma} -> {a.lemma}",
            f"'{a.text}' as the {_role_name(role)} of '{h.predicate.text}' where the reference has '{b.text}'"
            + (f" ('{b.text}' is elsewhere in the text)" if swapped else ""),
            comparison, [a.head], [b.head]), h.predicate)
        return


def _compared_clause(frame: Frame) -> bool:
    """A clause with a comparative ("wages grew more slowly than rents"): its
    participants may trade places with the comparison turned round."""
    return any(_is_comparative(t) and t.tag_ in _COMPARATIVE_TAGS or t.lower_ == "than"
               for t in frame.predicate.subtree)


def _role_name(role: str) -> str:
    return {"agent": "subject", "patient": "object"}.get(role, role.replace("prep:", "'") + "' phrase"
                                                          if role.startswith("prep:") else role)


def detect_argument_modifiers(pair: _Pair, comparison: _Comparison) -> None:
    """Quantifiers and opposite adjectives on the same argument ("all members" /
    "some members", "a safe route" / "a dangerous route")."""
    h, r = pair.hyp, pair.ref
    for a in h.arguments:
        for b in r.arguments:
            if not _arguments_match(a, b) or a.role != b.role:
                continue
            if a.quantifier and b.quantifier and a.quantifier != b.quantifier and \
                    {a.quantifier, b.quantifier} != {"none", "none"}:
                if "none" in (a.quantifier, b.quantifier):
                    continue  # "no members": a negation, reported by the polarity check
                comparison.add(_finding(
                    "quantifier", "changed", f"{b.quantifier} -> {a.quantifier} {a.lemma}",
                    f"'{a.quantifier_token.text} {a.text}' where the reference says '{b.quantifier_token.text} {b.text}'",
                    comparison, [a.quantifier_token, a.head], [b.quantifier_token, b.head]), a.quantifier_token)


# --------------------------------------------------------------------------
# detectors over words (outside aligned predicates)
# --------------------------------------------------------------------------
def _frame_of(token, frames_by_token: dict) -> Frame | None:
    """The frame whose clause a token is in."""
    seen = 0
    while seen < 40:
        if token.i in frames_by_token:
            return frames_by_token[token.i]
        if token.head.i == token.i:
            return None
        token = token.head
        seen += 1
    return None


def _modifier_context(token) -> set[str]:
    """Lemmas a modifier is about: its head, or the subject of "be" for a
    predicative adjective ("the route is safe")."""
    context = {_lemma(token.head)}
    if token.dep_ in ("acomp", "attr") and token.head.pos_ in ("AUX", "VERB"):
        context.update(_lemma(c) for c in token.head.children if c.dep_ in ("nsubj", "nsubjpass"))
    if token.pos_ == "NOUN":  # "an abundance of sand eels" / "a shortage of sand eels"
        context.update(_lemma(g) for c in token.children if c.dep_ == "prep" and c.lower_ == "of"
                       for g in c.children if g.dep_ == "pobj")
    return context - _LIGHT_PREDICATES - {"be"}


_MODIFIER_POS = frozenset({"ADJ", "ADV", "NOUN"})


def detect_opposite_modifiers(comparison: _Comparison, hyp_frames: dict, ref_frames: dict,
                              reported: set) -> None:
    """Opposite adjectives and adverbs on the same thing ("a safe route" /
    "a dangerous route", "higher prices" / "lower prices")."""
    hyp_words = {_lemma(t) for t in comparison.hyp_doc}
    ref_words = {_lemma(t) for t in comparison.ref_doc}
    aligned_hyp = {p.hyp.predicate.i for p in comparison.pairs}
    aligned_ref = {p.ref.predicate.i for p in comparison.pairs}
    for a in comparison.hyp_doc:
        if a.pos_ not in ("ADJ", "ADV", "NOUN", "VERB") or a.i in reported or _lemma(a) in ref_words:
            continue
        if a.i in hyp_frames and (a.i in aligned_hyp or hyp_frames[a.i].kind != "event"):
            continue  # predicates: compared through the frame alignment
        a_context = _modifier_context(a)
        for b in comparison.ref_doc:
            # the tagger often mislabels these words ("hit a ten-year high" as an adverb):
            # in the same slot of their clause, an adjective, adverb or noun compares with either
            if b.pos_ != a.pos_ and {a.pos_, b.pos_} != {"ADJ", "ADV"} and not (
                    a.dep_ == b.dep_ and {a.pos_, b.pos_} <= _MODIFIER_POS):
                continue
            if _lemma(b) in hyp_words or (b.i in ref_frames and (b.i in aligned_ref or ref_frames[b.i].kind != "event")):
                continue
            if not lexicon.opposite(_lemma(a), _lemma(b), _pos(a) if _pos(a) == _pos(b) else None):
                continue
            b_context = _modifier_context(b)
            if not any(x == y or lexicon.related(x, y) for x in a_context for y in b_context
                       if x not in _LIGHT_PREDICATES):
                continue
            fa, fb = _frame_of(a, hyp_frames), _frame_of(b, ref_frames)
            if fa is not None and fb is not None and fa.negated != fb.negated:
                continue
            if _swapped_comparison(a, b):
                continue  # "A lowered it less than B did" / "B lowered it more than A"
            kind = _opposite_kind(a, b)
            comparison.add(_finding(
                kind, "changed", f"{_lemma(b)} -> {_lemma(a)}",
                f"'{a.text}' where the reference says '{b.text}'",
                comparison, [a], [b]), a)
            reported.add(a.i)
            break


def _compared(token) -> tuple[set[str], set[str]]:
    """The two sides of a comparative: lemmas of the subject of its clause and of
    what follows "than" ("the drug lowered it more than the treatment (did)")."""
    than_side: set = set()
    for t in token.subtree:
        if t.lower_ != "than":
            continue
        if t.dep_ == "mark":  # "than the drug did": the subject of that clause
            than_side |= {_noun_key(c) for c in t.head.children if c.dep_ in ("nsubj", "nsubjpass")}
        else:
            than_side |= {_noun_key(c) for c in t.children if c.dep_ == "pobj"}
    clause = token if token.pos_ in ("VERB", "AUX") else token.head
    while clause.pos_ not in ("VERB", "AUX") and clause.head.i != clause.i:
        clause = clause.head
    subject = {_noun_key(c) for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")}
    return subject, than_side


def _noun_key(token) -> tuple[str, frozenset]:
    """A noun with its modifiers ("rail fares" is not "bus fares")."""
    return _lemma(token), frozenset(_lemma(c) for c in token.children if c.dep_ in ("compound", "amod", "poss"))


def _swapped_comparison(a, b) -> bool:
    """Opposite comparatives with the compared things swapped say the same thing
    ("A is cheaper than B" / "B is dearer than A")."""
    if not (_is_comparative(a) and _is_comparative(b)):
        return False
    a_subject, a_than = _compared(a)
    b_subject, b_than = _compared(b)

    def meet(x, y):
        return any((p == q or lexicon.related(p, q)) and mp == mq for p, mp in x for q, mq in y)

    if meet(a_subject, b_than) and meet(a_than, b_subject):
        return True
    # the words that tell the two sides apart: "sales in Asia were higher than in
    # Europe" / "our European sales were lower than our Asian ones"
    a_side, a_other = _comparands(a)
    b_side, b_other = _comparands(b)
    shared = a_side & b_side
    a_side, b_side = a_side - shared, b_side - shared
    return bool(a_side & b_other) and bool(a_other & b_side) and not (a_side & b_side)


_CONTENT_POS = ("NOUN", "PROPN", "ADJ")


def _comparand_words(tokens, skip) -> set[str]:
    """Lemmas of the content words, with the place a demonym names ("Asian": "asia")."""
    from .lexicon import wordnet

    words = set()
    for t in tokens:
        if t.pos_ not in _CONTENT_POS or t.i in skip:
            continue
        words.add(_lemma(t))
        if t.pos_ == "ADJ":
            words |= wordnet().derivations.get(_lemma(t), frozenset())
    return words


def _comparands(token) -> tuple[set[str], set[str]]:
    """The words of the two things a comparative compares: the subject and the
    clause's own prepositional phrases ("we sold more cars *in Asia*"), and what
    follows "than" ("than *in Europe*")."""
    clause = token if token.pos_ in ("VERB", "AUX") else token.head
    while clause.pos_ not in ("VERB", "AUX") and clause.head.i != clause.i:
        clause = clause.head
    than = next((t for t in clause.subtree if t.lower_ == "than" and t.i > token.i), None)
    if than is None:
        return set(), set()
    than_tokens = list(than.subtree)
    if than.dep_ == "mark":
        than_tokens = [g for c in than.head.children if c.dep_ in ("nsubj", "nsubjpass") for g in c.subtree]
    skip = {t.i for t in than.subtree} | {t.i for t in than.head.subtree if than.dep_ == "mark"} | {token.i}
    side = [g for c in clause.children if c.dep_ in ("nsubj", "nsubjpass", "prep") for g in c.subtree]
    return _comparand_words(side, skip), _comparand_words(than_tokens, {token.i})


def detect_number_bounds(comparison: _Comparison) -> None:
    """"more than $44 billion" / "less than $44 billion", "at most one" / "at least one"."""
    ref_bounds = {b.value: b for b in quantities.number_bounds(comparison.ref_doc)}
    for bound in quantities.number_bounds(comparison.hyp_doc):
        match = ref_bounds.get(bound.value)
        if match is None or not quantities.contradicting(bound.klass, match.klass):
            continue
        hyp_text = " ".join(t.text for t in bound.tokens)
        ref_text = " ".join(t.text for t in match.tokens)
        comparison.add(_finding(
            "quantifier", "changed", f"{match.klass} -> {bound.klass} {bound.value}",
            f"'{hyp_text} {bound.number.text}' where the reference says '{ref_text} {match.number.text}'",
            comparison, [*bound.tokens, bound.number], [*match.tokens, match.number]), bound.tokens[0])


def detect_changed_limits(hyp_doc, ref_docs, findings: list, reported: set) -> None:
    """A number the references give as the amount and the text as a limit ("5,000
    trees" / "at least 5,000 trees", "50p" / "as much as 50p"). The reverse is
    left alone: a paraphrase says a limit in words no list holds ("top 40
    degrees", "before it was ten years old")."""
    hyp_bounds = {b.number.i: b for b in quantities.number_bounds(hyp_doc)}
    ref_bounds = [{b.number.i: b for b in quantities.number_bounds(d)} for d in ref_docs]
    ref_values = []  # per reference: value -> its bound class or None
    for doc, bounds in zip(ref_docs, ref_bounds):
        values: dict = {}
        for number in quantities.numbers(doc):
            bound = bounds.get(number.i)
            klass = bound.klass if bound else ("compared" if quantities.after_than(number) else
                                               "within" if _after_limit_word(number) else None)
            values.setdefault(quantities.number_value(number), set()).add(klass)
        ref_values.append(values)
    for number in quantities.numbers(hyp_doc):
        if number.i in reported:
            continue
        value = quantities.number_value(number)
        said = [v[value] for v in ref_values if value in v]
        if not said:
            continue  # a number the references lack: the anchors metric reports it
        bound = hyp_bounds.get(number.i)
        if bound is not None and bound.klass in quantities.LIMITS and quantities.bounds_the_number(bound):
            if any(classes - {None} for classes in said) or any(t.i in reported for t in bound.tokens):
                continue
            j = next(k for k, v in enumerate(ref_values) if value in v)
            ref_number = next(t for t in quantities.numbers(ref_docs[j]) if quantities.number_value(t) == value)
            findings.append(Finding(
                kind="quantifier", change="changed", severity="major", label=f"exact -> {bound.klass} {value}",
                why=f"{headline('quantifier', 'changed')}: '{' '.join(t.text for t in bound.tokens)} {number.text}' "
                    f"where the reference says '{ref_number.text}' (a limit, not the amount)",
                source=SOURCE, stage_span=span_of([*bound.tokens, number]), reference_span=span_of([ref_number]),
                reference_index=j))


def _after_limit_word(number) -> bool:
    """"within two days", "until 5pm": the number draws a limit (not "by": "rose by £2")."""
    k = number.i - 1
    while k >= 0 and number.doc[k].lower_ in ("a", "an", "the", "$", "€", "£"):
        k -= 1
    return k >= 0 and number.doc[k].lower_ in ("within", "until", "till", "inside")


def _same_noun(a, b) -> bool:
    x, y = _lemma(a), _lemma(b)
    return x == y or lexicon.same_meaning(x, y, "n")


def detect_quantifier_classes(hyp_doc, ref_docs, findings: list, reported: set) -> None:
    """A quantifier, degree or frequency class the text has and no reference has,
    where a reference has another class of the same scale ("most of the shops" /
    "all the shops", "slightly smaller" / "much smaller")."""
    hyp_mentions = quantities.quantifier_mentions(hyp_doc)
    ref_mentions = [quantities.quantifier_mentions(d) for d in ref_docs]
    for hyp, ref, j in quantities.changed_classes(hyp_mentions, ref_mentions):
        if any(t.i in reported for t in hyp.tokens):
            continue
        findings.append(Finding(
            kind="quantifier", change="changed", severity="major", label=f"{ref.klass} -> {hyp.klass}",
            why=f"{headline('quantifier', 'changed')}: '{hyp.text}' where the reference says '{ref.text}'", source=SOURCE,
            stage_span=span_of(hyp.tokens), reference_span=span_of(ref.tokens), reference_index=j))
        reported.update(t.i for t in hyp.tokens)
    for hyp, noun, j in quantities.restricted_sets(hyp_mentions, ref_docs, ref_mentions, _same_noun):
        if any(t.i in reported for t in hyp.tokens):
            continue
        phrase = [noun.doc[i] for i in sorted(_noun_phrase_tokens(noun))]
        findings.append(Finding(
            kind="quantifier", change="changed", severity="major", label=f"all -> {hyp.klass}",
            why=f"{headline('quantifier', 'changed')}: '{hyp.text}' restricts what the reference says of "
                f"'{' '.join(t.text for t in phrase)}' as a whole", source=SOURCE,
            stage_span=span_of(hyp.tokens), reference_span=span_of(phrase), reference_index=j))


# --------------------------------------------------------------------------
# the whole comparison
# --------------------------------------------------------------------------
def compare_one(hyp_doc, ref_doc, reference_index: int, hyp_frames=None, ref_frames=None) -> _Comparison:
    """The text against one reference: aligned frames and the changes found."""
    hyp_frames = frames_of(hyp_doc) if hyp_frames is None else hyp_frames
    ref_frames = frames_of(ref_doc) if ref_frames is None else ref_frames
    comparison = _Comparison(hyp_doc, ref_doc, reference_index, hyp_frames=hyp_frames, ref_frames=ref_frames)
    comparison.pairs = align(hyp_frames, ref_frames)
    for pair in comparison.pairs:
        detect_opposites(pair, comparison)
        detect_turned_comparisons(pair, comparison)
        detect_negation(pair, comparison)
        detect_modality(pair, comparison)
        if not detect_roles(pair, comparison):
            before = len(comparison.findings)
            detect_entities(pair, comparison)
            if len(comparison.findings) == before:
                detect_moved_participants(pair, comparison)
        detect_argument_modifiers(pair, comparison)
    reported = {f.stage_span.start for f in comparison.findings if f.stage_span}
    reported_tokens = {t.i for t in hyp_doc if t.idx in reported}
    detect_opposite_modifiers(comparison, {f.predicate.i: f for f in hyp_frames},
                              {f.predicate.i: f for f in ref_frames}, reported_tokens)
    detect_number_bounds(comparison)
    return comparison


@dataclass
class Comparison:
    """What :func:`compare` found: the findings and the uncovered masses the
    meaning score reads (see :class:`.content.ContentResult`)."""

    findings: list[Finding]
    missing_mass: float = 0.0
    extra_mass: float = 0.0
    reference_words: int = 0
    text_words: int = 0


def compare(hyp_doc, ref_docs: Sequence, vectors=None) -> Comparison:
    """Every meaning change of the text relative to its references.

    ``vectors(doc)`` gives a doc's word vectors (:func:`.align.word_vectors`);
    without it only lemmas, synonyms and derived forms align words.
    """
    if not ref_docs:
        return Comparison([])
    vectors = vectors or (lambda doc: None)
    hyp_frames = frames_of(hyp_doc)
    all_ref_frames = [frames_of(d) for d in ref_docs]
    comparisons = [compare_one(hyp_doc, d, j, hyp_frames, all_ref_frames[j]) for j, d in enumerate(ref_docs)]

    findings: list[Finding] = []
    seen: set = set()
    for comparison in comparisons:
        for finding in comparison.findings:
            if _supported_elsewhere(finding, comparison, comparisons):
                continue
            key = (finding.kind, finding.stage_span.start if finding.stage_span else finding.label)
            if key in seen:
                continue
            seen.add(key)
            findings.append(finding)

    findings = [f for f in findings if not _described_as_each_other(f, hyp_doc, ref_docs)]
    findings += cue_negations(hyp_doc, ref_docs, comparisons, findings)
    reported = {t.i for f in findings if f.stage_span for t in hyp_doc
                if f.stage_span.start <= t.idx < f.stage_span.end}
    detect_quantifier_classes(hyp_doc, ref_docs, findings, reported)
    detect_changed_limits(hyp_doc, ref_docs, findings, reported)
    content = compare_content(hyp_doc, vectors(hyp_doc), hyp_frames, [(d, vectors(d)) for d in ref_docs],
                              all_ref_frames)
    # a word already explained by a typed change is not also "added" or "replaced"
    explained = {t.i for f in findings if f.stage_span for t in hyp_doc
                 if f.stage_span.start <= t.idx < f.stage_span.end}
    for finding in content.findings:
        span = finding.stage_span
        if span is not None and any(span.start <= hyp_doc[i].idx < span.end for i in explained):
            continue
        findings.append(finding)
    return Comparison(findings, content.missing_mass, content.extra_mass, content.reference_words, content.text_words)


def _described_as_each_other(finding: Finding, hyp_doc, ref_docs) -> bool:
    """An entity change between a name and the noun that some text gives as what
    it is ("Greyfield Homes, a housing association" ... "the housing association")."""
    if finding.kind != "entity" or finding.stage_span is None or finding.reference_span is None \
            or finding.reference_index is None:
        return False
    stage = _token_at(hyp_doc, finding.stage_span.start)
    reference = _token_at(ref_docs[finding.reference_index], finding.reference_span.start)
    if stage is None or reference is None:
        return False
    stage, reference = _phrase_head(stage), _phrase_head(reference)
    pairs = ((_lemma(stage), reference), (_lemma(reference), stage))
    for noun, named in pairs:
        name = entity_of(named)
        if not name:
            continue
        for doc in (hyp_doc, *ref_docs):
            for token in doc:
                if _lemma(token) != noun:
                    continue
                partners = [token.head] if token.dep_ in ("appos", "compound") else []
                partners += [c for c in token.children if c.dep_ == "appos"]
                if any(entity_of(p) and same_entity(entity_of(p), name) for p in partners):
                    return True
    return False


def _phrase_head(token):
    """The noun a span's first word belongs to ("housing" -> "association")."""
    while token.dep_ in ("compound", "amod", "det", "poss") and token.head.i != token.i:
        token = token.head
    return token


def _token_at(doc, offset: int):
    for token in doc:
        if token.idx <= offset < token.idx + len(token.text):
            return token
    return None


def _frames_of_cue(token, frames) -> list[Frame]:
    """The frames a negation word acts on: those it negates, else the clause it is in."""
    own = [f for f in frames if any(n is not None and n.i == token.i for n in f.negators)]
    if own:
        return own
    by_token = {f.predicate.i: f for f in frames}
    frame = _frame_of(token, by_token)
    return [frame] if frame is not None else []


#: particles that turn a verb into "no longer on" ("shut off the heating", "the heating went off")
_OFF_PARTICLES = {"off"}


def _says_not(token) -> bool:
    """A word that says "not" without a negation word ("freeze", "refuse", "unaware",
    "switched off")."""
    lemma = _lemma(token)
    words = lexicon.classes_list("negative_lexicon")
    if lemma in _UNCHANGED_VERBS:
        following = " ".join(t.lower_ for t in token.doc[token.i + 1:token.i + 5])
        if following.startswith(_UNCHANGED_PHRASES):
            return True  # "remains where it was": not raised, not changed
    return lemma in words or token.lower_ in words or (
        token.pos_ in ("ADJ", "VERB", "ADV") and (lexicon.negated_by_prefix(lemma) or lexicon.negated_by_prefix(token.lower_))
    ) or (token.pos_ == "VERB" and any(c.dep_ == "prt" and c.lower_ in _OFF_PARTICLES for c in token.children))


_UNCHANGED_VERBS = {"remain", "stay", "leave", "keep", "hold"}
_UNCHANGED_PHRASES = ("where it was", "where they were", "where it is", "where they are", "the same", "as it was",
                      "as they were", "as it is", "as they are", "put", "in place", "unchanged", "steady")


def _restricted(frame: Frame) -> bool:
    """"only call us if it lasts", "only allowed after a warning": "only" with a
    condition says what "not ... unless" says."""
    holders = [frame.predicate] + ([frame.governor.predicate] if frame.governor is not None else [])
    return any(c.lower_ in ("only", "solely") and c.dep_ == "advmod" for t in holders for c in t.children)


_EXCEPTIONS = {"except", "but", "unless", "save", "excepting", "bar"}


def _excepted(frame: Frame) -> bool:
    """The negated clause makes an exception ("never calls except at night", "no
    one but the captain", "not other than", "apart from")."""
    for t in frame.predicate.subtree:
        if t.lower_ in _EXCEPTIONS and t.dep_ in ("prep", "mark", "cc") and t.i > frame.predicate.i - 8:
            return True
        if t.lower_ in ("apart", "other") and t.i + 1 < len(t.doc) and t.doc[t.i + 1].lower_ in ("from", "than"):
            return True
    return False


def _only(frame: Frame) -> bool:
    """"only" on the clause or on one of its phrases ("calls only at night")."""
    predicate = frame.predicate
    for t in predicate.subtree:
        if t.lower_ in ("only", "solely", "exclusively") and (t.head.i == predicate.i or t.head.head.i == predicate.i):
            return True
    return _restricted(frame)


def _lexical_negatives(doc) -> int:
    """Words that say "not" without a negation word: "refuse", "freeze",
    "unchanged", and un-/in-/dis- words opposite to their stem ("unaware")."""
    return sum(1 for token in doc if _says_not(token))


def _consistent(pair: _Pair) -> bool:
    """The aligned frames say the same thing about polarity ("did not fail" / "succeeded")."""
    if pair.relation in ("same", "similar"):
        if pair.hyp.negated != pair.ref.negated:
            # (the plain side's own word is left to the counts of lexical negatives below)
            plain = pair.ref if pair.hyp.negated else pair.hyp
            return _object_of_negative(plain) or _subject_of_negated(plain)
        return True
    return pair.hyp.negated != pair.ref.negated


def cue_negations(hyp_doc, ref_docs, comparisons: Sequence[_Comparison], found: Sequence[Finding]) -> list[Finding]:
    """Negation words that one side has and the other lacks (the anchors metric's
    scope matching), kept unless the frame alignment shows the polarity agrees
    ("won't be allowed" / "banned", "is reluctant" / "is not in favour"), and
    unless a frame-level negation finding already reports them."""
    from ..metrics.anchors import compare_negations

    # lost only where every reference has it: a negation that one wording uses and another
    # says with "turn off" or "unchanged" is optional wording
    report = compare_negations(hyp_doc.text, [d.text for d in ref_docs], share=1.0)
    hyp_lexical = _lexical_negatives(hyp_doc)
    reported_spans = [f.stage_span for f in found if f.kind == "negation" and f.stage_span] + \
                     [f.reference_span for f in found if f.kind == "negation" and f.reference_span]
    out = []
    for finding in report.findings:
        if finding.change == "added":
            token = _token_at(hyp_doc, finding.stage_span.start)
            frames = _frames_of_cue(token, frames_of_doc(comparisons, hyp=True)) if token is not None else []
            pairs = [p for c in comparisons for p in c.pairs if any(p.hyp is f for f in frames)]
        else:
            j = finding.reference_index
            token = _token_at(ref_docs[j], finding.reference_span.start)
            frames = _frames_of_cue(token, frames_of_doc(comparisons, hyp=False, index=j)) if token is not None else []
            pairs = [p for p in comparisons[j].pairs if any(p.ref is f for f in frames)]
        if pairs and all(_consistent(p) for p in pairs):
            continue
        other_docs = ref_docs if finding.change == "added" else [hyp_doc]
        if token is not None and _contrastive(token) and any(_says_instead(d) for d in other_docs):
            continue  # "outdoor air, not water" / "outside air rather than water"
        if finding.change == "lost" and not pairs and _participant_negated(frames, hyp_doc):
            continue  # "no payment details were taken" / "payment details were not among the stolen data"
        if any(_comparison_for_superlative(f, d) for f in frames for d in other_docs):
            continue  # "no cleanup has been bigger" / "the largest cleanup"
        if any(_until(f) for f in frames) and any(t.lower_ in ("until", "till") for d in other_docs for t in d):
            continue  # "will not be lifted until" / "stays until": one boundary, two wordings
        if any(_negated_bound(f) for f in frames) and any(_says_a_bound(d) for d in other_docs):
            continue  # "will not have to wait more than a week" / "within a week"
        other_lexical = [_lexical_negatives(d) for d in ref_docs]
        if finding.change == "added" and max(other_lexical) > hyp_lexical:
            continue  # the reference says it without a negation word ("freeze" for "won't change")
        if finding.change == "lost" and hyp_lexical > other_lexical[finding.reference_index]:
            continue
        span = finding.stage_span or finding.reference_span
        if any(r.start <= span.start < r.end or span.start <= r.start < span.end for r in reported_spans):
            continue
        out.append(Finding(kind="negation", change=finding.change, severity="major", label=finding.label,
                           why=finding.why, source=SOURCE, stage_span=finding.stage_span,
                           reference_span=finding.reference_span, reference_index=finding.reference_index))
    return out


def _contrastive(token) -> bool:
    """"not" on a noun phrase set against another ("uses air, not water"): it
    says "instead of", not that the clause is false."""
    return token.lower_ == "not" and token.head.pos_ in ("NOUN", "PROPN", "ADJ", "NUM") and token.i > 0 \
        and token.doc[token.i - 1].lower_ in (",", "and", "but", "—", "-")


_INSTEAD = {("rather", "than"), ("instead", "of"), ("in", "place"), ("as", "opposed")}


def _says_instead(doc) -> bool:
    return any((a.lower_, b.lower_) in _INSTEAD for a, b in zip(doc, doc[1:])) or \
        any(_contrastive(t) for t in doc)


def _participant_negated(frames: Sequence[Frame], doc) -> bool:
    """The other text negates a clause about the same participant, with another
    predicate: "no payment details were taken" / "payment details were not among
    the stolen data"."""
    participants = {(a.lemma, frozenset(_lemma(c) for c in a.head.children if c.dep_ == "compound"))
                    for f in frames for a in f.arguments if a.role in _CORE_ROLES and not a.pronoun}
    for token in doc:
        if token.dep_ != "neg":
            continue
        for subject in token.head.children:
            if subject.dep_ in ("nsubj", "nsubjpass") and (_lemma(subject), frozenset(
                    _lemma(c) for c in subject.children if c.dep_ == "compound")) in participants:
                return True
    return False


def frames_of_doc(comparisons: Sequence[_Comparison], hyp: bool, index: int = 0) -> list[Frame]:
    """The frames of the text (``hyp``) or of reference ``index``, as the comparisons hold them."""
    comparison = comparisons[0] if hyp else comparisons[index]
    return comparison.hyp_frames if hyp else comparison.ref_frames


def _supported_elsewhere(finding: Finding, comparison: _Comparison, comparisons: Sequence[_Comparison]) -> bool:
    """Another reference says what the text says here: it aligns the same word
    of the text and finds no change of this kind there, or it has the text's
    own word."""
    anchor = comparison.anchors.get(id(finding))
    if anchor is None:
        return False
    word = _lemma(comparison.hyp_doc[anchor])
    for other in comparisons:
        if other is comparison:
            continue
        if any(other.anchors.get(id(f)) == anchor for f in other.findings):
            continue  # a change there too ("was defeated by Y": a role swap here, a converse there)
        # who did what is only supported where the other reference's clause shares a participant
        needs_participant = finding.kind in ("role", "entity")
        if any(p.hyp.predicate.i == anchor and (p.relation == "same" and not (needs_participant and not p.matched_arguments)
                                                or p.relation == "similar" and p.matched_arguments)
               for p in other.pairs):
            # a mere same-scale word with no shared participant is no evidence, nor is a
            # converse ("lost to"), whose participants the role check does not compare
            return True
        if finding.kind in ("antonym", "quantifier") and any(_lemma(t) == word for t in other.ref_doc):
            # the text's own word; a particle verb only with its particle ("voted down" / "voted to")
            phrasal = next((p.hyp.lemma for p in comparison.pairs if p.hyp.predicate.i == anchor and " " in p.hyp.lemma),
                           None)
            if phrasal is None or any(f.lemma == phrasal for f in other.ref_frames):
                return True
    return False


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
