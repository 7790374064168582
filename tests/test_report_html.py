"""The HTML report: self-contained, escaped everywhere, one section per passage.

The run here is synthetic but follows the run output schema (header +
records as the pipeline writes them). One passage and every field around it
(speaker, references, edits, reasons, findings, details, pivot text,
warnings, config name, metric name, error message) carry hostile text: markup that would run
script if it were not escaped, quotes, ``</textarea>``, ``</title>`` and a
right-to-left override.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.findings import Finding, Span
from harness.metrics import build_metric
from harness.metrics.base import MetricInfo, ordered_metrics
from harness.report.html import (
    PER_PASSAGE_CHART_MAX,
    anchor_id,
    closest_reference_diff,
    detail_items,
    highlight,
    marked,
    stage_spans,
    write_run_html,
)
from harness.results import RESULTS_SCHEMA, PassageResult, RunHeader

STAGES = ["distorted", "cleaned", "retranslated"]

SCRIPT = "<script>document.title='pwned'</script>"
IMG = "<img src=x onerror=\"document.title='pwned'\">"
QUOTES = "\"double\" and 'single' quotes & ampersands"
TEXTAREA = "</textarea></title></style><script>document.title='pwned'</script>"
RLO = "invoice\u202egpj.exe"
ZWSP = "zero\u200bwidth"
HOSTILE = f"{SCRIPT} {IMG} {QUOTES} {TEXTAREA} {RLO} {ZWSP}"
HOSTILE_LITERALS = [SCRIPT, IMG, QUOTES, TEXTAREA]

BRIEFING = [
    ("AMBASSADOR SMITH",
     "Regarding actually chasing after goals in to the Russia, that's a thing that the usa is not particularly supporting off.",
     ["On striking targets inside Russia, that is not something the United States supports.",
      "As for pursuing targets inside Russia, the United States does not support that."],
     "Regarding actually chasing after goals in to the Russia, that's a thing that the USA is not particularly supporting off.",
     "Regarding actually pursuing targets in Russia, this is something that the USA does not particularly support."),
    ("AMBASSADOR SMITH",
     "When it comes to Georgia, Georgia is among the most our closest couples.",
     ["When it comes to Georgia, Georgia is one of our closest partners."],
     "When it comes to Georgia, Georgia is among the most our closest couples.",
     "When it comes to Georgia, Georgia is one of our closest couples."),
    ("QUESTION",
     "Hello. Thank you considerably. Let me ask just how U.S. NATO feedback of the Indo-Pacific region.",
     ["Hello. Thank you very much. Let me ask how the U.S. and NATO view the Indo-Pacific region."],
     "Hello. Thank you considerably. Let me ask just how U.S. NATO feedback of the Indo-Pacific region.",
     "Hello. Thank you very much. Let me ask how the US NATO comments on the Indo-Pacific region."),
    (None,
     "So we, the united states, i've currently provided over $44 billion You.S. regarding defense assistance.",
     ["We, the United States, have already provided more than $44 billion in U.S. security assistance."],
     "So we, the United States, I've currently provided over $44 billion U.S. regarding defense assistance.",
     "So we, the United States, I have already provided more than 44 billion dollars of defence aid."),
]


def _verdict(score: float, reasons: list[str]) -> dict:
    band = "preserved" if score >= 70 else "lost" if score < 40 else "degraded"
    return {"score": score, "band": band, "reasons": reasons}


def _stage(text: str, meaning: float, *, reasons: list[str] | None = None, findings: list[Finding] | None = None,
           kept: list[str] | None = None) -> dict:
    chrf = max(0.0, meaning - 12.5)
    return {
        "text": text,
        "scores": {"meaning": meaning, "chrf": chrf, "bleu": chrf / 2, "ter": 100 - chrf, "cosine": meaning / 100},
        "stats": {"meaning": [meaning, 1.0], "cosine": [meaning / 100, 1.0]},
        "findings": [f.to_json() for f in findings or []],
        "details": {"cosine": {"best_reference": 0, "windowed": False},
                    "anchors": {"names": {"kept": kept or ["Georgia"], "required": [], "optional": []}}},
        "verdict": _verdict(meaning, reasons or [f"cosine {meaning / 100:.2f}"]),
    }


LOST_NUMBER = Finding("number", "lost", "major", "$44 billion", "number $44 billion missing", "anchors",
                      reference_span=Span(42, 53, "$44 billion"), reference_index=0)
HOSTILE_FINDING = Finding("name", "added", "note", HOSTILE, f"name {SCRIPT} added", "anchors",
                          stage_span=Span(0, 3, IMG))


def synthetic_records(extra_passages: int = 0) -> list[PassageResult]:
    return [PassageResult.from_json(record) for record in synthetic_json(extra_passages)]


def synthetic_json(extra_passages: int = 0) -> list[dict]:
    """Records of a distorted -> cleaned -> retranslated run: four briefing
    passages, one hostile passage, one failed passage, ``extra_passages`` more."""
    records = []
    for i, (speaker, distorted, refs, cleaned, retranslated) in enumerate(BRIEFING, start=1):
        base = 30.0 + 12 * i
        records.append({
            "id": f"p{i:02d}", "speaker": speaker, "references": refs, "error": None,
            "stages": {
                "distorted": _stage(distorted, base, reasons=["cosine 0.52 is below 0.60", "1 anchor lost: $44 billion"],
                                    findings=[LOST_NUMBER], kept=["Russia"]),
                "cleaned": {**_stage(cleaned, base + 6), "edits": [
                    {"cleaner": "casing", "start": 60, "end": 63, "before": "usa", "after": "USA", "rule": "proper-noun"},
                    {"cleaner": "spin", "start": 0, "end": 9, "before": "couples", "after": "", "rule": "synonym-table"},
                ]},
                "retranslated": {**_stage(retranslated, base + 15),
                                 "hops": [{"src": "en", "tgt": "pt", "text": "Em relação à Geórgia, a Geórgia é um dos nossos parceiros."},
                                          {"src": "pt", "tgt": "en", "text": retranslated}],
                                 "warnings": [], "sentences": 1},
            },
        })
    hostile_stage = {
        **_stage(f"Hostile passage {HOSTILE}", 35.0, reasons=[f"reason {HOSTILE}"], findings=[HOSTILE_FINDING],
                 kept=[SCRIPT]),
    }
    hostile_stage["scores"]["<b>metric</b>"] = 1.0
    records.append({
        "id": "p05", "speaker": f"SPEAKER {SCRIPT}", "references": [f"A reference {HOSTILE}", f"Another {IMG}"], "error": None,
        "stages": {
            "distorted": hostile_stage,
            "cleaned": {**_stage(f"Cleaned {HOSTILE}", 45.0, reasons=[TEXTAREA]),
                        "edits": [{"cleaner": f"cleaner {SCRIPT}", "start": 0, "end": 5, "before": IMG, "after": TEXTAREA, "rule": QUOTES}]},
            "retranslated": {**_stage(f"Retranslated {HOSTILE}", 55.0),
                             "hops": [{"src": "en", "tgt": "pt\"><script>document.title='pwned'</script>", "text": f"pivot {SCRIPT}"},
                                      {"src": "pt", "tgt": "en", "text": f"Retranslated {HOSTILE}"}],
                             "warnings": [f"warning {IMG}"], "sentences": 2},
        },
    })
    records.append({
        "id": "p06", "speaker": None, "references": ["The talks were postponed until Tuesday."],
        "error": {"stage": "cleaned", "message": f"cleaner failed on passage p06: ValueError: {SCRIPT}",
                  "detail": f"Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: {TEXTAREA}"},
        "stages": {"distorted": {"text": "The talks did not fail; they were postponed until Tuesday."}},
    })
    for k in range(extra_passages):
        score = float((k * 37) % 101)
        records.append({
            "id": f"x{k:05d}", "speaker": None, "references": ["A short reference sentence."], "error": None,
            "stages": {stage: _stage("A short distorted sentence.", min(100.0, score + 5 * j)) for j, stage in enumerate(STAGES)},
        })
    return records


def synthetic_header(records: list[PassageResult]) -> RunHeader:
    verdicts = {stage: {"preserved": 0, "degraded": 0, "lost": 0} for stage in STAGES}
    for record in records:
        for stage in STAGES:
            verdict = record.stages[stage].verdict if stage in record.stages else None
            if verdict:
                verdicts[stage][verdict.band] += 1
    failed = [{"id": r.id, **r.error.to_json()} for r in records if r.error]
    signature = {
        "key": "0123456789ab", "harness": "0.1.0", "transcript_sha256": "ab" * 32, "references_sha256": "cd" * 32,
        "n_passages": len(records), "config_name": f"config {SCRIPT}", "config_sha256": "ef" * 32,
        "cleaners": [{"name": "unicode", "version": "1"}, {"name": f"spin{IMG}", "version": "2"}],
        "retranslation": {"backend": "bergamot", "pivots": ["pt"]},
        "metrics": {"thresholds": {"preserved": 70.0, "lost": 40.0},
                    "metrics": {name: build_metric(name).describe().to_json()
                                for name in ("meaning", "chrf", "bleu", "ter", "cosine")}},
        "packages": {"sacrebleu": "2.6.0"},
    }
    return RunHeader(**RunHeader.header_from_json({
        "schema": RESULTS_SCHEMA,
        "signature": signature,
        "signature_string": f"harness:0.1.0|data:abab|config:{SCRIPT}",
        "stages": STAGES,
        "corpus": {stage: {"meaning": 50.0 + 5 * i, "chrf": 41.5 + 4 * i, "ter": 60.25 - i, "cosine": 0.61 + i / 20}
                   for i, stage in enumerate(STAGES)},
        "summary": {"passages": len(records), "scored": len(records) - len(failed), "failed": len(failed),
                    "verdicts": verdicts, "retranslation_warnings": 1, "finished_at": "2025-01-01T00:00:00+00:00"},
        "failed": failed,
        "metric_signatures": {"chrf": "nrefs:var|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0",
                              "meaning": f"meaning|{IMG}"},
    }))


def write_synthetic_report(path: Path, extra_passages: int = 0) -> tuple[Path, list[PassageResult]]:
    records = synthetic_records(extra_passages)
    write_run_html(path, synthetic_header(records), lambda: iter(records))
    return path, records


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text a reader sees."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._raw: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script":
            self.scripts.append("".join(self._raw))
            self._raw = []
        self._in_script = False

    def handle_data(self, data):
        (self._raw if self._in_script else self.text).append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[str, _Page, list[dict]]:
    path, records = write_synthetic_report(tmp_path_factory.mktemp("html") / "report.html")
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    page.close()
    return html, page, records


# --------------------------------------------------------------------------
# Safety
# --------------------------------------------------------------------------

def test_hostile_text_never_becomes_markup(report):
    html, page, _ = report
    tags = [tag for tag, _ in page.tags]
    assert tags.count("script") == 1, "only the report's own script"
    assert tags.count("style") == 1 and tags.count("meta") == 5
    assert not {"img", "iframe", "object", "embed", "link", "base", "form", "textarea"} & set(tags)
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
    for raw in (SCRIPT, IMG, TEXTAREA, "</textarea>", 'onerror="'):
        assert raw not in html


def test_hostile_text_shows_literally(report):
    _, page, _ = report
    text = "".join(page.text)
    for literal in HOSTILE_LITERALS:
        assert literal in text
    assert "SPEAKER " + SCRIPT in text
    assert "config " + SCRIPT in text  # the title and masthead show the config name as text


def test_invisible_characters_are_shown_as_named_marks(report):
    html, page, _ = report
    assert "\u202e" not in html and "\u200b" not in html
    assert 'title="RIGHT-TO-LEFT OVERRIDE">⟨U+202E⟩' in html
    assert "invoice⟨U+202E⟩gpj.exe" in "".join(page.text)
    assert str(marked("a\u200bb<")) == 'a<span class="ctl" title="ZERO WIDTH SPACE">⟨U+200B⟩</span>b&lt;'
    assert str(marked("⟨U+FFFF⟩ ⟨U+0041⟩")) == "⟨U+FFFF⟩ ⟨U+0041⟩", "literal look-alikes are left as text"


def test_the_file_is_self_contained(report):
    html, page, _ = report
    assert not re.search(r"https?://", html), "no URL of any kind, so nothing can be fetched"
    for tag, attrs in page.tags:
        href = attrs.get("href")
        if href is not None:
            assert href.startswith("#"), (tag, href)
    assert "@import" not in html and "url(http" not in html


def test_the_content_security_policy_allows_exactly_the_inline_script(report):
    _, page, _ = report
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert page.tags[0:4][-1][0] in ("meta",), "the CSP comes before anything it governs"


# --------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------

def test_one_section_per_passage_and_the_table_links_to_each(report):
    html, page, records = report
    sections = [a["id"] for t, a in page.tags if t == "section" and "passage" in (a.get("class") or "").split()]
    assert sections == [anchor_id(r.id) for r in records]
    ids = {a["id"] for _, a in page.tags if "id" in a}
    table_links = re.findall(r'<td data-sort="\d+"><a href="#([^"]+)">', html)
    assert table_links == sections
    assert all(link in ids for link in table_links)


def test_overview_has_corpus_scores_verdict_counts_chart_and_signature(report):
    html, page, _ = report
    text = " ".join("".join(page.text).split())
    assert "Corpus scores" in text and "41.5" in text and "0.710" in text  # chrF distorted, cosine retranslated
    assert "✔ preserved" in text and "▲ degraded" in text and "✖ lost" in text
    assert "harness:0.1.0|data:abab|config:" in text
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert svg.count("<rect") >= 5 * 3  # five scored passages, three stages
    assert "D · distorted" in svg and "R · retranslated" in svg  # legend: letters, not only colour
    assert "✔ preserved ≥ 70" in svg and "✖ lost &lt; 40" in svg
    assert "http" not in svg  # inline SVG needs no namespace URL


def test_passage_section_shows_diff_pivot_edits_findings_reasons_and_scores(report):
    html, page, _ = report
    section = html[html.index('id="passage-p02"'):html.index('id="passage-p03"')]
    # what changed from the cleaned text ("among the most") to the retranslated one ("one of")
    assert ('<del class="stage-change" title="in the cleaned text, gone here">among the most</del>'
            '<ins class="stage-change" title="new or changed since the cleaned text">one of</ins>') in section
    assert "since cleaned: +2 −3 words" in section and "since distorted: +0 −0 words" in section
    assert "substituted" not in section  # no word diff against a paraphrase any more
    assert "Pivot text en → pt" in section and "parceiros" in section
    assert "Cleaner edits (2)" in section and "<del>usa</del>" in section and "∅ (removed)" in section
    assert '<span class="chip">Russia</span>' in section  # the anchors metric's details: what was kept
    assert '<span class="chip lost">✖ number lost: $44 billion</span>' in section  # a finding
    assert "Findings (1)" in section and "reference:</span> “$44 billion”" in section
    assert "number $44 billion missing" in section and "✖ major" in section
    assert "1 anchor lost: $44 billion" in section
    assert '<th scope="row">meaning <span class="muted">↑</span></th>' in section
    assert '<th scope="row">ter <span class="muted">↓</span></th>' in section
    assert "closest to distorted, cleaned, retranslated" in section


def test_failed_passage_shows_its_error_and_no_verdict(report):
    html, _, _ = report
    section = html[html.index('id="passage-p06"'):]
    assert "✖ Failed at the cleaned stage:" in section
    assert "Traceback" in section and "ValueError: &lt;script&gt;" in section
    assert html.count('<a href="#passage-p06">') >= 2  # table and the failed list


def test_verdicts_use_words_and_symbols_not_only_colour(report):
    html, _, _ = report
    for band, symbol in (("preserved", "✔"), ("degraded", "▲"), ("lost", "✖")):
        assert re.search(rf'<span class="badge {band}"><span class="sym">{symbol}</span> {band}', html)


def test_print_styles_remove_sticky_headers_and_break_pages(report):
    html, _, _ = report
    css = html[html.index("@media print"):]
    assert "position: static" in css and "break-before: page" in css and '"{+"' in css


# --------------------------------------------------------------------------
# Parts
# --------------------------------------------------------------------------

def test_closest_reference_is_the_one_needing_fewest_word_edits():
    refs = ["Completely different words here entirely.", "Georgia is one of our closest partners."]
    diff = closest_reference_diff("Georgia is among our closest partners.", refs)
    assert diff["index"] == 1
    assert diff["segments"] == [("eq", "Georgia is"), ("sub", ("one of", "among")), ("eq", "our closest partners.")]
    assert (diff["added"], diff["removed"], diff["replaced"]) == (0, 0, 2)
    assert closest_reference_diff("anything", []) is None


def test_details_become_rows_of_chips_and_say_nothing_about_what_is_lost():
    anchors = {"names": {"kept": ["Ukraine", "Russia"], "optional": [], "required": ["Ukraine", "Russia", "Congress"]},
               "negations": {"kept": [], "optional": [], "required": []}}
    assert detail_items("anchors", anchors) == [
        {"label": "names · kept", "chips": ["Ukraine", "Russia"], "more": 0},
        {"label": "names · required", "chips": ["Ukraine", "Russia", "Congress"], "more": 0},
    ]


def test_details_leave_out_flags_that_did_not_fire():
    assert detail_items("cosine", {"best_reference": 1, "windowed": False}) == [
        {"label": "closest reference", "text": "reference 2"}]


def test_hostile_findings_are_escaped(report):
    html, page, _ = report
    section = html[html.index('id="passage-p05"'):html.index('id="passage-p06"')]
    assert "name added:" in section and "· note" in section and SCRIPT not in section and IMG not in section
    assert f"name {SCRIPT} added" in "".join(page.text)


def test_anchor_ids_are_safe_and_distinct():
    assert anchor_id("p01") == "passage-p01"
    odd = anchor_id('a" onmouseover="x')
    assert re.fullmatch(r"passage-[A-Za-z0-9_.-]+", odd) and odd != anchor_id("a__onmouseover__x_")


def test_many_passages_stream_with_a_histogram_chart(tmp_path):
    calls = []
    records = synthetic_records(extra_passages=PER_PASSAGE_CHART_MAX + 40)

    def factory():
        calls.append(1)
        return iter(records)

    path = tmp_path / "big" / "report.html"
    write_run_html(path, synthetic_header(records), factory)
    html = path.read_text(encoding="utf-8")
    assert len(calls) == 2, "one pass for the table and chart, one for the sections"
    assert html.count('<section class="passage"') == len(records)
    assert "Distribution of meaning scores per stage" in html
    assert [p.name for p in path.parent.iterdir()] == ["report.html"], "atomic write leaves no temporary file"


def test_metrics_are_ordered_by_their_descriptions_with_sub_scores_after_their_metric():
    names = ["injected", "anchors.recall", "chrf", "bertscore.f1", "anchors", "meaning", "bertscore",
             "anchors.names_recall", "mine"]
    infos = {n: build_metric(n).describe() for n in names if "." not in n and n != "mine"}
    infos["mine"] = MetricInfo("mine", order=5)
    ordered = ordered_metrics(names, infos)
    assert ordered == ["meaning", "mine", "chrf", "bertscore", "bertscore.f1", "anchors", "anchors.names_recall",
                       "anchors.recall", "injected"]


def test_a_user_metric_where_lower_is_better_gets_a_down_arrow(tmp_path):
    records = synthetic_records()
    header = synthetic_header(records)
    header.signature["metrics"]["metrics"]["my.metrics:error_rate"] = MetricInfo(
        "my.metrics:error_rate", higher_is_better=False).to_json()
    header.corpus["distorted"]["my.metrics:error_rate"] = 0.25
    path = tmp_path / "report.html"
    write_run_html(path, header, lambda: iter(records))
    assert '<th scope="row">my.metrics:error_rate <span class="muted">↓</span></th>' in path.read_text(encoding="utf-8")


def test_a_single_stage_reference_free_run_renders_plain_texts(tmp_path):
    record = PassageResult.from_json({"id": "p01", "speaker": None, "references": [], "error": None,
                                      "stages": {"distorted": {"text": "Line one.\nLine two."}}})
    header = RunHeader(**RunHeader.header_from_json({
        "signature": {"config_name": "raw"}, "signature_string": "harness:0.1.0", "stages": ["distorted"],
        "corpus": {"distorted": {}}, "failed": [], "metric_signatures": {},
        "summary": {"passages": 1, "scored": 0, "failed": 0, "verdicts": {"distorted": {}}}}))
    path = tmp_path / "report.html"
    write_run_html(path, header, lambda: iter([record]))
    html = path.read_text(encoding="utf-8")
    assert '<p class="text shown">Line one.\nLine two.</p>' in html
    assert "No references: only reference-free metrics scored this passage." in html
    assert "– no verdict" in html and "No passage was scored." in html


# --------------------------------------------------------------------------
# Issue 16: highlight the findings and what changed between stages, not a
# word diff against a paraphrase (73-81 "substituted" words per passage)
# --------------------------------------------------------------------------

def _text_of(shown: dict) -> str:
    return "".join(piece["text"] for piece in shown["pieces"] if piece["kind"] == "text")


def test_highlight_marks_findings_of_any_kind_and_the_changes_since_the_previous_text():
    before = "We will not send 12 trucks to the north."
    after = "We will send many trucks to the north today."
    antonym = Finding("quantifier", "changed", "major", "many", "'12' became 'many'", "meaning",
                      stage_span=Span(after.index("many"), after.index("many") + 4, "many"))
    dropped = Finding("negation", "lost", "major", "not", "negation 'not' missing", "anchors")  # no stage span
    shown = highlight(after, stage_spans([antonym, dropped]), before)
    assert _text_of(shown) == after
    pieces = [(p["kind"], p["text"], p.get("changed"), (p.get("mark") or {}).get("cls")) for p in shown["pieces"]]
    assert ("deleted", "not", None, None) in pieces and ("deleted", "12", None, None) in pieces
    assert ("text", "many", True, "finding-mark changed major") in pieces
    assert any(kind == "text" and "today." in text and changed for kind, text, changed, _ in pieces)
    assert (shown["inserted"], shown["deleted"]) == (3, 3)  # many, north today. / not, 12, north.
    mark = next(p["mark"] for p in shown["pieces"] if p.get("mark"))
    assert mark["title"] == "quantifier changed (major): '12' became 'many'"
    assert highlight(after, stage_spans([antonym]))["pieces"][1]["changed"] is False  # no previous text: no changes
    stale = Finding("entity", "added", "minor", "x", "why", "m", stage_span=Span(0, 2, "zz"))
    assert all(p.get("mark") is None for p in highlight(after, stage_spans([stale]))["pieces"])


def test_the_run_page_highlights_findings_in_the_text_and_lost_ones_in_the_references(tmp_path):
    reference = "We will not send 12 trucks to the north."
    distorted = "We will not sent 12 trucks to north."
    cleaned = "We will not send 12 trucks to north."
    retranslated = "We will send many trucks to the north."
    lost = Finding("negation", "lost", "major", "not", "negation 'not' missing", "anchors",
                   reference_span=Span(8, 11, "not"), reference_index=0)
    quantity = Finding("quantifier", "changed", "major", "many", "'12' became 'many'", "meaning",
                       stage_span=Span(13, 17, "many"), reference_span=Span(17, 19, "12"), reference_index=0)
    stages = {"distorted": {"text": distorted}, "cleaned": {"text": cleaned},
              "retranslated": {"text": retranslated, "findings": [lost.to_json(), quantity.to_json()]}}
    record = PassageResult.from_json({"id": "p01", "speaker": None, "references": [reference], "error": None,
                                      "stages": stages})
    header = RunHeader(**RunHeader.header_from_json({
        "signature": {"config_name": "x"}, "signature_string": "harness:0.1.0",
        "stages": ["distorted", "cleaned", "retranslated"], "corpus": {}, "failed": [], "metric_signatures": {},
        "summary": {"passages": 1, "scored": 1, "failed": 0, "verdicts": {}}}))
    path = tmp_path / "report.html"
    write_run_html(path, header, lambda: iter([record]))
    html = path.read_text(encoding="utf-8")
    section = html[html.index('id="passage-p01"'):]
    assert '<ins class="stage-change" title="new or changed since the distorted text">send</ins>' in section
    assert '<del class="stage-change" title="in the distorted text, gone here">sent</del>' in section
    assert ('<mark class="finding-mark changed major" title="quantifier changed (major): &#39;12&#39; became '
            '&#39;many&#39;">many</mark>') in section
    refs = section[section.index('class="refs"'):]
    assert ('<mark class="finding-mark lost major" title="negation lost (major) at retranslated: negation '
            '&#39;not&#39; missing">not</mark>') in refs
    assert '<mark class="finding-mark changed major"' in refs and ">12</mark>" in refs

