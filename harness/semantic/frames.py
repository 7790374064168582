"""Who did what to whom, from a spaCy parse: one ``Frame`` per predicate.

A frame is a predicate (a verb, a predicative adjective or noun after "be",
or an event noun with a possessor or a "by"/"against" phrase) with:

* its **arguments** by role, passives normalised ("the plan was approved by
  the council" has the council as agent and the plan as patient, like "the
  council approved the plan"), relative pronouns resolved to their
  antecedent, and missing subjects inherited from the governing verb ("Japan
  agreed to cut tariffs": Japan is the agent of "cut");
* its **polarity**, with negation counted where it acts: "not", "never", a
  "no" on an argument, "without", and predicates that assert the opposite of
  the clause they govern ("is reluctant to support", "failed to pass");
* its **modality, tense and aspect**: modal verbs and adverbs (will, might,
  probably), intention verbs that govern it ("is considering reopening",
  "plans to open"), future / past / present, and aspect words (already, yet,
  no longer).

Only structure is read here; comparing frames is :mod:`harness.semantic.compare`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..findings import Span
from .lexicon import classes, negative_predicates

_SUBJECTS = {"nsubj", "csubj", "expl"}
_PASSIVE_SUBJECTS = {"nsubjpass", "csubjpass"}
_OBJECTS = {"dobj", "obj"}
_RELATIVE_PRONOUNS = {"which", "who", "whom", "that", "whose"}
_ENTITY_TYPES = {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
#: named-entity types that are times and amounts, not participants
_NOT_ENTITIES = {"DATE", "TIME", "CARDINAL", "ORDINAL", "PERCENT", "MONEY", "QUANTITY"}
#: prepositions that mark the undergoer or the target of an event noun
_PATIENT_PREPOSITIONS = {"against", "on", "upon", "toward", "towards", "of"}
_NEGATORS = {"not", "n't", "never", "neither", "nor"}


def span_of(tokens) -> Span | None:
    """The span of the text from the first to the last of ``tokens`` (None-s skipped)."""
    tokens = [t for t in tokens if t is not None]
    if not tokens:
        return None
    start = min(t.idx for t in tokens)
    end = max(t.idx + len(t.text) for t in tokens)
    return Span(start, end, tokens[0].doc.text[start:end])


@dataclass
class Argument:
    """One argument of a frame: a noun phrase head in a role."""

    role: str
    head: object  # spacy Token
    #: the head's lemma, lower case
    lemma: str
    #: the name this argument refers to, lower case ("united states"), if it is a name
    entity: str | None
    pronoun: bool
    #: quantifier class ("all", "some", ...) and the word that says it
    quantifier: str | None = None
    quantifier_token: object | None = None

    @property
    def text(self) -> str:
        return self.head.text


@dataclass
class Frame:
    predicate: object  # spacy Token
    lemma: str
    #: 'verb', 'adjective' (after "be"), 'noun' (after "be"), 'event' (an event noun)
    kind: str
    negated: bool = False
    #: the tokens that made it negative (for spans and reasons)
    negators: list = field(default_factory=list)
    #: modality class ('will', 'may', ...) and the words that say it
    modality: str | None = None
    modality_tokens: list = field(default_factory=list)
    #: True when the modality comes from an adverb ("probably"), which may sit on
    #: another clause of the sentence in another wording
    modality_from_adverb: bool = False
    tense: str = "present"
    #: the tense is the governing verb's ("led the fog to lift"): the clause's
    #: own verb says none, and the governor's frame is compared on its own
    tense_inherited: bool = False
    aspect: set = field(default_factory=set)
    arguments: list[Argument] = field(default_factory=list)
    #: the frame this one is the complement of ("support" in "reluctant to support")
    governor: "Frame | None" = None
    #: what else the predicate stands for: "keep the shops open" is about "open"
    alternatives: tuple = ()

    def by_role(self, role: str) -> list[Argument]:
        return [a for a in self.arguments if a.role == role]

    @property
    def start(self) -> int:
        return self.predicate.idx

    @property
    def sentence(self):
        return self.predicate.sent


# --------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------
def frames_of(doc) -> list[Frame]:
    """Every frame of a parsed text, in text order."""
    frames: dict[int, Frame] = {}
    for token in doc:
        frame = _frame_for(token)
        if frame is not None:
            frames[token.i] = frame
    for frame in frames.values():
        _collect_arguments(frame)
        _collect_modality(frame)
    # governors: complements inherit polarity flips, intention and subjects
    for frame in frames.values():
        head = _governing_predicate(frame.predicate)
        if head is not None and _is_future_auxiliary(head):
            # "is going to grow": future; what governs "going" governs the clause
            if frame.modality is None:
                frame.modality, frame.modality_tokens, frame.tense = "will", [head], "future"
            if not frame.by_role("agent"):  # "revenue is going to shrink": revenue shrinks
                for child in head.children:
                    if child.dep_ in _SUBJECTS:
                        _add(frame, "agent", child)
            for child in head.children:  # "I'm not going to blame him": not blame
                if child.dep_ == "neg" or (child.dep_ == "advmod" and child.lower_ in _NEGATORS):
                    frame.negated = not frame.negated
                    frame.negators.append(child)
            head = _governing_predicate(head)
        elif head is not None and _is_be_to(head, frame.predicate):
            # "Denmark is to receive power", "adults are to be offered a test": what is
            # arranged to happen; "be" carries the subject, any negation and "under a plan"
            if frame.modality is None:
                frame.modality, frame.modality_tokens, frame.tense = _be_to_status(head), [head], "future"
            passive = any(c.dep_ == "auxpass" for c in frame.predicate.children)
            for child in head.children:
                if child.dep_ in _SUBJECTS and not frame.by_role("patient" if passive else "agent") \
                        and not (child.pos_ == "NOUN" and frame.modality_tokens == [head] and frame.modality != "will"):
                    # (not "the aim" of "the aim is to cut": it says why, not who)
                    _add(frame, "patient" if passive else "agent", child)
                elif child.dep_ == "neg":
                    frame.negated = not frame.negated
                    frame.negators.append(child)
            _under_a_plan(frame, head)
            head = _governing_predicate(head)
        if head is not None and head.i in frames and head.i != frame.predicate.i:
            frame.governor = frames[head.i]
            if _object_complement(frame.predicate) and not frame.by_role("agent"):
                _add(frame, "agent", frame.predicate.head)
    for frame in sorted(frames.values(), key=_depth):
        _inherit(frame)
        _share_coordinated_status(frame, frames)
    for frame in frames.values():
        if frame.kind == "event":
            _event_polarity(frame, frames)
        _under_a_plan(frame)
    return sorted(frames.values(), key=lambda f: f.predicate.i)


#: verbs whose object noun names an event that happens or is had ("has the
#: minister's backing", "won their approval"): negating the verb negates the event
_SUPPORT_VERBS = {"have", "get", "receive", "win", "gain", "obtain", "secure", "give", "grant", "enjoy"}


def _event_polarity(frame: Frame, frames: dict) -> None:
    """An event noun is negated by "without" ("without their consent": they did
    not consent), and by the negation of a verb that has it as its object ("does
    not have the minister's backing": the minister does not back it)."""
    token = frame.predicate
    if token.dep_ == "pobj" and token.head.lower_ == "without":
        frame.negated = not frame.negated
        frame.negators.append(token.head)
    elif token.dep_ in _OBJECTS and token.head.i in frames:
        verb = frames[token.head.i]
        if verb.negated and verb.lemma in _SUPPORT_VERBS:
            frame.negated = not frame.negated
            frame.negators.extend(verb.negators)
        if verb.lemma in _TIME_SEES and frame.modality is None and verb.modality is not None:
            # "this weekend should see the end of the dry spell": the end should come
            frame.modality, frame.modality_tokens = verb.modality, verb.modality_tokens
            frame.tense = verb.tense


#: verbs whose subject is a time and whose object is what happens then ("May will see the opening")
_TIME_SEES = {"see", "witness"}


def _under_a_plan(frame: Frame, holder=None) -> None:
    """"will close under the owner's plans": what the plan says, not a fact (when
    nothing else set the clause's status)."""
    if frame.modality not in (None, "will"):
        return
    for child in (holder if holder is not None else frame.predicate).children:
        if child.dep_ == "prep" and child.lower_ == "under":
            for noun in child.children:
                if noun.dep_ == "pobj" and noun.pos_ == "NOUN" and _intention_of_noun(noun) == "plan":
                    frame.modality, frame.modality_tokens = "intend:plan", [noun]
                    frame.modality_from_adverb = False


def _depth(frame: Frame) -> int:
    depth, token = 0, frame.predicate
    while token.head.i != token.i:
        token = token.head
        depth += 1
    return depth


def _frame_for(token) -> Frame | None:
    lemma = token.lemma_.lower()
    if token.pos_ == "VERB" and token.dep_ not in ("aux", "auxpass", "amod") and not _is_future_auxiliary(token):
        complement = _state_complement(token)
        alternatives = (complement.lemma_.lower(),) if complement is not None else ()
        return Frame(token, _with_particle(token, lemma), "verb", alternatives=alternatives)
    if token.dep_ in ("acomp", "attr") and token.head.lemma_ == "be":
        kind = "adjective" if token.pos_ == "ADJ" else "noun"
        if token.pos_ in ("ADJ", "NOUN"):
            return Frame(token, lemma, kind)
    if token.pos_ == "ADJ" and token.dep_ == "ROOT":
        return Frame(token, lemma, "adjective")
    if token.pos_ == "NOUN" and token.dep_ != "compound" and _is_event_noun(lemma) and any(
        c.dep_ == "poss" or (c.dep_ in ("prep", "agent") and c.lemma_.lower() in _PATIENT_PREPOSITIONS | {"by"})
        for c in token.children
    ):
        return Frame(token, lemma, "event")
    return None


def _is_event_noun(lemma: str) -> bool:
    """A noun derived from a verb ("aggression", "acquisition", "attack"): it can
    have an agent and a patient like the verb."""
    from .lexicon import wordnet

    net = wordnet()
    return ("v", lemma) in net.senses or any(("v", form) in net.senses for form in net.derivations.get(lemma, ()))


#: verbs that assert the state their complement names ("keep X open", "remain closed")
_STATE_VERBS = {"keep", "remain", "stay", "leave", "hold", "make", "become", "get", "turn", "go", "grow", "render"}


def _object_control(verb) -> bool:
    """"urged people to stay in", "people were urged to stay in": someone else is told to act."""
    return any(c.dep_ in ("dobj", "nsubjpass") for c in verb.children) or \
        any(c.dep_ == "prep" and c.lower_ == "on" for c in verb.children)


#: nouns that name what an action is for: "the aim is to cut crowding" says what
#: is being tried
_PURPOSE_NOUNS = {"aim", "goal", "purpose", "objective", "point", "object", "target"}


def _be_to_status(head) -> str:
    """"is to open": arranged ("will"); "the aim is to cut": tried; "the plan is to
    sell": planned."""
    for child in head.children:
        if child.dep_ == "prep" and child.lower_ == "on" and any(
                g.lemma_.lower() in ("course", "track", "target", "schedule") for g in child.children):
            return "likely"  # "is on course to overtake": expected, not arranged
        if child.dep_ == "nsubj" and child.pos_ == "NOUN":
            if child.lemma_.lower() in _PURPOSE_NOUNS:
                return "intend:try"
            intention = _intention_of_noun(child)
            if intention:
                return f"intend:{intention}"
    return "will"


def _is_be_to(head, token) -> bool:
    """"is to receive": "be" in the present with an infinitive as its complement."""
    return head.lemma_ == "be" and head.tag_ in ("VBZ", "VBP") and token.dep_ == "xcomp" and \
        any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children) and \
        not any(c.dep_ in ("acomp", "attr") or c.lower_ == "yet" for c in head.children)  # "is yet to": not done


