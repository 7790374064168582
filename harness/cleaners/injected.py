"""``injected``: remove spam dropped into the text.

Spam is found by what it does to the sentence, not by a list of phrases.
Each kind is removed only on strong evidence, never inside quotes or after a
cue word ("the German word ..."), and what is left is spaced normally (one
space goes with the span).

``foreign-span:<lang>``
    A run of words in another language inside an English sentence (SEO link
    text such as ``Rusya kadınlar``, also right after a place name, whose name
    stays). Candidates are runs of words that English does not use: rare in
    English (wordfreq Zipf frequency below ``max_english_zipf``), unknown to
    the cleaners' English language model (and not common in English either),
    or written in another script. A run is removed only when:

    * the rest of the passage is identified as English, and the run has
      words before it in its sentence and is less than half the passage;
    * one of py3langid's five likeliest languages for the run (not English)
      has every word of it common (Zipf >= ``min_foreign_zipf``) and clearly
      more common there than in English; words at the edges of the run that
      are not (a name next to the spam: "Tbilisi") stay in the text;
    * py3langid is confident (>= ``min_confidence``), or the run has at least
      two words and the English model knows none of them;
    * a run whose words are all capitalised (a title-cased keyword, or a
      name: "Volodymyr Zelenskyy") needs two or more words, every one of them
      common in that language, and py3langid's confidence.

``keyword``
    An English keyword phrase of dating spam: an adjective of the
    ``keyword_modifiers`` class, a nationality and a noun of the
    ``keyword_nouns`` class ("lonely Filipino women"), inside a sentence,
    where the sentence does not need it (see *language model* below: the
    score may not fall below ``keyword_margin``, nor below 0 after a
    determiner or a number, which make the phrase part of the sentence), and
    no other word of the passage is of the ``keyword_nouns`` class or of the
    ``dating`` topic (a text about dating or about such people keeps it).

``filler``
    An English clause of 3 to 10 lower-case words dropped between two words
    of a sentence ("... peace trust me you will not regret it and stability
    ..."), found in any of three ways:

    * it speaks to the reader (a word of the ``address_words`` class: "you",
      "here", "click"...), and the sentence reads clearly better without it
      and the clause reads like a sentence of its own (score at least
      ``filler_margin``), and spaCy reads it as a complete clause (see the
      second way; spun padding that holds a "you" is none: "also eg to help
      you", "additionally security services in response so you can");
      for every way, a clause of purpose or result ("so" and a subject: "so
      you can work with them") belongs to the sentence before it;
    * any clause of 4 words or more, no name among them, with a clause score
      (:meth:`InjectedCleaner._clause_score`: the same language-model parts
      plus how common its words are: inserted clauses are made of the
      commonest words of English, the clauses of badly spun text are not) of
      at least ``clause_margin``, that spaCy reads on its own as a complete
      clause (a subject and a finite verb, or an imperative; no last word
      that needs more after it: "the", "to", "and", "for the new") and does
      not attach to the sentence as a relative clause of the word before it
      ("the report [we published last week] shows"; a clause without a gap,
      whose verb has its object or complement, is none: "the teachers [the
      whole family will enjoy it] and");
    * the same clause on a lower score (at least ``seam_margin``) where it
      breaks a bond of the sentence around it (:meth:`InjectedCleaner._breaks_bond`):
      in spaCy's parse of the sentence without it, the word before it waits
      for the word after it (a determiner, possessive, adjective, number,
      compound, auxiliary or subject whose head is that word or lies beyond
      it: "the [...] world", "to [...] change", "routes [...] stay"), or the
      word after it is the object, particle, coordinator, adjective or adverb
      of the word before it ("by", "down", "of [...] them", "teachers [...]
      and students", "the step [...] necessary", "bring them [...] home"). Nothing of a sentence may stand there but
      words of the same phrase, so a complete clause there is an insertion;
      the word before it must not belong to the clause in the parse of the
      sentence as it stands ("the [people are ...]" is one phrase) nor
      introduce a clause ("and", "that"), the clause must not open with a
      wh-word or a subordinator (it may be an argument: "of [how it
      works]") and must open the way a sentence does (with its subject, or
      the verb of an imperative, after any conjunctions and adverbs: not
      "number [of people who say they ...] has"), and "not" binds too
      loosely to count.

    ``clause_margin`` (8.1) is the highest score of a clause that spaCy
    accepts in 89 clean paragraphs, the briefing and 477 spun copies of
    them (rate 0.5 with the distorter's tables, 0.15 with a WordNet
    spinner, seed 23; the highest is 7.65) plus a margin of about 0.5;
    ``seam_margin`` (5.7) is the same for the clauses of that set that break
    a bond (the highest is 5.14). The weights and the margins were chosen on
    filler clauses written for tuning (``python bench/dev_fillers.py``
    prints these figures), not on the benchmark's held-out ones.
    Spans that hold a spinner-style form (``spin_candidates.yaml``) are left
    to the ``spin`` cleaner (for the second and third ways: a form at either
    end of the span, or of three words or more).

``offtopic:<group>``
    An English keyword string from ``harness/data/cleaner_injected.yaml``
    ("payday loans") inside a sentence of a passage in which no other word
    belongs to that topic.

*Language model.* The structural detectors score a span S between the words
L and R with the cleaners' trigram model (:mod:`.langmodel`, SLOR): how well
the sentence reads at L-R without S, plus how well S reads as a text of its
own (its first word after a sentence start, a sentence end after its last),
minus how well S fits at its seams L-S and S-R. Without the ``pocketsphinx``
package these two detectors are skipped; without spaCy (``harness.nlp``) only the
first way of finding a filler clause is left.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from pathlib import Path

from .base import CleanResult, apply_replacements
from .langmodel import BOS, EOS, get_model, model_id
from .lexicon import data_path, read_data
from .spans import fixpoint
from .spin_lm import _sentences
from .thesaurus import spinner_table
from ..errors import ConfigError

CODE_VERSION = "2.9"
#: weights of own, seams, inner and commonness in :meth:`InjectedCleaner._clause_score`
CLAUSE_WEIGHTS = (0.5, -0.5, 1.5, 3.0)
_DETERMINERS = frozenset("""the a an this that these those some any many several most all both each every no
    few two three four five six seven eight nine ten dozens hundreds thousands millions his her their our your my
    its whose""".split())
_DEMONYM_SUFFIX = re.compile(r"[A-Z][a-z]+(?:an|ian|ese|ish|i|ic)$")
#: words after which a verb in the base form is not an imperative ("to go", "will go", "help us go", "and go")
_BARE_INFINITIVE_BEFORE = frozenset("""to can could will would shall should may might must do does did and or not
    let help make us me them you him her""".split())
#: a word before the span that waits for its head at or after the word after the span
_BOND_BEFORE = frozenset("det poss amod nummod compound nmod quantmod case aux auxpass nsubj nsubjpass".split())
#: the word after the span as a dependent of the word before it
_BOND_AFTER = frozenset("pobj dobj dative prt agent attr acomp oprd xcomp cc amod advmod".split())
#: what completes a verb: after one of them a clause has no gap for a noun before it to fill
_COMPLEMENTS = frozenset("dobj attr acomp oprd dative".split())
#: words that open a clause made to depend on another word ("to own [whether it ...]", "of [how it works]")
_SUBORDINATORS = frozenset("""what which who whom whose where when why how whether that if because although though
    unless until while whereas since as once""".split())
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_GAP_INSIDE_RUN = re.compile(r"[ \t]+|[ \t]*-[ \t]*")
_SENTENCE_BREAK = re.compile(r"[.!?;:\n]")
_OPENERS = "\"'\u201c\u2018\u00ab\u201e*_(["
_CLOSERS = "\"'\u201d\u2019\u00bb*_)]"


@lru_cache(maxsize=4096)
def _parse(span: str):
    """spaCy's parse of a short span on its own (the pipeline loads on first use)."""
    from ..nlp import pipeline

    return pipeline()(span)


