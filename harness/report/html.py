"""The HTML report: one self-contained file a person can read, sort and print.

``report.html`` shows a run: corpus scores, verdict counts, a chart of every
passage's meaning score per stage, the signature, a sortable table of
passages, and one section per passage (each stage's text with its
findings highlighted where they are and what changed since the stage
before -- distorted, cleaned, retranslated -- the references with the spans
that findings point to, lost content above all; the round trip's pivot
text, the cleaners' edits, the findings of every metric with why, verdicts
with reasons, metric details, scores). Highlighting is generic over finding
kinds: a new kind a metric reports is highlighted like the others. The compare report (:mod:`.compare`) uses the same
templates and escaping.

Everything in it comes from untrusted text (transcripts, references, configs,
model output), so it is rendered through Jinja2 templates with autoescaping
on, and every string passes through :func:`~harness.report.text.visible`
first, so bidi overrides and zero-width characters show as marks. The page
makes no network request: CSS, script and chart are inline, and a
Content-Security-Policy forbids everything else (the one script is allowed
by its sha256 hash).

Passages are streamed through the template (``Template.generate``): the
file is written section by section, and only a small summary row per
passage (for the chart and the table, which come first) is held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from ..findings import Finding, kind_order
from ..metrics.base import MetricInfo, info_of, ordered_metrics
from ..results import BANDS, CleanerEdit, PassageResult, RunHeader, Verdict
from ..runstore import atomic_write
from .markdown import BAND_MARK, SEVERITY_MARK
from .text import char_name, fmt_number, has_invisible, visible, word_diff

BAND_SYMBOL = {band: mark.split()[0] for band, mark in BAND_MARK.items()}
OUTCOME_MARK = {"win": "↑ win", "tie": "= tie", "loss": "↓ loss"}
# Up to this many passages the chart draws one group of bars per passage;
# beyond it, a histogram of meaning scores per stage (still readable at 10,000).
PER_PASSAGE_CHART_MAX = 60
# Long lists in metric details are cut here (the JSON has them all).
DETAIL_LIST_LIMIT = 30
REASON_CELL_LIMIT = 140

_MARK = re.compile(r"⟨U\+([0-9A-F]{4})⟩")  # what visible() puts in place of a character


# --------------------------------------------------------------------------
# Escaping
# --------------------------------------------------------------------------

def _shown(value: Any) -> Any:
    """Jinja ``finalize``: every string printed by a template is made visible
    (then autoescaped). Markup built here is already safe and passes as is."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return visible(value)
    return value


def marked(text: Any) -> Markup:
    """Untrusted text as HTML: escaped, with each invisible or direction-changing
    character replaced by a highlighted ``⟨U+202E⟩`` mark naming the character."""
    text = "" if text is None else str(text)
    out: list[str] = []
    position = 0
    shown = visible(text)
    for match in _MARK.finditer(shown):
        char = chr(int(match.group(1), 16))
        if not has_invisible(char):
            continue  # literal text that looks like a mark: shown as it is
        out.append(escape(shown[position:match.start()]))
        out.append(Markup('<span class="ctl" title="{}">{}</span>').format(char_name(char), match.group()))
        position = match.end()
    out.append(escape(shown[position:]))
    return Markup("").join(out)


def anchor_id(passage_id: str, prefix: str = "passage-") -> str:
    """A safe, unique HTML id for a passage (ids are already restricted to
    letters, digits, ``_-.``; anything else is replaced and the id hashed so
    two passages never share an anchor)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", passage_id)
    if slug != passage_id or not slug:
        slug += "-" + hashlib.sha256(passage_id.encode("utf-8")).hexdigest()[:8]
    return prefix + slug


def _sort_key(value: Any) -> str:
    """``data-sort`` value for a numeric cell; empty (sorted last) when missing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return repr(float(value))
    return ""


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=True, finalize=_shown,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(marked=marked, num=fmt_number, sortkey=_sort_key, anchor=anchor_id)
    env.globals.update(BAND_SYMBOL=BAND_SYMBOL, BANDS=BANDS, OUTCOME_MARK=OUTCOME_MARK, SEVERITY_MARK=SEVERITY_MARK)
    return env


@lru_cache(maxsize=1)
def assets() -> dict[str, Any]:
    """The inline stylesheet and script, and the CSP that allows exactly them."""
    loader = environment().loader
    assert loader is not None
    css = loader.get_source(environment(), "report.css")[0]
    script = loader.get_source(environment(), "report.js")[0]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    return {"css": Markup(css), "script": Markup(script), "csp": csp}