def _is_future_auxiliary(token) -> bool:
    """"going" in "is going to open": a future marker, not an event of its own."""
    return token.lower_ == "going" and any(c.dep_ == "xcomp" and any(g.lower_ == "to" for g in c.children)
                                            for c in token.children)


def _state_complement(token):
    """The adjective a state verb asserts ("open" in "keep the shops open"), or None."""
    if token.lemma_.lower() not in _STATE_VERBS:
        return None
    for child in token.children:
        if child.dep_ in ("oprd", "acomp", "ccomp", "xcomp") and child.pos_ == "ADJ":
            return child
    return None


#: particles the parser may read as an adverb or a preposition right after the
#: verb ("go down by 40%", "switched off the heating")
_MISREAD_PARTICLES = {"go": {"up", "down", "off"}, "come": {"up", "down", "on"}, "be": {"up", "down"},
                      "move": {"up", "down"}, "head": {"up", "down"}, "shoot": {"up"},
                      "switch": {"on", "off"}, "turn": {"on", "off"}, "shut": {"off", "down"},
                      "power": {"on", "off", "up", "down"}, "cut": {"off"}}


def _with_particle(token, lemma: str) -> str:
    particles = [c.lemma_.lower() for c in token.children if c.dep_ == "prt"]
    if not particles and lemma in _MISREAD_PARTICLES:
        particles = [c.lower_ for c in token.children if c.dep_ in ("advmod", "prep")
                     and c.lower_ in _MISREAD_PARTICLES[lemma] and c.i == token.i + 1]
    return f"{lemma} {particles[0]}" if particles else lemma


