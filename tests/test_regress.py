"""Specification of the regression gate on synthetic runs (no pipeline, no model).

A synthetic run is a baseline-format dict whose chrF++/BLEU/TER statistics
are computed by the harness's real metrics from real texts: twenty short
passages, each with a number and a negation, scored against a paraphrase.
Verdicts and anchors, which come from other metrics in a real run, are set
by hand where a test needs them. End-to-end runs of the real pipeline are in
tests/test_regress_gate.py.
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

import pytest

from harness.baseline import (BASELINE_FORMAT, build_baseline, dumps_stable, load_baseline, normalise,
                              save_baseline)
from harness.config import RunConfig
from harness.errors import ConfigError, InputError
from harness.metrics.config import MetricsConfig
from harness.regress import (DEFAULT_MARGINS, BaselineMismatch, CaseCheck, RegressConfig, check_compatible,
                             check_same_scoring, compare, diff_line, parse_margins, scoring_changes, write_junit)
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
             references_sha: str = "r" * 64, cleaners=(("spin", "1"),), scorer: Scorer = SCORER) -> dict:
    """A normalised baseline dict for a run whose cleaned stage reads ``cleaned``."""
    distorted = distorted or TEXTS
    stage_texts = {"distorted": distorted, "cleaned": cleaned}
    scored = scorer.score_chunk(stage_texts, [[r] for r in REFS])
    records = []
    for i, ref in enumerate(REFS):
        stages = {stage: {"text": stage_texts[stage][i], **scored[i][stage]} for stage in stage_texts}
        records.append({"id": f"p{i:02d}", "speaker": None, "references": [ref], "error": None, "stages": stages})
    signature = {"harness": "0.1.0", "python": "3.x", "key": "k" * 16, "transcript_sha256": transcript_sha,
                 "references_sha256": references_sha, "n_passages": len(REFS), "config_name": "synthetic",
                 "cleaners": [{"name": n, "version": v} for n, v in cleaners], "retranslation": None,
                 "metrics": scorer.describe(), "packages": {}}
    results = {"signature": signature, "stages": list(stage_texts), "corpus": {}, "summary": {"passages": len(REFS)},
               "metric_signatures": scorer.signatures(), "passages": records}
    config = RunConfig(name="synthetic", cleaners=[n for n, _ in cleaners], metrics=METRICS,
                       retranslation={"backend": "none"})
    return normalise(build_baseline(results, config))


def set_verdict(run: dict, index: int, band: str, score: float, stage: str = "cleaned") -> None:
    run["passages"][index]["stages"][stage]["verdict"] = {"band": band, "score": score, "reasons": []}


def set_anchors(run: dict, index: int, found: dict[str, list[str]], lost: dict[str, list[str]] | None = None,
                stage: str = "cleaned") -> None:
    """The anchors metric's details: required anchors ``found`` (kept) or ``lost``."""
    lost = lost or {}
    run["passages"][index]["stages"][stage]["anchors"] = {
        kind: {"found": found.get(kind, []), "lost": lost.get(kind, []), "added": []} for kind in set(found) | set(lost)}


def drop_numbers(text: str) -> str:
    return re.sub(r"\s*\d+", "", text)


def drop_negations(text: str) -> str:
    return text.replace(" not", "")


@pytest.fixture(scope="module")
def base() -> dict:
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


