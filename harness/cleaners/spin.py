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
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import CleanResult, apply_replacements
from .lexicon import Lexicon, Rule, load_lexicon
from .spans import fixpoint

CODE_VERSION = "1.0"
_WORDS = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


class SpinCleaner:
    """Undo spinner substitutions listed in a lexicon, with context rules and a spin gate."""

    name = "spin"

    def __init__(self, lexicon: str | Path | None = None, gate: bool = True, min_signatures: int | None = None):
        """``lexicon``: path of another lexicon file (default: the bundled one).
        ``gate=False`` lets gated entries run on every passage (for testing a
        lexicon, not for production use); ``min_signatures`` overrides the
        lexicon's own threshold."""
        self.lexicon: Lexicon = load_lexicon(lexicon)
        self.gate = gate
        self.min_signatures = self.lexicon.min_signatures if min_signatures is None else int(min_signatures)
        # The version covers code and data: any edit of the lexicon changes it.
        self.version = f"{CODE_VERSION}+{self.lexicon.sha256[:10]}"
        if not gate or min_signatures is not None:
            self.version += f"-gate{self.min_signatures if gate else 'off'}"

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

    def clean(self, text: str) -> CleanResult:
        gated_allowed = self.gate_open(text)
        return fixpoint(text, lambda t: self._step(t, gated_allowed))


def _carry_case(old: str, new: str) -> str:
    """Carry the capital of the replaced text's first letter over to the replacement."""
    if old[:1].isupper() and new[:1].islower():
        if len(old) > 1 and old.isupper() and any(c.isalpha() for c in old[1:]):
            return new.upper()
        return new[0].upper() + new[1:]
    return new