def _governing_predicate(token):
    """The predicate whose complement ``token`` is ("reluctant" for "support" in
    "is reluctant to support"), or None."""
    if _object_complement(token):
        return token.head.head  # "expecting the gap to get wider": what is expected
    if token.dep_ == "advcl" and (token.tag_ in ("VBG", "VBN") or any(
            c.dep_ == "aux" and c.lower_ == "to" for c in token.children)) and not any(
            c.dep_ in ("nsubj", "nsubjpass", "mark") for c in token.children):
        return token.head  # "paid $120m to acquire X", "won, defeating the incumbent": same subject
    if token.dep_ in ("xcomp", "ccomp", "pcomp") or (token.dep_ == "acl" and token.head.pos_ == "NOUN"
                                                     and any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children)):
        head = token.head
        if token.i < head.i and any(t.text == ";" for t in token.doc[token.i:head.i]):
            # "Denmark will get power; the link is expected by 2031": a semicolon ends
            # the clause, whatever the parser hung it on
            return None
        if token.i < head.i and any(c.dep_ == "mark" and c.i < head.i for c in head.children):
            # "the firm will stop X, so owners are advised to Y": a clause before a
            # subordinate one is the main clause, whatever the parser hung it on
            return None
        if token.dep_ == "pcomp":  # "without paying": the preposition's head
            return head.head if head.lower_ != "without" else None
        return head
    return None


