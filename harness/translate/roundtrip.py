"""Round-trip retranslation: source -> pivot(s) -> source, sentence by sentence.

For each hop every sentence of every text given to :meth:`RoundTrip.run` is
collected, looked up in the cache, and the rest handed to the backend in one
``translate_batch`` call (so it can batch or spread them over cores). The
text of every hop is kept, rejoined with the source's own spacing, so that a
report can show the pivot-language text.

Three checks guard against silent damage:

* a sentence longer than the model's input limit is split at clause, then
  word, boundaries and translated in parts, with a note; never truncated;
* an engine that can tell (``AnnotatingTranslator``) notes an output that
  stopped at its decoding length limit;
* each sentence's length ratio (target characters / source characters) is
  checked against a band; outside it (a dropped clause, a hallucinated
  repetition) is a warning in the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ..errors import ModelError
from ..results import Hop
from .base import AnnotatingTranslator, DescribedTranslator, LengthLimited, Translator
from .cache import CachedTranslation, CacheKey, TranslationCache
from .config import RetranslationConfig
from .fingerprint import settings_digest, short
from .sentences import SPLITTER_VERSION, Segment, SplitText, segment_text

# Part of every cache key: how an over-long sentence is cut into parts
# changes the translation, so a change here must not reuse old results.
LENGTH_SPLIT_VERSION = "clause-word-1"

_CLAUSE_BREAK = re.compile(r"(?<=[,;:–—])\s+")
_HAS_WORD = re.compile(r"\w")


@dataclass
class RoundTripResult:
    text: str
    """The final text, back in the source language."""
    hops: list[Hop]
    """Every hop's text in order; the last one's ``text`` equals ``text``."""
    warnings: list[str]
    """Human-readable notes: length-ratio outliers, sentences split to fit the
    model, outputs stopped at the decoding length limit."""
    sentences: int
    """Sentences the source text was split into."""
    length_flags: int = 0
    """Sentence-hops whose length ratio fell outside the band (for the run summary)."""
    translation_notes: int = 0
    """Sentence-hops the engine or the round trip noted: split to fit the
    model's input, output stopped at the decoding length limit."""


@dataclass
class Stage:
    """One hop and the translator that does it."""

    src: str
    tgt: str
    backend: str
    translator: Translator

    @property
    def label(self) -> str:
        return f"{self.src}->{self.tgt}"


@dataclass
class RoundTripStats:
    """Counts over every ``run`` call: how much the cache saved."""

    sentence_hops: int = 0
    cache_hits: int = 0
    translated: int = 0
    passed_through: int = 0
    """Sentences with no letter or digit (a lone dash), copied unchanged."""


@dataclass
class _Fresh:
    text: str
    notes: list[str] = field(default_factory=list)


