"""Property tests (hypothesis) over everything that touches untrusted text:
the loaders, the sentence splitter, the default cleaner chain, the results
store and the report writers.

The properties: nothing crashes; the only exception a loader raises is the
documented :class:`~harness.errors.InputError`; what is written is valid
UTF-8, and JSON that a strict parser (no NaN) reads back unchanged; reports
never carry raw markup or invisible characters from the text.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from harness.loading import decode_text, load_references, parse_transcript
from harness.findings import CHANGES, KINDS, SEVERITIES, Finding, Span
from harness.results import PassageResult, RunHeader, write_results_json
from harness.report.html import render_run_html
from harness.report.markdown import passage_markdown, run_markdown_head, run_markdown_row
from harness.report.text import has_invisible
from harness.runstore import RunStore
from harness.translate.sentences import segment_text, split_sentences

# Modest by default (the file runs in seconds); HARNESS_FUZZ_SCALE=20 digs deeper.
SCALE = float(os.environ.get("HARNESS_FUZZ_SCALE", "1"))
FUZZ = settings(max_examples=int(60 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=int(25 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that break things: markup, Markdown, line ends of every kind,
# controls, bidi overrides, zero-width and byte-order marks.
NASTY_CHARS = list("<>&\"'`*_[]|#\\!-:{}\n\r\t \x00\x07\x1b\x7f\x85\u00a0\u061c\u200b\u200d\u2028\u2029"
                   "\u202a\u202e\u2066\u2069\ufeff\ufffd")
NASTY_PIECES = NASTY_CHARS + ["<script>", "</textarea>", "```", "\r\n", "{{ x }}", "{% raw %}", "-->", "]]>"]
# No lone surrogates: files cannot hold them, the loaders refuse escaped ones,
# and a cleaner that returns one fails its passage (see test_reliability.py).
characters = st.characters(exclude_categories=["Cs"])
nasty_text = st.text(alphabet=st.one_of(characters, st.sampled_from(NASTY_CHARS)), max_size=80)
nasty_text_joined = st.lists(st.one_of(st.sampled_from(NASTY_PIECES), st.text(max_size=6)), max_size=25).map("".join)
any_text = st.one_of(nasty_text, nasty_text_joined)
passage_id = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,12}", fullmatch=True)
score = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 200), st.none())


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, as JavaScript and jq do."""
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def utf8(text: str) -> bytes:
    return text.encode("utf-8")  # raises on a lone surrogate


def outside_code(markdown: str) -> str:
    """Markdown without its fenced blocks and code spans, which show text
    literally (a ``<script`` there is text, not markup)."""
    markdown = re.sub(r"^```text\n.*?^```$", "", markdown, flags=re.S | re.M)
    return re.sub(r"(`+) .*? \1|`[^`]*`", "", markdown)


# --------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=400))
def test_decode_text_accepts_text_or_raises_input_error(data):
    try:
        text = decode_text(data, "fuzz")
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz")
        return
    assert "\r" not in text and "\x00" not in text and not text.startswith("\ufeff")
    utf8(text)


@FUZZ
@given(st.one_of(any_text, st.text(max_size=300)), st.sampled_from([None, False, True]))
def test_parse_transcript_gives_passages_or_input_error(text, jsonl):
    try:
        passages = parse_transcript(text, "fuzz", jsonl=jsonl, max_chars=200)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    ids = [p.id for p in passages]
    assert passages and len(set(ids)) == len(ids)
    for passage in passages:
        assert passage.text.strip() and len(passage.text) <= 200
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}", passage.id)
        utf8(passage.text)


@FUZZ
@given(st.lists(st.fixed_dictionaries({"id": st.one_of(passage_id, st.integers(), st.text(max_size=5)),
                                        "text": any_text}, optional={"speaker": st.one_of(any_text, st.none())}),
                max_size=6))
def test_jsonl_transcripts_of_arbitrary_objects(objects):
    text = "\n".join(json.dumps(o, ensure_ascii=bool(i % 2)) for i, o in enumerate(objects))
    try:
        passages = parse_transcript(text, "fuzz", jsonl=True)
    except InputError:
        return
    assert [p.id for p in passages] == [str(o["id"]) for o in objects]


@FUZZ
@given(st.one_of(st.binary(max_size=300), any_text.map(utf8)),
       st.sampled_from(["r.yaml", "r.jsonl", "ref.0.txt", "r.json"]))
