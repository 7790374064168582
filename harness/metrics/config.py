"""The ``metrics:`` section of a run config (pydantic v2, unknown keys rejected).

Every default here is documented in docs/metrics.md; the verdict thresholds
were calibrated on tests/data/meaning_labelled.yaml and the bundled briefing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .catalog import BUILTIN_METRICS

#: the metrics the meaning score combines (its ``weights`` name them)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnchorOptions(_Strict):
    """What counts as an anchor and when a reference anchor is required."""

    #: negations are compared by the ``semantic`` metric (polarity of aligned
    #: clauses, negation words checked against it); add "negations" here to
    #: use the anchors' word-scope rule instead, e.g. without spaCy
    kinds: tuple[Literal["numbers", "names", "negations"], ...] = ("numbers", "names")
    #: a reference anchor is *required* (counted in recall) when at least this
    #: share of the passage's references contain it; 0.5 = a majority. Anchors
    #: in fewer references are optional: keeping them is not rewarded, losing
    #: them is not punished, and a hypothesis anchor found in ANY reference is
    #: never counted as added.
    required_share: float = Field(0.5, gt=0.0, le=1.0)
    #: a required name that the text writes only in lower case ('united states',
    #: 'nato') counts as this much of a kept name in recall (1 = case is ignored)
    lowered_name_credit: float = Field(0.5, ge=0.0, le=1.0)


class InjectedOptions(_Strict):
    """How injected (foreign or off-topic) content is detected."""

    #: character scripts that never belong in English text (a token with a
    #: letter of these scripts is foreign)
    foreign_scripts: bool = True
    #: letters that English never uses (Turkish dotless i, cedillas, ...) mark a token foreign
    foreign_letters: bool = True
    #: mojibake (UTF-8 read as a legacy code page, e.g. 'kadД±nlar') marks a token foreign
    mojibake: bool = True
    #: a sentence (4+ words) py3langid assigns to another language with at least this probability is foreign
    language_min_prob: float = Field(0.9, gt=0, le=1)
    #: look for off-topic English runs (uses the embedding model)
    off_topic: bool = True
    #: a run of at least this many content words found in no reference is an
    #: off-topic candidate (single unknown words are usually spinner synonyms:
    #: distortion, not injection; two-word runs are as often a changed claim,
    #: "quieter than normal", as spam)
    off_topic_min_run: int = Field(3, ge=1)
    #: ...and is off topic if removing it raises the best cosine with the references this much
    off_topic_min_gain: float = Field(0.06, ge=0, le=2)
    #: ...and the run on its own has a cosine below this with every reference
    off_topic_max_cosine: float = Field(0.25, ge=-1, le=1)


class Thresholds(_Strict):
    """Verdict bands on the 0..100 meaning score."""

    preserved: float = Field(70.0, ge=0, le=100)  # score >= preserved -> preserved
    lost: float = Field(40.0, ge=0, le=100)  # score < lost -> lost; between -> degraded

    @model_validator(mode="after")
    def _ordered(self):
        if self.lost > self.preserved:
            raise ValueError(f"thresholds: lost ({self.lost}) must not exceed preserved ({self.preserved})")
        return self


class MeaningOptions(_Strict):
    """How the meaning score combines the metrics (see docs/metrics.md)."""

    #: the fitted weights: a JSON file written by ``bench/calibrate_meaning.py --write``
    #: (None: the bundled ``harness/data/meaning_weights.json``, fitted on expert judgments)
    calibration: str | None = None
    #: a major finding (a changed number, a flipped claim, a swapped role, ...) caps the band at 'degraded'
    major_finding_caps_band: bool = True
    #: a passage whose cosine with every reference is below this, and whose
    #: content the text mostly lacks (``unrelated_recall``), says something else: 'lost'
    unrelated_cosine: float = Field(0.35, ge=-1, le=1)
    unrelated_recall: float = Field(0.3, ge=0, le=1)
    thresholds: Thresholds = Field(default_factory=Thresholds)


class MetricsConfig(_Strict):
    """Which metrics run and how (the ``metrics:`` section of a run config)."""

    #: built-in names and/or ``package.module:name`` specs; default: all built-ins
    use: tuple[str, ...] = tuple(BUILTIN_METRICS)
    #: the user's own metrics (entry point names or ``package.module:name``), run in addition to ``use``
    extra: tuple[str, ...] = ()
    #: sentences per forward pass of the embedding model
    embedding_batch_size: int = Field(32, ge=1)
    #: torch device for the embedding model ('cpu', 'cuda', ...); None lets torch choose
    device: str | None = "cpu"
    #: weight BERTScore token matches by inverse document frequency over the references
    bertscore_idf: bool = False
    anchors: AnchorOptions = Field(default_factory=AnchorOptions)
    injected: InjectedOptions = Field(default_factory=InjectedOptions)
    meaning: MeaningOptions = Field(default_factory=MeaningOptions)

    @property
    def metric_names(self) -> list[str]:
        """Every metric to run, in order, without duplicates."""
        return list(dict.fromkeys([*self.use, *self.extra]))
