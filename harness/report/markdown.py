"""Markdown reports: one per passage and one for the run."""

from __future__ import annotations

import math
from typing import Any, Iterable

from .text import md_cell, md_code, md_diff, md_text, visible

BAND_MARK = {"preserved": "✔ preserved", "degraded": "▲ degraded", "lost": "✖ lost"}
# Metrics shown first in tables; any others follow in name order.
PREFERRED_ORDER = ["meaning", "chrf", "bleu", "ter", "cosine", "bertscore", "anchors", "injected", "roundtrip"]
LOWER_IS_BETTER = {"ter", "injected"}


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return "n/a"
        return f"{value:.3f}" if abs(value) <= 1.0 and value != 0 else f"{value:.1f}"
    return md_cell(str(value), 60)


def ordered_metrics(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    first = [m for m in PREFERRED_ORDER if m in names]
    return first + sorted(m for m in names if m not in first)


def arrow(metric: str) -> str:
    return "↓" if metric in LOWER_IS_BETTER else "↑"


def band_text(verdict: dict | None) -> str:
    if not verdict:
        return "–"
    return BAND_MARK.get(verdict.get("band", ""), str(verdict.get("band")))


def corpus_table(stages: list[str], corpus: dict[str, dict[str, float]]) -> list[str]:
    """Headline metrics as columns; dotted sub-scores (``anchors.numbers_recall``)
    in a second table with stages as columns, so neither gets too wide."""
    names = ordered_metrics(m for stage in stages for m in corpus.get(stage, {}))
    headline = [m for m in names if "." not in m]
    lines = ["| stage | " + " | ".join(f"{m} {arrow(m)}" for m in headline) + " |",
             "|---|" + "---:|" * len(headline)]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(fmt(corpus.get(stage, {}).get(m)) for m in headline) + " |")
    sub = [m for m in names if "." in m]
    if sub:
        lines += ["", "| sub-score | " + " | ".join(stages) + " |", "|---|" + "---:|" * len(stages)]
        for metric in sub:
            lines.append(f"| {metric} {arrow(metric)} | " + " | ".join(fmt(corpus.get(s, {}).get(metric)) for s in stages) + " |")
    return lines


def passage_markdown(record: dict[str, Any], stages: list[str]) -> str:
    pid = record["id"]
    out = [f"# Passage {md_text(pid)}", ""]
    if record.get("speaker"):
        out += [f"Speaker: **{md_text(record['speaker'])}**", ""]
    error = record.get("error")
    if error:
        out += [f"> **Failed at the {md_text(error['stage'])} stage:** {md_text(error['message'])}", ""]
        if error.get("detail"):
            # a traceback quotes the failing text: show its control characters too
            out += ["```text", visible(error["detail"]).replace("```", "ʼʼʼ").rstrip(), "```", ""]
    present = [s for s in stages if s in record["stages"]]

    out += ["## Verdicts", "", "| stage | meaning | verdict | reasons |", "|---|---:|---|---|"]
    for stage in present:
        verdict = record["stages"][stage].get("verdict") or {}
        reasons = "; ".join(md_cell(r, 120) for r in verdict.get("reasons", [])) or "–"
        out.append(f"| {stage} | {fmt(verdict.get('score'))} | {band_text(verdict)} | {reasons} |")
    out.append("")

    out += ["## Texts", ""]
    for stage in present:
        data = record["stages"][stage]
        out += [f"### {stage}", "", "> " + md_text(data["text"]), ""]
        for hop in data.get("hops", [])[:-1]:
            out += [f"Pivot text ({md_text(hop['src'])}→{md_text(hop['tgt'])}):", "", "> " + md_text(hop["text"]), ""]
        for warning in data.get("warnings", []):
            out.append(f"- ⚠ {md_cell(warning, 300)}")
        if data.get("warnings"):
            out.append("")
    out += ["### References", ""]
    for i, ref in enumerate(record.get("references", []), start=1):
        out.append(f"{i}. {md_text(ref)}")
    out.append("")

    changes = [(a, b) for a, b in zip(present, present[1:])]
    if changes:
        out += ["## What changed between stages", ""]
        for before, after in changes:
            out += [f"**{before} → {after}:** " + md_diff(record["stages"][before]["text"], record["stages"][after]["text"]), ""]

    edits = record["stages"].get("cleaned", {}).get("edits") or []
    if "cleaned" in record["stages"]:
        out += ["## Cleaner edits", ""]
        if edits:
            out += ["| cleaner | rule | before | after |", "|---|---|---|---|"]
            for edit in edits:
                out.append(f"| {md_cell(str(edit.get('cleaner', '')))} | {md_cell(str(edit.get('rule', '')))} | "
                           f"{md_cell(edit.get('before', ''), 80) or '∅'} | {md_cell(edit.get('after', ''), 80) or '∅'} |")
        else:
            out.append("No edits.")
        out.append("")

    metrics = ordered_metrics(m for s in present for m in record["stages"][s].get("scores", {}))
    if metrics:
        out += ["## Scores", "", "| metric | " + " | ".join(present) + " |", "|---|" + "---:|" * len(present)]
        for metric in metrics:
            out.append(f"| {metric} {arrow(metric)} | " + " | ".join(
                fmt(record["stages"][s].get("scores", {}).get(metric)) for s in present) + " |")
        out.append("")

    details_sections = []
    for stage in present:
        for metric, detail in sorted((record["stages"][stage].get("details") or {}).items()):
            lines = _detail_lines(detail)
            if lines:
                details_sections += [f"- **{stage} / {md_text(metric)}**"] + [f"  - {line}" for line in lines]
    if details_sections:
        out += ["## Details", ""] + details_sections + [""]
    return "\n".join(out)