def test_load_references_gives_a_mapping_or_input_error(data, name):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            mapping = load_references([path], ["p01", "p02"])
        except InputError as exc:
            assert "\n" not in str(exc)
            return
    for pid, refs in mapping.items():
        assert isinstance(pid, str) and all(isinstance(r, str) and r.strip() for r in refs)
        for ref in refs:
            utf8(ref)


# --------------------------------------------------------------------------
# The sentence splitter (its contract: rejoining gives the text back exactly)
# --------------------------------------------------------------------------

@FUZZ
@given(st.one_of(any_text, st.lists(st.sampled_from(
    ["Mr. Smith", "said", "U.S.", "$44.5 billion", "e.g.", "the", "?", "!", ".", "...", "\n", "  ", "“", "”",
     "we", "(a)", "1.", "p.m.", "You.S.", "regarding"]), max_size=30).map(" ".join)),
       st.sampled_from(["en", "pt", "es"]))
def test_split_sentences_rejoins_to_the_exact_text(text, lang):
    pieces = split_sentences(text, lang)
    assert "".join(pieces) == text
    split = segment_text(text, lang)
    assert split.join([segment.text for segment in split.segments]) == text
    assert all(segment.text and segment.text == segment.text.strip() for segment in split.segments)


# --------------------------------------------------------------------------
# The default cleaner chain (tests/test_cleaners_properties.py covers each
# cleaner in depth; here: what the pipeline relies on)
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def default_chain():
    from harness.cleaners import DEFAULT_CHAIN, build_cleaner

    return [build_cleaner(name) for name in DEFAULT_CHAIN]


@FEW
@given(text=any_text)
def test_the_default_chain_returns_utf8_text_and_json_safe_edits(default_chain, text):
    from harness.cleaners import run_chain

    cleaned, edits = run_chain(default_chain, text)
    assert isinstance(cleaned, str)
    utf8(cleaned)
    assert strict_json(json.dumps(edits, ensure_ascii=False)) == edits
    for edit in edits:
        assert {"cleaner", "start", "end", "before", "after", "rule"} <= set(edit)
        assert 0 <= edit["start"] <= edit["end"]


# --------------------------------------------------------------------------
# Records: the results store and every report writer
# --------------------------------------------------------------------------

STAGES = ["distorted", "cleaned", "retranslated"]


@st.composite
def records(draw, pid=None):
    pid = pid or draw(passage_id)

    def stage(name):
        data = {"text": draw(any_text),
                "scores": draw(st.dictionaries(st.sampled_from(["meaning", "chrf", "ter", "cosine", "anchors.names_recall"]),
                                               score, max_size=3)),
                "stats": {"chrf": draw(st.lists(st.floats(allow_nan=True), max_size=4))},
                "details": {"anchors": {"kept": draw(st.lists(any_text, max_size=3)), "note": draw(any_text)}},
                "findings": [Finding(draw(st.sampled_from(list(KINDS))), draw(st.sampled_from(CHANGES)),
                                     draw(st.sampled_from(SEVERITIES)), draw(any_text), draw(any_text), draw(any_text),
                                     stage_span=Span(0, 1, draw(any_text)), reference_span=Span(0, 1, draw(any_text)),
                                     reference_index=0).to_json() for _ in range(draw(st.integers(0, 2)))],
                "verdict": {"score": draw(score), "band": draw(st.sampled_from(["preserved", "degraded", "lost", "?"])),
                            "reasons": draw(st.lists(any_text, max_size=2))}}
        if name == "cleaned":
            data["edits"] = [{"cleaner": draw(any_text), "start": 0, "end": 1, "before": draw(any_text),
                              "after": draw(any_text), "rule": draw(any_text)}]
        if name == "retranslated":
            data["hops"] = [{"src": "en", "tgt": draw(any_text), "text": draw(any_text)},
                            {"src": "pt", "tgt": "en", "text": data["text"]}]
            data["warnings"] = draw(st.lists(any_text, max_size=2))
            data["sentences"] = 1
        return data

    failed = draw(st.booleans())
    record = {"id": pid, "speaker": draw(st.one_of(st.none(), any_text)),
              "references": draw(st.lists(any_text, min_size=1, max_size=3)), "error": None,
              "stages": {"distorted": stage("distorted")}}
    if failed:
        record["error"] = {"stage": "cleaned", "message": draw(any_text), "detail": draw(any_text)}
    else:
        record["stages"].update({"cleaned": stage("cleaned"), "retranslated": stage("retranslated")})
    return record


def typed(recs: list[dict]) -> list[PassageResult]:
    return [PassageResult.from_json(r) for r in recs]


