"""The regression gate end to end: real pipeline, real cleaners, the bundled briefing.

Most tests use the built-in cleaners without retranslation and a metric set
that loads no model (chrF++, BLEU, anchors and the meaning verdict), so a
rerun takes about a second; one slow test reruns the committed baseline
``baselines/briefing-clean-only.json`` exactly as ``make regress`` does.

The deliberately broken cleaners live in tests/fixtures/broken_cleaners.py
and run after the built-in chain, like a user's added cleaner would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from harness.baseline import Baseline, baseline_config, dumps_stable, load_baseline, run_baseline, save_baseline
from harness.cli import cli
from harness.config import REPO_ROOT, load_config
from harness.regress import compare, effective_regress_config, run_regress
from harness.report.regress import format_report

BROKEN = "tests.fixtures.broken_cleaners"
COMMITTED_BASELINE = REPO_ROOT / "baselines" / "briefing-clean-only.json"
FAST_METRICS = ["chrf", "bleu", "anchors", "meaning"]


# Translations and finished passages are cached in a folder of this module's own.
pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory) -> Path:
    """configs/clean-only.yaml with the model-free metrics."""
    clean_only = load_config("clean-only")
    path = tmp_path_factory.mktemp("configs") / "gate-fast.yaml"
    path.write_text(json.dumps({  # JSON is YAML
        "name": "gate-fast",
        "cleaners": list(clean_only.cleaners),
        "retranslation": {"backend": "none"},
        # without the semantic metric (spaCy), anchors compare negations by their words
        "metrics": {"use": FAST_METRICS, "anchors": {"kinds": ["numbers", "names", "negations"]}},
    }))
    return path


@pytest.fixture(scope="module")
def builtin_chain(fast_config) -> list[str]:
    return [str(c) for c in load_config(fast_config).cleaners]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, fast_config) -> Path:
    """A baseline of the built-in cleaners (saved once; copy it before changing it)."""
    path = tmp_path_factory.mktemp("baselines") / "briefing.json"
    save_baseline(path, run_baseline(load_config(fast_config), baseline_dir=path.parent))
    return path


@pytest.fixture
def baseline_copy(saved, tmp_path) -> Path:
    path = tmp_path / "baseline.json"
    shutil.copyfile(saved, path)
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# --------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------

def test_baseline_save_twice_gives_identical_bytes(tmp_path, fast_config):
    first = invoke("baseline", "save", "--config", fast_config, "--out", tmp_path / "a.json", "-q")
    second = invoke("baseline", "save", "--config", fast_config, "--out", tmp_path / "b.json", "-q")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "baseline saved:" in first.output and "7 passages" in first.output
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    data = load_baseline(tmp_path / "a.json")
    assert data.config["name"] == "gate-fast" and data.run.stages == ["distorted", "cleaned"]
    assert data.inputs == {"transcript": None, "references": None}  # the bundled briefing
    assert data.run.signature["cleaners"][0]["name"] == "unicode"
    assert len(data.run.passages) == 7
    # p01 of the briefing: the spam in the distorted text adds a name (a finding); the cleaner removes it
    stages = data.run.passages[0].stages
    assert [(f.kind, f.change, f.label) for f in stages["distorted"].findings] == [("name", "added", "Rusya")]
    assert stages["cleaned"].findings == []


def test_input_paths_are_stored_relative_so_a_moved_checkout_still_works(tmp_path, fast_config):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    for name in ("transcript.txt", "references.yaml"):
        shutil.copyfile(REPO_ROOT / "references" / "briefing" / name, project / "data" / name)
    out = project / "baselines" / "mine.json"
    result = invoke("baseline", "save", "--config", fast_config, "--out", out, "-q",
                    "-t", project / "data" / "transcript.txt", "-r", project / "data" / "references.yaml")
    assert result.exit_code == 0, result.output
    assert load_baseline(out).inputs == {"transcript": "../data/transcript.txt",
                                         "references": ["../data/references.yaml"]}
    moved = tmp_path / "elsewhere"
    shutil.move(project, moved)
    assert run_regress(moved / "baselines" / "mine.json").exit_code == 0


# --------------------------------------------------------------------------
# The gate on broken and harmless cleaners
# --------------------------------------------------------------------------

def test_the_builtin_cleaners_pass_against_their_own_baseline(saved):
    report = run_regress(saved)
    assert report.exit_code == 0 and not report.regressed
    assert report.passages == []  # a deterministic rerun: nothing even changed
    assert {c.metric for c in report.corpus} == set(FAST_METRICS)


def test_a_cleaner_that_drops_numbers_fails_on_the_lost_numbers(saved, builtin_chain):
    report = run_regress(saved, cleaners=[*builtin_chain, f"{BROKEN}:drop_numbers"])
    assert report.exit_code == 1
    reasons = "\n".join(report.reasons())
    assert "passage p01 (cleaned): number $44 billion missing (not in the baseline)" in reasons
    assert "verdict preserved -> degraded" in reasons
    assert set(report.regressed_passage_ids) >= {"p01", "p03", "p05"}
    assert all("number" in r or "verdict" in r for p in report.passage_regressions for r in p.regressions)


def test_a_cleaner_that_deletes_negations_fails_on_the_lost_negations(saved, builtin_chain):
    report = run_regress(saved, cleaners=[*builtin_chain, f"{BROKEN}:delete_negations"])
    assert report.exit_code == 1
    reasons = "\n".join(report.reasons())
    # labels name the cue and the word it negates: 'not … supportive', 'no doubt'
    assert "passage p02 (cleaned): negation dropped: 'not " in reasons
    assert "passage p04 (cleaned): negation dropped: 'not …" in reasons and "negation dropped: 'no " in reasons
    assert set(report.regressed_passage_ids) == {"p02", "p04", "p05"}
    assert "number" not in reasons and "name" not in reasons  # the right reasons, nothing else


def test_a_cleaner_that_does_nothing_fails_at_corpus_level(saved):
    report = run_regress(saved, cleaners=[f"{BROKEN}:do_nothing"])
    assert report.exit_code == 1
    failed = {c.metric for c in report.corpus_regressions}
    # spun text keeps its meaning: the meaning score need not see it, chrF++ and BLEU do
    assert {"chrf", "bleu"} <= failed
    assert all(c.dropped_by > c.margin and c.p_value < 0.05 for c in report.corpus_regressions)
    assert len([p for p in report.passages if p.changed]) == 7


def test_a_no_op_reformatting_passes(saved, builtin_chain):
    report = run_regress(saved, cleaners=[*builtin_chain, f"{BROKEN}:reflow"])
    assert report.exit_code == 0 and report.passages == []


def test_a_noise_level_rewording_passes(saved, builtin_chain):
    report = run_regress(saved, cleaners=[*builtin_chain, f"{BROKEN}:reword_once"])
    assert report.exit_code == 0
    assert [p.status for p in report.passages] and {p.status for p in report.passages} == {"changed"}
    assert all(0 < abs(c.dropped_by) < c.margin for c in report.corpus if c.dropped_by)


def test_the_improvement_is_reported_when_the_broken_baseline_is_fixed(tmp_path, fast_config):
    broken = load_config(fast_config)
    broken = broken.model_copy(update={"cleaners": [*broken.cleaners, f"{BROKEN}:drop_numbers"]})
    path = tmp_path / "broken.json"
    save_baseline(path, run_baseline(broken, baseline_dir=tmp_path))
    report = run_regress(path, config=fast_config)
    assert report.exit_code == 0
    improvements = "\n".join(report.improvements())
    assert "passage p01 (cleaned): no longer: number $44 billion missing" in improvements
    assert "verdict degraded -> preserved" in improvements


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------

def test_cli_exit_codes_and_output(saved, builtin_chain):
    ok = invoke("regress", "--baseline", saved, "-q")
    assert ok.exit_code == 0, ok.output
    assert "PASSED: nothing regressed" in ok.output

    chain = [arg for name in builtin_chain for arg in ("--cleaner", name)]
    bad = invoke("regress", "--baseline", saved, *chain, "--cleaner", f"{BROKEN}:drop_numbers", "-q")
    assert bad.exit_code == 1
    assert "regressed passages" in bad.output and "p01 [cleaned]" in bad.output
    assert "before:" in bad.output and "after:" in bad.output and "[-$44 billion-]" in bad.output
    assert "FAILED:" in bad.output


def test_cli_margin_override(saved):
    args = ("regress", "--baseline", saved, "--cleaners-only", "--cleaner", f"{BROKEN}:do_nothing", "-q", "--no-text")
    strict = invoke(*args)
    lenient = invoke(*args, "--margin", "chrf=50", "--margin", "bleu=50", "--margin", "meaning=50",
                     "--margin", "anchors=1")
    assert strict.exit_code == 1 and "REGRESSED cleaned chrf" in strict.output
    assert "REGRESSED cleaned" not in lenient.output and "margin 50;" in lenient.output
    assert invoke(*args, "--margin", "chrf").exit_code == 2


def test_cli_junit_report(saved, builtin_chain, tmp_path):
    chain = [arg for name in builtin_chain for arg in ("--cleaner", name)]
    junit = tmp_path / "junit.xml"
    result = invoke("regress", "--baseline", saved, *chain, "--cleaner", f"{BROKEN}:delete_negations",
                    "--junit", junit, "-q")
    assert result.exit_code == 1
    suite = ET.parse(junit).getroot()
    failures = {(c.get("classname"), c.get("name")): c.find("failure").get("message")
                for c in suite.iter("testcase") if c.find("failure") is not None}
    assert int(suite.get("failures")) == len(failures) > 0
    assert "negation dropped: 'not" in failures[("passages.cleaned", "p02")]
    assert ("corpus.cleaned", "chrf") in {(c.get("classname"), c.get("name")) for c in suite.iter("testcase")}


def test_cli_update_accepts_an_intended_change(baseline_copy, builtin_chain):
    chain = [arg for name in builtin_chain for arg in ("--cleaner", name)]
    changed = [*chain, "--cleaner", f"{BROKEN}:drop_numbers"]
    before = baseline_copy.read_bytes()
    updated = invoke("regress", "--baseline", baseline_copy, *changed, "--update", "-q", "--no-text")
    assert updated.exit_code == 0 and "updated to this run" in updated.output
    assert baseline_copy.read_bytes() != before
    assert load_baseline(baseline_copy).run.signature["cleaners"][-1]["name"] == f"{BROKEN}:drop_numbers"
    # the stored config now names the new chain: a bare rerun reproduces it
    assert invoke("regress", "--baseline", baseline_copy, "-q").exit_code == 0


@pytest.mark.parametrize("field, what", [("transcript_sha256", "transcript"),
                                         ("references_sha256", "reference set")])
def test_cli_refuses_a_baseline_of_other_data_with_exit_2(baseline_copy, field, what):
    data = json.loads(baseline_copy.read_text())
    data["signature"][field] = "0" * 64
    baseline_copy.write_text(dumps_stable(data))
    result = invoke("regress", "--baseline", baseline_copy, "-q")
    assert result.exit_code == 2
    assert f"different {what}" in result.output
    assert f"re-baseline with: harness regress --baseline {baseline_copy} --update" in result.output


def test_cli_refuses_a_baseline_of_other_metrics_with_exit_2(baseline_copy):
    data = json.loads(baseline_copy.read_text())
    data["signature"]["metrics"]["metrics"]["chrf"]["version"] = "0"
    baseline_copy.write_text(dumps_stable(data))
    result = invoke("regress", "--baseline", baseline_copy, "-q")
    assert result.exit_code == 2 and "different metrics (chrf v0 -> v" in result.output
    assert f"harness baseline save --config CONFIG --out {baseline_copy}" in result.output


def test_cli_update_replaces_an_incompatible_baseline(baseline_copy, saved):
    data = json.loads(baseline_copy.read_text())
    data["signature"]["metrics"]["metrics"]["chrf"]["version"] = "0"
    baseline_copy.write_text(dumps_stable(data))
    result = invoke("regress", "--baseline", baseline_copy, "--update", "-q")
    assert result.exit_code == 0, result.output
    assert "not compared: baseline" in result.output and "different metrics" in result.output
    assert baseline_copy.read_bytes() == saved.read_bytes()  # exactly what `baseline save` wrote


def test_cli_bad_input_is_exit_2(tmp_path):
    missing = invoke("regress", "--baseline", tmp_path / "nope.json")
    assert missing.exit_code == 2 and "no such file" in missing.output
    (tmp_path / "bad.json").write_text("{")
    assert invoke("regress", "--baseline", tmp_path / "bad.json").exit_code == 2


# --------------------------------------------------------------------------
# Labelled cases
# --------------------------------------------------------------------------

def test_the_projects_own_case_files_pass_with_the_builtin_cleaners(saved):
    case_files = sorted((REPO_ROOT / "tests" / "cases").glob("*.yaml"))
    assert case_files
    report = run_regress(saved, case_files=case_files)
    assert report.case_regressions == [], report.reasons()
    assert {c.cleaner for c in report.cases} == {f.stem for f in case_files}


def test_labelled_cases_keep_fix_and_known_failure(saved, tmp_path, builtin_chain):
    cases = tmp_path / "negations.yaml"
    cases.write_text(json.dumps({
        "cleaner": f"{BROKEN}:delete_negations",
        "cases": [
            {"kind": "keep", "input": "We do not support that."},
            {"kind": "keep", "input": "Ukraine has the right to defend itself."},
            {"kind": "fix", "input": "It is not not clear.", "expected": "It is not clear."},
            {"kind": "known-failure", "input": "It is never never late.", "expected": "It is late."},
        ],
    }))
    report = run_regress(saved, cleaners=[*builtin_chain, f"{BROKEN}:delete_negations"], case_files=[cases])
    status = {c.id: c.status for c in report.cases}
    assert status == {"negations:1": "regressed", "negations:2": "passed", "negations:3": "regressed",
                      "negations:4": "good-news"}
    text = format_report(report)
    assert "REGRESSED " in text and "changed a text it must keep: 'We do not support that.'" in text
    assert "known failure now passes" in text


# --------------------------------------------------------------------------
# Dogfooding: the committed baseline
# --------------------------------------------------------------------------

#: metrics computed in pure Python: reproduced to the last digit on any machine
EXACT_METRICS = ("chrf", "bleu", "ter", "anchors")
#: embedding-based values (cosine, BERTScore, and the meaning score built on
#: them) come from float32 matrix products whose last bits depend on the CPU's
#: instruction set; across machines they may differ in the 6th decimal
EMBEDDING_TOLERANCE = 1e-4


def _reproduction_differences(committed: Baseline, current: Baseline) -> list[str]:
    """Everything that is not reproduced: texts, bands, findings and pure-Python
    statistics must be identical; other numbers within EMBEDDING_TOLERANCE."""
    problems = []
    before_sig, after_sig = committed.to_json()["signature"], current.to_json()["signature"]
    if before_sig != after_sig:
        keys = sorted(k for k in set(before_sig) | set(after_sig) if before_sig.get(k) != after_sig.get(k))
        problems.append(f"signature differs in {keys}")
    for before, after in zip(committed.run.passages, current.run.passages, strict=True):
        for stage, b in before.stages.items():
            a = after.stages[stage]
            where = f"{before.id}.{stage}"
            if b.text != a.text:
                problems.append(f"{where}: text differs")
            if [f.key for f in b.findings] != [f.key for f in a.findings]:
                problems.append(f"{where}: findings differ")
            if (b.verdict and b.verdict.band) != (a.verdict and a.verdict.band):
                problems.append(f"{where}: band differs")
            for name, row in b.stats.items():
                other = a.stats.get(name)
                if name in EXACT_METRICS:
                    if row != other:
                        problems.append(f"{where}: {name} statistics differ")
                elif other is None or any(abs(x - y) > EMBEDDING_TOLERANCE for x, y in zip(row, other)):
                    problems.append(f"{where}: {name} statistics differ beyond {EMBEDDING_TOLERANCE}")
    return problems


@pytest.mark.slow
def test_the_committed_baseline_is_reproduced():
    """What `make regress` checks, and more: the rerun reproduces the committed
    file (on the machine that made it, byte for byte; see the tolerance above)."""
    committed = load_baseline(COMMITTED_BASELINE)
    config = baseline_config(committed)
    current = run_baseline(config, baseline_dir=COMMITTED_BASELINE.parent, use_cache=False)  # a real rerun
    assert _reproduction_differences(committed, current) == []
    report = compare(committed, current, effective_regress_config(config))
    assert not report.regressed
    assert [p for p in report.passages if p.changed] == []


def test_the_committed_baseline_is_named_after_its_config():
    """Issue 16: it was briefing-default.json and held a clean-only baseline."""
    committed = load_baseline(COMMITTED_BASELINE)
    assert COMMITTED_BASELINE.stem == f"briefing-{committed.config['name']}" == "briefing-clean-only"
    assert committed.run.stages == ["distorted", "cleaned"]
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"--baseline baselines/{COMMITTED_BASELINE.name}" in makefile



@pytest.mark.slow
def test_a_cleaner_that_changes_meaning_without_numbers_names_or_negations_fails(tmp_path):
    """A word swapped for its opposite ("more" -> "less") keeps every number,
    name and negation: the gate fails on what the semantic comparison finds."""
    config = tmp_path / "gate-semantic.yaml"
    chain = [str(c) for c in load_config("clean-only").cleaners]
    config.write_text(json.dumps({"name": "gate-semantic", "cleaners": chain, "retranslation": {"backend": "none"},
                                  "metrics": {"use": ["chrf", "anchors", "semantic", "meaning"]}}))
    path = tmp_path / "baseline.json"
    save_baseline(path, run_baseline(load_config(config), baseline_dir=tmp_path))

    broken = run_regress(path, cleaners=[*chain, f"{BROKEN}:swap_opposites"])
    assert broken.exit_code == 1
    assert "passage p03 (cleaned): quantity changed: 'less' where the reference says 'more' (not in the baseline)" \
        in broken.reasons()
    assert not any(r.metric in ("chrf", "anchors") for r in broken.corpus_regressions)  # the words barely moved
    assert run_regress(path, cleaners=[*chain, f"{BROKEN}:reword_once"]).exit_code == 0
