"""The ``retranslation:`` section of a run config.

Defaults give the bundled Bergamot round trip en -> pt -> en on two threads::

    retranslation:
      backend: bergamot          # bergamot | transformers | apertium | ctranslate2 | none
                                 # | an entry-point name | package.module:Class
      source_lang: en
      pivots: [pt]               # a chain: [pt, es] is en -> pt -> es -> en
      options: {threads: 2}      # options of the default backend
      directions:                # per-hop overrides, keyed "src-tgt"
        en-pt: {backend: transformers, options: {model: /models/opus-mt-en-pt}}
      split: sentences           # sentences | none
      length_ratio: [0.5, 2.0]   # per-sentence band of target chars / source chars
      length_slack_chars: 10     # ...ignored when the length changed by no more than this

Options of a direction are merged over the top-level ``options`` when the
direction uses the top-level backend (so one ``device`` or ``num_beams`` holds
for every hop and each hop adds its ``model``); a direction with another
backend gets its own options only.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NO_BACKEND = "none"
_LANG_RE = re.compile(r"^[a-z]{2,3}$")


class DirectionConfig(BaseModel):
    """Backend and options for one hop (``en-pt``)."""

    model_config = ConfigDict(extra="forbid")

    backend: str | None = None
    """Defaults to the top-level backend."""
    options: dict[str, Any] = Field(default_factory=dict)


class RetranslationConfig(BaseModel):
    """Round-trip retranslation: source -> pivot(s) -> source."""

    model_config = ConfigDict(extra="forbid")

    backend: str = "bergamot"
    source_lang: str = "en"
    pivots: list[str] = Field(default_factory=lambda: ["pt"])
    options: dict[str, Any] = Field(default_factory=dict)
    directions: dict[str, DirectionConfig] = Field(default_factory=dict)
    split: Literal["sentences", "none"] = "sentences"
    length_ratio: tuple[float, float] = (0.5, 2.0)
    length_slack_chars: int = Field(10, ge=0)
    """A sentence is flagged only if its length also changed by more than this
    many characters: "OK." -> "Tudo bem." (ratio 3.0) is not a hallucination,
    "Thank you." -> "Obrigado por enviar uma edição." (3.1) is. An empty
    output is always flagged."""

    @field_validator("source_lang")
    @classmethod
    def _check_source(cls, value: str) -> str:
        if not _LANG_RE.match(value):
            raise ValueError(f"source_lang {value!r} is not an ISO 639 code such as 'en'")
        return value

    @field_validator("pivots")
    @classmethod
    def _check_pivots(cls, value: list[str]) -> list[str]:
        for lang in value:
            if not _LANG_RE.match(lang):
                raise ValueError(f"pivot {lang!r} is not an ISO 639 code such as 'pt'")
        return value

    @field_validator("length_ratio")
    @classmethod
    def _check_band(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low < high:
            raise ValueError(f"length_ratio [{low}, {high}] must satisfy 0 < low < high")
        return value

    @model_validator(mode="after")
    def _check_chain(self) -> "RetranslationConfig":
        if self.backend == NO_BACKEND:
            return self
        if not self.pivots:
            raise ValueError("pivots is empty: give at least one pivot language, or backend: none")
        hops = self.hops()
        for i, (src, tgt) in enumerate(hops):
            if src == tgt:
                raise ValueError(f"the chain {self.chain_label()} translates {src} into itself (hop {i + 1})")
        known = {f"{src}-{tgt}" for src, tgt in hops}
        for key, direction in self.directions.items():
            if key not in known:
                raise ValueError(
                    f"directions: {key!r} is not a hop of the chain {self.chain_label()} "
                    f"(hops: {', '.join(sorted(known))})"
                )
            if direction.backend == NO_BACKEND:
                raise ValueError(f"directions: {key!r} cannot use backend none (set the top-level backend: none)")
        return self

    @property
    def enabled(self) -> bool:
        return self.backend != NO_BACKEND

    def languages(self) -> list[str]:
        """The chain: ``[en, pt, en]``."""
        return [self.source_lang, *self.pivots, self.source_lang]

    def hops(self) -> list[tuple[str, str]]:
        langs = self.languages()
        return list(zip(langs[:-1], langs[1:]))

    def chain_label(self) -> str:
        return "->".join(self.languages())

    def direction(self, src: str, tgt: str) -> tuple[str, dict[str, Any]]:
        """The backend name and its merged options for one hop."""
        override = self.directions.get(f"{src}-{tgt}")
        if override is None:
            return self.backend, dict(self.options)
        backend = override.backend or self.backend
        if backend == self.backend:
            return backend, {**self.options, **override.options}
        return backend, dict(override.options)