class RoundTrip:
    """A chain of translation stages, with cache and checks; built by ``build_round_trip``."""

    def __init__(self, stages: list[Stage], config: RetranslationConfig, cache: TranslationCache | None = None):
        if not stages:
            raise ValueError("a round trip needs at least one stage")
        self.stages = stages
        self.config = config
        self.cache = cache
        self.stats = RoundTripStats()

    # -- identity ---------------------------------------------------------------

    def fingerprint(self) -> str:
        """Everything that can change the output: each hop's translator, the
        pivots, the sentence splitting, the length band."""
        settings = {
            "hops": [(s.src, s.tgt, s.backend, s.translator.fingerprint()) for s in self.stages],
            "split": self.config.split,
            "splitter": SPLITTER_VERSION if self.config.split == "sentences" else None,
            "length_split": LENGTH_SPLIT_VERSION,
            "length_ratio": list(self.config.length_ratio),
            "length_slack_chars": self.config.length_slack_chars,
        }
        return settings_digest(settings)

    def describe(self) -> dict:
        """For the run signature: chain, splitting, and each hop's backend, model
        fingerprint and decoding settings. Nothing machine-specific (paths,
        thread counts) that would stop two machines' runs from comparing."""
        hops = []
        for stage in self.stages:
            facts = stage.translator.describe() if isinstance(stage.translator, DescribedTranslator) else {}
            hops.append({"direction": f"{stage.src}-{stage.tgt}", "backend": stage.backend,
                         "fingerprint": short(settings_digest(stage.translator.fingerprint())), **facts})
        return {
            "backend": "+".join(dict.fromkeys(s.backend for s in self.stages)),
            "chain": "->".join([self.stages[0].src, *(s.tgt for s in self.stages)]),
            "split": self.config.split,
            "splitter": SPLITTER_VERSION if self.config.split == "sentences" else None,
            "length_ratio": list(self.config.length_ratio),
            "fingerprint": short(self.fingerprint()),
            "hops": hops,
        }

    # -- running ----------------------------------------------------------------

    def _split(self, text: str) -> SplitText:
        if self.config.split == "sentences":
            return segment_text(text, self.stages[0].src)
        core = text.strip()
        if not core:
            return SplitText([], text)
        start = text.index(core)
        return SplitText([Segment(core, text[:start])], text[start + len(core) :])

    def run(self, texts: list[str], progress: Callable[[int], None] | None = None) -> list[RoundTripResult]:
        """Round-trip ``texts``; one result per text, in order.

        ``progress(k)`` is called after each hop with the number of texts to
        advance a progress bar by; the calls add up to ``len(texts)``.
        """
        splits = [self._split(text) for text in texts]
        current = [[seg.text for seg in split.segments] for split in splits]
        hops: list[list[Hop]] = [[] for _ in texts]
        warnings: list[list[str]] = [[] for _ in texts]
        flags = [0] * len(texts)
        noted = [0] * len(texts)
        advanced = 0
        for number, stage in enumerate(self.stages, start=1):
            translations = self._translate_unique(stage, [s for sentences in current for s in sentences])
            for i, sentences in enumerate(current):
                outputs = []
                for j, sentence in enumerate(sentences):
                    fresh = translations.get(sentence)
                    output = fresh.text if fresh is not None else sentence
                    if fresh is not None and fresh.notes:
                        warnings[i] += [f"sentence {j + 1} {stage.label}: {note}" for note in fresh.notes]
                        noted[i] += 1
                    problem = self._ratio_problem(sentence, output)
                    if problem:
                        warnings[i].append(f"sentence {j + 1} {stage.label} {problem}")
                        flags[i] += 1
                    outputs.append(output)
                current[i] = outputs
                hops[i].append(Hop(stage.src, stage.tgt, splits[i].join(outputs)))
            if progress is not None:
                target = len(texts) * number // len(self.stages)
                if target > advanced:
                    progress(target - advanced)
                    advanced = target
        return [
            RoundTripResult(
                text=hops[i][-1].text,
                hops=hops[i],
                warnings=warnings[i],
                sentences=len(splits[i].segments),
                length_flags=flags[i],
                translation_notes=noted[i],
            )
            for i in range(len(texts))
        ]

    def _ratio_problem(self, source: str, output: str) -> str | None:
        if not _HAS_WORD.search(source):
            return None
        low, high = self.config.length_ratio
        produced = len(output.strip())
        ratio = produced / len(source)
        if low <= ratio <= high:
            return None
        if produced and abs(produced - len(source)) <= self.config.length_slack_chars:
            return None
        return f'length ratio {ratio:.2f} outside [{low:g}, {high:g}]: "{_preview(source)}"'

    def _translate_unique(self, stage: Stage, sentences: list[str]) -> dict[str, _Fresh]:
        """Translations of the distinct sentences that have a letter or digit."""
        unique = list(dict.fromkeys(s for s in sentences if _HAS_WORD.search(s)))
        self.stats.sentence_hops += len(sentences)
        self.stats.passed_through += sum(1 for s in sentences if not _HAS_WORD.search(s))
        if not unique:
            return {}
        translator = stage.translator
        key_id = f"{translator.fingerprint()}|{LENGTH_SPLIT_VERSION}"
        label = _label(stage)
        keys = {s: CacheKey(key_id, stage.src, stage.tgt, s, label=label) for s in unique}
        found: dict[str, _Fresh] = {}
        if self.cache is not None:
            hits = self.cache.get_many(list(keys.values()))
            found = {s: _Fresh(hits[k].text, list(hits[k].notes)) for s, k in keys.items() if k in hits}
        self.stats.cache_hits += len(found)
        missing = [s for s in unique if s not in found]
        if missing:
            fresh = self._translate_fresh(stage, missing)
            self.stats.translated += len(missing)
            found.update(fresh)
            if self.cache is not None:
                self.cache.put_many(
                    (keys[s], CachedTranslation(fresh[s].text, tuple(fresh[s].notes))) for s in missing
                )
        return found

    def _translate_fresh(self, stage: Stage, sentences: list[str]) -> dict[str, _Fresh]:
        """One backend call for all ``sentences``, over-long ones split into parts first."""
        translator, src, tgt = stage.translator, stage.src, stage.tgt
        parts: list[list[str]] = [[s] for s in sentences]
        notes: list[list[str]] = [[] for _ in sentences]
        if isinstance(translator, LengthLimited):
            limit = translator.max_input_tokens(src, tgt)
            if limit:
                for i, count in enumerate(translator.count_tokens(sentences, src, tgt)):
                    if count > limit:
                        parts[i], how = _fit(translator, sentences[i], limit, src, tgt)
                        notes[i].append(
                            f"{count} tokens exceed the model's {limit}-token input; "
                            f"translated in {len(parts[i])} parts split at {how}"
                        )
        flat = [p for group in parts for p in group]
        if isinstance(translator, AnnotatingTranslator):
            annotated = translator.translate_batch_annotated(flat, src, tgt)
            outputs = [text for text, _ in annotated] if isinstance(annotated, list) else annotated
            part_notes = [list(n) for _, n in annotated] if isinstance(annotated, list) else []
        else:
            outputs = translator.translate_batch(flat, src, tgt)
            part_notes = [[] for _ in flat]
        if not isinstance(outputs, list) or len(outputs) != len(flat) or not all(isinstance(o, str) for o in outputs):
            got = f"{len(outputs)} results" if isinstance(outputs, list) else type(outputs).__name__
            raise ModelError(
                f"retranslation backend {stage.backend!r} ({stage.label}) returned {got} for {len(flat)} texts"
            )
        result: dict[str, _Fresh] = {}
        position = 0
        for sentence, group, sentence_notes in zip(sentences, parts, notes):
            pieces = outputs[position : position + len(group)]
            for piece_notes in part_notes[position : position + len(group)]:
                sentence_notes += [n for n in piece_notes if n not in sentence_notes]
            position += len(group)
            result[sentence] = _Fresh(" ".join(p.strip() for p in pieces).strip(), sentence_notes)
        return result

    def close(self) -> None:
        """Release backend resources (thread pools, loaded models)."""
        for stage in self.stages:
            close = getattr(stage.translator, "close", None)
            if callable(close):
                close()


def _fit(translator: LengthLimited, sentence: str, limit: int, src: str, tgt: str) -> tuple[list[str], str]:
    """Cut ``sentence`` into parts of at most ``limit`` tokens, at clause boundaries
    where that is enough, else also between words. Every character is kept."""

    def fits(text: str) -> bool:
        return translator.count_tokens([text], src, tgt)[0] <= limit

    def pack(units: list[str]) -> list[str]:
        packed: list[str] = []
        for unit in units:
            if packed and fits(packed[-1] + " " + unit):
                packed[-1] += " " + unit
            else:
                packed.append(unit)
        return packed

    clauses = pack(_CLAUSE_BREAK.split(sentence))
    if all(fits(c) for c in clauses):
        return clauses, "clause boundaries"
    parts: list[str] = []
    for clause in clauses:
        parts += [clause] if fits(clause) else pack(clause.split())
    # A single word longer than the limit stays whole: the model sees it as it is.
    return parts, "clause and word boundaries"


def _label(stage: Stage) -> str:
    translator = stage.translator
    model = translator.describe().get("model") if isinstance(translator, DescribedTranslator) else None
    return f"{stage.backend}:{model}" if model else stage.backend


def _preview(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
