"""``harness compare``'s reports: compare.json, compare.md, compare.html and the
terminal tables, all rendered from the dict of :func:`harness.compare.compare_runs`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from ..findings import Finding, kind_order
from ..jsonvalues import plain
from ..paired import stage_of
from ..results import BANDS, RunResults
from ..runstore import atomic_write, atomic_write_json, atomic_write_text
from .html import (anchor_id, assets, closest_reference_diff, environment, findings_view, highlight,
                   reference_spans, stage_spans, _sort_key)
from .text import fmt_number, md_cell, md_code, md_text


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

def row_digits(row: Mapping[str, Any]) -> int:
    """Decimals for a result row: 3 for metrics on a 0..1 scale, else 2."""
    scores = [row["baseline"]["score"]] + [s["score"] for s in row["systems"]]
    finite = [abs(v) for v in scores if isinstance(v, (int, float)) and v == v and abs(v) != float("inf")]
    return 3 if finite and max(finite) <= 1.0 else 2


def fmt_p(value: Optional[float]) -> str:
    return fmt_number(value, 4, missing="n/a")


def fmt_ci(ci: Optional[Mapping[str, float]], digits: int = 2, joiner: str = ", ") -> str:
    if not ci:
        return ""
    low, high = fmt_number(ci.get("lower"), digits, missing="n/a"), fmt_number(ci.get("upper"), digits, missing="n/a")
    return f"[{low}{joiner}{high}]" if joiner == ", " else f"{low}{joiner}{high}"


def fmt_delta_ci(ci: Optional[Mapping[str, float]], digits: int = 2, joiner: str = ", ") -> str:
    """A difference's interval, signed: ``[+0.52, +3.61]``."""
    if not ci:
        return ""
    low = fmt_number(ci.get("lower"), digits, signed=True, missing="n/a")
    high = fmt_number(ci.get("upper"), digits, signed=True, missing="n/a")
    return f"[{low}{joiner}{high}]" if joiner == ", " else f"{low}{joiner}{high}"


def unchanged_stages(comparison: Mapping[str, Any]) -> list[str]:
    """Stages where every system scores exactly as the baseline on every
    metric (typically the shared input): shown as one line, not a table."""
    out = []
    for stage in comparison["stages"]:
        rows = [r for r in comparison["results"] if r["stage"] == stage]
        if rows and all(s["delta"] == 0 and s["p_ar"] == 1.0 for r in rows for s in r["systems"]):
            out.append(stage)
    return out


def significance_mark(system: Mapping[str, Any]) -> str:
    """▲ better / ▼ worse, with * when significant (AR p < alpha) and † where
    the difference interval disagrees with that decision (borderline)."""
    arrow = {"better": "▲", "worse": "▼"}.get(system.get("direction", ""), "=")
    return arrow + ("*" if system.get("significant") else "") + ("" if system.get("interval_agrees", True) else "†")


def _arrow(row: Mapping[str, Any]) -> str:
    return "↑" if row.get("higher_is_better", True) else "↓"


def _findings_text(findings: Sequence[Mapping[str, Any]], limit: int = 4) -> str:
    ordered = sorted((Finding.from_json(f) for f in findings), key=kind_order)
    shown = "; ".join(f.why for f in ordered[:limit])
    return shown + (f" (+{len(ordered) - limit} more)" if len(ordered) > limit else "")


# --------------------------------------------------------------------------
# compare.json and compare.md
# --------------------------------------------------------------------------

def write_compare_json(path: str | Path, comparison: Mapping[str, Any]) -> Path:
    """Write ``compare.json`` (atomically; NaN as null) and return its path."""
    path = Path(path)
    atomic_write_json(path, plain(comparison))
    return path