@lru_cache(maxsize=1)
def _spacy_available() -> bool:
    """Whether spaCy and its English model load (without them the checks that
    need a parse are skipped, and only the first way of finding a filler is left)."""
    try:
        _parse("it is")
    except Exception:
        return False
    return True


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


def ranked_languages(text: str, top: int = 5) -> list[tuple[str, float]]:
    """py3langid's ``top`` likeliest languages with their probabilities."""
    return [(str(lang), float(prob)) for lang, prob in _language_identifier().rank(text)[:top]]


def _other_script(word: str) -> bool:
    """A word written in letters outside the Latin alphabets (Cyrillic, Greek, ...)."""
    return any(c.isalpha() for c in word) and not _LATIN_LETTER.search(word)


class _TextIndex:
    """What the cleaner asks of one text many times, found once (each question
    then costs a bisection): its words, and where its sentence breaks and
    double quotes are. Copying or re-tokenising the text per candidate span
    made a long text with many candidates quadratic."""

    def __init__(self, text: str):
        self.text = text
        self._tokens: list[tuple[int, int, str]] | None = None
        self._topic_counts: dict[frozenset, list[int]] = {}
        self._breaks: tuple[list[int], list[int], list[int]] | None = None

    @property
    def tokens(self) -> list[tuple[int, int, str]]:
        if self._tokens is None:
            self._tokens = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(self.text)]
            self._starts = [t[0] for t in self._tokens]
            self._ends = [t[1] for t in self._tokens]
        return self._tokens

    def _counts(self, topic: frozenset) -> list[int]:
        """``counts[i]``: how many of the first ``i`` words are in ``topic``."""
        counts = self._topic_counts.get(topic)
        if counts is None:
            counts = [0]
            for _, _, lower in self.tokens:
                counts.append(counts[-1] + (lower in topic))
            self._topic_counts[topic] = counts
        return counts

    def topic_outside(self, start: int, end: int, topic: frozenset) -> bool:
        """Whether ``text[:start] + " " + text[end:]`` has a word in ``topic``:
        the words wholly before ``start`` or after ``end``, counted once, and
        what is left of a word cut by either end, tokenised again."""
        tokens, counts = self.tokens, self._counts(topic)
        before = bisect.bisect_right(self._ends, start)  # words ending at or before start
        after = bisect.bisect_left(self._starts, end)  # words starting at or after end
        if counts[before] or counts[-1] - counts[after]:
            return True
        pieces = []
        if before < len(tokens) and tokens[before][0] < start:
            pieces.append(self.text[tokens[before][0]:start])
        if after > 0 and tokens[after - 1][1] > end:
            pieces.append(self.text[end:tokens[after - 1][1]])
        return any(w.lower() in topic for piece in pieces for w in _WORD.findall(piece))

    def quoted(self, start: int, end: int) -> bool:
        """:meth:`InjectedCleaner._quoted`: right between an opener and a closer,
        or after an odd number of double quotes in its sentence."""
        text = self.text
        b = start
        while b > 0 and text[b - 1].isspace():
            b -= 1
        a = end
        while a < len(text) and text[a].isspace():
            a += 1
        if b > 0 and text[b - 1] in _OPENERS and a < len(text) and text[a] in _CLOSERS:
            return True
        if self._breaks is None:
            self._breaks = ([m.start() for m in re.finditer(r"\. ", text)],
                            [m.start() for m in re.finditer("\n", text)],
                            [m.start() for m in re.finditer('"', text)])
        stops, newlines, quotes = self._breaks
        k = bisect.bisect_right(stops, b - 2) - 1  # a ". " wholly before b
        j = bisect.bisect_left(newlines, b) - 1
        sentence_start = max(stops[k] if k >= 0 else -1, newlines[j] if j >= 0 else -1)
        count = bisect.bisect_left(quotes, b) - bisect.bisect_left(quotes, sentence_start + 1)
        return count % 2 == 1