# --------------------------------------------------------------------------
# Word diff against the closest reference
# --------------------------------------------------------------------------

def _edit_cost(opcodes: Sequence[tuple[str, str, str]]) -> int:
    """Word edit distance implied by a diff (a substitution of i words by j costs max(i, j))."""
    cost = 0
    for tag, old, new in opcodes:
        if tag != "equal":
            cost += max(len(old.split()), len(new.split()))
    return cost


def closest_reference_diff(text: str, references: Sequence[str]) -> dict[str, Any] | None:
    """The reference needing the fewest word edits to become ``text``, and the
    word diff from it: ``{"index", "segments": [(kind, words)], "added",
    "removed", "replaced"}`` where kind is ``eq``/``ins``/``del``/``sub``
    (a substitution is a ``(removed, added)`` pair). ``None`` without references.

    Fewest word edits (rather than best chrF) picks the reference whose diff
    is shortest to read, and costs one ``difflib`` pass per reference.
    """
    best: tuple[int, int, list[tuple[str, str, str]]] | None = None
    for index, reference in enumerate(references):
        opcodes = word_diff(reference, text)
        cost = _edit_cost(opcodes)
        if best is None or cost < best[0]:
            best = (cost, index, opcodes)
    if best is None:
        return None
    _, index, opcodes = best
    segments: list[tuple[str, Any]] = []
    added = removed = replaced = 0
    for tag, old, new in opcodes:
        if tag == "equal":
            segments.append(("eq", old))
        elif tag == "insert":
            segments.append(("ins", new))
            added += len(new.split())
        elif tag == "delete":
            segments.append(("del", old))
            removed += len(old.split())
        else:
            segments.append(("sub", (old, new)))
            replaced += max(len(old.split()), len(new.split()))
    return {"index": index, "segments": segments, "added": added, "removed": removed, "replaced": replaced}


# --------------------------------------------------------------------------
# Highlighting: the findings, and what changed since the previous stage
# --------------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")


def _mark(findings: Sequence[tuple[Finding, str]]) -> dict[str, str] | None:
    """One highlight for the findings covering a piece of text: classed by the
    most serious (its change, lost/added/changed, and severity), titled with all."""
    if not findings:
        return None
    ordered = sorted(findings, key=lambda pair: kind_order(pair[0]))
    first = ordered[0][0]
    title = "\n".join(f"{f.kind} {f.change} ({f.severity}){where}: {f.why}" for f, where in ordered)
    return {"cls": f"finding-mark {first.change} {first.severity}", "title": title}


def _spans_in(text: str, spans: Sequence[tuple[int, int, Finding, str]]) -> list[tuple[int, int, Finding, str]]:
    """Spans that lie in ``text`` and hold the text the finding quotes (a
    hand-made or stale record may point elsewhere: nothing is highlighted then)."""
    out = []
    for a, b, f, w in spans:
        quoted = (f.stage_span if f.stage_span is not None and (f.stage_span.start, f.stage_span.end) == (a, b)
                  else f.reference_span)
        if 0 <= a < b <= len(text) and (quoted is None or text[a:b] == quoted.text):
            out.append((a, b, f, w))
    return out