def _object_complement(token) -> bool:
    """"we're expecting the difference to get wider", read by the parser as a
    relative clause of "difference": the infinitive of an object of a verb of
    intention or belief."""
    return token.dep_ == "relcl" and token.head.dep_ == "dobj" and \
        any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children) and \
        not any(c.dep_ in _SUBJECTS | _PASSIVE_SUBJECTS for c in token.children) and \
        token.head.head.lemma_.lower() in classes("intention_verbs")


def _copula(frame: Frame):
    return frame.predicate.head if frame.kind in ("adjective", "noun") and frame.predicate.dep_ != "ROOT" else None


def _holders(frame: Frame) -> list:
    """The tokens whose children belong to the frame: its predicate, and the
    copula of an adjective or noun predicate ("the route *is* safe")."""
    copula = _copula(frame)
    return [frame.predicate] if copula is None else [frame.predicate, copula]


def _collect_arguments(frame: Frame) -> None:
    token = frame.predicate
    holders = _holders(frame)
    passive = any(c.dep_ == "auxpass" for c in token.children) or any(c.dep_ in _PASSIVE_SUBJECTS for c in token.children)
    # "the app owned by Sondo announced", parsed with "app" as the subject of "owned":
    # a participle with a "by" agent and no "have" is passive, its subject what is owned
    reduced_passive = token.tag_ == "VBN" and any(c.dep_ == "agent" for c in token.children) and \
        not any(c.dep_ in ("aux", "auxpass") for c in token.children)
    for holder in holders:
        for child in holder.children:
            dep = child.dep_
            if dep in _SUBJECTS:
                _add(frame, "patient" if reduced_passive else "agent", child)
            elif dep in _PASSIVE_SUBJECTS:
                _add(frame, "patient", child)
            elif dep in _OBJECTS:
                _add(frame, "patient", child)
            elif dep == "dative":
                _add(frame, "recipient", child)
            elif dep == "poss" and frame.kind == "event" and child.ent_type_ not in _NOT_ENTITIES:
                _add(frame, "agent", child)
            elif dep in ("agent",) or (dep == "prep" and child.lower_ == "by" and (passive or frame.kind == "event")):
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        _add(frame, "agent", pobj)
            elif dep == "prep":
                preposition = child.lemma_.lower()
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        role = "patient" if frame.kind == "event" and preposition in _PATIENT_PREPOSITIONS and \
                            not frame.by_role("patient") else f"prep:{preposition}"
                        _add(frame, role, pobj)
    # a participle modifying a noun: "the project funded by Germany" -> patient project
    if token.dep_ == "acl" and token.tag_ == "VBN" and token.head.pos_ in ("NOUN", "PROPN"):
        _add(frame, "patient", token.head)
    if not frame.by_role("agent"):
        doer = _accused_of(token)
        if doer is not None:
            _add(frame, "agent", doer)
    if token.dep_ == "relcl":
        # "tariffs, which had risen": the relative pronoun stands for the noun
        for argument in frame.arguments:
            if argument.lemma in _RELATIVE_PRONOUNS:
                _resolve(argument, token.head)


def _accused_of(token):
    """Who does what one is found guilty of, accused of, thanked for: "found X
    guilty of bribing", "X was convicted of paying", "criticised X for failing"
    (the parser leaves the doer of such a clause unattached)."""
    if token.dep_ != "pcomp" or token.head.lower_ not in ("of", "for", "with"):
        return None
    holder = token.head.head
    if holder.pos_ == "ADJ":
        own = [c for c in holder.children if c.dep_ in ("nsubj", "nsubjpass")]
        if own:
            return own[0]  # "found the developer guilty of"
        verb, order = holder.head, ("dobj", "nsubjpass", "nsubj")
    elif holder.pos_ == "VERB":
        verb, order = holder, ("nsubjpass", "dobj")
    elif holder.pos_ in ("NOUN", "PROPN") and holder.dep_ == "pobj" and holder.head.dep_ == "agent":
        verb, order = holder.head.head, ("nsubjpass",)  # "was convicted by a jury of paying"
    else:
        return None
    for dep in order:
        found = [c for c in verb.children if c.dep_ == dep]
        if found:
            return found[0]
    return None