def compare_markdown(comparison: Mapping[str, Any]) -> str:
    """``compare.md``: settings, score tables per stage, win/tie/loss, disagreements."""
    settings = comparison["settings"]
    data = comparison["data"]
    hypotheses = bool(data.get("hypotheses"))
    what = (f"system outputs scored against the same references {data['references_sha256'][:12]}" if hypotheses
            else f"transcript {str(data.get('transcript_sha256'))[:12]}, references {data['references_sha256'][:12]}")
    level = f"{100 * (1 - settings['alpha']):g} %"
    lines = [
        "# Comparison", "",
        f"Baseline: **{md_text(comparison['baseline'])}**; systems: "
        + ", ".join(f"**{md_text(s['name'])}**" for s in comparison["systems"][1:]) + ".", "",
        f"{data['n_passages']} passages ({what}). "
        f"Paired bootstrap: {settings['n_resamples']} resamples; approximate randomization (AR): "
        f"{settings['n_trials']} trials; seed {settings['seed']}. "
        f"**Approximate randomization decides**: `*` = significant (AR p < {settings['alpha']}); "
        f"▲/▼ = better/worse than the baseline. Δ 95 % CI is the paired bootstrap's {level} percentile "
        "interval of the difference; `†` marks a row where it excludes 0 and AR does not find the difference "
        "significant, or the other way round (borderline: AR decides). Score intervals are bootstrap percentile "
        "intervals. p-values are per comparison, not corrected for the number of comparisons.", "",
    ]
    if hypotheses:
        lines += ["| system | output file | sha256 | signature |", "|---|---|---|---|"]
        for system in comparison["systems"]:
            lines.append(f"| {md_cell(system['name'])} | {md_cell(str(system.get('hypothesis_file') or ''))} "
                         f"| `{md_code(str(system.get('hypothesis_sha256') or ''), table=True)}` "
                         f"| `{md_code(str(system.get('signature_string') or ''), table=True)}` |")
    else:
        lines += ["| system | source | signature |", "|---|---|---|"]
        for system in comparison["systems"]:
            lines.append(f"| {md_cell(system['name'])} | {md_cell(str(system.get('source') or ''))} "
                         f"| `{md_code(str(system.get('signature_string') or system.get('signature_key') or ''), table=True)}` |")
    lines.append("")
    lines += _markdown_scores(comparison)
    lines += _markdown_outcomes(comparison)
    lines += _markdown_disagreements(comparison["disagreements"])
    if comparison["notes"]:
        lines += ["## Notes", ""] + [f"- {md_text(note)}" for note in comparison["notes"]] + [""]
    return "\n".join(lines)


