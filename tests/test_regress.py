"""Specification of the regression gate on synthetic runs (no pipeline, no model).

A synthetic run is a baseline-format dict whose chrF++/BLEU/TER statistics
are computed by the harness's real metrics from real texts: twenty short
passages, each with a number and a negation, scored against a paraphrase.
Verdicts and anchors, which come from other metrics in a real run, are set
by hand where a test needs them. End-to-end runs of the real pipeline are in
tests/test_regress_gate.py.
"""

from __future__ import annotations

import copy
import json
import re
from xml.etree import ElementTree as ET

import pytest

from harness.baseline import BASELINE_FORMAT, Baseline, build_baseline, dumps_stable, load_baseline, save_baseline
from harness.config import RegressConfig, RunConfig
from harness.errors import ConfigError, InputError
from harness.findings import Finding
from harness.metrics.config import MetricsConfig
from harness.regress import (BaselineMismatch, CaseCheck, check_compatible, check_same_scoring, compare,
                             parse_margins, scoring_changes)
from harness.report.regress import diff_line, format_report, write_junit
from harness.results import PassageError, PassageResult, RunResults, RunSummary, Verdict
from harness.scoring import Scorer

METRICS = MetricsConfig(use=("chrf", "bleu", "ter"))
SCORER = Scorer(METRICS)

SUBJECTS = ["The council", "The ministry", "Our team", "The company", "The agency", "The committee",
            "The governor", "The embassy", "The school board", "The hospital"]
OBJECTS = ["new permits", "extra beds", "field offices", "rail cars", "water pumps", "training courses",
           "relief trucks", "air filters", "border posts", "school buses"]


def _passages() -> tuple[list[str], list[str]]:
    """(clean texts, one paraphrase reference each), 20 passages."""
    texts, refs = [], []
    for i in range(20):
        subject, thing, n = SUBJECTS[i % 10], OBJECTS[(3 * i) % 10], 12 + 7 * i
        texts.append(f"{subject} did not cancel the {n} {thing} that were promised in March, "
                     f"and it will report on them again next week.")
        refs.append(f"{subject} has not cancelled the {n} {thing} promised in March; "
                    f"it will report on them again next week.")
    return texts, refs


TEXTS, REFS = _passages()


def make_run(cleaned: list[str], *, distorted: list[str] | None = None, transcript_sha: str = "t" * 64,
             references_sha: str = "r" * 64, cleaners=(("spin", "1"),), scorer: Scorer = SCORER) -> Baseline:
    """A (normalised) baseline of a run whose cleaned stage reads ``cleaned``."""
    distorted = distorted or TEXTS
    stage_texts = {"distorted": distorted, "cleaned": cleaned}
    scored = scorer.score_chunk(stage_texts, [[r] for r in REFS])
    passages = [PassageResult(f"p{i:02d}", None, [ref], stages) for i, (ref, stages) in enumerate(zip(REFS, scored))]
    signature = {"harness": "0.1.0", "python": "3.x", "key": "k" * 16, "transcript_sha256": transcript_sha,
                 "references_sha256": references_sha, "n_passages": len(REFS), "config_name": "synthetic",
                 "cleaners": [{"name": n, "version": v} for n, v in cleaners], "retranslation": None,
                 "metrics": scorer.describe(), "packages": {}}
    results = RunResults(signature=signature, stages=list(stage_texts), summary=RunSummary(passages=len(REFS)),
                         metric_signatures=scorer.signatures(), passages=passages)
    config = RunConfig(name="synthetic", cleaners=[n for n, _ in cleaners], metrics=METRICS,
                       retranslation={"backend": "none"})
    return build_baseline(results, config).normalised()


def set_verdict(run: Baseline, index: int, band: str, score: float, stage: str = "cleaned") -> None:
    run.run.passages[index].stages[stage].verdict = Verdict(score, band, [])


def finding(kind: str, label: str, change: str = "lost", severity: str = "major", why: str = "") -> Finding:
    return Finding(kind, change, severity, label, why or f"{kind} {label} {change}", "anchors")


