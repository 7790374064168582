"""``spin``: restore the wording that synonym-spinning tools replace.

The rules live in a data file (``harness/data/spin_lexicon.yaml``; its header
documents the format): each entry is one spinner substitution, spun form ->
original, with the context in which the spun form cannot be a real use, and
an example. *Signature* entries repair forms that are ungrammatical where they
match ("and you may to drive", "You.S."). *Gated* entries repair forms that are
also good English ("individuals", "otherwise", "couples") and run only on a
passage that shows it was spun: at least ``min_signatures`` signatures, or
spun-looking matches of at least ``min_gated_rules`` different gated entries
(clean prose almost never has even one). Real uses in clean text stay untouched.

Every edit's rule is the lexicon entry id (``and-you-may``).

A second pass reaches swaps the lexicon does not know (other runs of a
spinner pick other synonyms for the same words): in a passage that shows
spinning, every word and phrase gets thesaurus candidates (the spinner-style
table ``spin_candidates.yaml`` and WordNet synonyms, :mod:`.thesaurus`), and a
candidate replaces what stands there only where the offline language model
finds it clearly more natural in context (:mod:`.spin_lm`). Its rules are
``lm:table`` and ``lm:wordnet``. The passage shows spinning when the lexicon's
gate is open, or when the language model alone finds enough evidence
(:meth:`SpinCleaner.lm_evidence` reaches ``min_lm_evidence``). In a passage
that shows neither, the WordNet candidates alone still run (without the
spinner-style table, whose forms are also good English) where at least
``wordnet_min_hits`` different words would be replaced: a WordNet
replacement needs the model's gain plus the candidate's frequency gain and
a clear lead over the next candidate (:mod:`.spin_lm`), and no word of 95
clean paragraphs and no unspun word of 319 spun development copies meets it
(``python bench/dev_spin.py --signals``). Without the ``pocketsphinx``
package (the model) the second pass is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import CleanResult, apply_replacements
from .langmodel import get_model, model_id
from .lexicon import Lexicon, Rule, load_lexicon
from .spans import fixpoint, run_steps
from .spin_lm import choose, propose
from .thesaurus import spinner_table_sha

CODE_VERSION = "2.1"
_WORDS = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


class SpinCleaner:
    """Undo spinner substitutions listed in a lexicon, with context rules and a spin gate."""

    name = "spin"

    def __init__(self, lexicon: str | Path | None = None, gate: bool = True, min_signatures: int | None = None,
                 lm: bool = True, table_margin: float = 1.0, padding_margin: float = -1.0, wordnet: bool = True, wordnet_margin: float = 7.0,
                 wordnet_max_fit: float = 0.0, min_lm_evidence: float = 8.0,
                 wordnet_evidence_margin: float = 9.0, wordnet_zipf_weight: float = 2.0,
                 wordnet_second: float = 2.0, wordnet_min_hits: int = 2):
        """``lexicon``: path of another lexicon file (default: the bundled one).
        ``gate=False`` lets gated entries run on every passage (for testing a
        lexicon, not for production use); ``min_signatures`` overrides the
        lexicon's own threshold. ``lm=False`` turns the language-model pass
        off; the margins are natural-log SLOR gains (see :mod:`.spin_lm`);
        a WordNet candidate's score adds ``wordnet_zipf_weight`` times its
        wordfreq Zipf gain over the word, and it must beat the next candidate
        by ``wordnet_second``."""
        self.lexicon: Lexicon = load_lexicon(lexicon)
        self.gate = gate
        self.min_signatures = self.lexicon.min_signatures if min_signatures is None else int(min_signatures)
        self.lm = bool(lm)
        self.table_margin = float(table_margin)
        self.padding_margin = float(padding_margin)
        self.wordnet = bool(wordnet)
        self.wordnet_margin = float(wordnet_margin)
        self.wordnet_max_fit = float(wordnet_max_fit)
        self.min_lm_evidence = float(min_lm_evidence)
        self.wordnet_evidence_margin = float(wordnet_evidence_margin)
        self.wordnet_zipf_weight = float(wordnet_zipf_weight)
        self.wordnet_second = float(wordnet_second)
        self.wordnet_min_hits = int(wordnet_min_hits)
        # The version covers code and data: any edit of the lexicon changes it.
        self.version = f"{CODE_VERSION}+{self.lexicon.sha256[:10]}"
        if not gate or min_signatures is not None:
            self.version += f"-gate{self.min_signatures if gate else 'off'}"
        settings = (self.lm, self.table_margin, self.padding_margin, self.wordnet, self.wordnet_margin, self.wordnet_max_fit,
                    self.min_lm_evidence, self.wordnet_evidence_margin, self.wordnet_zipf_weight, self.wordnet_second,
                    self.wordnet_min_hits)
        if self.lm:
            self.version += f"+{spinner_table_sha()[:8]}+{model_id()}"
        if settings != (True, 1.0, -1.0, True, 7.0, 0.0, 8.0, 9.0, 2.0, 2.0, 2):
            self.version += "-" + "-".join(map(str, settings))

    # -- matching --------------------------------------------------------------
    def _matches(self, rule: Rule, text: str, words: set[str]) -> list[re.Match]:
        if rule.unless_text_has and words & rule.unless_text_has:
            return []
        return [m for m in rule.pattern.finditer(text) if m.group() and rule.context_allows(text, m.start(), m.end())]

    def signatures(self, text: str) -> list[tuple[str, str]]:
        """``(entry id, matched text)`` of every signature in ``text``: the spin evidence."""
        words = {w.lower() for w in _WORDS.findall(text)}
        return [(rule.id, m.group()) for rule in self.lexicon.rules if not rule.gated
                for m in self._matches(rule, text, words)]

    def gated_evidence(self, text: str) -> list[str]:
        """Ids of the gated entries whose spun form (context rules included) occurs in ``text``."""
        words = {w.lower() for w in _WORDS.findall(text)}
        return [rule.id for rule in self.lexicon.rules if rule.gated and self._matches(rule, text, words)]

    def gate_open(self, text: str) -> bool:
        """Whether gated entries may run on ``text``: the passage must show it was spun."""
        if not self.gate:
            return True
        if len(self.signatures(text)) >= self.min_signatures:
            return True
        return len(self.gated_evidence(text)) >= self.lexicon.min_gated_rules

    def _step(self, text: str, gated_allowed: bool) -> CleanResult:
        words = {w.lower() for w in _WORDS.findall(text)}
        replacements: list[tuple[int, int, str, str]] = []
        for rule in self.lexicon.rules:
            if rule.gated and not gated_allowed:
                continue
            for match in self._matches(rule, text, words):
                start, end = match.span()
                new = _carry_case(match.group(), rule.replacement(match))
                if new == "" and match.group()[:1].isupper() and end < len(text) and text[end].islower():
                    # A deleted sentence-initial word hands its capital to the next one.
                    new, end = text[end].upper(), end + 1
                replacements.append((start, end, new, rule.id))
        return apply_replacements(text, replacements)

    # -- the language-model pass -------------------------------------------------
    def lm_evidence(self, text: str) -> float:
        """How strongly ``text`` shows spinning by the language model alone: the
        sum, over the different table forms and words that read worse than a
        candidate, of the best SLOR gain (WordNet synonyms count from
        ``wordnet_evidence_margin`` on). Clean prose stays far below
        ``min_lm_evidence`` (see the benchmark: ``bench/bench_cleaners.py``)."""
        model = get_model() if self.lm else None
        if model is None:
            return 0.0
        best: dict[str, float] = {}
        for p in propose(text, model, 0.0, self.wordnet_evidence_margin, use_wordnet=self.wordnet,
                         wordnet_max_fit=self.wordnet_max_fit):
            key = p.source if p.source != "wordnet" else f"wordnet:{p.before.lower()}"
            best[key] = max(best.get(key, 0.0), p.gain)
        return sum(best.values())

    def _wordnet_hits(self, text: str) -> set[str]:
        """The different words that the WordNet rule alone would replace."""
        found = propose(text, get_model(), 0.0, self.wordnet_margin, wordnet_max_fit=self.wordnet_max_fit,
                        wordnet_zipf_weight=self.wordnet_zipf_weight, wordnet_second=self.wordnet_second,
                        use_table=False)
        return {p.before.lower() for p in found}

    def _lm_step(self, text: str, use_table: bool = True) -> CleanResult:
        model = get_model()
        found = propose(text, model, self.table_margin, self.wordnet_margin, use_wordnet=self.wordnet,
                        wordnet_max_fit=self.wordnet_max_fit, padding_margin=self.padding_margin,
                        wordnet_zipf_weight=self.wordnet_zipf_weight, wordnet_second=self.wordnet_second,
                        use_table=use_table)
        replacements = [(p.start, p.end, p.after, "lm:" + p.source.split(":")[0]) for p in choose(found)]
        return apply_replacements(text, replacements)

    def clean(self, text: str) -> CleanResult:
        gated_allowed = self.gate_open(text)
        lexicon_pass = fixpoint(text, lambda t: self._step(t, gated_allowed))
        if not self.lm or get_model() is None:
            return lexicon_pass
        # The language-model pass needs evidence of spinning whatever ``gate`` says
        # (gate=False is for testing the lexicon's gated entries).
        spun = bool(self.signatures(text)) or len(self.gated_evidence(text)) >= self.lexicon.min_gated_rules
        if not spun:
            spun = self.lm_evidence(lexicon_pass.text) >= self.min_lm_evidence
        if not spun:
            if not (self.wordnet and self.wordnet_min_hits) or \
                    len(self._wordnet_hits(lexicon_pass.text)) < self.wordnet_min_hits:
                return lexicon_pass
            return run_steps(text, [lambda t: lexicon_pass,
                                    lambda t: fixpoint(t, lambda u: self._lm_step(u, use_table=False))])
        return run_steps(text, [lambda t: lexicon_pass, lambda t: fixpoint(t, self._lm_step)])


def _carry_case(old: str, new: str) -> str:
    """Carry the capital of the replaced text's first letter over to the replacement."""
    if old[:1].isupper() and new[:1].islower():
        if len(old) > 1 and old.isupper() and any(c.isalpha() for c in old[1:]):
            return new.upper()
        return new[0].upper() + new[1:]
    return new
