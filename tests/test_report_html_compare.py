"""The comparison HTML report (``harness compare``): systems side by side per
passage, the significance table, escaped everywhere.

The comparison is computed by :func:`harness.compare.compare_runs` from three
small synthetic runs in the pipeline's schema (a meaning score recorded as
``[score, 1]`` rows); one system's name, one text and one reference are hostile.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.compare import compare_runs
from harness.findings import Finding, Span
from harness.report.compare import write_compare_html
from harness.report.html import anchor_id
from harness.results import RESULTS_SCHEMA, RunResults

try:
    from tests.test_report_html import BRIEFING, HOSTILE, HOSTILE_LITERALS, IMG, SCRIPT, _Page
except ImportError:  # tests/ collected as a plain folder (rootdir not on sys.path)
    from test_report_html import BRIEFING, HOSTILE, HOSTILE_LITERALS, IMG, SCRIPT, _Page

N = len(BRIEFING)
EVIL_NAME = f"evil {SCRIPT}"


def synthetic_run(name: str, final_stage: str, texts: list[str], scores: list[float]) -> RunResults:
    """A run: a shared distorted stage and one system-specific final stage (its
    first passage with a finding that quotes the text)."""
    passages = []
    for i, ((speaker, distorted, refs, _, _), text, score) in enumerate(zip(BRIEFING, texts, scores)):
        stages = {}
        for stage, stage_text, value in (("distorted", distorted, 30.0 + i), (final_stage, text, score)):
            band = "preserved" if value >= 70 else "lost" if value < 40 else "degraded"
            stages[stage] = {"text": stage_text, "scores": {"meaning": value}, "stats": {"meaning": [value, 1.0]},
                             "verdict": {"score": value, "band": band, "reasons": []}, "findings": []}
        if i == 0:
            word = texts[0].split()[-1]
            start = texts[0].rindex(word)
            stages[final_stage]["findings"] = [Finding(
                "added", "added", "minor", word, f"added: '{word}' (in no reference)", "test",
                stage_span=Span(start, start + len(word), word)).to_json()]
        passages.append({"id": f"p{i + 1:02d}", "speaker": speaker, "error": None, "stages": stages,
                         "references": list(refs) + ([f"hostile reference {IMG}"] if i == 0 else [])})
    return RunResults.from_json({
        "schema": RESULTS_SCHEMA,
        "signature": {"transcript_sha256": "a" * 64, "references_sha256": "b" * 64, "config_name": name, "key": f"k-{name}"},
        "signature_string": f"harness:0.1.0|config:{name}", "stages": ["distorted", final_stage], "corpus": {},
        "metric_signatures": {}, "passages": passages,
    })


def synthetic_comparison() -> tuple[dict, list[RunResults]]:
    runs = [
        synthetic_run("clean-only", "cleaned", [b[3] for b in BRIEFING], [40.0, 45.0, 52.0, 60.0]),
        synthetic_run("default", "retranslated", [b[4] for b in BRIEFING], [66.0, 73.0, 79.0, 85.0]),
        synthetic_run(EVIL_NAME, "cleaned", [f"text {HOSTILE}"] + [b[3] for b in BRIEFING][1:], [40.0, 45.0, 53.0, 59.0]),
    ]
    return compare_runs(runs, n_resamples=200, n_trials=400), runs


def write_synthetic_compare(path: Path, *, all_passages: bool = True) -> Path:
    comparison, runs = synthetic_comparison()
    write_compare_html(path, comparison, runs if all_passages else None)
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[str, _Page]:
    path = write_synthetic_compare(tmp_path_factory.mktemp("compare") / "compare.html")
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    page.close()
    return html, page


def test_hostile_names_and_texts_are_escaped_and_shown_literally(compared):
    html, page = compared
    tags = [tag for tag, _ in page.tags]
    assert tags.count("script") == 1 and "img" not in tags
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert SCRIPT not in html and IMG not in html and "\u202e" not in html
    text = "".join(page.text)
    assert EVIL_NAME in text and f"hostile reference {IMG}" in text
    for literal in HOSTILE_LITERALS:
        assert literal in text
    assert not re.search(r"https?://", html)


def test_every_passage_has_a_section_with_the_systems_side_by_side(compared):
    html, page = compared
    sections = [a["id"] for t, a in page.tags if t == "section" and "passage" in (a.get("class") or "").split()]
    assert sections == [anchor_id(f"p{i:02d}") for i in range(1, N + 1)]
    assert re.findall(r'<td data-sort="\d+"><a href="#([^"]+)">', html) == sections
    section = html[html.index('id="passage-p02"'):html.index('id="passage-p03"')]
    assert section.count('<h3 class="system-name">') == 3
    assert "↑ win vs baseline" in section  # default beats the baseline on p02
    assert "retranslated" in section and "cleaned" in section  # each system's own final stage


def test_each_systems_findings_are_shown_beside_its_text(compared):
    html, page = compared
    section = html[html.index('id="passage-p01"'):html.index('id="passage-p02"')]
    assert section.count('<ul class="findings">') == 3
    assert "added added: " in section and "in no reference" in section
    assert SCRIPT not in section  # the evil system's finding quotes hostile text, escaped


def test_the_significance_table_shows_scores_intervals_deltas_and_p_values(compared):
    html, page = compared
    text = " ".join("".join(page.text).split())
    comparison, _ = synthetic_comparison()
    (row,) = [r for r in comparison["results"] if r["stage"] == "final"]
    default = row["systems"][0]
    # four passages, all won: approximate randomization cannot go below 1/16
    assert default["name"] == "default" and default["direction"] == "better" and not default["significant"]
    assert f"{default['delta']:+.2f}" in text and f"{default['p_ar']:.4f}" in text
    assert f"[{default['ci']['lower']:.2f}, {default['ci']['upper']:.2f}]" in text
    assert "▲ better, not significant" in text
    assert "Identical in every system (no difference on any metric): distorted." in text
    assert "↑ wins" in text and "↓ losses" in text


def test_without_the_runs_the_disagreements_are_shown(tmp_path):
    html = write_synthetic_compare(tmp_path / "compare.html", all_passages=False).read_text(encoding="utf-8")
    assert "Where the systems disagree most" in html
    assert html.count('<section class="passage"') == N  # every passage differs between the systems


def test_each_system_highlights_its_findings_and_what_differs_from_the_baseline(compared):
    """Issue 16: no word diff against a reference paraphrase; the findings, and
    each system's changes from the baseline's text."""
    html, page = compared
    section = html[html.index('id="passage-p02"'):html.index('id="passage-p03"')]
    # clean-only (baseline) "… Georgia is among the most our closest couples." vs default "… one of …"
    assert '<del class="stage-change" title="in the baseline&#39;s text, gone here">among the most</del>' in section
    assert '<ins class="stage-change" title="new or changed since the baseline&#39;s text">one of</ins>' in section
    assert "since the baseline: +2 −3 words" in section and "substituted" not in section
    first = html[html.index('id="passage-p01"'):html.index('id="passage-p02"')]
    assert first.count('<mark class="finding-mark added minor"') >= 2  # each system's own added word
