"""The HTML report: one self-contained file a person can read, sort and print.

``report.html`` shows a run: corpus scores, verdict counts, a chart of every
passage's meaning score per stage, the signature, a sortable table of
passages, and one section per passage (stage texts diffed against the
closest reference, the round trip's pivot text, the cleaners' edits, anchors
kept and lost, verdicts with reasons, scores).

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

from ..runstore import atomic_write
from .markdown import BAND_MARK, arrow, fmt, ordered_metrics
from .text import char_name, has_invisible, visible, word_diff

BANDS = ("preserved", "degraded", "lost")
BAND_SYMBOL = {band: mark.split()[0] for band, mark in BAND_MARK.items()}
DEFAULT_THRESHOLDS = {"preserved": 70.0, "lost": 40.0}
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


def _number(value: Any) -> str:
    """A score as the Markdown report shows it ("–" when missing, "n/a" for NaN)."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return fmt(value)
    return str(value)


def _sort_key(value: Any) -> str:
    """``data-sort`` value for a numeric cell; empty (sorted last) when missing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return repr(float(value))
    return ""


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=True,
        finalize=_shown,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(marked=marked, num=_number, sortkey=_sort_key, anchor=anchor_id)
    env.globals.update(BAND_SYMBOL=BAND_SYMBOL, BANDS=BANDS, OUTCOME_MARK=OUTCOME_MARK, arrow=arrow)
    return env


@lru_cache(maxsize=1)
def _assets() -> dict[str, Any]:
    """The inline stylesheet and script, and the CSP that allows exactly them."""
    loader = _environment().loader
    assert loader is not None
    css = loader.get_source(_environment(), "report.css")[0]
    script = loader.get_source(_environment(), "report.js")[0]
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
# Metric details, readably
# --------------------------------------------------------------------------

_LOST_WORDS = ("lost", "missing", "dropped", "removed")
_KEPT_WORDS = ("kept", "matched", "preserved", "found")
_ADDED_WORDS = ("added", "injected", "foreign", "spans", "extra", "inserted", "off_topic")


def _kind_of(label: str) -> str:
    low = label.lower()
    for kind, words in (("lost", _LOST_WORDS), ("added", _ADDED_WORDS), ("kept", _KEPT_WORDS)):
        if any(word in low for word in words):
            return kind
    return "plain"


# Keys left out of details: derivable from the kept/lost lists beside them
# (anchors' "in_text", "required"), or the same for every passage (the model,
# which the signature names).
_REDUNDANT_BESIDE_CHIPS = {"in_text", "required"}
_SKIPPED_KEYS = {"model"}
_CHIP_ORDER = ("lost", "added", "kept")  # problems first


def _item_text(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("text", "span", "anchor", "value", "token"):
            if isinstance(value.get(key), str):
                why = value.get("why") or value.get("reason")
                return f"{value[key]} — {why}" if isinstance(why, str) and why else value[key]
        return ", ".join(f"{k}={_plain_value(v)}" for k, v in sorted(value.items()))
    return _plain_value(value)


def _plain_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_item_text(v) for v in value)
    return str(value)


def _chip_item(label: str, chips: list[dict[str, str]]) -> dict[str, Any]:
    return {"label": label, "chips": chips[:DETAIL_LIST_LIMIT], "more": max(0, len(chips) - DETAIL_LIST_LIMIT)}


def detail_items(metric: str, detail: Any) -> list[dict[str, Any]]:
    """A metric's per-passage details as labelled items for the page.

    Lists whose key says what they are (kept/found, lost/missing,
    added/injected/spans) become one row of chips per dict, marked ✖ lost,
    + added, ✔ kept (e.g. one row per anchor kind); an ``anchor -> snippets``
    ``context`` dict becomes a line of quotes; other nested dicts are
    flattened into ``outer · inner`` labels; scalars are shown as text;
    false flags and empty values are left out.
    """
    items: list[dict[str, Any]] = []

    def join(label: str, key: str) -> str:
        return f"{label} · {key}" if label else str(key)

    def walk(label: str, value: Any) -> None:
        if value is None or value is False or value == "" or value == {} or value == []:
            return  # absent, or a flag that did not fire (e.g. "windowed": false)
        if isinstance(value, dict):
            grouped = [k for k, v in value.items() if isinstance(v, (list, tuple)) and _kind_of(str(k)) != "plain"]
            if grouped:
                chips = [{"kind": kind, "text": _item_text(v)}
                         for kind in _CHIP_ORDER for key in grouped if _kind_of(str(key)) == kind for v in value[key]]
                items.append(_chip_item(label, chips))
            for key, inner in sorted(value.items(), key=lambda kv: str(kv[0])):
                if key in grouped or key in _SKIPPED_KEYS or (grouped and key in _REDUNDANT_BESIDE_CHIPS):
                    continue
                if key == "context" and isinstance(inner, dict):
                    quotes = [f"{k}: " + " … ".join(f"“…{_plain_value(q)}…”" for q in (v if isinstance(v, list) else [v]))
                              for k, v in sorted(inner.items()) if v]
                    if quotes:
                        items.append({"label": join(label, "context"), "text": "; ".join(quotes)})
                    continue
                walk(join(label, str(key)), inner)
        elif isinstance(value, (list, tuple)):
            kind = _kind_of(label)
            items.append(_chip_item(label, [{"kind": kind, "text": _item_text(v)} for v in value]))
        elif label == "best_reference" and isinstance(value, int) and not isinstance(value, bool):
            items.append({"label": "closest reference", "text": f"reference {value + 1}"})
        else:
            items.append({"label": label, "text": _plain_value(value)})

    walk("", detail if isinstance(detail, dict) else {"value": detail})
    return items


# --------------------------------------------------------------------------
# View models
# --------------------------------------------------------------------------

def grouped_metrics(names: Iterable[str]) -> list[str]:
    """Metrics in report order, each followed by its sub-scores
    (``anchors`` then ``anchors.names_recall``, ...)."""
    names = list(dict.fromkeys(names))
    parents = ordered_metrics(dict.fromkeys(n.split(".", 1)[0] for n in names))
    out = []
    for parent in parents:
        if parent in names:
            out.append(parent)
        out += sorted(n for n in names if n.startswith(parent + "."))
    return out


def _verdict(stage_data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    verdict = (stage_data or {}).get("verdict")
    if not isinstance(verdict, dict) or verdict.get("band") not in BANDS:
        return None
    return verdict


def _char_note(text: str) -> str:
    """Code points of a short edit made of punctuation or spaces (a curly quote
    replaced by a straight one looks the same on the page)."""
    if 0 < len(text) <= 3 and not any(ch.isalnum() for ch in text):
        return " ".join(f"U+{ord(ch):04X}" for ch in text)
    return ""


def _edit_view(edit: Mapping[str, Any]) -> dict[str, Any]:
    before, after = str(edit.get("before") or ""), str(edit.get("after") or "")
    return {"cleaner": edit.get("cleaner", ""), "rule": edit.get("rule", ""), "before": before, "after": after,
            "before_note": _char_note(before), "after_note": _char_note(after),
            "start": edit.get("start", ""), "end": edit.get("end", "")}


def _components(verdict: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """The parts the meaning score combines (``verdict["components"]``), if recorded."""
    components = (verdict or {}).get("components")
    if not isinstance(components, dict):
        return []
    return [(str(k), v) for k, v in sorted(components.items())]


def summary_row(record: Mapping[str, Any], stages: Sequence[str]) -> dict[str, Any]:
    """What the table and the chart need of one passage (kept for every passage)."""
    cells = []
    for stage in stages:
        verdict = _verdict(record["stages"].get(stage))
        cells.append({"stage": stage, "score": verdict.get("score") if verdict else None,
                      "band": verdict["band"] if verdict else None})
    last = next((_verdict(record["stages"][s]) for s in reversed(stages) if s in record["stages"]), None)
    error = record.get("error")
    if error:
        reason = "failed: " + str(error.get("message", ""))
    else:
        reason = ((last or {}).get("reasons") or [""])[0]
    reason = " ".join(str(reason).split())
    if len(reason) > REASON_CELL_LIMIT:
        reason = reason[:REASON_CELL_LIMIT - 1] + "…"
    return {"id": record["id"], "anchor": anchor_id(record["id"]), "speaker": record.get("speaker"),
            "cells": cells, "reason": reason, "failed": bool(error)}


def passage_view(record: Mapping[str, Any], stages: Sequence[str]) -> dict[str, Any]:
    """Everything one passage section shows (built one passage at a time)."""
    references = [str(r) for r in record.get("references") or []]
    present = [s for s in stages if s in record["stages"]]
    closest_for: dict[int, list[str]] = {}
    stage_views = []
    for stage in present:
        data = record["stages"][stage]
        text = str(data.get("text", ""))
        diff = closest_reference_diff(text, references)
        if diff is not None:
            closest_for.setdefault(diff["index"], []).append(stage)
        details = [{"metric": metric, "items": detail_items(metric, detail)}
                   for metric, detail in sorted((data.get("details") or {}).items())]
        stage_views.append({
            "name": stage,
            "text": text,
            "diff": diff,
            "verdict": _verdict(data),
            "edits": [_edit_view(e) for e in data.get("edits") or [] if isinstance(e, dict)]
                     if stage == "cleaned" or "edits" in data else None,
            "pivots": [hop for hop in (data.get("hops") or [])[:-1]],
            "warnings": [str(w) for w in data.get("warnings") or []],
            "details": [d for d in details if d["items"]],
            "components": _components(_verdict(data)),
        })
    metrics = grouped_metrics(m for s in present for m in (record["stages"][s].get("scores") or {}))
    score_rows = [{"metric": m, "values": [(record["stages"][s].get("scores") or {}).get(m) for s in present]}
                  for m in metrics]
    return {
        "id": record["id"],
        "anchor": anchor_id(record["id"]),
        "speaker": record.get("speaker"),
        "error": record.get("error"),
        "stages": stage_views,
        "present": present,
        "references": [{"text": ref, "closest_for": closest_for.get(i, [])} for i, ref in enumerate(references)],
        "score_rows": score_rows,
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


def _thresholds(header: Mapping[str, Any]) -> dict[str, float]:
    found = (((header.get("signature") or {}).get("metrics") or {}).get("thresholds") or {})
    out = dict(DEFAULT_THRESHOLDS)
    for band in out:
        if isinstance(found.get(band), (int, float)):
            out[band] = float(found[band])
    return out


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
                title = f"{group['label']} · {stages[i]}: {_number(value)} {symbol} {band or 'no verdict'}"
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


def overview(header: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    stages = list(header["stages"])
    corpus = header.get("corpus") or {}
    metrics = grouped_metrics(m for s in stages for m in corpus.get(s, {}))
    summary = header.get("summary") or {}
    verdicts = []
    for stage in stages:
        counts = (summary.get("verdicts") or {}).get(stage) or {}
        total = sum(int(counts.get(b, 0)) for b in BANDS)
        verdicts.append({"stage": stage, "total": total,
                         "counts": [(b, int(counts.get(b, 0)),
                                     100.0 * int(counts.get(b, 0)) / total if total else 0.0) for b in BANDS]})
    signature = header.get("signature") or {}
    return {
        "title": f"Meaning-preservation report — {signature.get('config_name') or 'run'}",
        "config_name": signature.get("config_name"),
        "stages": stages,
        "summary": summary,
        "corpus_rows": [{"metric": m, "values": [corpus.get(s, {}).get(m) for s in stages]} for m in metrics],
        "verdicts": verdicts,
        "signature_string": header.get("signature_string", ""),
        "signature_rows": _signature_rows(signature),
        "metric_signatures": sorted((header.get("metric_signatures") or {}).items()),
        "failed": header.get("failed") or [],
        "thresholds": _thresholds(header),
        "chart": chart_model(rows, stages, _thresholds(header)),
        "rows": rows,
    }


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

def render_run_html(header: Mapping[str, Any], records_factory: Callable[[], Iterable[Mapping[str, Any]]]) -> Iterator[str]:
    """The run report as a stream of HTML chunks (two passes over the records:
    a summary row per passage first, then one section at a time)."""
    stages = list(header["stages"])
    rows = [summary_row(record, stages) for record in records_factory()]
    sections = (passage_view(record, stages) for record in records_factory())
    template = _environment().get_template("run.html.j2")
    return template.generate(page=overview(header, rows), passages=sections, assets=_assets())


def write_run_html(path: Path, header: dict, records_factory: Callable[[], Iterator[dict]]) -> None:
    """Write ``report.html`` for a run, atomically.

    ``header`` is the run header (signature, stages, corpus, summary, failed,
    metric_signatures); ``records_factory()`` returns a fresh iterator over
    the passage records in passage order (it is called twice).
    """
    atomic_write(Path(path), render_run_html(header, records_factory))


# --------------------------------------------------------------------------
# Comparison report (harness compare)
# --------------------------------------------------------------------------

OUTCOME_MARK = {"win": "↑ win", "tie": "= tie", "loss": "↓ loss"}


def _significance_label(system: Mapping[str, Any]) -> tuple[str, str]:
    """Words and a symbol for a paired test's outcome, and a CSS class."""
    direction = system.get("direction")
    if direction == "same":
        return "= no difference", "muted"
    mark = "▲ better" if direction == "better" else "▼ worse"
    if system.get("significant"):
        return f"{mark}, significant", "sig-better" if direction == "better" else "sig-worse"
    return f"{mark}, not significant", "muted"