def set_findings(run: Baseline, index: int, *findings: Finding, stage: str = "cleaned") -> None:
    run.run.passages[index].stages[stage].findings = list(findings)


def drop_numbers(text: str) -> str:
    return re.sub(r"\s*\d+", "", text)


def drop_negations(text: str) -> str:
    return text.replace(" not", "")


@pytest.fixture(scope="module")
def base() -> Baseline:
    return make_run(TEXTS)


# --------------------------------------------------------------------------
# The baseline file
# --------------------------------------------------------------------------

def test_stable_json_sorts_keys_fixes_floats_and_ends_with_a_newline():
    text = dumps_stable({"b": [1.0, 2.5, float("nan")], "a": {"tiny": 1e-9, "neg": -1e-9, "x": 1234.56789012,
                                                              "third": 1 / 3, "big": 1e21}})
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.index('"a"') < text.index('"b"') and text.index('"big"') < text.index('"x"')
    assert '"tiny": 0.0' in text and '"neg": 0.0' in text  # no "-0.0", no exponent
    assert '"third": 0.333333' in text and '"x": 1234.56789' in text
    assert '"big": 1000000000000000000000.0' in text
    assert "[1.0, 2.5, null]" in text  # NaN is not JSON: null
    assert "e-" not in text and "e+" not in text


def test_saving_a_loaded_baseline_gives_identical_bytes(tmp_path, base):
    first = save_baseline(tmp_path / "a.json", base)
    again = save_baseline(tmp_path / "b.json", load_baseline(first))
    assert first.read_bytes() == again.read_bytes()
    assert json.loads(first.read_text())["format"] == BASELINE_FORMAT


def test_the_baseline_stores_texts_scores_stats_findings_signature_and_config(base):
    stored = base.to_json()
    assert set(stored) >= {"format", "config", "inputs", "signature", "stages", "corpus", "passages"}
    stage = stored["passages"][0]["stages"]["cleaned"]
    assert stage["text"] == TEXTS[0] and stage["findings"] == []
    assert set(stage["scores"]) >= {"chrf", "bleu", "ter"} and set(stage["stats"]) >= {"chrf", "bleu", "ter"}
    assert "python" not in stored["signature"] and "key" not in stored["signature"]  # machine-specific
    assert stored["config"]["cleaners"] == ["spin"] and "transcript" not in stored["config"]


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{not json", "not valid JSON"),
    ('{"hello": 1}', "not a harness baseline"),
    ('{"format": "harness-baseline/0"}', "re-baseline with: harness baseline save"),
    ('{"format": "harness-baseline/1"}', "is not 'harness-baseline/2' (an older harness wrote it)"),
    (json.dumps({"format": BASELINE_FORMAT, "config": {}, "signature": {}, "stages": [], "corpus": {},
                 "passages": [{"stages": {}}]}), "passage #1 has no id"),
])
def test_a_bad_baseline_file_is_one_line_of_input_error(tmp_path, content, message):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=re.escape(message)):
        load_baseline(path)


# --------------------------------------------------------------------------
# Compatibility
# --------------------------------------------------------------------------

def test_another_transcript_or_reference_set_is_incompatible(base):
    for changed, what in ((make_run(TEXTS, transcript_sha="u" * 64), "transcript"),
                          (make_run(TEXTS, references_sha="s" * 64), "reference set")):
        with pytest.raises(BaselineMismatch) as caught:
            check_compatible(base, changed.run.signature, "baselines/x.json")
        message = str(caught.value)
        assert f"different {what}" in message
        assert "re-baseline with: harness regress --baseline baselines/x.json --update" in message
        assert caught.value.exit_code == 2 and "\n" not in message


def test_another_metric_version_is_incompatible(base):
    signature = copy.deepcopy(base.run.signature)
    signature["metrics"]["metrics"]["chrf"]["version"] = "99"
    with pytest.raises(BaselineMismatch, match=r"different metrics \(chrf v.* -> v99\)"):
        check_compatible(base, signature, "b.json")


def test_another_cleaner_version_is_what_the_gate_compares(base):
    check_compatible(base, make_run(TEXTS, cleaners=(("spin", "2"),)).run.signature, "b.json")