def test_the_baseline_stores_texts_scores_stats_signature_and_config(base):
    assert set(base) >= {"format", "config", "inputs", "signature", "stages", "corpus", "passages"}
    stage = base["passages"][0]["stages"]["cleaned"]
    assert stage["text"] == TEXTS[0]
    assert set(stage["scores"]) >= {"chrf", "bleu", "ter"} and set(stage["stats"]) >= {"chrf", "bleu", "ter"}
    assert "python" not in base["signature"] and "key" not in base["signature"]  # machine-specific
    assert base["config"]["cleaners"] == ["spin"] and "transcript" not in base["config"]


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{not json", "not valid JSON"),
    ('{"hello": 1}', "not a harness baseline"),
    ('{"format": "harness-baseline/0"}', "re-baseline with: harness baseline save"),
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
            check_compatible(base, changed["signature"], "baselines/x.json")
        message = str(caught.value)
        assert f"different {what}" in message
        assert "re-baseline with: harness regress --baseline baselines/x.json --update" in message
        assert caught.value.exit_code == 2 and "\n" not in message


def test_another_metric_version_is_incompatible(base):
    signature = json.loads(json.dumps(base["signature"]))
    signature["metrics"]["metrics"]["chrf"]["version"] = "99"
    with pytest.raises(BaselineMismatch, match=r"different metrics \(chrf v.* -> v99\)"):
        check_compatible(base, signature, "b.json")


def test_another_cleaner_version_is_what_the_gate_compares(base):
    check_compatible(base, make_run(TEXTS, cleaners=(("spin", "2"),))["signature"], "b.json")


def test_a_metric_description_change_is_cosmetic(base):
    signature = json.loads(json.dumps(base["signature"]))
    signature["metrics"]["metrics"]["chrf"]["description"] = "reworded docstring"
    check_compatible(base, signature, "b.json")


def test_a_metric_that_changed_without_a_version_bump_is_caught_on_the_distorted_text(base):
    after = make_run(TEXTS)
    assert check_same_scoring(base, after, "b.json") is None
    after["passages"][2]["stages"]["distorted"]["stats"]["chrf"][0] += 1
    set_anchors(after, 4, {"negations": ["not … cancel"]}, stage="distorted")
    with pytest.raises(BaselineMismatch, match=r"now scores differently \(p02 chrf, p04 anchors\)"):
        check_same_scoring(base, after, "b.json")


def test_embedding_noise_on_the_distorted_text_is_tolerated(base):
    after = make_run(TEXTS)
    after["passages"][0]["stages"]["distorted"]["stats"]["bleu"][0] += 3e-6
    assert scoring_changes(base, after) == []


# --------------------------------------------------------------------------
# The corpus test
# --------------------------------------------------------------------------

def test_the_same_run_passes_with_nothing_changed(base):
    report = compare(base, make_run(TEXTS), SCORER)
    assert not report.regressed and report.exit_code == 0
    assert report.passages == []
    assert {c.metric for c in report.corpus} == {"chrf", "bleu", "ter"}
    assert all(c.dropped_by == 0 and c.p_value == 1.0 for c in report.corpus)


def test_dropping_numbers_everywhere_is_a_significant_drop_beyond_the_margin(base):
    report = compare(base, make_run([drop_numbers(t) for t in TEXTS]), SCORER)
    assert report.regressed and report.exit_code == 1
    failed = {c.metric: c for c in report.corpus_regressions}
    assert set(failed) == {"chrf", "bleu", "ter"}  # TER rises: lower is better, still a drop
    assert failed["ter"].current > failed["ter"].baseline
    assert all(c.dropped_by > c.margin and c.p_value < 0.05 for c in failed.values())
    assert any("corpus cleaned chrf" in line for line in report.reasons())


def test_a_noise_level_change_passes(base):
    noisy = list(TEXTS)
    noisy[3] = noisy[3].replace("again next week", "once more next week")
    report = compare(base, make_run(noisy), SCORER)
    assert not report.regressed
    assert [p.id for p in report.passages] == ["p03"] and report.passages[0].status == "changed"
    chrf = next(c for c in report.corpus if c.metric == "chrf")
    assert 0 < chrf.dropped_by < DEFAULT_MARGINS["chrf"]


def test_a_drop_within_a_wider_margin_passes(base):
    broken = make_run([drop_numbers(t) for t in TEXTS])
    strict = compare(base, broken, SCORER)
    drop = next(c for c in strict.corpus if c.metric == "chrf").dropped_by
    lenient = RegressConfig(margins={"chrf": drop + 1, "bleu": 100, "ter": 100})
    assert not compare(base, broken, SCORER, lenient).regressed


def test_a_drop_in_few_passages_is_not_significant_at_corpus_level(base):
    # Two of twenty passages lose everything after the first words: a large
    # drop in those two, but the corpus test cannot tell it from noise; the
    # passage checks are what catch such local damage.
    local = list(TEXTS)
    for i in (4, 11):
        local[i] = " ".join(local[i].split()[:4])
    report = compare(base, make_run(local), SCORER, RegressConfig(margins={"chrf": 0.5}))
    chrf = next(c for c in report.corpus if c.metric == "chrf")
    assert chrf.dropped_by > 0.5 and chrf.p_value >= 0.05 and not chrf.regressed


def test_a_significant_gain_beyond_the_margin_is_an_improvement(base):
    worse = make_run([drop_numbers(t) for t in TEXTS])
    report = compare(worse, base, SCORER)
    assert not report.regressed
    assert {c.metric for c in report.corpus if c.improved} == {"chrf", "bleu", "ter"}


def test_a_metric_without_a_margin_is_reported_but_not_gated(base):
    config = RegressConfig.model_validate({"margins": {"chrf": None}})
    report = compare(base, make_run([drop_numbers(t) for t in TEXTS]), SCORER, config)
    chrf = next(c for c in report.corpus if c.metric == "chrf")
    assert chrf.margin is None and not chrf.regressed
    assert any("no margin for chrf" in note for note in report.notes)


# --------------------------------------------------------------------------
# Passage checks
# --------------------------------------------------------------------------

def test_a_worse_band_is_a_passage_regression(base):
    before, after = json.loads(json.dumps(base)), make_run(TEXTS)
    set_verdict(before, 2, "preserved", 81.0)
    set_verdict(after, 2, "degraded", 55.0)
    report = compare(before, after, SCORER)
    assert report.regressed and report.regressed_passage_ids == ["p02"]
    assert "verdict preserved -> degraded (meaning 81.00 -> 55.00)" in report.passage_regressions[0].regressions[0]


def test_a_band_wobbling_across_a_threshold_is_noise(base):
    before, after = json.loads(json.dumps(base)), make_run(TEXTS)
    set_verdict(before, 2, "preserved", 70.3)
    set_verdict(after, 2, "degraded", 69.8)
    assert not compare(before, after, SCORER).regressed


def test_a_better_band_is_an_improvement(base):
    before, after = json.loads(json.dumps(base)), make_run(TEXTS)
    set_verdict(before, 5, "lost", 20.0)
    set_verdict(after, 5, "degraded", 50.0)
    report = compare(before, after, SCORER)
    assert not report.regressed and report.passages[0].status == "improved"


def test_losing_a_kept_anchor_is_a_passage_regression_and_regaining_one_good_news(base):
    before, after = json.loads(json.dumps(base)), make_run(TEXTS)
    set_anchors(before, 1, {"numbers": ["19"], "negations": ["not"]}, lost={"names": ["March"]})
    set_anchors(after, 1, {"negations": ["not"], "names": ["March"]}, lost={"numbers": ["19"]})
    report = compare(before, after, SCORER)
    check = report.passage_regressions[0]
    assert check.id == "p01"
    assert check.regressions == ["lost number '19' (kept in the baseline)"]
    assert check.improvements == ["now keeps name 'March'"]


def test_negations_matched_by_count_are_not_lost_when_another_cue_is_reported_kept(base):
    # Negations are matched by count: which reference cue the metric names as
    # kept may change between runs while none is lost.
    before, after = json.loads(json.dumps(base)), make_run(TEXTS)
    set_anchors(before, 1, {"negations": ["not … cancel", "no doubt"]})
    set_anchors(after, 1, {"negations": ["no doubt", "not … report"]})
    assert not compare(before, after, SCORER).regressed
    set_anchors(after, 1, {"negations": ["no doubt"]}, lost={"negations": ["not … cancel"]})
    assert compare(before, after, SCORER).reasons() == [
        "passage p01 (cleaned): lost negation 'not … cancel' (kept in the baseline)"]


def test_a_passage_that_now_fails_is_a_regression(base):
    after = make_run(TEXTS)
    after["passages"][7]["error"] = {"stage": "cleaned", "message": "cleaner failed: ValueError: boom"}
    after["passages"][7]["stages"] = {"distorted": after["passages"][7]["stages"]["distorted"]}
    report = compare(base, after, SCORER)
    assert report.regressed_passage_ids == ["p07"]
    assert "now fails: cleaner failed: ValueError: boom" in report.reasons()[-1]


def test_a_run_without_the_cleaned_stage_cannot_be_compared(base):
    after = make_run(TEXTS)
    after["stages"] = ["distorted"]
    with pytest.raises(BaselineMismatch, match="cleaned"):
        compare(base, after, SCORER, baseline_path="b.json")


def test_a_baseline_without_a_gated_stage_is_bad_input(base):
    before, after = json.loads(json.dumps(base)), make_run(TEXTS)
    before["stages"] = after["stages"] = ["distorted"]
    with pytest.raises(InputError, match="none of the gated stages"):
        compare(before, after, SCORER, baseline_path="b.json")


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------

def test_margins_merge_into_the_documented_defaults():
    config = RegressConfig.model_validate({"margins": {"chrf": 2.5}})
    assert config.margins["chrf"] == 2.5 and config.margins["ter"] == DEFAULT_MARGINS["ter"]
    assert config.with_margins({"cosine": 0.05}).margins["cosine"] == 0.05
    with pytest.raises(ValueError):
        RegressConfig.model_validate({"margins": {"chrf": -1}})


def test_margins_on_the_command_line():
    assert parse_margins(["chrf=1.5", " ter = 2", "bleu=none"]) == {"chrf": 1.5, "ter": 2.0, "bleu": None}
    assert "bleu" not in RegressConfig().with_margins({"bleu": None}).margins
    for bad in ("chrf", "chrf=", "chrf=abc", "=1", "chrf=-1", "chrf=nan"):
        with pytest.raises(ConfigError, match="METRIC=NUMBER"):
            parse_margins([bad])


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def test_the_text_report_shows_before_after_and_the_changed_words(base):
    broken = [drop_negations(t) if i == 0 else t for i, t in enumerate(TEXTS)]
    before, after = json.loads(json.dumps(base)), make_run(broken)
    set_anchors(before, 0, {"negations": ["not"]})
    set_anchors(after, 0, {}, lost={"negations": ["not"]})
    text = compare(before, after, SCORER).to_text()
    assert "regressed passages (1):" in text and "p00 [cleaned]" in text
    assert "REGRESSED: lost negation 'not' (kept in the baseline)" in text
    assert f"before:    {TEXTS[0]}" in text and f"after:     {broken[0]}" in text
    assert "[-not-]" in text and text.rstrip().splitlines()[-2].startswith("FAILED: 1 regression")


def test_diff_line_keeps_a_little_context():
    line = diff_line("one two three four five six seven eight nine ten", "one two three four five SIX seven eight nine ten")
    assert line == "… three four five [-six-] {+SIX+} seven eight nine …"


def test_junit_xml_is_valid_escapes_untrusted_text_and_counts_failures(tmp_path, base):
    hostile = [t + ' <script>&"\x1b[31m\x00' if i == 0 else t for i, t in enumerate(TEXTS)]
    before, after = json.loads(json.dumps(base)), make_run(hostile)
    set_anchors(before, 0, {"numbers": ["12"]})
    set_anchors(after, 0, {}, lost={"numbers": ["12"]})
    report = compare(before, after, SCORER)
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
