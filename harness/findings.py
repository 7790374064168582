"""Findings: one meaning change that a metric found in a stage's text.

A finding says *what* changed (its ``kind``), *which way* (``change``: the
references have it and the text lost it, the text added it, or the text says
something else in its place), *where* (a span in the stage's text and/or a
span in one reference) and *why*, in one line for people. Metrics return
findings alongside their statistics; the meaning score, the verdict, the
reports, ``compare`` and ``regress`` all read them from here.

``label`` is a short normalised form ("$44 billion", "increase -> decrease")
that identifies the same finding in two runs, so a regression gate can tell a
new finding from one the baseline already had.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

#: kind -> what it means, in report order (most serious kinds first)
KINDS: dict[str, str] = {
    "number": "a number or quantity lost, added or changed",
    "negation": "a negation dropped or added",
    "antonym": "a word replaced by its opposite (increase -> decrease)",
    "quantifier": "a quantifier or comparative changed (all -> some, more -> less)",
    "role": "who did what to whom: agent and patient swapped",
    "entity": "an entity in a role where the references have another",
    "modality": "modality, tense or aspect changed (will -> might, has -> has not yet)",
    "dropped": "content every reference has and the text lacks",
    "added": "content no reference has",
    "name": "a name lost, added or written lowered",
    "injected": "text that does not belong (spam, another language, mojibake)",
}

#: which way a finding goes
CHANGES = ("lost", "added", "changed")
#: how much it matters: 'major' changes the meaning, 'minor' shifts it, 'note' is worth a look
SEVERITIES = ("major", "minor", "note")


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of a text (``text`` is that slice, kept for reports)."""

    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Span":
        return cls(int(data["start"]), int(data["end"]), str(data["text"]))


@dataclass(frozen=True)
class Finding:
    """One meaning change in a stage's text, relative to its references."""

    kind: str
    change: str
    severity: str
    label: str
    why: str
    #: the metric that found it
    source: str = ""
    #: where in the stage's text (None for content that the text lost)
    stage_span: Span | None = None
    #: where in a reference (None for content that the text added)
    reference_span: Span | None = None
    #: which of the passage's references ``reference_span`` is in
    reference_index: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r} (known: {', '.join(KINDS)})")
        if self.change not in CHANGES:
            raise ValueError(f"unknown finding change {self.change!r} (known: {', '.join(CHANGES)})")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown finding severity {self.severity!r} (known: {', '.join(SEVERITIES)})")

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies this finding across runs of the same passage."""
        return (self.kind, self.change, self.label)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "change": self.change,
            "severity": self.severity,
            "label": self.label,
            "why": self.why,
            "source": self.source,
            "stage_span": self.stage_span.to_json() if self.stage_span else None,
            "reference_span": self.reference_span.to_json() if self.reference_span else None,
            "reference_index": self.reference_index,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Finding":
        stage_span = data.get("stage_span")
        reference_span = data.get("reference_span")
        index = data.get("reference_index")
        return cls(
            kind=str(data["kind"]),
            change=str(data["change"]),
            severity=str(data["severity"]),
            label=str(data["label"]),
            why=str(data["why"]),
            source=str(data.get("source", "")),
            stage_span=Span.from_json(stage_span) if stage_span else None,
            reference_span=Span.from_json(reference_span) if reference_span else None,
            reference_index=int(index) if index is not None else None,
        )


#: how a reason starts, per (kind, change); '*' stands for any change
HEADLINES: dict[tuple[str, str], str] = {
    ("negation", "added"): "negation added",
    ("negation", "lost"): "negation dropped",
    ("antonym", "*"): "opposite meaning",
    ("quantifier", "*"): "quantity changed",
    ("role", "*"): "roles swapped",
    ("entity", "*"): "another participant",
    ("modality", "*"): "modality changed",
    ("dropped", "*"): "content dropped",
    ("added", "*"): "content added",
}


def headline(kind: str, change: str) -> str:
    """The words a reason of this kind starts with ("negation added", "roles swapped")."""
    return HEADLINES.get((kind, change)) or HEADLINES.get((kind, "*")) or kind


def kind_order(finding: Finding) -> tuple[int, int]:
    """Sort key: most serious severity first, then the order of :data:`KINDS`."""
    return (SEVERITIES.index(finding.severity), list(KINDS).index(finding.kind))