def test_a_metric_description_display_order_or_default_margin_change_is_cosmetic(base):
    signature = copy.deepcopy(base.run.signature)
    signature["metrics"]["metrics"]["chrf"].update(description="reworded docstring", order=3, margin=0.5)
    check_compatible(base, signature, "b.json")


def test_a_metric_that_changed_without_a_version_bump_is_caught_on_the_distorted_text(base):
    after = make_run(TEXTS)
    assert check_same_scoring(base, after, "b.json") is None
    after.run.passages[2].stages["distorted"].stats["chrf"][0] += 1
    set_findings(after, 4, finding("negation", "not … cancel"), stage="distorted")
    with pytest.raises(BaselineMismatch, match=r"now scores differently \(p02 chrf, p04 anchors\)"):
        check_same_scoring(base, after, "b.json")


def test_embedding_noise_on_the_distorted_text_is_tolerated(base):
    after = make_run(TEXTS)
    after.run.passages[0].stages["distorted"].stats["bleu"][0] += 3e-6
    assert scoring_changes(base.run, after.run) == []


# --------------------------------------------------------------------------
# The corpus test
# --------------------------------------------------------------------------

def test_the_same_run_passes_with_nothing_changed(base):
    report = compare(base, make_run(TEXTS))
    assert not report.regressed and report.exit_code == 0
    assert report.passages == []
    assert {c.metric for c in report.corpus} == {"chrf", "bleu", "ter"}
    assert all(c.dropped_by == 0 and c.p_value == 1.0 for c in report.corpus)


def test_dropping_numbers_everywhere_is_a_significant_drop_beyond_the_margin(base):
    report = compare(base, make_run([drop_numbers(t) for t in TEXTS]))
    assert report.regressed and report.exit_code == 1
    failed = {c.metric: c for c in report.corpus_regressions}
    assert set(failed) == {"chrf", "bleu", "ter"}  # TER rises: lower is better, still a drop
    assert failed["ter"].current > failed["ter"].baseline
    assert all(c.dropped_by > c.margin and c.p_value < 0.05 for c in failed.values())
    assert any("corpus cleaned chrf" in line for line in report.reasons())


def test_a_noise_level_change_passes(base):
    noisy = list(TEXTS)
    noisy[3] = noisy[3].replace("again next week", "once more next week")
    report = compare(base, make_run(noisy))
    assert not report.regressed
    assert [p.id for p in report.passages] == ["p03"] and report.passages[0].status == "changed"
    chrf = next(c for c in report.corpus if c.metric == "chrf")
    assert 0 < chrf.dropped_by < SCORER.metric("chrf").margin == chrf.margin


def test_a_drop_within_a_wider_margin_passes(base):
    broken = make_run([drop_numbers(t) for t in TEXTS])
    strict = compare(base, broken)
    drop = next(c for c in strict.corpus if c.metric == "chrf").dropped_by
    lenient = RegressConfig(margins={"chrf": drop + 1, "bleu": 100, "ter": 100})
    assert not compare(base, broken, lenient).regressed


def test_a_drop_in_few_passages_is_not_significant_at_corpus_level(base):
    # Two of twenty passages lose everything after the first words: a large
    # drop in those two, but the corpus test cannot tell it from noise; the
    # passage checks are what catch such local damage.
    local = list(TEXTS)
    for i in (4, 11):
        local[i] = " ".join(local[i].split()[:4])
    report = compare(base, make_run(local), RegressConfig(margins={"chrf": 0.5}))
    chrf = next(c for c in report.corpus if c.metric == "chrf")
    assert chrf.dropped_by > 0.5 and chrf.p_value >= 0.05 and not chrf.regressed


def test_a_significant_gain_beyond_the_margin_is_an_improvement(base):
    worse = make_run([drop_numbers(t) for t in TEXTS])
    report = compare(worse, base)
    assert not report.regressed
    assert {c.metric for c in report.corpus if c.improved} == {"chrf", "bleu", "ter"}