def _markdown_scores(comparison: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    unchanged = unchanged_stages(comparison)
    for stage in comparison["stages"]:
        rows = [r for r in comparison["results"] if r["stage"] == stage]
        if not rows:
            continue
        lines += [f"## Stage: {md_text(stage)}", ""]
        if stage in unchanged:
            lines += ["Every system scores exactly as the baseline here, on every metric (p = 1).", ""]
            continue
        lines += ["| metric | system | score | 95 % CI | Δ | Δ 95 % CI | p (bootstrap) | p (AR) | |",
                  "|---|---|---:|---|---:|---|---:|---:|---|"]
        for row in rows:
            base, digits = row["baseline"], row_digits(row)
            lines.append(f"| {md_text(row['metric'])} {_arrow(row)} | {md_cell(base['name'])} (baseline) "
                         f"| {fmt_number(base['score'], digits, missing='n/a')} | {fmt_ci(base['ci'], digits)} | | | | | |")
            for system in row["systems"]:
                lines.append(f"| | {md_cell(system['name'])} | {fmt_number(system['score'], digits, missing='n/a')} "
                             f"| {fmt_ci(system['ci'], digits)} | {fmt_number(system['delta'], digits, signed=True, missing='n/a')} "
                             f"| {fmt_delta_ci(system.get('delta_ci'), digits)} "
                             f"| {fmt_p(system['p_bootstrap'])} | {fmt_p(system['p_ar'])} | {significance_mark(system)} |")
        lines.append("")
    return lines


def _markdown_outcomes(comparison: Mapping[str, Any]) -> list[str]:
    if not comparison["outcomes"]:
        return []
    primary = comparison["settings"]["primary_metric"]
    lines = [f"## Passages: win / tie / loss against the baseline ({md_text(primary)})", "",
             "| stage | system | wins | ties | losses |", "|---|---|---:|---:|---:|"]
    for outcome in comparison["outcomes"]:
        for system in outcome["systems"]:
            lines.append(f"| {md_text(outcome['stage'])} | {md_cell(system['name'])} | {system['wins']} "
                         f"| {system['ties']} | {system['losses']} |")
    return lines + [""]


def _markdown_disagreements(disagreements: Mapping[str, Any]) -> list[str]:
    if not disagreements["passages"]:
        return []
    lines = [f"## Where the systems disagree most ({md_text(disagreements['metric'])}, "
             f"stage {md_text(disagreements['stage'])})", ""]
    scores = [abs(s["score"]) for p in disagreements["passages"] for s in p["systems"]
              if isinstance(s["score"], (int, float)) and s["score"] == s["score"]]
    digits = 3 if scores and max(scores) <= 1.0 else 2
    for passage in disagreements["passages"]:
        lines += [f"### {md_text(passage['id'])}: spread {fmt_number(passage['spread'], digits)}", "",
                  "| system | score | text | findings |", "|---|---:|---|---|"]
        for system in passage["systems"]:
            band = f" ({system['band']})" if system.get("band") else ""
            lines.append(f"| {md_cell(system['name'])} | {fmt_number(system['score'], digits)}{md_text(band)} "
                         f"| {md_cell(system['text'])} | {md_cell(_findings_text(system.get('findings') or []), 400) or '–'} |")
        for k, reference in enumerate(passage["references"], start=1):
            lines.append(f"| reference {k} | | {md_cell(reference)} | |")
        lines.append("")
    return lines


def write_compare_markdown(path: str | Path, comparison: Mapping[str, Any]) -> Path:
    """Write ``compare.md`` (atomically) and return its path."""
    path = Path(path)
    atomic_write_text(path, compare_markdown(comparison))
    return path


# --------------------------------------------------------------------------
# The terminal
# --------------------------------------------------------------------------

#: the width the terminal tables fit (system names are shortened to fit; the
#: full names are printed once above the tables)
TERMINAL_WIDTH = 80


def compare_tables(comparison: Mapping[str, Any], width: int = TERMINAL_WIDTH) -> list[Any]:
    """Rich renderables for the terminal: one score table per stage, then
    win/tie/loss; each fits ``width`` columns. A row: the score, Δ with its
    paired bootstrap interval, the AR p-value (which decides) and the mark;
    the scores' own intervals and the bootstrap p are in compare.md."""
    from rich import box
    from rich.table import Table

    from ..terminal import safe

    def escape(value) -> str:
        return safe(value, rich=True)

    tables: list[Any] = []
    unchanged = unchanged_stages(comparison)
    name_width = _name_width(comparison, width)
    for stage in comparison["stages"]:
        rows = [r for r in comparison["results"] if r["stage"] == stage]
        if not rows or stage in unchanged:
            continue
        table = Table(title=f"stage: {escape(stage)}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for header, justify in [("metric", "left"), ("system", "left"), ("score", "right"), ("Δ", "right"),
                                ("Δ 95% CI", "left"), ("p (AR)", "right"), ("", "left")]:
            if header == "system":
                table.add_column(header, justify=justify, no_wrap=True, overflow="ellipsis", max_width=name_width)
            else:
                table.add_column(header, justify=justify, no_wrap=True)
        for row in rows:
            base, digits = row["baseline"], row_digits(row)
            table.add_row(f"{escape(row['metric'])} {_arrow(row)}", escape(base["name"]),
                          fmt_number(base["score"], digits, missing="n/a"), "base", "", "", "")
            for system in row["systems"]:
                mark = significance_mark(system)
                style = ("green" if system["direction"] == "better" else "red") if system["significant"] else ""
                table.add_row("", escape(system["name"]), fmt_number(system["score"], digits, missing="n/a"),
                              fmt_number(system["delta"], digits, signed=True, missing="n/a"),
                              fmt_delta_ci(system.get("delta_ci"), digits, "…"),
                              fmt_p(system["p_ar"]), f"[{style}]{mark}[/{style}]" if style else mark)
            table.add_section()
        tables.append(table)
    if unchanged:
        tables.append(f"stage(s) {', '.join(escape(s) for s in unchanged)}: every system scores exactly as the "
                      "baseline (p = 1)")
    if comparison["outcomes"]:
        table = Table(title=f"win / tie / loss vs baseline ({escape(comparison['settings']['primary_metric'])})",
                      title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for header in ("stage", "system", "wins", "ties", "losses"):
            if header == "system":
                table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=name_width + 20)
            else:
                table.add_column(header, justify="left" if header == "stage" else "right", no_wrap=True)
        for outcome in comparison["outcomes"]:
            for system in outcome["systems"]:
                table.add_row(escape(outcome["stage"]), escape(system["name"]), str(system["wins"]),
                              str(system["ties"]), str(system["losses"]))
        tables.append(table)
    return tables


def _name_width(comparison: Mapping[str, Any], width: int) -> int:
    """Room left for the system column once the other columns of a score row
    (metric, score, Δ, its interval, p, mark) take what they need."""
    metric = max([6, *(len(r["metric"]) + 2 for r in comparison["results"])])
    digits = max([2, *(row_digits(r) for r in comparison["results"])])
    number = 6 + digits  # -100.00 / +0.008
    needed = metric + number + number + (2 * number + 3) + 6 + 3 + 2 * 6  # + padding between 7 columns
    return max(8, width - needed)


def print_comparison(console: Any, comparison: Mapping[str, Any]) -> None:
    """Print the comparison tables and notes to a rich console (everything
    from data escaped: :func:`harness.terminal.safe`)."""
    from ..terminal import safe

    # the systems' full names once, so the tables may shorten them to fit the terminal
    names = [system["name"] for system in comparison["systems"]]
    console.print(f"baseline: {safe(names[0], rich=True)}; "
                  + "; ".join(f"system {i}: {safe(name, rich=True)}" for i, name in enumerate(names[1:], start=1)),
                  soft_wrap=True)
    for table in compare_tables(comparison, console.width or TERMINAL_WIDTH):
        console.print(table)
    settings = comparison["settings"]
    console.print(f"* significant: approximate randomization decides, p < {settings['alpha']} "
                  f"({settings['n_trials']} trials, seed {settings['seed']}); Δ 95% CI: paired bootstrap "
                  f"({settings['n_resamples']} resamples); † the interval disagrees with that decision (borderline)",
                  soft_wrap=True)
    for note in comparison["notes"]:
        console.print(f"note: {safe(note, rich=True)}", soft_wrap=True)


# --------------------------------------------------------------------------
# compare.html
# --------------------------------------------------------------------------

def _significance_label(system: Mapping[str, Any]) -> tuple[str, str]:
    """Words and a symbol for a paired test's outcome, and a CSS class."""
    direction = system.get("direction")
    if direction == "same":
        return "= no difference", "muted"
    mark = "▲ better" if direction == "better" else "▼ worse"
    borderline = "" if system.get("interval_agrees", True) else " († the Δ interval disagrees: borderline)"
    if system.get("significant"):
        return f"{mark}, significant{borderline}", "sig-better" if direction == "better" else "sig-worse"
    return f"{mark}, not significant{borderline}", "muted"


def _significance_tables(comparison: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
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
                    "name": system["name"], "score": fmt_number(system["score"], digits, missing="n/a"),
                    "ci": fmt_ci(system.get("ci"), digits),
                    "delta": fmt_number(system["delta"], digits, signed=True, missing="n/a"),
                    "delta_ci": fmt_delta_ci(system.get("delta_ci"), digits), "p_bootstrap": fmt_p(system.get("p_bootstrap")),
                    "p_ar": fmt_p(system.get("p_ar")), "label": label, "cls": cls,
                })
            rows.append({"metric": result["metric"], "arrow": _arrow(result), "n_passages": result.get("n_passages"),
                         "baseline": {"name": base["name"], "score": fmt_number(base["score"], digits, missing="n/a"),
                                      "ci": fmt_ci(base.get("ci"), digits)},
                         "systems": systems})
        if rows:
            tables.append({"stage": stage, "rows": rows})
    return tables, unchanged