def header_for(recs: list[dict], text: str) -> RunHeader:
    failed = [{"id": r["id"], **r["error"]} for r in recs if r["error"]]
    return RunHeader(**RunHeader.header_from_json({
        "signature": {"key": "0123456789abcdef", "harness": "0.1.0", "config_name": text, "n_passages": len(recs),
                      "cleaners": [{"name": text, "version": "1"}], "retranslation": None, "metrics": {},
                      "packages": {}},
        # built by the harness from hashes and Python identifiers: never arbitrary text
        "signature_string": "harness:0.1.0|data:7f900b08/f11e7e73|n:2|clean:none|key:208badb1eaec349a",
        "stages": STAGES,
        "corpus": {stage: {"meaning": 50.0, "chrf": float("nan")} for stage in STAGES},
        "summary": {"passages": len(recs), "scored": len(recs) - len(failed), "failed": len(failed),
                    "verdicts": {s: {"preserved": 1, "degraded": 0, "lost": 0} for s in STAGES},
                    "retranslation_warnings": 0, "finished_at": "2025-01-01T00:00:00+00:00"},
        "failed": failed,
        "metric_signatures": {"chrf": text},
    }))


def unique_records(min_size=1, max_size=3):
    return st.lists(passage_id, min_size=min_size, max_size=max_size, unique=True).flatmap(
        lambda ids: st.tuples(*[records(pid) for pid in ids]).map(list))


def assert_same(a, b):
    """Equal, with NaN equal to NaN or to null (a strict JSON writer's NaN)."""
    if isinstance(a, float) and math.isnan(a):
        assert b is None or (isinstance(b, float) and math.isnan(b))
    elif isinstance(a, float) and math.isinf(a):
        assert b is None or b == a
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


@FEW
@given(unique_records(max_size=4), any_text)
def test_results_jsonl_and_results_json_round_trip_as_strict_json(recs, text):
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        header = header_for(recs, text)
        with RunStore(out) as store:
            store.open({"key": "k"}, force=False, resume=True)
            for record in recs:
                store.append([record])
            lines = (out / "results.jsonl").read_bytes().split(b"\n")
            assert lines[-1] == b"" and len(lines) == len(recs) + 1, "one line per record, whatever the text"
            for raw, record in zip(lines, recs):
                assert_same(record, strict_json(raw.decode("utf-8")))
            read_back = list(store.iter_records())
            write_results_json(out / "results.json", header, iter(typed(read_back)))
        written = strict_json((out / "results.json").read_bytes().decode("utf-8"))
        assert_same([r.to_json() for r in typed(recs)], written["passages"])
        assert_same(header.corpus, written["corpus"])
        # a reopened store finds every passage finished
        with RunStore(out) as store:
            assert store.open({"key": "k"}, force=False, resume=True) == {r["id"] for r in recs}


@FUZZ
@given(records())
def test_passage_markdown_shows_every_text_safely(record):
    (record,) = typed([record])
    page = passage_markdown(record, STAGES, {})
    utf8(page)
    assert not has_invisible(page.replace("\n", "").replace("\t", ""))
    assert "<script" not in outside_code(page).lower() and "</textarea" not in outside_code(page).lower()
    row = run_markdown_row(record, STAGES)
    assert "\n" not in row and not has_invisible(row) and "<script" not in row.lower()


@FEW
@given(unique_records(max_size=3), any_text)
def test_run_markdown_head_shows_every_text_safely(recs, text):
    lines = run_markdown_head(header_for(recs, text))
    page = "\n".join(lines)
    utf8(page)
    assert "<script" not in page.lower()
    assert not has_invisible(page.replace("\n", ""))


@pytest.fixture(scope="module")
def script_tags_in_a_plain_report() -> int:
    recs = [{"id": "p01", "speaker": None, "references": ["A reference."], "error": None,
             "stages": {s: {"text": "Plain text.", "scores": {"meaning": 80.0},
                            "verdict": {"score": 80.0, "band": "preserved", "reasons": []}} for s in STAGES}}]
    page = "".join(render_run_html(header_for(recs, "plain"), lambda: iter(typed(recs))))
    return page.lower().count("<script")


@FEW
@given(recs=unique_records(max_size=3), text=any_text)
def test_the_html_report_shows_every_text_safely(script_tags_in_a_plain_report, recs, text):
    page = "".join(render_run_html(header_for(recs, text), lambda: iter(typed(recs))))
    utf8(page)
    lowered = page.lower()
    assert lowered.count("<script") == script_tags_in_a_plain_report, "only the report's own script"
    assert lowered.count("<textarea") == 0
    assert not any(c in page for c in "\x00\x1b\u202e\u2066\u200b\ufeff")
