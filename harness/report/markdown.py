"""Markdown reports: one per passage and one for the run."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..findings import Finding, kind_order
from ..metrics.base import MetricInfo, info_of, ordered_metrics
from ..results import PassageResult, RunHeader, Verdict
from .text import fmt_number, md_cell, md_code, md_diff, md_quote, md_text, visible

BAND_MARK = {"preserved": "✔ preserved", "degraded": "▲ degraded", "lost": "✖ lost"}
SEVERITY_MARK = {"major": "✖ major", "minor": "▲ minor", "note": "· note"}


def fmt(value: Any) -> str:
    """A number for a Markdown cell."""
    return fmt_number(value) if value is None or isinstance(value, (int, float)) else md_cell(str(value), 60)


def metric_label(name: str, infos: Mapping[str, MetricInfo]) -> str:
    """``chrf ↑``: the name and which way is better."""
    return f"{md_text(name)} {info_of(name, infos).arrow}"


def band_text(verdict: Verdict | None) -> str:
    if verdict is None:
        return "–"
    return BAND_MARK.get(verdict.band, verdict.band)


def corpus_table(stages: list[str], corpus: dict[str, dict[str, float]], infos: Mapping[str, MetricInfo]) -> list[str]:
    """Headline metrics as columns; dotted sub-scores (``anchors.numbers_recall``)
    in a second table with stages as columns, so neither gets too wide."""
    names = ordered_metrics((m for stage in stages for m in corpus.get(stage, {})), infos)
    headline = [m for m in names if "." not in m]
    lines = ["| stage | " + " | ".join(metric_label(m, infos) for m in headline) + " |",
             "|---|" + "---:|" * len(headline)]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(fmt(corpus.get(stage, {}).get(m)) for m in headline) + " |")
    sub = [m for m in names if "." in m]
    if sub:
        lines += ["", "| sub-score | " + " | ".join(stages) + " |", "|---|" + "---:|" * len(stages)]
        for metric in sub:
            lines.append(f"| {metric_label(metric, infos)} | "
                         + " | ".join(fmt(corpus.get(s, {}).get(metric)) for s in stages) + " |")
    return lines


def finding_where(finding: Finding, references: list[str]) -> tuple[str, str]:
    """Where a finding is: in the stage's text, and in which reference (Markdown)."""
    here = f"“{md_cell(finding.stage_span.text, 60)}” @{finding.stage_span.start}" if finding.stage_span else "–"
    there = "–"
    if finding.reference_span is not None:
        which = f"ref {finding.reference_index + 1}: " if finding.reference_index is not None and len(references) > 1 else ""
        there = f"{which}“{md_cell(finding.reference_span.text, 60)}”"
    return here, there


def findings_table(record: PassageResult, stages: Iterable[str]) -> list[str]:
    """Every finding of every stage, most serious first within a stage."""
    rows = []
    for stage in stages:
        for finding in sorted(record.stages[stage].findings, key=kind_order):
            here, there = finding_where(finding, record.references)
            rows.append(f"| {stage} | {md_text(finding.kind)} {md_text(finding.change)} "
                        f"| {SEVERITY_MARK.get(finding.severity, finding.severity)} | {here} | {there} "
                        f"| {md_cell(finding.why, 160)} |")
    if not rows:
        return []
    return ["## Findings", "", "| stage | finding | severity | in the text | in the references | why |",
            "|---|---|---|---|---|---|", *rows, ""]


def passage_markdown(record: PassageResult, stages: list[str], infos: Mapping[str, MetricInfo]) -> str:
    out = [f"# Passage {md_text(record.id)}", ""]
    if record.speaker:
        out += [f"Speaker: **{md_text(record.speaker)}**", ""]
    if record.error is not None:
        out += [f"> **Failed at the {md_text(record.error.stage)} stage:** {md_text(record.error.message)}", ""]
        if record.error.detail:
            # a traceback quotes the failing text: show its control characters too
            out += ["```text", visible(record.error.detail).replace("```", "ʼʼʼ").rstrip(), "```", ""]
    present = [s for s in stages if s in record.stages]

    out += ["## Verdicts", "", "| stage | meaning | verdict | reasons |", "|---|---:|---|---|"]
    for stage in present:
        verdict = record.stages[stage].verdict
        reasons = "; ".join(md_cell(r, 120) for r in (verdict.reasons if verdict else [])) or "–"
        out.append(f"| {stage} | {fmt(verdict.score if verdict else None)} | {band_text(verdict)} | {reasons} |")
    out.append("")
    out += findings_table(record, present)

    out += _texts(record, present)
    out += _cleaner_edits(record)

    metrics = ordered_metrics((m for s in present for m in record.stages[s].scores), infos)
    if metrics:
        out += ["## Scores", "", "| metric | " + " | ".join(present) + " |", "|---|" + "---:|" * len(present)]
        for metric in metrics:
            out.append(f"| {metric_label(metric, infos)} | "
                       + " | ".join(fmt(record.stages[s].scores.get(metric)) for s in present) + " |")
        out.append("")

    details_sections = []
    for stage in present:
        for metric, detail in sorted(record.stages[stage].details.items()):
            lines = _detail_lines(detail)
            if lines:
                details_sections += [f"- **{stage} / {md_text(metric)}**"] + [f"  - {line}" for line in lines]
    if details_sections:
        out += ["## Details", ""] + details_sections + [""]
    return "\n".join(out)