def highlight(text: str, spans: Sequence[tuple[int, int, Finding, str]] = (), previous: str | None = None
              ) -> dict[str, Any]:
    """A text as pieces for the page: ``{"pieces": [...], "inserted": n, "deleted": n}``.

    Each piece is ``{"kind": "text", "text", "changed", "mark"}`` or
    ``{"kind": "deleted", "text"}``. ``mark`` highlights the findings whose
    span covers the piece (``spans``: ``(start, end, finding, where)``);
    with ``previous`` (the text of the stage before, or the baseline system's)
    ``changed`` marks the words that are new or different since it, and the
    words it had that are gone here are pieces of their own, at the place
    they were. Word diff in linear time on long texts (:func:`diff_opcodes`).
    Generic over finding kinds: a new kind is highlighted like any other."""
    from ..cleaners.spans import diff_opcodes

    spans = _spans_in(text, spans)
    changed: list[tuple[int, int]] = []
    deletions: dict[int, list[str]] = {}
    inserted = deleted = 0
    if previous is not None and previous != text:
        old, new = list(_TOKEN.finditer(previous)), list(_TOKEN.finditer(text))
        for tag, i1, i2, j1, j2 in diff_opcodes([m.group() for m in old], [m.group() for m in new]):
            if tag in ("replace", "insert"):
                changed.append((new[j1].start(), new[j2 - 1].end()))
                inserted += j2 - j1
            if tag in ("replace", "delete"):
                at = new[j1].start() if j1 < len(new) else len(text)
                deletions.setdefault(at, []).append(previous[old[i1].start():old[i2 - 1].end()])
                deleted += i2 - i1
    cuts = sorted({0, len(text), *(p for span in changed for p in span), *deletions,
                   *(p for a, b, _, _ in spans for p in (a, b))})
    pieces: list[dict[str, Any]] = []
    k = 0
    for x, y in zip(cuts, cuts[1:] or [len(text)]):
        for gone in deletions.get(x, []):
            pieces.append({"kind": "deleted", "text": gone})
        if y <= x:
            continue
        while k < len(changed) and changed[k][1] <= x:
            k += 1
        is_changed = k < len(changed) and changed[k][0] <= x and y <= changed[k][1]
        mark = _mark([(f, w) for a, b, f, w in spans if a <= x and y <= b])
        last = pieces[-1] if pieces else None
        if last and last["kind"] == "text" and last["changed"] == is_changed and last["mark"] == mark:
            last["text"] += text[x:y]
        else:
            pieces.append({"kind": "text", "text": text[x:y], "changed": is_changed, "mark": mark})
    if len(text) in deletions and len(cuts) > 1:
        pieces += [{"kind": "deleted", "text": gone} for gone in deletions[len(text)]]
    return {"pieces": pieces, "inserted": inserted, "deleted": deleted}


def stage_spans(findings: Sequence[Finding]) -> list[tuple[int, int, Finding, str]]:
    return [(f.stage_span.start, f.stage_span.end, f, "") for f in findings if f.stage_span is not None]


def reference_spans(stages: Sequence[tuple[str, Sequence[Finding]]], index: int, n_refs: int
                    ) -> list[tuple[int, int, Finding, str]]:
    """The spans of reference ``index`` that findings point to (a lost number,
    name, negation, ...), each once per finding, with the stages it was found at."""
    found: dict[tuple, list[str]] = {}
    for stage, findings in stages:
        for f in findings:
            where = f.reference_index if f.reference_index is not None else (0 if n_refs == 1 else None)
            if f.reference_span is not None and where == index:
                found.setdefault((f.reference_span.start, f.reference_span.end, f.key), []).append(stage)
    out = []
    for (start, end, _), at in found.items():
        finding = next(f for _, fs in stages for f in fs if f.reference_span is not None
                       and (f.reference_span.start, f.reference_span.end) == (start, end))
        out.append((start, end, finding, f" at {', '.join(dict.fromkeys(at))}"))
    return out


# --------------------------------------------------------------------------
# Findings and metric details, readably
# --------------------------------------------------------------------------

# Keys left out of details: the same for every passage (the model, which the signature names).
_SKIPPED_KEYS = {"model"}


def finding_view(finding: Finding, references: Sequence[str]) -> dict[str, Any]:
    """One finding as the page shows it: kind, which way, how serious, where, why."""
    where = []
    if finding.stage_span is not None:
        where.append(("here", finding.stage_span.text))
    if finding.reference_span is not None:
        index = finding.reference_index
        label = f"reference {index + 1}" if index is not None and len(references) > 1 else "reference"
        where.append((label, finding.reference_span.text))
    return {"kind": finding.kind, "change": finding.change, "severity": finding.severity, "label": finding.label,
            "why": finding.why, "where": where, "source": finding.source}


def findings_view(findings: Sequence[Finding], references: Sequence[str]) -> list[dict[str, Any]]:
    """Findings, most serious first."""
    return [finding_view(f, references) for f in sorted(findings, key=kind_order)]


def _plain_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return fmt_number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain_value(v)}" for k, v in sorted(value.items()))
    return str(value)


