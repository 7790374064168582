"""Score a labelled meaning-change set: how often each kind of change is flagged,
and how often a meaning-preserving paraphrase is.

The set's format is ``tests/data/meaning_changes/README.md``'s: items with
references, paraphrases, and changes labelled with one kind each. A change
is *detected* when the text gets a major finding of its kind, and *flagged*
when its verdict is not ``preserved`` (whatever the reason); a paraphrase is
a *false alarm* when its verdict is not ``preserved``.

Used by ``tests/test_meaning_changes.py`` (the specification) and
``bench/meaning_changes.py`` (the table in the docs).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..findings import KINDS

#: the metrics the meaning score reads, with it
METRICS = ("chrf", "cosine", "bertscore", "anchors", "injected", "semantic", "meaning")


@dataclass
class LabelledResult:
    total: Counter = field(default_factory=Counter)
    detected: Counter = field(default_factory=Counter)
    flagged: Counter = field(default_factory=Counter)
    paraphrases: int = 0
    false_alarms: int = 0
    #: (item id, kind or 'paraphrase', text, verdict reasons) of every miss and false alarm
    misses: list = field(default_factory=list)
    #: (is a change, {metric: score}) of every text, for how well a score separates the two
    scores: list = field(default_factory=list)
    #: kind -> texts with a major finding of that kind: on changes (any kind) and on paraphrases
    found_on_changes: Counter = field(default_factory=Counter)
    found_on_paraphrases: Counter = field(default_factory=Counter)

    def precision(self, kind: str) -> float:
        """The share of texts with a major finding of ``kind`` that are meaning
        changes (of any kind): how far such a finding can be trusted."""
        found = self.found_on_changes[kind] + self.found_on_paraphrases[kind]
        return self.found_on_changes[kind] / found if found else float("nan")

    def precision_table(self) -> str:
        lines = ["| finding kind | on changes | on paraphrases | precision |", "|---|---:|---:|---:|"]
        for kind in KINDS:
            if self.found_on_changes[kind] or self.found_on_paraphrases[kind]:
                lines.append(f"| {kind} | {self.found_on_changes[kind]} | {self.found_on_paraphrases[kind]} | "
                             f"{self.precision(kind):.2f} |")
        return "\n".join(lines)

    def separation(self, metric: str) -> float:
        """ROC-AUC of ``metric`` telling paraphrases (higher score) from changes:
        the chance that a random paraphrase outscores a random change (ties count half)."""
        paraphrases = [s[metric] for change, s in self.scores if not change and metric in s]
        changes = [s[metric] for change, s in self.scores if change and metric in s]
        if not paraphrases or not changes:
            return float("nan")
        wins = sum((p > c) + 0.5 * (p == c) for p in paraphrases for c in changes)
        return wins / (len(paraphrases) * len(changes))

    def separation_table(self, metrics=("meaning", "chrf", "bertscore", "cosine", "semantic")) -> str:
        lines = ["| score | ROC-AUC: paraphrase above change |", "|---|---:|"]
        lines += [f"| {m} | {self.separation(m):.3f} |" for m in metrics]
        return "\n".join(lines)

    def detection(self, kind: str) -> float:
        return self.detected[kind] / self.total[kind] if self.total[kind] else float("nan")

    def flagging(self, kind: str) -> float:
        return self.flagged[kind] / self.total[kind] if self.total[kind] else float("nan")

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.paraphrases if self.paraphrases else float("nan")

    def table(self) -> str:
        lines = ["| kind | changes | detected (finding of its kind) | flagged (not preserved) |", "|---|---:|---:|---:|"]
        for kind in KINDS:
            if self.total[kind]:
                lines.append(f"| {kind} | {self.total[kind]} | {self.detected[kind]} ({self.detection(kind):.0%}) | "
                             f"{self.flagged[kind]} ({self.flagging(kind):.0%}) |")
        all_changes = sum(self.total.values())
        lines.append(f"| all changes | {all_changes} | {sum(self.detected.values())} "
                     f"({sum(self.detected.values()) / all_changes:.0%}) | {sum(self.flagged.values())} "
                     f"({sum(self.flagged.values()) / all_changes:.0%}) |")
        lines.append(f"| paraphrases (false alarms) | {self.paraphrases} | | {self.false_alarms} "
                     f"({self.false_alarm_rate:.0%}) |")
        return "\n".join(lines)


def load_items(path: Path) -> list[dict]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))["items"]


def evaluate(items: list[dict], scorer=None, chunk: int = 64) -> LabelledResult:
    """Score every paraphrase and change of ``items`` against its item's references."""
    from ..metrics.config import MetricsConfig
    from ..scoring import Scorer

    scorer = scorer or Scorer(MetricsConfig(use=METRICS))
    rows = []
    for item in items:
        rows += [(item["id"], "paraphrase", text, item["references"]) for text in item.get("paraphrases", [])]
        rows += [(item["id"], change["kind"], change["text"], item["references"]) for change in item.get("changes", [])]
    result = LabelledResult()
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        scored = scorer.score_chunk({"text": [r[2] for r in part]}, [list(r[3]) for r in part])
        for (item_id, kind, text, _), stages in zip(part, scored):
            stage = stages["text"]
            flagged = stage.verdict.band != "preserved"
            result.scores.append((kind != "paraphrase", dict(stage.scores)))
            kinds_found = {f.kind for f in stage.findings if f.severity == "major"}
            (result.found_on_paraphrases if kind == "paraphrase" else result.found_on_changes).update(kinds_found)
            if kind == "paraphrase":
                result.paraphrases += 1
                if flagged:
                    result.false_alarms += 1
                    result.misses.append((item_id, kind, text, stage.verdict.reasons))
                continue
            result.total[kind] += 1
            detected = any(f.kind == kind and f.severity == "major" for f in stage.findings)
            result.detected[kind] += detected
            result.flagged[kind] += flagged
            if not detected:
                result.misses.append((item_id, kind, text, stage.verdict.reasons))
    return result