def _add(frame: Frame, role: str, head) -> None:
    """Add ``head`` (and its conjuncts: "Japan and Korea") in ``role``; "neither
    Ukraine nor Georgia" negates the frame once."""
    for child in head.children:
        if child.dep_ == "preconj" and child.lower_ == "neither":
            frame.negated = not frame.negated
            frame.negators.append(child)
    for token in [head, *head.conjuncts]:
        if token.pos_ in ("VERB", "AUX"):
            continue
        argument = _argument(role, token)
        frame.arguments.append(argument)
        if argument.quantifier == "none" and role in ("agent", "patient", "recipient"):
            frame.negated = not frame.negated
            frame.negators.append(argument.quantifier_token)


def _argument(role: str, token) -> Argument:
    quantifier = quantifier_token = None
    quantifiers = classes("quantifiers")
    lemma = token.lemma_.lower()
    # "most of the members": the quantifier heads the phrase
    if lemma in quantifiers:
        of_objects = [g for c in token.children if c.dep_ == "prep" and c.lower_ == "of"
                      for g in c.children if g.dep_ == "pobj"]
        if of_objects:
            quantifier, quantifier_token = quantifiers[lemma], token
            token = of_objects[0]
            lemma = token.lemma_.lower()
    # "not one of the shops", "not a single student": no shop, no student
    negator = next((c for c in token.children if c.dep_ == "neg"), None)
    if quantifier is None and negator is not None and (
            lemma == "one" or any(c.lower_ == "single" for c in token.children)):
        quantifier, quantifier_token = "none", negator
        of_objects = [g for c in token.children if c.dep_ == "prep" and c.lower_ == "of"
                      for g in c.children if g.dep_ == "pobj"]
        if lemma == "one" and of_objects:
            token = of_objects[0]
            lemma = token.lemma_.lower()
    if quantifier is None:
        for child in token.children:
            word = child.lower_
            if child.dep_ in ("det", "predet", "amod", "nummod", "quantmod", "advmod") and word in quantifiers:
                quantifier, quantifier_token = quantifiers[word], child
                break
    return Argument(role, token, lemma, entity_of(token), token.pos_ == "PRON", quantifier, quantifier_token)


def _resolve(argument: Argument, antecedent) -> None:
    argument.head = antecedent
    argument.lemma = antecedent.lemma_.lower()
    argument.entity = entity_of(antecedent)
    argument.pronoun = antecedent.pos_ == "PRON"


def entity_of(token) -> str | None:
    """The name a token is part of ("united states" for "States"), lower case, or None."""
    if token.ent_type_ in _ENTITY_TYPES:
        for ent in token.doc.ents:
            if ent.start <= token.i < ent.end:
                words = [t.text for t in ent if not (t.i == ent.start and t.lower_ == "the") and t.tag_ != "POS"]
                return " ".join(words).lower() or None
    if token.ent_type_ in _NOT_ENTITIES:
        return None
    if token.pos_ == "PROPN":
        words = [c.text for c in token.children if c.dep_ == "compound" and c.pos_ == "PROPN"] + [token.text]
        return " ".join(words).lower()
    return None


def _compared_degree(token) -> bool:
    """"more likely", "less able": a modal adjective that is compared."""
    return any(c.dep_ == "advmod" and c.lower_ in ("more", "less", "most", "least") for c in token.children)


def _inverted_condition(auxiliary, holder) -> bool:
    """"should" before its subject outside a question: the conditional inversion
    "should inflation ease" ("if inflation eases"), not an obligation."""
    subjects = [c for c in holder.children if c.dep_ in _SUBJECTS | _PASSIVE_SUBJECTS]
    return bool(subjects) and auxiliary.i < subjects[0].i and not auxiliary.sent.text.rstrip().endswith("?")


_IMPERSONAL = {"it", "this", "that", "there", "which"}


def _expectation(holder) -> bool:
    """"should" of what nobody can be told to do ("the fog should clear", "prices
    should fall", "this weekend should see the end"): an expectation, not an
    obligation. A person or an organisation as the subject keeps the obligation."""
    subjects = [c for c in holder.children if c.dep_ in _SUBJECTS | _PASSIVE_SUBJECTS] or \
        [c for c in holder.children if c.dep_ == "npadvmod" and c.i < holder.i]  # "This weekend should see"
    if not subjects or any(c.dep_ in _PASSIVE_SUBJECTS for c in subjects):
        return False  # "should be repaired": someone should repair it
    subject = subjects[0]
    if subject.lower_ in _IMPERSONAL:
        return True
    if subject.pos_ == "PRON" or subject.pos_ == "PROPN" or subject.ent_type_ in ("PERSON", "ORG", "NORP", "GPE"):
        return False
    return not animate(subject.lemma_.lower())


@lru_cache(maxsize=4096)
def animate(lemma: str) -> bool:
    """A person, animal, group or organisation: someone who can be told what to do."""
    from .lexicon import _hypernyms, wordnet

    roots = _agent_roots()
    frontier = [s for s, rank in wordnet().senses.get(("n", lemma), ()) if rank <= 2]
    for _ in range(14):
        if roots & set(frontier):
            return True
        frontier = [p for s in frontier for p in _hypernyms().get(s, ())]
        if not frontier:
            return False
    return False