def detail_items(metric: str, detail: Any) -> list[dict[str, Any]]:
    """A metric's per-passage details as labelled items for the page: a list
    becomes a row of chips, nested dicts ``outer · inner`` labels, scalars
    text; false flags and empty values are left out. (What a metric *found*
    is in its findings, shown on their own.)"""
    items: list[dict[str, Any]] = []

    def walk(label: str, value: Any) -> None:
        if value is None or value is False or value == "" or value == {} or value == []:
            return  # absent, or a flag that did not fire (e.g. "windowed": false)
        if isinstance(value, dict):
            for key, inner in sorted(value.items(), key=lambda kv: str(kv[0])):
                if key not in _SKIPPED_KEYS:
                    walk(f"{label} · {key}" if label else str(key), inner)
        elif isinstance(value, (list, tuple)):
            chips = [_plain_value(v) for v in value]
            items.append({"label": label, "chips": chips[:DETAIL_LIST_LIMIT],
                          "more": max(0, len(chips) - DETAIL_LIST_LIMIT)})
        elif label == "best_reference" and isinstance(value, int) and not isinstance(value, bool):
            items.append({"label": "closest reference", "text": f"reference {value + 1}"})
        else:
            items.append({"label": label, "text": _plain_value(value)})

    walk("", detail if isinstance(detail, dict) else {"value": detail})
    return items


# --------------------------------------------------------------------------
# View models
# --------------------------------------------------------------------------

def _char_note(text: str) -> str:
    """Code points of a short edit made of punctuation or spaces (a curly quote
    replaced by a straight one looks the same on the page)."""
    if 0 < len(text) <= 3 and not any(ch.isalnum() for ch in text):
        return " ".join(f"U+{ord(ch):04X}" for ch in text)
    return ""


def _edit_view(edit: CleanerEdit) -> dict[str, Any]:
    return {"cleaner": edit.cleaner, "rule": edit.rule, "before": edit.before, "after": edit.after,
            "before_note": _char_note(edit.before), "after_note": _char_note(edit.after),
            "start": edit.start, "end": edit.end}


def _verdict_view(verdict: Verdict | None) -> dict[str, Any] | None:
    if verdict is None or verdict.band not in BANDS:
        return None
    return {"band": verdict.band, "score": verdict.score, "reasons": verdict.reasons}


def score_rows(names: Iterable[str], infos: Mapping[str, MetricInfo],
               value: Callable[[str], list[Any]]) -> list[dict[str, Any]]:
    """Rows of a score table: each metric (in display order) with its arrow and values."""
    return [{"metric": m, "arrow": info_of(m, infos).arrow, "values": value(m)} for m in ordered_metrics(names, infos)]


def summary_row(record: PassageResult, stages: Sequence[str]) -> dict[str, Any]:
    """What the table and the chart need of one passage (kept for every passage)."""
    cells = []
    for stage in stages:
        verdict = _verdict_view(record.stages[stage].verdict if stage in record.stages else None)
        cells.append({"stage": stage, "score": verdict["score"] if verdict else None,
                      "band": verdict["band"] if verdict else None})
    last = record.last_verdict(stages)
    if record.error is not None:
        reason = "failed: " + record.error.message
    else:
        reason = (last.reasons if last and last.reasons else [""])[0]
    reason = " ".join(str(reason).split())
    if len(reason) > REASON_CELL_LIMIT:
        reason = reason[:REASON_CELL_LIMIT - 1] + "…"
    return {"id": record.id, "anchor": anchor_id(record.id), "speaker": record.speaker,
            "cells": cells, "reason": reason, "failed": record.error is not None}


def passage_view(record: PassageResult, stages: Sequence[str], infos: Mapping[str, MetricInfo]) -> dict[str, Any]:
    """Everything one passage section shows (built one passage at a time)."""
    references = list(record.references)
    present = [s for s in stages if s in record.stages]
    closest_for: dict[int, list[str]] = {}
    stage_views = []
    for position, stage in enumerate(present):
        data = record.stages[stage]
        diff = closest_reference_diff(data.text, references)
        if diff is not None:
            closest_for.setdefault(diff["index"], []).append(stage)
        details = [{"metric": metric, "items": detail_items(metric, detail)}
                   for metric, detail in sorted(data.details.items())]
        verdict = _verdict_view(data.verdict)
        previous = present[position - 1] if position else None
        stage_views.append({
            "name": stage,
            "text": data.text,
            "previous": previous,
            "shown": highlight(data.text, stage_spans(data.findings),
                               record.stages[previous].text if previous else None),
            "diff": diff,
            "verdict": verdict,
            "findings": findings_view(data.findings, references),
            "edits": [_edit_view(e) for e in data.edits] if data.edits is not None else None,
            "pivots": [hop.to_json() for hop in data.round_trip.hops[:-1]] if data.round_trip else [],
            "warnings": list(data.round_trip.warnings) if data.round_trip else [],
            "details": [d for d in details if d["items"]],
            "components": sorted(data.verdict.components.items()) if verdict else [],
        })
    names = [m for s in present for m in record.stages[s].scores]
    return {
        "id": record.id,
        "anchor": anchor_id(record.id),
        "speaker": record.speaker,
        "error": record.error.to_json() if record.error else None,
        "stages": stage_views,
        "present": present,
        "references": [{"text": ref, "closest_for": closest_for.get(i, []),
                        "shown": highlight(ref, reference_spans([(st, record.stages[st].findings) for st in present],
                                                                i, len(references)))}
                       for i, ref in enumerate(references)],
        "score_rows": score_rows(names, infos, lambda m: [record.stages[s].scores.get(m) for s in present]),
    }