# Detail keys that only repeat what other keys say (kept in results.json).
_DETAIL_NOISE = {"context", "in_text"}


def _detail_lines(detail: Any, depth: int = 0) -> list[str]:
    """Flatten a metric's details into short readable lines: lost/added
    anchors per kind, injected spans, the best reference."""
    if not isinstance(detail, dict):
        return [_detail_value(detail)] if detail not in (None, [], {}, "") else []
    lines = []
    for key, value in sorted(detail.items()):
        if key in _DETAIL_NOISE or value in (None, [], {}, ""):
            continue
        if isinstance(value, dict) and depth < 2:
            inner = _detail_lines(value, depth + 1)
            if inner:
                lines.append(f"{md_text(str(key))}: " + "; ".join(inner))
        else:
            lines.append(f"{md_text(str(key))}: {_detail_value(value)}")
    return lines


def _detail_value(value: Any) -> str:
    if isinstance(value, list):
        shown = [_detail_value(v) for v in value[:20]]
        more = f" (+{len(value) - 20} more)" if len(value) > 20 else ""
        return ", ".join(shown) + more
    if isinstance(value, dict):
        # a span: show its text and why it was flagged
        text = value.get("text") or value.get("before")
        why = value.get("why") or value.get("reason") or value.get("kind")
        if text is not None:
            return f"“{md_cell(str(text), 80)}”" + (f" ({md_cell(str(why), 80)})" if why else "")
        return ", ".join(f"{md_text(str(k))}={_detail_value(v)}" for k, v in sorted(value.items()))
    if isinstance(value, str):
        return f"“{md_cell(value, 120)}”"
    return fmt(value)


def run_markdown_head(header: dict[str, Any]) -> list[str]:
    stages = header["stages"]
    summary = header["summary"]
    out = ["# Meaning-preservation report", "",
           f"Signature: `{md_code(header['signature_string'])}`", "",
           f"Passages: {summary['passages']} ({summary['scored']} scored, {summary['failed']} failed). "
           f"Round-trip sentences with a length ratio out of band: {summary.get('retranslation_warnings', 0)}; "
           f"split or stopped at the length limit: {summary.get('translation_notes', 0)}.", "",
           "## Corpus scores", ""]
    out += corpus_table(stages, header["corpus"])
    out += ["", "## Verdicts", "", "| stage | ✔ preserved | ▲ degraded | ✖ lost |", "|---|---:|---:|---:|"]
    for stage in stages:
        counts = summary["verdicts"].get(stage, {})
        out.append(f"| {stage} | {counts.get('preserved', 0)} | {counts.get('degraded', 0)} | {counts.get('lost', 0)} |")
    if header.get("failed"):
        out += ["", "## Failed passages", ""]
        for failure in header["failed"]:
            out.append(f"- [{md_text(failure['id'])}](passages/{failure['id']}.md): {md_cell(failure['message'], 200)}")
    cols = " | ".join(f"{s} meaning | {s} verdict" for s in stages)
    out += ["", "## Passages", "", f"| passage | speaker | {cols} | main reason (last stage) |",
            "|---|---|" + "---:|---|" * len(stages) + "---|"]
    return out


def run_markdown_row(record: dict[str, Any], stages: list[str]) -> str:
    pid = record["id"]
    cells = []
    for stage in stages:
        verdict = record["stages"].get(stage, {}).get("verdict")
        cells.append(f"{fmt((verdict or {}).get('score'))} | {band_text(verdict)}")
    last = next((record["stages"][s].get("verdict") for s in reversed(stages) if s in record["stages"]), None) or {}
    reason = md_cell((last.get("reasons") or ["–"])[0], 100)
    if record.get("error"):
        reason = "failed: " + md_cell(record["error"]["message"], 100)
    speaker = md_cell(record.get("speaker") or "–", 30)
    return f"| [{md_text(pid)}](passages/{pid}.md) | {speaker} | " + " | ".join(cells) + f" | {reason} |"