@lru_cache(maxsize=1)
def _agent_roots() -> frozenset:
    from .lexicon import wordnet

    return frozenset(s for word in ("person", "organization", "social group", "animal")
                     for s, rank in wordnet().senses.get(("n", word), ()) if rank == 1)


def _collect_modality(frame: Frame) -> None:
    token = frame.predicate
    holders = _holders(frame)
    modals = classes("modals")
    aspects = classes("aspect_words")
    tense = None
    for holder in holders:
        if holder.tag_ == "VBD":
            tense = "past"
        for child in holder.children:
            word = child.lower_
            if child.dep_ == "neg" or (child.dep_ in ("advmod", "preconj", "cc") and word in _NEGATORS):
                frame.negated = not frame.negated
                frame.negators.append(child)
            elif child.dep_ in ("aux", "auxpass"):
                if child.tag_ == "MD" and word == "should" and _inverted_condition(child, holder):
                    pass  # "should inflation ease": a condition ("if inflation eases"), not an obligation
                elif child.tag_ == "MD" and word == "should" and _expectation(holder):
                    frame.modality, frame.modality_tokens = "likely", [child]
                elif child.tag_ == "MD" and word in modals:
                    frame.modality, frame.modality_tokens = modals[word], [child]
                    if modals[word] == "will":
                        tense = "future"
                elif child.lemma_ in ("have", "be", "do") and child.tag_ in ("VBD",):
                    tense = tense or "past"
                if child.lemma_ == "have" and token.tag_ == "VBN":
                    frame.aspect.add("perfect")
                if child.lemma_ == "be" and token.tag_ == "VBG" and child.dep_ == "aux":
                    frame.aspect.add("progressive")
            elif child.dep_ == "prep" and " ".join(t.lower_ for t in child.subtree) in modals:
                # "in all likelihood", "without doubt"
                phrase = " ".join(t.lower_ for t in child.subtree)
                frame.modality, frame.modality_tokens = modals[phrase], [child]
            elif child.dep_ == "advmod":
                if word in modals and child.pos_ == "ADV" and word not in ("have", "has", "had"):
                    if frame.modality is None:
                        frame.modality_from_adverb = True
                    frame.modality, frame.modality_tokens = modals[word], frame.modality_tokens + [child]
                elif word in aspects:
                    frame.aspect.add(aspects[word])
                elif word == "longer" and any(c.lower_ == "no" for c in child.children):
                    frame.aspect.add("no_longer")
                    frame.negated = not frame.negated
                    frame.negators.append(child)
    # "is going to open", "is set to open", "is likely to open": the governing word carries it
    if frame.kind in ("noun", "event"):
        # "there will be no increase": the noun's own "no"
        for child in token.children:
            if child.dep_ == "det" and child.lower_ == "no":
                frame.negated = not frame.negated
                frame.negators.append(child)
    frame.tense = tense or "present"


_ENDING_VERBS = {"stop", "cease", "quit", "halt", "discontinue"}


def _inherit(frame: Frame) -> None:
    """What a complement takes from the predicate that governs it."""
    governor = frame.governor
    token = frame.predicate
    if token.dep_ == "pcomp":
        _inherit_through_prepositions(frame)
    if governor is None:
        _inherit_from_noun(frame)
        _inherit_from_copula(frame)
        _inherit_from_modal_word(frame)
        _inherit_from_pseudo_cleft(frame)
        _inherit_from_parenthetical(frame)
        return
    # a missing subject is the governor's ("Japan agreed to cut tariffs")
    if not frame.by_role("agent") and token.dep_ in ("xcomp", "acl", "advcl") and token.tag_ != "VBN":
        for argument in governor.by_role("agent"):
            frame.arguments.append(Argument("agent", argument.head, argument.lemma, argument.entity,
                                            argument.pronoun, argument.quantifier, argument.quantifier_token))
    modals = classes("modals")
    governor_modality = modals.get(governor.predicate.lower_) or modals.get(governor.lemma)
    if governor_modality and _compared_degree(governor.predicate):
        governor_modality = None  # "more likely to be injured": a higher risk, a claim, not a hedge
    intention = classes("intention_verbs").get(governor.lemma)
    if governor.lemma == "mean" and not any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children):
        intention = None  # "won't mean closing depots": what follows from it, not a plan
    if governor.lemma == "think" and token.dep_ == "pcomp":
        intention = "consider"  # "thinking about opening": weighing it, not believing it
    if intention and (token.dep_ in ("advcl", "conj") or (token.dep_ == "relcl" and not _object_complement(token))
                      or (token.tag_ == "VBD" and intention != "certain")):
        # "ordered X to stop, ruling that ...": a clause beside the order, or one with a
        # past tense of its own ("told X that it copied"), is no part of what is intended
        intention = None
    if intention == "directive" and not _object_control(governor.predicate):
        intention = None  # "asked to see a counsellor": a request of one's own, not an instruction
    if governor.lemma in negative_predicates() and not any(t.i == governor.predicate.i for t in frame.negators):
        # (unless the path through a preposition flipped it already: "barred it from taking")
        frame.negated = not frame.negated
        frame.negators.append(governor.predicate)
        if governor.lemma in _ENDING_VERBS and not governor.negated:
            frame.aspect.add("no_longer")  # "stop selling" is "no longer sell"; "won't stop rising" is not
    if governor.negated and (governor.lemma in negative_predicates() or intention or governor_modality
                             or token.dep_ == "xcomp"):
        # "won't stop rising", "did not plan to close": the governor's negation reaches the clause
        frame.negated = not frame.negated
        frame.negators.extend(governor.negators)
    own_is_fact = frame.modality is None or frame.modality == "will"
    if governor_modality and own_is_fact and governor.kind in ("adjective", "verb"):
        # "is likely to", "is able to", "is set to"
        frame.modality, frame.modality_tokens = governor_modality, [governor.predicate]
        frame.modality_from_adverb = False
        if governor_modality == "will":
            frame.tense = "future"
    elif intention and own_is_fact:
        frame.modality, frame.modality_tokens = f"intend:{intention}", [governor.predicate]
        frame.modality_from_adverb = False
    elif frame.modality is None and governor.modality is not None and token.dep_ == "xcomp":
        frame.modality, frame.modality_tokens = governor.modality, governor.modality_tokens
    if frame.tense == "present" and governor.tense != "present" and token.dep_ == "xcomp":
        frame.tense = governor.tense
        frame.tense_inherited = True