# --------------------------------------------------------------------------
# The chart (inline SVG, drawn here, rendered by the template)
# --------------------------------------------------------------------------

STAGE_STYLES = [  # colour + pattern: a stage is never told apart by colour alone
    {"colour": "#5b6578", "pattern": "hatch", "letter": "D"},
    {"colour": "#2f6fdf", "pattern": "dots", "letter": "C"},
    {"colour": "#8a4fd6", "pattern": "solid", "letter": "R"},
    {"colour": "#0f8a7e", "pattern": "cross", "letter": "4"},
]


def stage_styles(stages: Sequence[str]) -> list[dict[str, str]]:
    styles = []
    for i, stage in enumerate(stages):
        style = dict(STAGE_STYLES[i % len(STAGE_STYLES)])
        style.update(stage=stage, letter=(stage[:1].upper() or style["letter"]), index=str(i))
        styles.append(style)
    return styles


def chart_model(rows: Sequence[Mapping[str, Any]], stages: Sequence[str], thresholds: Mapping[str, float]) -> dict[str, Any]:
    """Geometry of the meaning-score chart: one bar group per passage, or a
    histogram of scores per stage when there are too many passages."""
    styles = stage_styles(stages)
    plot_h, top, left, right = 220.0, 40.0, 44.0, 112.0
    k = max(1, len(stages))
    per_passage = len(rows) <= PER_PASSAGE_CHART_MAX
    if per_passage:
        groups = [{"label": r["id"], "href": "#" + r["anchor"], "failed": r["failed"],
                   "values": [(c["score"], c["band"]) for c in r["cells"]]} for r in rows]
        y_max, y_label = 100.0, "meaning score"
    else:
        groups = []
        for lo in range(0, 100, 10):
            counts = []
            for i in range(len(stages)):
                n = sum(1 for r in rows if _in_bin(r["cells"][i]["score"], lo))
                counts.append((n, None))
            groups.append({"label": f"{lo}–{lo + 10}", "href": None, "failed": False, "values": counts})
        y_max = float(max([1] + [n for g in groups for n, _ in g["values"]]))
        y_label = "passages"
    n_groups = max(1, len(groups))
    bar_w = max(3.0, min(28.0, 840.0 / (n_groups * (k + 1.2))))
    gap = bar_w * 1.2
    group_w = k * bar_w + gap
    plot_w = max(150.0 * len(stages), n_groups * group_w)  # at least room for the legend
    rotate = per_passage and n_groups > 14
    bottom = 74.0 if rotate else 48.0
    show_values = per_passage and n_groups * k <= 36
    show_letters = per_passage and bar_w >= 12

    bars, labels = [], []
    for g, group in enumerate(groups):
        x0 = left + g * group_w + gap / 2
        for i, (value, band) in enumerate(group["values"]):
            x = x0 + i * bar_w
            if show_letters:
                labels.append(_label(x + bar_w / 2, top + plot_h + 12, styles[i]["letter"], "stage-letter"))
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                continue
            clipped = min(max(float(value), 0.0), y_max)
            h = plot_h * clipped / y_max
            if per_passage:
                symbol = BAND_SYMBOL.get(band or "", "")
                title = f"{group['label']} · {stages[i]}: {fmt_number(value)} {symbol} {band or 'no verdict'}"
            else:
                title = f"{stages[i]}: {int(value)} passages scored {group['label']}"
            bars.append({"x": x, "y": top + plot_h - h, "w": bar_w - 1, "h": max(h, 0.5), "stage": i,
                         "title": title, "href": group["href"],
                         "value": (f"{value:.0f}" if show_values else None)})
        centre = x0 + k * bar_w / 2
        label_y = top + plot_h + (26 if show_letters else 14)
        labels.append(_label(centre, label_y, group["label"], "group-label", rotate))
        if group["failed"]:
            labels.append(_label(centre, top + plot_h - 6, "✖ failed", "failed-label"))

    ticks = [{"y": top + plot_h - plot_h * t / y_max, "text": f"{t:g}"} for t in _ticks(y_max)]
    lines = []
    if per_passage:
        for band, text in (("preserved", f"✔ preserved ≥ {thresholds['preserved']:g}"),
                           ("lost", f"✖ lost < {thresholds['lost']:g}")):
            lines.append({"y": top + plot_h - plot_h * thresholds[band] / 100.0, "text": text, "band": band})
    width = left + plot_w + right
    return {
        "width": round(width), "height": round(top + plot_h + bottom), "left": left, "top": top,
        "plot_w": plot_w, "plot_h": plot_h, "bars": bars, "labels": labels, "ticks": ticks, "lines": lines,
        "styles": styles, "per_passage": per_passage, "y_label": y_label,
    }


