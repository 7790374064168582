"""The cleaner interface: text in, text out, every edit explained."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Edit:
    """One change a cleaner made. ``start``/``end`` index the cleaner's *input*."""

    start: int
    end: int
    before: str
    after: str
    rule: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "before": self.before, "after": self.after, "rule": self.rule}


@dataclass
class CleanResult:
    text: str
    edits: list[Edit] = field(default_factory=list)


@runtime_checkable
class Cleaner(Protocol):
    """A named, versioned text repair. The version enters the run signature:
    bump it whenever the cleaner's output can change for some input."""

    name: str
    version: str

    def clean(self, text: str) -> CleanResult: ...


def apply_replacements(text: str, replacements: list[tuple[int, int, str, str]]) -> CleanResult:
    """Apply non-overlapping ``(start, end, new_text, rule)`` replacements to ``text``.

    Overlapping replacements keep the earliest (then the longest); edits are
    reported with their spans in ``text``.
    """
    chosen: list[tuple[int, int, str, str]] = []
    last_end = -1
    for start, end, new, rule in sorted(replacements, key=lambda r: (r[0], -(r[1] - r[0]))):
        if start < last_end:
            continue
        if text[start:end] == new:
            continue
        chosen.append((start, end, new, rule))
        last_end = end
    pieces: list[str] = []
    edits: list[Edit] = []
    cursor = 0
    for start, end, new, rule in chosen:
        pieces.append(text[cursor:start])
        pieces.append(new)
        edits.append(Edit(start, end, text[start:end], new, rule))
        cursor = end
    pieces.append(text[cursor:])
    return CleanResult("".join(pieces), edits)