def test_a_metric_without_a_margin_is_reported_but_not_gated(base):
    config = RegressConfig.model_validate({"margins": {"chrf": None}})
    report = compare(base, make_run([drop_numbers(t) for t in TEXTS]), config)
    chrf = next(c for c in report.corpus if c.metric == "chrf")
    assert chrf.margin is None and not chrf.regressed
    assert any("no margin for chrf" in note for note in report.notes)


# --------------------------------------------------------------------------
# Passage checks
# --------------------------------------------------------------------------

def test_a_worse_band_is_a_passage_regression(base):
    before, after = copy.deepcopy(base), make_run(TEXTS)
    set_verdict(before, 2, "preserved", 81.0)
    set_verdict(after, 2, "degraded", 55.0)
    report = compare(before, after)
    assert report.regressed and report.regressed_passage_ids == ["p02"]
    assert "verdict preserved -> degraded (meaning 81.00 -> 55.00)" in report.passage_regressions[0].regressions[0]


def test_a_band_wobbling_across_a_threshold_is_noise(base):
    before, after = copy.deepcopy(base), make_run(TEXTS)
    set_verdict(before, 2, "preserved", 70.3)
    set_verdict(after, 2, "degraded", 69.8)
    assert not compare(before, after).regressed


def test_a_better_band_is_an_improvement(base):
    before, after = copy.deepcopy(base), make_run(TEXTS)
    set_verdict(before, 5, "lost", 20.0)
    set_verdict(after, 5, "degraded", 50.0)
    report = compare(before, after)
    assert not report.regressed and report.passages[0].status == "improved"


def test_a_new_major_finding_is_a_passage_regression_and_a_gone_one_good_news(base):
    before, after = copy.deepcopy(base), make_run(TEXTS)
    set_findings(before, 1, finding("name", "March", why="name March missing"))
    set_findings(after, 1, finding("number", "19", why="number 19 missing"))
    report = compare(before, after)
    check = report.passage_regressions[0]
    assert check.id == "p01"
    assert check.regressions == ["number 19 missing (not in the baseline)"]
    assert check.improvements == ["no longer: name March missing"]


def test_a_finding_the_baseline_had_is_not_new_and_a_second_one_is(base):
    # Findings are matched by key (kind, change, label), not by their wording or spans.
    before, after = copy.deepcopy(base), make_run(TEXTS)
    set_findings(before, 1, finding("negation", "not … cancel", why="negation dropped: 'not … cancel' (here)"))
    set_findings(after, 1, finding("negation", "not … cancel", why="negation dropped: 'not … cancel' (there)"))
    assert not compare(before, after).regressed
    set_findings(after, 1, *[finding("negation", "not … cancel", why="negation dropped: 'not … cancel'")] * 2)
    assert compare(before, after).reasons() == [
        "passage p01 (cleaned): negation dropped: 'not … cancel' (not in the baseline)"]


def test_new_minor_findings_are_reported_but_never_fail(base):
    before, after = copy.deepcopy(base), make_run(TEXTS)
    set_findings(after, 3, finding("name", "NATO", change="changed", severity="minor", why="name NATO lowered ('nato')"),
                 finding("name", "Rusya", change="added", severity="note"))
    report = compare(before, after)
    assert not report.regressed
    (check,) = report.passages
    assert check.notes == ["name NATO lowered ('nato') (minor; not in the baseline)"]
    assert "note:      name NATO lowered" in format_report(report)


def test_any_kind_of_major_finding_fails_the_gate(base):
    # kinds added later (antonym, quantifier, role, ...) need no change in the gate
    before, after = copy.deepcopy(base), make_run(TEXTS)
    set_findings(after, 6, Finding("antonym", "changed", "major", "increase -> decrease",
                                   "antonym: 'increase' became 'decrease'", "semantic"))
    assert compare(before, after).reasons() == [
        "passage p06 (cleaned): antonym: 'increase' became 'decrease' (not in the baseline)"]


def test_a_passage_that_now_fails_is_a_regression(base):
    after = make_run(TEXTS)
    failed = after.run.passages[7]
    failed.error = PassageError("cleaned", "cleaner failed: ValueError: boom")
    failed.stages = {"distorted": failed.stages["distorted"]}
    report = compare(base, after)
    assert report.regressed_passage_ids == ["p07"]
    assert "now fails: cleaner failed: ValueError: boom" in report.reasons()[-1]