def _compare_passages(comparison: Mapping[str, Any], runs: Sequence[RunResults] | None) -> list[dict[str, Any]]:
    """Per passage, each system's text, verdict, findings and primary score at
    the focus stage: every passage when the runs are given, else the disagreements."""
    names = [s["name"] for s in comparison["systems"]]
    focus = comparison.get("disagreements", {}).get("stage") or (comparison.get("stages") or [None])[-1]
    metric = (comparison.get("settings") or {}).get("primary_metric")
    outcome_of: dict[str, dict[str, str]] = {}
    for outcome in comparison.get("outcomes", []):
        if outcome["stage"] == focus:
            outcome_of = {s["name"]: s.get("per_passage", {}) for s in outcome["systems"]}

    passages: list[dict[str, Any]] = []
    if runs is not None:
        indexes = [run.by_id() for run in runs]
        for record in runs[0].passages:
            systems = []
            for name, run, index in zip(names, runs, indexes):
                other = index.get(record.id)
                stage = stage_of(run, focus) if focus is not None else None
                data = other.stage(stage) if other is not None and stage is not None else None
                verdict = data.verdict if data is not None else None
                systems.append({"name": name, "stage": stage, "text": data.text if data else None,
                                "score": data.scores.get(metric) if data else None,
                                "verdict": {"band": verdict.band, "score": verdict.score} if verdict else None,
                                "findings": findings_view(data.findings, record.references) if data else [],
                                "finding_records": list(data.findings) if data else [],
                                "error": other.error.message if other is not None and other.error else None})
            passages.append({"id": record.id, "references": list(record.references), "systems": systems})
    else:
        for passage in comparison.get("disagreements", {}).get("passages", []):
            systems = []
            for s in passage["systems"]:
                records = [Finding.from_json(f) for f in s.get("findings") or []]
                systems.append({"name": s["name"], "stage": s.get("stage"), "text": s.get("text"),
                                "score": s.get("score"),
                                "verdict": {"band": s["band"], "score": s.get("score")} if s.get("band") in BANDS
                                else None,
                                "findings": findings_view(records, passage.get("references") or []),
                                "finding_records": records, "error": None})
            passages.append({"id": passage["id"], "references": list(passage.get("references") or []),
                             "systems": systems})

    for passage in passages:
        passage["anchor"] = anchor_id(passage["id"])
        refs = [str(r) for r in passage["references"]]
        scores = [s["score"] for s in passage["systems"] if _sort_key(s["score"])]
        passage["spread"] = max(scores) - min(scores) if len(scores) > 1 else None
        closest: dict[int, list[str]] = {}
        baseline_text = passage["systems"][0]["text"] if passage["systems"] else None
        for k, system in enumerate(passage["systems"]):
            system["baseline"] = k == 0
            system["outcome"] = outcome_of.get(system["name"], {}).get(passage["id"]) if k else None
            diff = closest_reference_diff(system["text"], refs) if system["text"] is not None else None
            if diff is not None:
                closest.setdefault(diff["index"], []).append(system["name"])
            # the findings where they are, and (after the baseline) what differs from the baseline's text
            system["shown"] = highlight(system["text"], stage_spans(system["finding_records"]),
                                        baseline_text if k and baseline_text is not None else None) \
                if system["text"] is not None else None
        found = [(s["name"], s.pop("finding_records")) for s in passage["systems"]]
        passage["references"] = [{"text": ref, "closest_for": closest.get(i, []),
                                  "shown": highlight(ref, reference_spans(found, i, len(refs)))}
                                 for i, ref in enumerate(refs)]
    return passages


def compare_view(comparison: Mapping[str, Any], runs: Sequence[RunResults] | None = None) -> dict[str, Any]:
    tables, unchanged = _significance_tables(comparison)
    settings = comparison.get("settings") or {}
    outcomes = []
    for outcome in comparison.get("outcomes", []):
        systems = []
        for system in outcome["systems"]:
            total = max(1, system["wins"] + system["ties"] + system["losses"])
            systems.append({"name": system["name"], "counts": [
                (kind, system[key], 100.0 * system[key] / total)
                for kind, key in (("win", "wins"), ("tie", "ties"), ("loss", "losses"))]})
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


def write_compare_html(path: Path, comparison: Mapping[str, Any], runs: Sequence[RunResults] | None = None) -> None:
    """Write ``compare.html`` (atomically). With ``runs`` (each system's run,
    in the order of ``comparison["systems"]``) every passage is shown side by
    side; without, the passages where the systems disagree most."""
    template = environment().get_template("compare.html.j2")
    atomic_write(Path(path), template.generate(page=compare_view(comparison, runs), assets=assets()))