def _label(x: float, y: float, text: str, cls: str, rotate: bool = False) -> dict[str, Any]:
    return {"x": x, "y": y, "text": text, "cls": cls, "rotate": rotate}


def _in_bin(score: Any, lo: int) -> bool:
    if not isinstance(score, (int, float)) or not math.isfinite(score):
        return False
    return lo <= score < lo + 10 or (lo == 90 and score >= 100)


def _ticks(y_max: float) -> list[float]:
    if y_max == 100.0:
        return [0, 25, 50, 75, 100]
    step = max(1, math.ceil(y_max / 4))
    return [float(t) for t in range(0, int(y_max) + 1, step)]


# --------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------

def _signature_rows(signature: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The signature's fields as short label/value rows (big dicts summarised)."""
    import json

    rows = []
    for key, value in signature.items():
        if key in ("metrics", "packages"):
            continue
        if key == "cleaners" and isinstance(value, list):
            text = ", ".join(f"{c.get('name')} {c.get('version')}" for c in value if isinstance(c, dict)) or "none"
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            text = "none" if value is None else str(value)
        rows.append((key, text))
    packages = signature.get("packages")
    if isinstance(packages, dict):
        rows.append(("packages", ", ".join(f"{k} {v}" for k, v in sorted(packages.items()))))
    return rows


def overview(header: RunHeader, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    stages = list(header.stages)
    corpus = header.corpus
    summary = header.summary
    verdicts = []
    for stage in stages:
        counts = summary.verdicts.get(stage) or {}
        total = sum(int(counts.get(b, 0)) for b in BANDS)
        verdicts.append({"stage": stage, "total": total,
                         "counts": [(b, int(counts.get(b, 0)),
                                     100.0 * int(counts.get(b, 0)) / total if total else 0.0) for b in BANDS]})
    names = [m for s in stages for m in corpus.get(s, {})]
    return {
        "title": f"Meaning-preservation report — {header.config_name or 'run'}",
        "config_name": header.config_name,
        "stages": stages,
        "summary": summary.to_json(),
        "corpus_rows": score_rows(names, header.metrics, lambda m: [corpus.get(s, {}).get(m) for s in stages]),
        "verdicts": verdicts,
        "signature_string": header.signature_string,
        "signature_rows": _signature_rows(header.signature),
        "metric_signatures": sorted(header.metric_signatures.items()),
        "failed": [f.to_json() for f in header.failed],
        "thresholds": header.thresholds,
        "chart": chart_model(rows, stages, header.thresholds),
        "rows": rows,
    }


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

def render_run_html(header: RunHeader, records_factory: Callable[[], Iterable[PassageResult]]) -> Iterator[str]:
    """The run report as a stream of HTML chunks (two passes over the records:
    a summary row per passage first, then one section at a time)."""
    stages = list(header.stages)
    infos = header.metrics
    rows = [summary_row(record, stages) for record in records_factory()]
    sections = (passage_view(record, stages, infos) for record in records_factory())
    template = environment().get_template("run.html.j2")
    return template.generate(page=overview(header, rows), passages=sections, assets=assets())


def write_run_html(path: Path, header: RunHeader, records_factory: Callable[[], Iterable[PassageResult]]) -> None:
    """Write ``report.html`` for a run, atomically; ``records_factory()`` returns
    a fresh iterator over the passage records in passage order (it is called twice)."""
    atomic_write(Path(path), render_run_html(header, records_factory))