def _inherit_from_parenthetical(frame: Frame) -> None:
    """"The blaze started in the kitchen, we think, around 2 a.m.": a belief verb
    set in the clause, with no complement of its own, hedges the clause."""
    token = frame.predicate
    if frame.modality is not None or token.tag_ == "VBD":
        return  # (as a belief verb's past complement: "we think it started" is compared as a fact)
    holders = [token] + ([token.head] if token.head.lemma_ == "be" and token.dep_ in ("advcl", "ccomp") else [])
    for child in (c for holder in holders for c in holder.children):  # ("the kitchen, we think, is where it started")
        if child.dep_ == "parataxis" and classes("intention_verbs").get(child.lemma_.lower()) == "belief" and \
                not any(c.dep_ in ("ccomp", "xcomp") for c in child.children):
            frame.modality, frame.modality_tokens = "intend:belief", [child]
            return


def _inherit_from_pseudo_cleft(frame: Frame) -> None:
    """"What we won't do is open stores": the "do" clause's subject, negation and
    modal are the action's."""
    token = frame.predicate
    head = token.head
    if token.dep_ not in ("acomp", "attr", "ccomp", "xcomp") or head.lemma_ != "be":
        return
    for clause in head.children:
        if clause.dep_ != "csubj" or clause.lemma_ != "do" or not any(c.lower_ == "what" for c in clause.children):
            continue
        for child in clause.children:
            if child.dep_ == "neg" or (child.dep_ == "advmod" and child.lower_ in _NEGATORS):
                frame.negated = not frame.negated
                frame.negators.append(child)
            elif child.dep_ == "aux" and child.tag_ == "MD" and frame.modality is None:
                modality = classes("modals").get(child.lower_)
                if modality:
                    frame.modality, frame.modality_tokens = modality, [child]
                    frame.tense = "future" if modality == "will" else frame.tense
            elif child.dep_ in _SUBJECTS and not frame.by_role("agent"):
                _add(frame, "agent", child)


def _inherit_from_modal_word(frame: Frame) -> None:
    """"a cable costing €2bn and due to be completed by 2031": a modal adjective
    that is no predicate of its own still sets the status of its complement."""
    token = frame.predicate
    if frame.modality not in (None, "will"):
        return
    # the adjective the clause hangs on, or the one right before its "to" (the
    # parser loses the thread in long noun phrases)
    words = [token.head] if token.dep_ == "xcomp" else []
    words += [token.doc[c.i - 1] for c in token.children if c.dep_ == "aux" and c.lower_ == "to" and c.i > 0]
    for word in words:
        modality = classes("modals").get(word.lower_)
        if word.pos_ == "ADJ" and modality and not _compared_degree(word):
            frame.modality, frame.modality_tokens = modality, [word]
            frame.modality_from_adverb = False
            if modality == "will":
                frame.tense = "future"
            return