def test_a_run_without_the_cleaned_stage_cannot_be_compared(base):
    after = make_run(TEXTS)
    after.run.stages = ["distorted"]
    with pytest.raises(BaselineMismatch, match="cleaned"):
        compare(base, after, baseline_path="b.json")


def test_a_baseline_without_a_gated_stage_is_bad_input(base):
    before, after = copy.deepcopy(base), make_run(TEXTS)
    before.run.stages = after.run.stages = ["distorted"]
    with pytest.raises(InputError, match="none of the gated stages"):
        compare(before, after, baseline_path="b.json")


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------

def test_margins_replace_each_metrics_own_default_margin():
    config = RegressConfig.model_validate({"margins": {"chrf": 2.5}})
    assert config.margin("chrf", 1.0) == 2.5 and config.margin("ter", SCORER.metric("ter").margin) == 1.0
    assert config.with_margins({"cosine": 0.05}).margin("cosine", 0.01) == 0.05
    assert config.with_margins({"bleu": None}).margin("bleu", 1.0) is None  # reported, not gated
    with pytest.raises(ValueError):
        RegressConfig.model_validate({"margins": {"chrf": -1}})


def test_margins_on_the_command_line():
    assert parse_margins(["chrf=1.5", " ter = 2", "bleu=none"]) == {"chrf": 1.5, "ter": 2.0, "bleu": None}
    for bad in ("chrf", "chrf=", "chrf=abc", "=1", "chrf=-1", "chrf=nan"):
        with pytest.raises(ConfigError, match="METRIC=NUMBER"):
            parse_margins([bad])


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def test_the_text_report_shows_before_after_and_the_changed_words(base):
    broken = [drop_negations(t) if i == 0 else t for i, t in enumerate(TEXTS)]
    before, after = copy.deepcopy(base), make_run(broken)
    set_findings(after, 0, finding("negation", "not", why="negation dropped: 'not'"))
    text = format_report(compare(before, after))
    assert "regressed passages (1):" in text and "p00 [cleaned]" in text
    assert "REGRESSED: negation dropped: 'not' (not in the baseline)" in text
    assert f"before:    {TEXTS[0]}" in text and f"after:     {broken[0]}" in text
    assert "[-not-]" in text and text.rstrip().splitlines()[-2].startswith("FAILED: 1 regression")


def test_diff_line_keeps_a_little_context():
    line = diff_line("one two three four five six seven eight nine ten", "one two three four five SIX seven eight nine ten")
    assert line == "… three four five [-six-] {+SIX+} seven eight nine …"


def test_junit_xml_is_valid_escapes_untrusted_text_and_counts_failures(tmp_path, base):
    hostile = [t + ' <script>&"\x1b[31m\x00' if i == 0 else t for i, t in enumerate(TEXTS)]
    before, after = copy.deepcopy(base), make_run(hostile)
    set_findings(after, 0, finding("number", "12"))
    report = compare(before, after)
    report.cases = [CaseCheck("cases.yaml", "spin", "c1", "keep", "regressed", "text changed"),
                    CaseCheck("cases.yaml", "spin", "c2", "known-failure", "known-failure", "still fails"),
                    CaseCheck("cases.yaml", "spin", "c3", "known-failure", "good-news", "now passes")]
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    suite = ET.parse(path).getroot()
    cases = suite.findall("testcase")
    assert suite.tag == "testsuite" and int(suite.get("tests")) == len(cases)
    assert len(cases) == len(report.corpus) + len(report.passages) + 3
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failures) == 2
    assert {(c.get("classname"), c.get("name")) for c in failures} == {("passages.cleaned", "p00"),
                                                                       ("cases.spin", "c1")}
    assert int(suite.get("skipped")) == 1
    raw = path.read_text(encoding="utf-8")
    assert "<script>" not in raw and "&lt;script&gt;" in raw and "⟨U+0000⟩" in raw and "⟨U+001B⟩" in raw