def _texts(record: PassageResult, present: list[str]) -> list[str]:
    """Each stage's text (with pivot texts and warnings), the references, and a
    word diff from each stage to the next."""
    out = ["## Texts", ""]
    for stage in present:
        data = record.stages[stage]
        out += [f"### {md_text(stage)}", "", *md_quote(data.text), ""]
        if data.round_trip is not None:
            for hop in data.round_trip.hops[:-1]:
                out += [f"Pivot text ({md_text(hop.src)}→{md_text(hop.tgt)}):", "", *md_quote(hop.text), ""]
            out += [f"- ⚠ {md_cell(warning, 300)}" for warning in data.round_trip.warnings]
            out += [""] if data.round_trip.warnings else []
    out += ["### References", ""]
    for i, ref in enumerate(record.references, start=1):
        out += [f"Reference {i}:", "", *md_quote(ref), ""]
    changes = list(zip(present, present[1:]))
    if changes:
        out += ["## What changed between stages", ""]
        for before, after in changes:
            out += [f"**{before} → {after}:** " + md_diff(record.stages[before].text, record.stages[after].text), ""]
    return out


def _cleaner_edits(record: PassageResult) -> list[str]:
    cleaned = record.stages.get("cleaned")
    if cleaned is None or cleaned.edits is None:
        return []
    out = ["## Cleaner edits", ""]
    if cleaned.edits:
        out += ["| cleaner | rule | before | after |", "|---|---|---|---|"]
        out += [f"| {md_cell(edit.cleaner)} | {md_cell(edit.rule)} | {md_cell(edit.before, 80) or '∅'} "
                f"| {md_cell(edit.after, 80) or '∅'} |" for edit in cleaned.edits]
    else:
        out.append("No edits.")
    return out + [""]


def _detail_lines(detail: Any, depth: int = 0) -> list[str]:
    """Flatten a metric's details into short readable lines."""
    if not isinstance(detail, dict):
        return [_detail_value(detail)] if detail not in (None, [], {}, "") else []
    lines = []
    for key, value in sorted(detail.items()):
        if value in (None, [], {}, ""):
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
        return ", ".join(f"{md_text(str(k))}={_detail_value(v)}" for k, v in sorted(value.items()))
    if isinstance(value, str):
        return f"“{md_cell(value, 120)}”"
    return fmt(value)


def run_markdown_head(header: RunHeader) -> list[str]:
    stages = header.stages
    summary = header.summary
    out = ["# Meaning-preservation report", "",
           f"Signature: `{md_code(header.signature_string)}`", "",
           f"Passages: {summary.passages} ({summary.scored} scored, {summary.failed} failed). "
           f"Round-trip sentences with a length ratio out of band: {summary.retranslation_warnings}; "
           f"split or stopped at the length limit: {summary.translation_notes}.", "",
           "## Corpus scores", ""]
    out += corpus_table(stages, header.corpus, header.metrics)
    out += ["", "## Verdicts", "", "| stage | ✔ preserved | ▲ degraded | ✖ lost |", "|---|---:|---:|---:|"]
    for stage in stages:
        counts = summary.verdicts.get(stage, {})
        out.append(f"| {stage} | {counts.get('preserved', 0)} | {counts.get('degraded', 0)} | {counts.get('lost', 0)} |")
    if header.failed:
        out += ["", "## Failed passages", ""]
        for failure in header.failed:
            out.append(f"- [{md_text(failure.id)}](passages/{failure.id}.md): {md_cell(failure.error.message, 200)}")
    cols = " | ".join(f"{s} meaning | {s} verdict" for s in stages)
    out += ["", "## Passages", "", f"| passage | speaker | {cols} | main reason (last stage) |",
            "|---|---|" + "---:|---|" * len(stages) + "---|"]
    return out


def run_markdown_row(record: PassageResult, stages: list[str]) -> str:
    cells = []
    for stage in stages:
        verdict = record.stages[stage].verdict if stage in record.stages else None
        cells.append(f"{fmt(verdict.score if verdict else None)} | {band_text(verdict)}")
    last = record.last_verdict(stages)
    reason = md_cell((last.reasons if last and last.reasons else ["–"])[0], 100)
    if record.error is not None:
        reason = "failed: " + md_cell(record.error.message, 100)
    speaker = md_cell(record.speaker or "–", 30)
    return f"| [{md_text(record.id)}](passages/{record.id}.md) | {speaker} | " + " | ".join(cells) + f" | {reason} |"