def _share_coordinated_status(frame: Frame, frames: dict) -> None:
    """"is expected to be finished by 2031 and to cost €2bn", "may rise and then
    fall": the second verb of a coordination, with no subject or modal of its own,
    shares the status of the first."""
    token = frame.predicate
    if token.dep_ != "conj" or frame.modality is not None:
        return
    if any(c.dep_ in _SUBJECTS | _PASSIVE_SUBJECTS or (c.dep_ in ("aux", "auxpass") and c.tag_ not in ("TO", "VB"))
           for c in token.children):
        return  # a clause of its own ("..., when winds are expected to hit")
    first = frames.get(token.head.i)
    if first is None or first.modality is None or first.kind != frame.kind:
        return
    frame.modality, frame.modality_tokens = first.modality, first.modality_tokens
    frame.modality_from_adverb = first.modality_from_adverb
    if first.tense == "future" and frame.tense == "present":
        frame.tense = "future"


def _inherit_from_noun(frame: Frame) -> None:
    """"has no plans to close the plant": a complement of an intention noun takes
    its intention, and the noun's "no" negates it."""
    token = frame.predicate
    noun = token.head
    if token.dep_ not in ("acl", "relcl") or noun.pos_ != "NOUN" or \
            not any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children):
        return  # (an infinitive the parser reads as a relative clause: "no reason to call")
    intentions = classes("intention_verbs")
    from .lexicon import wordnet

    forms = {noun.lemma_.lower()} | wordnet().derivations.get(noun.lemma_.lower(), frozenset())
    intention = next((intentions[f] for f in sorted(forms) if f in intentions), None)
    if intention and frame.modality is None:
        frame.modality, frame.modality_tokens = f"intend:{intention}", [noun]
    for child in noun.children:
        if child.dep_ == "det" and child.lower_ in ("no",):
            frame.negated = not frame.negated
            frame.negators.append(child)


_STANCE_NOUNS = {"favour", "favor", "support", "approval", "agreement"}
_AGAINST_WORDS = {"without", "against", "opposed", "opposition", "instead"}


def _inherit_through_prepositions(frame: Frame) -> None:
    """A clause under a preposition takes the polarity of the path above it:
    "without paying", "against raising", "is not in favour of lowering"."""
    token = frame.predicate
    path = []
    head = token.head
    while head.i != head.head.i and head.pos_ in ("ADP", "NOUN", "ADJ") and len(path) < 6:
        path.append(head)
        head = head.head
    path.append(head)
    words = {t.lower_ for t in path} | {t.lemma_.lower() for t in path}
    if len(path) >= 2 and path[-2].pos_ == "ADP":
        # "is not in favour of lowering": the parser hangs "of" on "is", beside "in favour"
        words |= {g.lemma_.lower() for c in path[-1].children if c.dep_ == "prep" and c is not path[-2]
                  for g in c.children if g.dep_ == "pobj"}
    flips = [t for t in path if t.lower_ in _AGAINST_WORDS or t.lemma_.lower() in negative_predicates()]
    for t in flips:
        frame.negated = not frame.negated
        frame.negators.append(t)
    if words & _STANCE_NOUNS or flips:
        top = path[-1]
        for child in top.children:
            if child.dep_ == "neg":
                frame.negated = not frame.negated
                frame.negators.append(child)


def _intention_of_noun(noun) -> str | None:
    """The intention class of a noun or of the verb it derives from ("expectation" -> belief)."""
    from .lexicon import wordnet

    intentions = classes("intention_verbs")
    lemma = noun.lemma_.lower()
    forms = {lemma} | wordnet().derivations.get(lemma, frozenset())
    return next((intentions[f] for f in sorted(forms) if f in intentions), None)


def _inherit_from_copula(frame: Frame) -> None:
    """"Our expectation is that revenue will grow": the subject noun of "be" sets
    the status of the clause; "is yet to take over": not done yet."""
    token = frame.predicate
    head = token.head
    if token.dep_ == "ccomp" and head.lemma_ == "be":
        for child in head.children:
            if child.dep_ == "nsubj" and child.pos_ == "NOUN":
                intention = _intention_of_noun(child)
                if intention and frame.modality in (None, "will"):
                    frame.modality, frame.modality_tokens = f"intend:{intention}", [child]
    if token.dep_ in ("xcomp", "advcl") and head.lemma_ == "be" and any(
            c.lower_ == "yet" for c in head.children) and frame.modality is None:
        frame.modality = "not_yet"
        frame.modality_tokens = [c for c in head.children if c.lower_ == "yet"]


def _canonical(entity: str) -> str:
    from ..metrics.anchors import _alias_index

    return _alias_index().get(entity, _alias_index().get(entity.replace("the ", "", 1), entity)).lower()


def same_entity(a: str, b: str) -> bool:
    """Two mentions of one name: equal, aliases ("U.S." / "United States"), or one
    contained in the other ("Biden" / "Joe Biden")."""
    if a == b:
        return True
    a, b = _canonical(a), _canonical(b)
    if a == b:
        return True
    a_words, b_words = set(a.split()), set(b.split())
    # "Biden" and "Joe Biden"; "the U.S." and "U.S."
    return bool(a_words & b_words) and (a_words <= b_words or b_words <= a_words)