@lru_cache(maxsize=4)
def _index(text: str) -> _TextIndex:
    """The index of ``text`` (the last few texts are kept: the fixpoint asks
    about the same text from several detectors)."""
    return _TextIndex(text)


class _Taken:
    """Disjoint spans added in any order, with an overlap question by bisection."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        k = bisect.bisect_left(self.starts, end) - 1  # the last span starting before end
        return k >= 0 and start < self.ends[k]

    def add(self, start: int, end: int) -> None:
        k = bisect.bisect_left(self.starts, start)
        self.starts.insert(k, start)
        self.ends.insert(k, end)


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
        structural: bool = True,
        keyword_margin: float = -4.0,
        filler_margin: float = 3.5,
        clause_margin: float = 8.1,
        seam_margin: float = 5.7,
    ):
        path = Path(data) if data is not None else data_path("cleaner_injected.yaml")
        raw, sha = read_data(path)
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the injected-spam data is a mapping")
        self.min_confidence = float(min_confidence)
        self.max_english_zipf = float(max_english_zipf)
        self.min_foreign_zipf = float(min_foreign_zipf)
        self.offtopic = bool(offtopic)
        self.structural = bool(structural)
        self.keyword_margin = float(keyword_margin)
        self.filler_margin = float(filler_margin)
        self.clause_margin = float(clause_margin)
        self.seam_margin = float(seam_margin)
        self.cue_words = frozenset(str(w).lower() for w in raw.get("cue_words") or ())
        self.address_words = frozenset(str(w).lower() for w in raw.get("address_words") or ())
        self.keyword_modifiers = frozenset(str(w).lower() for w in raw.get("keyword_modifiers") or ())
        self.keyword_nouns = frozenset(str(w).lower() for w in raw.get("keyword_nouns") or ())
        dating = (raw.get("offtopic_groups") or {}).get("dating") or {}
        self.keyword_topic = self.keyword_nouns | frozenset(str(w).lower() for w in dating.get("topic") or ())
        self.nationalities = frozenset(str(w) for w in raw.get("nationality_adjectives") or ())
        self.groups: dict[str, tuple[re.Pattern, frozenset[str]]] = {}
        for group, spec in (raw.get("offtopic_groups") or {}).items():
            phrases = sorted((str(p) for p in spec.get("phrases") or ()), key=len, reverse=True)
            if not phrases:
                continue
            pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(p) for p in phrases) + r")(?![\w-])",
                                 re.IGNORECASE)
            self.groups[str(group)] = (pattern, frozenset(str(w).lower() for w in spec.get("topic") or ()))
        settings = (self.min_confidence, self.max_english_zipf, self.min_foreign_zipf, self.offtopic,
                    self.structural, self.keyword_margin, self.filler_margin, self.clause_margin,
                    self.seam_margin)
        default = (0.75, 2.0, 2.5, True, True, -4.0, 3.5, 8.1, 5.7)
        self.version = f"{CODE_VERSION}+{sha[:10]}" + ("" if settings == default else "-" + "-".join(map(str, settings)))
        if self.structural:
            self.version += f"+{model_id()}"

    # -- helpers -----------------------------------------------------------------
    @staticmethod
    def _inside_sentence(text: str, start: int, end: int) -> bool:
        """Words on both sides of ``[start, end)`` within the same sentence."""
        left = _SENTENCE_BREAK.split(text[max(0, start - 200):start])[-1]
        right = _SENTENCE_BREAK.split(text[end:end + 200])[0]
        return bool(_WORD.search(left)) and bool(_WORD.search(right))

    @staticmethod
    def _quoted(text: str, start: int, end: int) -> bool:
        """Right between an opening and a closing quote (or bracket), or after an
        odd number of double quotes in its sentence (see :meth:`_TextIndex.quoted`)."""
        return _index(text).quoted(start, end)

    def _cued(self, text: str, start: int) -> bool:
        """Announced by a cue word right before it ("the German word X", "so-called
        X"), or with one word in between ("known as X", "called the X")."""
        previous = [w.lower() for w in _WORD.findall(text[max(0, start - 60):start])][-2:]
        if previous and previous[-1] in self.cue_words:
            return True
        return len(previous) == 2 and previous[0] in self.cue_words and previous[1] in ("as", "the", "a", "an", "it")

    @staticmethod
    def _removal(text: str, start: int, end: int) -> tuple[int, int]:
        """The span to delete: the words plus one neighbouring space."""
        if start > 0 and text[start - 1] == " ":
            return start - 1, end
        if end < len(text) and text[end] == " ":
            return start, end + 1
        return start, end

    # -- foreign-language spans ------------------------------------------------------
    def _un_english(self, word: str) -> bool:
        """A word English does not use: rare in English, unknown to the English
        model (and not common in English either), or in another script."""
        if len(word) < 2 and not _other_script(word):
            return False
        lower = word.lower()
        english = zipf(lower, "en")
        if english < self.max_english_zipf or _other_script(word):
            return True
        model = get_model()
        return model is not None and english < 3.0 and not model.known(lower.replace("\u2019", "'"))

    def _candidate_runs(self, text: str, words: list[re.Match]) -> list[list[re.Match]]:
        runs: list[list[re.Match]] = []
        current: list[re.Match] = []
        for word in words:
            odd = self._un_english(word.group())
            if odd and current and _GAP_INSIDE_RUN.fullmatch(text[current[-1].end():word.start()]):
                current.append(word)
                continue
            if current:
                runs.append(current)
            current = [word] if odd else []
        if current:
            runs.append(current)
        return runs

    def _foreign_core(self, tokens: list[str], lang: str) -> tuple[int, int] | None:
        """The part of a run that is common in ``lang`` (indexes into ``tokens``):
        unsupported words may only stand at the edges, and only if capitalised
        (a name next to the spam stays)."""
        supported = [zipf(t.lower(), lang) >= self.min_foreign_zipf
                     and zipf(t.lower(), lang) >= zipf(t.lower(), "en") + 1.0 for t in tokens]
        first, last = 0, len(tokens)
        while first < last and not supported[first] and tokens[first][:1].isupper():
            first += 1
        while last > first and not supported[last - 1] and tokens[last - 1][:1].isupper():
            last -= 1
        if first == last or not all(supported[first:last]):
            return None
        return first, last

    def _foreign_spans(self, text: str) -> list[tuple[int, int, str, str]]:
        words = list(_WORD.finditer(text))
        if len(words) < 4:
            return []
        runs = self._candidate_runs(text, words)
        if not runs:
            return []
        # the language of the passage without the suspects (a few Cyrillic words
        # would otherwise outweigh an English sentence)
        rest, cursor = [], 0
        for run in runs:
            rest.append(text[cursor:run[0].start()])
            cursor = run[-1].end()
        rest.append(text[cursor:])
        host, _ = identify(" ".join(rest))
        if host != "en":
            return []
        model = get_model()
        removals: list[tuple[int, int, str, str]] = []
        for run in runs:
            tokens = [w.group() for w in run]
            if 2 * len(tokens) >= len(words):
                continue
            for lang, prob in ranked_languages(text[run[0].start():run[-1].end()]):
                if lang == "en" or lang not in _wordfreq_languages():
                    continue
                core = self._foreign_core(tokens, lang)
                if core is None:
                    continue
                part = run[core[0]:core[1]]
                core_tokens = tokens[core[0]:core[1]]
                start, end = part[0].start(), part[-1].end()
                unknown = model is not None and not any(model.known(t.lower()) for t in core_tokens)
                if prob < self.min_confidence and not (len(core_tokens) >= 2 and unknown):
                    continue
                if all(t[:1].isupper() for t in core_tokens) and (
                        len(core_tokens) < 2 or prob < self.min_confidence
                        or any(zipf(t.lower(), lang) < 3.0 for t in core_tokens)):
                    continue  # names, places, titles
                if not self._words_before(text, start) or self._quoted(text, start, end) or self._cued(text, start):
                    break
                cut_start, cut_end = self._removal(text, start, end)
                removals.append((cut_start, cut_end, "", f"foreign-span:{lang}"))
                break
        return removals

    @staticmethod
    def _words_before(text: str, start: int) -> bool:
        left = _SENTENCE_BREAK.split(text[max(0, start - 200):start])[-1]
        return bool(_WORD.search(left))

    # -- English insertions (language model) -------------------------------------------
    def _nationality(self, word: str) -> bool:
        return word in self.nationalities or bool(_DEMONYM_SUFFIX.match(word)) and word.lower() != word

    def _modifier(self, word: str) -> bool:
        """The adjective of a keyword phrase: of the ``keyword_modifiers`` class."""
        return word.islower() and word in self.keyword_modifiers

    @staticmethod
    def _span_parts(model, words: list[str], i: int, j: int) -> tuple[float, float, float, float]:
        """SLOR parts of the reading without ``words[i:j]``: ``host`` (the two
        words after the span, read right after the words before it), ``own``
        (the span's first word after a sentence start and a sentence end after
        its last word), ``seams`` (the span's first word and the two words
        after it, where it stands) and ``inner`` (mean SLOR inside the span)."""
        host = model.slor(words[:i] + words[j:], i, i + 2)
        alone = [BOS] + words[i:j] + [EOS]
        own = model.slor(alone, 1, 2) + model.slor(alone, len(alone) - 1, len(alone))
        seams = model.slor(words, i, i + 1) + model.slor(words, j, j + 2)
        inner = model.slor(alone, 2, len(alone) - 1) / max(1, len(alone) - 3)
        return host, own, seams, inner

    def _span_score(self, model, words: list[str], i: int, j: int) -> tuple[float, float]:
        """``(gain, inner)``: how much better the sentence reads without the span
        and the span on its own than the span where it stands."""
        host, own, seams, inner = self._span_parts(model, words, i, j)
        return host + own - seams, inner

    def _filler_score(self, model, words: list[str], i: int, j: int) -> float:
        """The filler-clause score: the parts weighted as they best separated
        inserted clauses from every span of 89 clean and 75 spun paragraphs
        (bench/bench_cleaners.py), where no span scored above 5.2; with the
        reader-address condition, no span of 424 clean and spun passages
        reaches the default ``filler_margin`` of 3.5."""
        host, own, seams, inner = self._span_parts(model, words, i, j)
        return host + 1.5 * own - 0.5 * seams + 0.5 * inner

    @staticmethod
    def _commonness(span_words: list[str]) -> float:
        """Mean wordfreq Zipf frequency (English) of the span's words."""
        return sum(zipf(w, "en") for w in span_words) / max(1, len(span_words))

    def _clause_score(self, model, words: list[str], i: int, j: int) -> float:
        """The score of a filler clause that need not speak to the reader (see
        ``filler`` above)."""
        host, own, seams, inner = self._span_parts(model, words, i, j)
        common = self._commonness(words[i:j])
        return (host + CLAUSE_WEIGHTS[0] * own + CLAUSE_WEIGHTS[1] * seams + CLAUSE_WEIGHTS[2] * inner
                + CLAUSE_WEIGHTS[3] * (common - 6.0))

    @staticmethod
    def _spun(span_words: list[str], table, longest: int, strict: bool = True) -> bool:
        """A span that holds a spinner-style form (``spin_candidates.yaml``):
        spun text, not spam. Not ``strict`` (a clause checked by spaCy): only a
        form at either end, where it would explain the broken seams, or one of
        three words or more anywhere ("so you're able to"); a shorter form
        inside the clause ("you will", "try") is common English and says
        nothing about its seams."""
        n = len(span_words)
        for a in range(n):
            for b in range(a + 1, min(n, a + longest) + 1):
                if " ".join(span_words[a:b]) in table and (strict or a == 0 or b == n or b - a >= 3):
                    return True
        return False

    @staticmethod
    def _relative_clause(sentence: str, start: int, end: int) -> bool:
        """Whether spaCy parses ``sentence[start:end]`` as one relative clause of
        the word right before it ("the report [we published last week] shows"):
        part of the sentence, not spam."""
        try:
            doc = _parse(sentence)
        except Exception:
            return True
        inside = [t for t in doc if start <= t.idx < end]
        roots = [t for t in inside if not start <= t.head.idx < end]
        if not (len(roots) == 1 and bool(inside) and roots[0].dep_ in ("relcl", "acl")
                and roots[0].head.i == inside[0].i - 1):
            return False
        return not InjectedCleaner._complete(sentence[start:end])

    @staticmethod
    def _complete(span: str) -> bool:
        """Whether ``span``, parsed on its own, has no gap for a noun before it
        to fill: its main verb (the last of a chain of verbs that complete one
        another: "need to know") has its object or complement, and none of
        its prepositions is stranded ("this is something everyone should
        see", "the whole family will enjoy it"). A relative clause without a
        relative pronoun always has one ("the report we published [ ] last
        week", "the plan the council approved [ ]", "the city we live in [ ]",
        "everything you need to know [ ] about the rules")."""
        try:
            doc = _parse(span)
        except Exception:
            return False
        node = next((t for t in doc if t.dep_ == "ROOT"), None)
        # down the chain of verbs that complete one another ("need to know"), to the last
        while node is not None:
            inner = next((c for c in node.children if c.dep_ in ("xcomp", "ccomp")), None)
            if inner is None:
                break
            node = inner
        if node is None or not any(c.dep_ in _COMPLEMENTS for c in node.children):
            return False
        return not any(t.dep_ == "prep" and not any(c.dep_ in ("pobj", "pcomp") for c in t.children) for t in doc)

    @staticmethod
    def _reads_as_clause(span: str, left: str, lenient: bool = False) -> bool:
        """Whether spaCy reads ``span`` on its own as a complete clause: a subject
        and a finite verb, or a verb in the base form with no subject and only
        adverbs, conjunctions or "do not" before it (an imperative, not after a
        word that takes a bare infinitive: "to", a modal, "help us"),
        and no last word that needs something after it (a determiner or an
        article, a conjunction, an auxiliary, "to", an adjective or adverb
        after an article: "the new", "a very"; a preposition that wants an
        object, unless a wh-word strands it: "what more could you ask for").
        ``lenient`` (a span that speaks to the reader) also takes a first word
        that spaCy tags as a noun but gives an object for an imperative verb.
        Without spaCy, no span does."""
        if span.rsplit(None, 1)[-1].lower() in ("the", "a", "an"):
            return False  # answered without spaCy, whose import costs a second
        try:
            doc = _parse(span)
        except Exception:  # spaCy or its English model not installed: no evidence
            return False
        if not len(doc):
            return False
        subject = any(t.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") for t in doc)
        finite = any(t.tag_ in ("VBZ", "VBP", "VBD", "MD") for t in doc)
        # an imperative: a verb in the base form with no subject, first or after
        # adverbs, conjunctions and "do not" ("so do not wait", "why not give it a go")
        root = next((t for t in doc if t.dep_ == "ROOT"), doc[0])
        before_root = doc[:root.i]
        # ``lenient``: spaCy tags an imperative with an object that opens a span
        # as a noun ("download free movies": ROOT "download" with object "movies")
        verb = root.tag_ == "VB" or (lenient and root.pos_ == "NOUN" and any(c.dep_ == "dobj" for c in root.children))
        imperative = (verb and not subject and left not in _BARE_INFINITIVE_BEFORE
                      and all(t.pos_ in ("ADV", "CCONJ", "PART", "SCONJ") or t.lower_ == "do" for t in before_root)
                      and not any(t.tag_ == "TO" for t in before_root))
        last = doc[-1]
        complete = (last.tag_ == "WRB" or last.pos_ not in ("DET", "CCONJ", "SCONJ", "AUX", "PART")) \
            and last.tag_ not in ("PRP$", "TO", "WDT") and last.lower_ not in ("the", "a", "an") \
            and not (last.tag_ in ("JJ", "RB") and any(c.lower_ in ("the", "a", "an") for c in last.children)) \
            and not (last.pos_ == "ADP" and last.dep_ == "prep" and not any(t.tag_ in ("WP", "WDT", "WRB") for t in doc))
        return ((subject and finite) or imperative) and complete

    @staticmethod
    def _result_clause(span: str) -> bool:
        """Whether ``span`` is a clause of purpose or result: "so" and a clause
        with its own subject ("so you can work with them", "so we are ready"),
        which the sentence before it governs: part of the sentence, not spam
        (and the spinner's padding of "to": "so you can"). "So" before an
        imperative ("so do not wait any longer") joins sentences and counts
        for nothing."""
        if span.split(None, 1)[0].lower() != "so":
            return False
        try:
            doc = _parse(span)
        except Exception:
            return False
        return any(t.dep_ in ("nsubj", "nsubjpass", "expl") for t in doc)

    @staticmethod
    def _opens_as_clause(span: str) -> bool:
        """Whether ``span`` opens the way a sentence does: after conjunctions,
        adverbs and interjections ("and", "so why not"), its first word is its
        subject or a word of the subject's phrase ("the whole family will"),
        or the verb of an imperative ("believe me it is ..."). A span that
        opens with a preposition or an object ("of people who say they ...")
        is a phrase of the sentence around it even if a clause follows."""
        try:
            doc = _parse(span)
        except Exception:
            return False
        k = 0
        while k < len(doc) and doc[k].pos_ in ("CCONJ", "ADV", "INTJ", "PART") and doc[k].tag_ != "TO":
            k += 1
        if k == len(doc):
            return False
        node = doc[k]
        while node.head.i != node.i and node.dep_ not in ("nsubj", "nsubjpass", "expl"):
            node = node.head
        if node.dep_ in ("nsubj", "nsubjpass", "expl"):
            return node.head.dep_ == "ROOT"
        return doc[k].dep_ == "ROOT" and doc[k].tag_ == "VB" \
            and not any(t.dep_ in ("nsubj", "nsubjpass", "expl") for t in doc)

    @staticmethod
    def _breaks_bond(sentence: str, start: int, end: int) -> bool:
        """Whether ``sentence[start:end]`` stands between two words that spaCy,
        reading the sentence without it, binds so closely that only words of
        the same phrase may come between them (see ``filler`` above): the word
        before it a determiner, possessive, adjective, number, compound,
        auxiliary or subject whose head is the word after it or lies beyond
        it, or the word after it an object or particle of the word before it.
        A span that opens with a wh-word or a subordinator may be an argument
        of the word before it ("of [how it works]", "own [whether it ...] up")
        and never counts; nor does one whose word before attaches into it in
        the sentence as it stands, or introduces a clause (a conjunction, a
        subordinator: "shows that [the number of people ...] has grown")."""
        cut = len(sentence[:start].rstrip())
        if not cut or end >= len(sentence) or sentence[start:end].split()[0].lower() in _SUBORDINATORS:
            return False  # a subordinate or wh-clause may be an argument: "own [whether it ...] up"
        if not InjectedCleaner._opens_as_clause(sentence[start:end]):
            return False  # "number [of people who say they ...] has risen": a phrase of the noun before
        try:
            without = _parse(sentence[:cut] + " " + sentence[end:].lstrip())
            whole = _parse(sentence)
        except Exception:
            return False
        left = next((t for t in without if t.idx + len(t) == cut), None)
        right = next((t for t in without if t.idx == cut + 1), None)
        if left is None or right is None or left.lower_ == "not":
            return False
        here = next((t for t in whole if t.idx + len(t) == cut), None)
        if here is None or start <= here.head.idx < end:
            return False  # the word before belongs to the span's phrase
        if here.lower_ in _SUBORDINATORS or here.pos_ in ("CCONJ", "SCONJ"):
            return False  # a word that introduces a clause: "shows that [the number ...] has grown"
        if left.dep_ in _BOND_BEFORE and left.head.i >= right.i:
            return True
        return right.head.i == left.i and right.dep_ in _BOND_AFTER

    def _filler_candidates(self, model, text: str, run, words: list[str], spaced: list[bool], known: list[bool]):
        """``(i, j)`` (indexes into ``words``) of every span that may be a filler
        clause: 3 to 10 lower-case known words between two words, the word
        before it known and spaced, the word after it (if any) too."""
        n = len(run)
        for i in range(1, n):
            if not spaced[i - 1] or not known[i - 1]:
                continue
            for length in range(3, 11):
                j = i + length
                if j > n or not all(spaced[i:j - 1]) or not run[j - 1].text.islower():
                    break
                if not run[j - 1].text.replace("'", "").replace("\u2019", "").isalpha() or not known[j - 1]:
                    break
                if not run[i].text.islower():
                    break
                if j < n and (not spaced[j - 1] or not known[j]):
                    continue
                yield i + 1, j + 1

    def _insertion_candidates(self, text: str) -> list[tuple[float, int, int, str]]:
        """``(score, start, end, kind)`` of every keyword phrase and filler clause
        found, overlapping ones included."""
        model = get_model()
        if model is None:
            return []
        table = spinner_table()
        longest = max((len(k.split()) for k in table), default=1)
        lower_text = text.lower()
        found: list[tuple[float, int, int, str]] = []
        clauses: list[tuple[float, int, int, str]] = []
        addressed: list[tuple[float, int, int, str]] = []
        for run in _sentences(text):
            words = [BOS] + [t.lower for t in run] + [EOS]
            n = len(run)
            spaced = [text[run[k].end:run[k + 1].start] == " " for k in range(n - 1)]
            known = [model.known(t.lower) for t in run]
            # keyword phrases: [adjective]{0,2} Nationality noun
            for k in range(1, n - 1):
                if not (self._nationality(run[k].text) and run[k + 1].lower in self.keyword_nouns and spaced[k]):
                    continue
                rest = lower_text[:run[k - 1].start] + " " + lower_text[run[k + 1].end:]
                if set(_WORD.findall(rest)) & self.keyword_topic:
                    continue  # the passage is about them, or about dating
                first = k - 1
                if first < 1 or not spaced[first - 1] or not spaced[first] or not self._modifier(run[first].text):
                    continue
                gain = self._span_score(model, words, first + 1, k + 3)[0]
                before = run[first - 1].lower
                introduced = before in _DETERMINERS or run[first - 1].text.isdigit()
                # "the young Japanese girls", "400 young ...": a determiner or a number makes the
                # phrase part of the sentence, unless the sentence reads better without it
                if gain < (max(0.0, self.keyword_margin) if introduced else self.keyword_margin):
                    continue
                found.append((gain + 100.0, run[first].start, run[k + 1].end, "keyword"))
            # filler clauses: 3-10 lower-case known words between two words
            for i, j in self._filler_candidates(model, text, run, words, spaced, known):
                span_words = words[i:j]
                # a clause that speaks to the reader ("you", "click", ...)
                if self.address_words.intersection(span_words):
                    gain = self._filler_score(model, words, i, j)
                    if gain >= self.filler_margin and not self._spun(span_words, table, longest):
                        addressed.append((gain, run[i - 1].start, run[j - 2].end, words[i - 1]))
                        continue
                # any clause of four words or more, checked by spaCy below
                if j - i < 4 or not all(t.text.islower() for t in run[i - 1:j - 1]):
                    continue
                score = self._clause_score(model, words, i, j)
                if score >= min(self.clause_margin, self.seam_margin) \
                        and not self._spun(span_words, table, longest, strict=False):
                    clauses.append((score, run[i - 1].start, run[j - 2].end, words[i - 1], run[0].start, run[-1].end))
        # a span that speaks to the reader must still be a clause: spun padding
        # with "you" in it ("also eg to help you", "so you can") is not one
        parsing = bool(addressed) and _spacy_available()
        found += [(score, start, end, "filler") for score, start, end, left in addressed
                  if not parsing or (self._reads_as_clause(text[start:end], left, lenient=True)
                                     and not self._result_clause(text[start:end]))]
        found += [(score, start, end, "filler") for score, start, end, left, first, last in clauses
                  if self._reads_as_clause(text[start:end], left) and not self._result_clause(text[start:end])
                  and not self._relative_clause(text[first:last], start - first, end - first)
                  and (score >= self.clause_margin
                       or self._breaks_bond(text[first:last], start - first, end - first))]
        return found

    def _insertions(self, text: str) -> list[tuple[int, int, str, str]]:
        found = self._insertion_candidates(text)
        removals: list[tuple[int, int, str, str]] = []
        taken = _Taken()
        for _gain, start, end, kind in sorted(found, key=lambda f: -f[0]):
            if taken.overlaps(start, end):
                continue
            if self._quoted(text, start, end) or self._cued(text, start):
                continue
            taken.add(start, end)
            cut_start, cut_end = self._removal(text, start, end)
            removals.append((cut_start, cut_end, "", kind))
        return removals

    def _offtopic_spans(self, text: str) -> list[tuple[int, int, str, str]]:
        removals: list[tuple[int, int, str, str]] = []
        for group, (pattern, topic) in self.groups.items():
            for match in pattern.finditer(text):
                start, end = match.span()
                # a text about the topic keeps its words (the rest of the text names the topic)
                if _index(text).topic_outside(start, end, topic):
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
        if self.structural:
            removals += self._insertions(text)
        return apply_replacements(text, removals)

    def clean(self, text: str) -> CleanResult:
        return fixpoint(text, self._step)