def _significance_tables(comparison: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    from ..compare import fmt_ci, fmt_delta, fmt_p, fmt_score, row_digits, unchanged_stages

    unchanged = unchanged_stages(comparison)
    tables = []
    for stage in comparison.get("stages", []):
        if stage in unchanged:
            continue
        rows = []
        for result in (r for r in comparison.get("results", []) if r["stage"] == stage):
            digits = row_digits(result)
            base = result["baseline"]
            systems = []
            for system in result["systems"]:
                label, cls = _significance_label(system)
                systems.append({
                    "name": system["name"], "score": fmt_score(system["score"], digits),
                    "ci": fmt_ci(system.get("ci"), digits), "delta": fmt_delta(system["delta"], digits),
                    "delta_ci": fmt_ci(system.get("delta_ci"), digits), "p_bootstrap": fmt_p(system.get("p_bootstrap")),
                    "p_ar": fmt_p(system.get("p_ar")), "label": label, "cls": cls,
                })
            rows.append({
                "metric": result["metric"], "arrow": "↑" if result.get("higher_is_better", True) else "↓",
                "n_passages": result.get("n_passages"),
                "baseline": {"name": base["name"], "score": fmt_score(base["score"], digits),
                             "ci": fmt_ci(base.get("ci"), digits)},
                "systems": systems,
            })
        if rows:
            tables.append({"stage": stage, "rows": rows})
    return tables, unchanged


def _run_stage(run: Mapping[str, Any], stage: str | None) -> str | None:
    if stage is None:
        return None
    return run["stages"][-1] if stage == "final" else stage


def _compare_passages(comparison: Mapping[str, Any], runs: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Per passage, each system's text, verdict and primary score at the focus
    stage: every passage when the runs are given, else the disagreements."""
    names = [s["name"] for s in comparison["systems"]]
    focus = comparison.get("disagreements", {}).get("stage") or (comparison.get("stages") or [None])[-1]
    metric = (comparison.get("settings") or {}).get("primary_metric")
    outcome_of: dict[str, dict[str, str]] = {}
    for outcome in comparison.get("outcomes", []):
        if outcome["stage"] == focus:
            outcome_of = {s["name"]: s.get("per_passage", {}) for s in outcome["systems"]}

    passages: list[dict[str, Any]] = []
    if runs is not None:
        by_id = [{p["id"]: p for p in run["passages"]} for run in runs]
        for record in runs[0]["passages"]:
            pid = record["id"]
            systems = []
            for name, run, index in zip(names, runs, by_id):
                other = index.get(pid) or {}
                stage = _run_stage(run, focus)
                entry = None if other.get("error") else (other.get("stages") or {}).get(stage)
                systems.append({"name": name, "stage": stage, "text": (entry or {}).get("text"),
                                "score": ((entry or {}).get("scores") or {}).get(metric),
                                "verdict": _verdict(entry), "error": (other.get("error") or {}).get("message")})
            passages.append({"id": pid, "references": list(record.get("references") or []), "systems": systems})
    else:
        for passage in comparison.get("disagreements", {}).get("passages", []):
            systems = [{"name": s["name"], "stage": s.get("stage"), "text": s.get("text"), "score": s.get("score"),
                        "verdict": {"band": s["band"], "score": s.get("score")} if s.get("band") in BANDS else None,
                        "error": None} for s in passage["systems"]]
            passages.append({"id": passage["id"], "references": list(passage.get("references") or []),
                             "systems": systems})

    for passage in passages:
        passage["anchor"] = anchor_id(passage["id"])
        refs = [str(r) for r in passage["references"]]
        scores = [s["score"] for s in passage["systems"] if _sort_key(s["score"])]
        passage["spread"] = max(scores) - min(scores) if len(scores) > 1 else None
        closest: dict[int, list[str]] = {}
        for k, system in enumerate(passage["systems"]):
            system["baseline"] = k == 0
            system["outcome"] = outcome_of.get(system["name"], {}).get(passage["id"]) if k else None
            system["diff"] = closest_reference_diff(system["text"], refs) if system["text"] is not None else None
            if system["diff"] is not None:
                closest.setdefault(system["diff"]["index"], []).append(system["name"])
        passage["references"] = [{"text": ref, "closest_for": closest.get(i, [])} for i, ref in enumerate(refs)]
    return passages


def compare_view(comparison: Mapping[str, Any], runs: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    tables, unchanged = _significance_tables(comparison)
    settings = comparison.get("settings") or {}
    outcomes = []
    for outcome in comparison.get("outcomes", []):
        systems = []
        for system in outcome["systems"]:
            total = max(1, system["wins"] + system["ties"] + system["losses"])
            systems.append({"name": system["name"], "counts": [
                ("win", system["wins"], 100.0 * system["wins"] / total),
                ("tie", system["ties"], 100.0 * system["ties"] / total),
                ("loss", system["losses"], 100.0 * system["losses"] / total)]})
        outcomes.append({"stage": outcome["stage"], "metric": outcome.get("metric"),
                         "n_passages": outcome.get("n_passages"), "systems": systems})
    names = [s["name"] for s in comparison["systems"]]
    return {
        "title": "System comparison — " + " vs ".join(names),
        "baseline": comparison.get("baseline"),
        "systems": comparison["systems"],
        "data": comparison.get("data") or {},
        "settings": settings,
        "tables": tables,
        "unchanged": unchanged,
        "outcomes": outcomes,
        "focus_stage": comparison.get("disagreements", {}).get("stage"),
        "metric": settings.get("primary_metric"),
        "all_passages": runs is not None,
        "passages": _compare_passages(comparison, runs),
        "notes": comparison.get("notes") or [],
    }


def write_compare_html(path: Path, comparison: dict, runs: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Write ``compare.html`` for a comparison (the dict of
    :func:`harness.compare.compare_runs`), atomically.

    With ``runs`` (the parsed ``results.json`` of each system, in the order of
    ``comparison["systems"]``) every passage is shown side by side; without,
    the passages where the systems disagree most.
    """
    template = _environment().get_template("compare.html.j2")
    atomic_write(Path(path), template.generate(page=compare_view(comparison, runs), assets=_assets()))
