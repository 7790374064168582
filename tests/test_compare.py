"""Specification of harness.compare and `harness compare` on synthetic saved runs.

A synthetic run is a :class:`~harness.results.RunResults` whose
chrF++/BLEU/TER statistics are computed by the harness's real metrics from
real texts (references corrupted at known rates), and whose ``meaning``
score is a simple, documented stand-in: the share of reference words kept,
recorded as ``[score, 1]`` rows like every mean metric.
"""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner
from rich.console import Console
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from harness.commands.compare import compare
from harness.compare import compare_runs
from harness.errors import InputError
from harness.jsonvalues import plain
from harness.metrics import MeanMetric, build_metric
from harness.paired import FINAL_STAGE
from harness.report.compare import compare_markdown, compare_tables, write_compare_json, write_compare_markdown
from harness.results import RESULTS_SCHEMA, RunResults, load_results

WORDS = (
    "the a model text meaning passage reference system cleaner pivot beam score translation "
    "quality english portuguese round trip sentence word corpus metric bootstrap test random "
    "sample baseline better worse clear noise signal fast slow small large good bad"
).split()
N_PASSAGES = 60
FAST = {"n_resamples": 300, "n_trials": 1000}  # enough for decisions; parity tests use sacrebleu's own counts
METRIC_NAMES = ("chrf", "bleu", "ter")
_METRICS = {name: build_metric(name) for name in (*METRIC_NAMES, "meaning")}  # meaning: only its description


def _references(n: int = N_PASSAGES, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))) for _ in range(n)]


def _corrupt(texts: list[str], rate: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) if rng.random() < rate else w for w in t.split()) for t in texts]


def _kept_share(hyp: str, ref: str) -> float:
    """The stand-in meaning score: percentage of reference words found in the hypothesis."""
    ref_words, hyp_words = ref.split(), set(hyp.split())
    return 100.0 * sum(w in hyp_words for w in ref_words) / len(ref_words)


def make_run(name: str, stage_texts: dict[str, list[str]], references: list[str], *,
             transcript_sha: str = "t" * 64, references_sha: str = "r" * 64,
             metrics=METRIC_NAMES, failed: tuple[str, ...] = ()) -> RunResults:
    """A run as the pipeline makes it."""
    stages = list(stage_texts)
    refs = [[r] for r in references]
    per_stage = {}
    for stage, texts in stage_texts.items():
        per_stage[stage] = {}
        for metric_name in metrics:
            output = _METRICS[metric_name].compute(texts, refs)
            per_stage[stage][metric_name] = output
    passages = []
    for i, reference in enumerate(references):
        pid = f"p{i:02d}"
        record = {"id": pid, "speaker": None, "references": [reference], "error": None, "stages": {}}
        if pid in failed:
            record["error"] = {"stage": "cleaned", "message": "cleaner raised", "detail": ""}
            record["stages"] = {stages[0]: {"text": stage_texts[stages[0]][i]}}
            passages.append(record)
            continue
        for stage, texts in stage_texts.items():
            meaning = _kept_share(texts[i], reference)
            scores = {m: per_stage[stage][m].sentence[i] for m in metrics}
            stats = {m: per_stage[stage][m].stats[i].tolist() for m in metrics}
            scores["meaning"], stats["meaning"] = meaning, [meaning, 1.0]
            band = "preserved" if meaning >= 70 else "degraded" if meaning >= 40 else "lost"
            record["stages"][stage] = {"text": texts[i], "scores": scores, "stats": stats,
                                       "verdict": {"score": meaning, "band": band, "reasons": []}}
        passages.append(record)
    signature = {
        "transcript_sha256": transcript_sha,
        "references_sha256": references_sha,
        "n_passages": len(references),
        "config_name": name,
        "key": f"key-{name}",
        "metrics": {"config": {"use": list(metrics)},
                    "metrics": {m: _METRICS[m].describe().to_json() for m in (*metrics, "meaning")}},
    }
    return RunResults.from_json({
        "schema": RESULTS_SCHEMA,
        "signature": signature,
        "signature_string": f"harness:test|config:{name}",
        "stages": stages,
        "corpus": {},
        "metric_signatures": {m: _METRICS[m].signature() for m in metrics},
        "passages": passages,
    })


def edited(run: RunResults, edit) -> RunResults:
    """A copy of ``run`` changed by ``edit`` (applied to its JSON form)."""
    data = run.to_json()
    edit(data)
    return RunResults.from_json(data)


@pytest.fixture(scope="module")
def data():
    references = _references()
    distorted = _corrupt(references, 0.45, seed=1)
    return {
        "references": references,
        "distorted": distorted,
        "baseline": _corrupt(references, 0.30, seed=2),
        "slightly_better": _corrupt(references, 0.28, seed=3),
        "clearly_better": _corrupt(references, 0.08, seed=4),
    }


def _system(data, name: str, final: str) -> dict:
    return make_run(name, {"distorted": data["distorted"], "cleaned": data[final]}, data["references"])


@pytest.fixture(scope="module")
def runs(data):
    return {name: _system(data, name, name) for name in ("baseline", "slightly_better", "clearly_better")}


def _row(comparison, stage: str, metric: str) -> dict:
    (row,) = [r for r in comparison["results"] if r["stage"] == stage and r["metric"] == metric]
    return row


# --------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------


def test_runs_on_different_transcripts_are_refused_with_one_clear_line(data, runs):
    other = make_run("other", {"distorted": data["distorted"], "cleaned": data["baseline"]}, data["references"],
                     transcript_sha="x" * 64)
    with pytest.raises(InputError) as caught:
        compare_runs([runs["baseline"], other], **FAST)
    message = str(caught.value)
    assert "different transcript" in message and "'other'" in message and "\n" not in message


def test_runs_on_different_references_are_refused(data, runs):
    other = make_run("other", {"distorted": data["distorted"], "cleaned": data["baseline"]}, data["references"],
                     references_sha="y" * 64)
    with pytest.raises(InputError, match="different references"):
        compare_runs([runs["baseline"], other], **FAST)


def test_a_single_run_is_refused(runs):
    with pytest.raises(InputError, match="at least two"):
        compare_runs([runs["baseline"]])


# --------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------


def test_a_system_compared_with_itself_shows_no_difference(runs):
    comparison = compare_runs([runs["baseline"], runs["baseline"]], names=["a", "b"], **FAST)
    assert comparison["results"]
    for row in comparison["results"]:
        (system,) = row["systems"]
        assert system["delta"] == 0.0
        assert system["p_bootstrap"] == 1.0 and system["p_ar"] == 1.0
        assert not system["significant"] and system["direction"] == "same"
    for outcome in comparison["outcomes"]:
        (system,) = outcome["systems"]
        assert (system["wins"], system["ties"], system["losses"]) == (0, outcome["n_passages"], 0)
    assert comparison["disagreements"]["passages"] == []


def test_a_clearly_better_system_is_significantly_better_on_every_metric(runs):
    comparison = compare_runs([runs["baseline"], runs["clearly_better"]], **FAST)
    for metric in ("meaning", "chrf", "bleu", "ter"):
        (system,) = _row(comparison, "cleaned", metric)["systems"]
        assert system["significant"], metric
        assert system["direction"] == "better", metric
        assert system["p_ar"] < 0.01 and system["p_bootstrap"] < 0.01
    # TER is an error rate: better means lower.
    (ter,) = _row(comparison, "cleaned", "ter")["systems"]
    assert ter["delta"] < 0 and _row(comparison, "cleaned", "ter")["higher_is_better"] is False


def test_the_unchanged_stage_is_identical_in_every_system(runs):
    comparison = compare_runs([runs["baseline"], runs["slightly_better"], runs["clearly_better"]], **FAST)
    for row in comparison["results"]:
        if row["stage"] == "distorted":
            assert all(s["p_ar"] == 1.0 and s["delta"] == 0.0 for s in row["systems"])
    # Reports say so in one line instead of a table of zeros.
    markdown = compare_markdown(comparison)
    assert "## Stage: distorted\n\nEvery system scores exactly as the baseline" in markdown
    assert "## Stage: cleaned\n\n| metric |" in markdown
    assert not any(s["p_ar"] == 1.0 for r in comparison["results"] if r["stage"] == "cleaned" for s in r["systems"])


def test_scores_intervals_and_p_values_are_what_sacrebleu_reports(data, runs):
    """End to end: the compare table's BLEU and chrF++ figures for the cleaned
    stage equal sacrebleu's paired tests on the same texts."""
    trials, resamples = 2000, 500
    comparison = compare_runs([runs["baseline"], runs["slightly_better"], runs["clearly_better"]],
                              n_resamples=resamples, n_trials=trials, seed=12345)
    named = [(name, data[name]) for name in ("baseline", "slightly_better", "clearly_better")]
    for metric_name, sacrebleu_metric in (("bleu", BLEU()), ("chrf", CHRF(word_order=2))):
        row = _row(comparison, "cleaned", metric_name)
        for test_type, samples, key in (("ar", trials, "p_ar"), ("bs", resamples, "p_bootstrap")):
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("SACREBLEU_SEED", "12345")
                _, scores = PairedTest(named, {metric_name: sacrebleu_metric}, [data["references"]],
                                       test_type=test_type, n_samples=samples)()
            (column,) = [k for k in scores if k != "System"]
            theirs = scores[column]
            assert row["baseline"]["score"] == pytest.approx(theirs[0].score)
            for system, result in zip(row["systems"], theirs[1:]):
                assert system["score"] == pytest.approx(result.score)
                assert system[key] == pytest.approx(result.p_value, abs=1e-12)
                if test_type == "bs":
                    assert (system["ci"]["upper"] - system["ci"]["lower"]) / 2 == pytest.approx(result.ci, abs=1e-4)


def test_results_are_reproducible_for_a_seed(runs):
    pair = [runs["baseline"], runs["slightly_better"]]
    assert compare_runs(pair, seed=7, **FAST) == compare_runs(pair, seed=7, **FAST)


# --------------------------------------------------------------------------
# Passages
# --------------------------------------------------------------------------


def test_win_tie_loss_on_the_meaning_score_counts_ties_as_neither(data):
    references = data["references"]
    base_texts = data["baseline"]
    # Passages 0-9 improved to the reference, 10-14 made worse, the rest unchanged.
    system_texts = list(references[:10]) + _corrupt(base_texts[10:15], 0.9, seed=9) + list(base_texts[15:])
    baseline = make_run("base", {"distorted": data["distorted"], "cleaned": base_texts}, references)
    system = make_run("sys", {"distorted": data["distorted"], "cleaned": system_texts}, references)
    comparison = compare_runs([baseline, system], **FAST)
    assert comparison["settings"]["primary_metric"] == "meaning"
    (cleaned,) = [o for o in comparison["outcomes"] if o["stage"] == "cleaned"]
    (outcome,) = cleaned["systems"]
    base_scores = [p.stages["cleaned"].scores["meaning"] for p in baseline.passages]
    sys_scores = [p.stages["cleaned"].scores["meaning"] for p in system.passages]
    expected_wins = sum(s > b for b, s in zip(base_scores, sys_scores))
    expected_losses = sum(s < b for b, s in zip(base_scores, sys_scores))
    assert (outcome["wins"], outcome["losses"]) == (expected_wins, expected_losses)
    assert outcome["ties"] == N_PASSAGES - expected_wins - expected_losses >= N_PASSAGES - 15
    assert all(outcome["per_passage"][f"p{i:02d}"] == "tie" for i in range(15, N_PASSAGES))
    assert 0 < outcome["losses"] <= 5 and outcome["wins"] <= 10


def test_the_most_disagreeing_passages_come_first_with_texts_side_by_side(data, runs):
    comparison = compare_runs([runs["baseline"], runs["clearly_better"]], top_n=5, **FAST)
    shown = comparison["disagreements"]
    assert shown["metric"] == "meaning" and shown["stage"] == "cleaned"
    spreads = [p["spread"] for p in shown["passages"]]
    assert len(spreads) == 5 and spreads == sorted(spreads, reverse=True)
    first = shown["passages"][0]
    index = int(first["id"][1:])
    assert [s["name"] for s in first["systems"]] == ["baseline", "clearly_better"]
    assert [s["text"] for s in first["systems"]] == [data["baseline"][index], data["clearly_better"][index]]
    assert first["references"] == [data["references"][index]]
    assert first["spread"] == pytest.approx(abs(first["systems"][0]["score"] - first["systems"][1]["score"]))
    all_spreads = [abs(a.stages["cleaned"].scores["meaning"] - b.stages["cleaned"].scores["meaning"])
                   for a, b in zip(runs["baseline"].passages, runs["clearly_better"].passages)]
    assert first["spread"] == pytest.approx(max(all_spreads))


def test_a_passage_that_failed_in_one_run_is_left_out_of_every_system(data, runs):
    broken = make_run("broken", {"distorted": data["distorted"], "cleaned": data["slightly_better"]},
                      data["references"], failed=("p03", "p07"))
    comparison = compare_runs([runs["baseline"], broken], **FAST)
    row = _row(comparison, "cleaned", "chrf")
    assert row["n_passages"] == N_PASSAGES - 2
    assert "p03" not in row["passages"] and "p07" not in row["passages"]
    assert any("fewer passages" in note for note in comparison["notes"])
    complete = compare_runs([runs["baseline"], runs["slightly_better"]], **FAST)
    assert not any("fewer passages" in note for note in complete["notes"])


# --------------------------------------------------------------------------
# Stages and metrics
# --------------------------------------------------------------------------


def test_runs_ending_in_different_stages_are_compared_on_their_final_outputs(data):
    with_rt = make_run("with-rt", {"distorted": data["distorted"], "cleaned": data["baseline"],
                                   "retranslated": data["clearly_better"]}, data["references"])
    clean_only = make_run("clean-only", {"distorted": data["distorted"], "cleaned": data["baseline"]},
                          data["references"])
    comparison = compare_runs([clean_only, with_rt], **FAST)
    assert comparison["stages"] == ["distorted", "cleaned", FINAL_STAGE]
    (final,) = _row(comparison, FINAL_STAGE, "chrf")["systems"]
    assert final["significant"] and final["direction"] == "better"
    (cleaned,) = _row(comparison, "cleaned", "chrf")["systems"]
    assert cleaned["p_ar"] == 1.0
    assert comparison["disagreements"]["stage"] == FINAL_STAGE
    assert [s["stage"] for s in comparison["disagreements"]["passages"][0]["systems"]] == ["cleaned", "retranslated"]
    assert any("retranslated" in note for note in comparison["notes"])


def test_a_metric_that_cannot_be_rebuilt_is_skipped_with_a_note(data, runs):
    def add_mystery(data):
        for passage in data["passages"]:
            passage["stages"]["cleaned"]["stats"]["mystery"] = [1.0, 2.0, 3.0]

    run, base = edited(runs["slightly_better"], add_mystery), edited(runs["baseline"], add_mystery)
    comparison = compare_runs([base, run], **FAST)
    assert not [r for r in comparison["results"] if r["metric"] == "mystery"]
    assert any("'mystery' skipped" in note for note in comparison["notes"])


def test_an_unknown_primary_metric_is_refused(runs):
    with pytest.raises(InputError, match="not recorded"):
        compare_runs([runs["baseline"], runs["slightly_better"]], primary_metric="nope", **FAST)


def test_metric_objects_can_be_given_directly(runs):
    class Halved(MeanMetric):
        def corpus_from_stats(self, stats_sum):
            return stats_sum[0] / stats_sum[1] / 2

    comparison = compare_runs([runs["baseline"], runs["slightly_better"]], metrics={"meaning": Halved()}, **FAST)
    normal = compare_runs([runs["baseline"], runs["slightly_better"]], **FAST)
    assert _row(comparison, "cleaned", "meaning")["baseline"]["score"] == pytest.approx(
        _row(normal, "cleaned", "meaning")["baseline"]["score"] / 2)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def test_writers_produce_markdown_json_and_terminal_tables(runs, tmp_path):
    comparison = compare_runs([runs["baseline"], runs["slightly_better"], runs["clearly_better"]], top_n=2, **FAST)
    markdown = write_compare_markdown(tmp_path / "compare.md", comparison).read_text(encoding="utf-8")
    assert "## Stage: cleaned" in markdown and "p (AR)" in markdown
    assert "win / tie / loss" in markdown and "Where the systems disagree most" in markdown
    assert "▲*" in markdown  # the clearly better system is marked significant
    saved = json.loads(write_compare_json(tmp_path / "compare.json", comparison).read_text(encoding="utf-8"))
    assert saved["baseline"] == "baseline" and [s["name"] for s in saved["systems"]][1:] == ["slightly_better", "clearly_better"]
    assert saved["results"][0]["systems"][0]["ci"]["half_width"] > 0
    console = Console(record=True, width=160)
    for table in compare_tables(comparison):
        console.print(table)
    text = console.export_text()
    assert "stage: cleaned" in text and "clearly_better" in text and "p (AR)" in text


def test_json_has_no_nan_and_markdown_escapes_untrusted_text(data):
    references = data["references"]
    hostile = ["*bold* | pipe <script>"] + list(data["slightly_better"][1:])
    base = make_run("base", {"distorted": data["distorted"], "cleaned": data["baseline"]}, references)
    system = make_run("sys|tem", {"distorted": data["distorted"], "cleaned": hostile}, references)
    comparison = compare_runs([base, system], **FAST)
    comparison["results"][0]["systems"][0]["p_ar"] = float("nan")  # as for an undefined score
    markdown = compare_markdown(comparison)
    assert "<script>" not in markdown and "sys\\|tem" in markdown
    text = json.dumps(json.loads(json.dumps(comparison, allow_nan=True)), allow_nan=True)
    assert "NaN" in text  # the raw dict has it ...
    json.dumps(plain(comparison), allow_nan=False)  # ... compare.json does not


# --------------------------------------------------------------------------
# Saved runs and the command
# --------------------------------------------------------------------------


def _save(run: RunResults, folder) -> str:
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(run.to_json()), encoding="utf-8")
    return str(folder)


def test_load_results_reads_a_folder_and_explains_what_is_missing(runs, tmp_path):
    path = _save(runs["baseline"], tmp_path / "done")
    assert load_results(path).config_name == "baseline"
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "results.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="not finished"):
        load_results(unfinished)
    with pytest.raises(InputError, match="not a run folder"):
        load_results(tmp_path / "nowhere")


def test_a_results_file_of_an_older_schema_is_refused_naming_both_schemas(runs, tmp_path):
    old = runs["baseline"].to_json()
    del old["schema"]  # harness-results/1 had no schema field
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_results(folder)
    message = str(caught.value)
    assert "harness-results/1" in message and RESULTS_SCHEMA in message and "\n" not in message


def test_compare_command_on_saved_runs_writes_reports(runs, tmp_path):
    a = _save(runs["baseline"], tmp_path / "runs" / "a")
    b = _save(runs["clearly_better"], tmp_path / "runs" / "b")
    out = tmp_path / "cmp"
    result = CliRunner().invoke(compare, [a, b, "-o", str(out), "--n-resamples", "200", "--n-trials", "500",
                                          "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "stage: cleaned" in result.output and "win / tie / loss" in result.output
    saved = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in saved["systems"]] == ["baseline", "clearly_better"]  # their config names
    assert saved["settings"]["n_trials"] == 500 and len(saved["disagreements"]["passages"]) == 3
    assert (out / "compare.md").exists()
    html = (out / "compare.html").read_text(encoding="utf-8")
    assert "System comparison" in html and "significant" in html


def test_compare_command_refuses_runs_on_different_data(data, runs, tmp_path):
    other = make_run("other", {"distorted": data["distorted"], "cleaned": data["baseline"]}, data["references"],
                     references_sha="z" * 64)
    a = _save(runs["baseline"], tmp_path / "a")
    b = _save(other, tmp_path / "b")
    result = CliRunner().invoke(compare, [a, b, "-o", str(tmp_path / "cmp")])
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError) and "different references" in str(result.exception)
    assert not (tmp_path / "cmp").exists()


def test_float_noise_on_the_same_text_is_not_a_difference(data, runs):
    """Embedding scores of the same text differ by ~1e-7 between runs (float32,
    other batches); that must not become a 'loss' or a non-unit p-value."""
    def add_noise(data):
        for passage in data["passages"][:5]:
            entry = passage["stages"]["distorted"]
            entry["scores"]["meaning"] *= 1 + 1e-7
            entry["stats"]["meaning"][0] *= 1 + 1e-7

    noisy = edited(runs["baseline"], add_noise)
    comparison = compare_runs([runs["baseline"], noisy], names=["a", "b"], **FAST)
    (meaning,) = _row(comparison, "distorted", "meaning")["systems"]
    assert meaning["delta"] == 0.0 and meaning["p_ar"] == 1.0 and meaning["p_bootstrap"] == 1.0
    (distorted,) = [o for o in comparison["outcomes"] if o["stage"] == "distorted"]
    assert distorted["systems"][0]["losses"] == distorted["systems"][0]["wins"] == 0
    assert any("floating-point noise" in note and "5 passages" in note for note in comparison["notes"])


def test_a_real_difference_on_the_same_text_is_kept(data, runs):
    """Same text, different score beyond float noise (e.g. a reference-free
    metric whose source changed): compared as it is."""
    def lower(data):
        for passage in data["passages"]:
            entry = passage["stages"]["distorted"]
            entry["scores"]["meaning"] = entry["stats"]["meaning"][0] = entry["scores"]["meaning"] * 0.9

    changed = edited(runs["baseline"], lower)
    comparison = compare_runs([runs["baseline"], changed], names=["a", "b"], **FAST)
    (meaning,) = _row(comparison, "distorted", "meaning")["systems"]
    assert meaning["significant"] and meaning["direction"] == "worse"


def test_few_passages_get_a_note_on_the_smallest_possible_p_value(data):
    references = data["references"][:6]
    base = make_run("base", {"distorted": data["distorted"][:6], "cleaned": data["baseline"][:6]}, references)
    better = make_run("better", {"distorted": data["distorted"][:6], "cleaned": references}, references)
    comparison = compare_runs([base, better], **FAST)
    (chrf,) = _row(comparison, "cleaned", "chrf")["systems"]
    assert chrf["p_ar"] >= 2 / 2 ** 6 - 1e-3
    assert any("only 6 passages" in note for note in comparison["notes"])


def test_the_command_names_systems_by_config_and_runs_a_run_with_itself(runs, tmp_path):
    a = _save(runs["baseline"], tmp_path / "baseline-20250101-000000")
    result = CliRunner().invoke(compare, [a, a, "-o", str(tmp_path / "cmp"), "--n-trials", "300",
                                          "--n-resamples", "100"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in saved["systems"]] == ["baseline-20250101-000000", "baseline-20250101-000000 (2)"]
    assert all(s["p_ar"] == 1.0 for r in saved["results"] for s in r["systems"])
    b = _save(runs["clearly_better"], tmp_path / "clearly-20250101-000000")
    result = CliRunner().invoke(compare, [a, b, "-o", str(tmp_path / "cmp2"), "--n-trials", "300",
                                          "--n-resamples", "100", "-q"])
    assert result.exit_code == 0 and result.output.strip() == str(tmp_path / "cmp2")
    saved = json.loads((tmp_path / "cmp2" / "compare.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in saved["systems"]] == ["baseline", "clearly_better"]


# --------------------------------------------------------------------------
# Issue 16: the difference interval agrees with the decision, or says it does not
# --------------------------------------------------------------------------

def _few(data, name: str, n: int = 7) -> RunResults:
    return make_run(name, {"distorted": data["distorted"][:n], "cleaned": data[name][:n]}, data["references"][:n])


def test_a_difference_interval_that_disagrees_with_the_deciding_test_is_marked(data):
    """bertscore clean-only showed [0.008, 0.041] next to 'not significant'
    (AR p = 0.059). On 5 passages the bootstrap's interval is too narrow: here
    chrF's excludes 0 while AR p = 0.11: the row says so, a note explains, AR
    decides."""
    comparison = compare_runs([_few(data, "baseline", 5), _few(data, "clearly_better", 5)], alpha=0.01, **FAST)
    assert "approximate randomization decides" in comparison["settings"]["significance"]
    (chrf,) = _row(comparison, "cleaned", "chrf")["systems"]
    assert not chrf["significant"] and chrf["interval_excludes_zero"] and not chrf["interval_agrees"]
    assert chrf["delta_ci"]["lower"] > 0
    assert any(note.startswith("† the difference interval and the randomization test disagree")
               for note in comparison["notes"])
    markdown = compare_markdown(comparison)
    assert "| Δ 95 % CI |" in markdown and "▲†" in markdown and "Approximate randomization decides" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| | clearly\\_better") and "[+" in line)
    assert f"[+{chrf['delta_ci']['lower']:.2f}, +{chrf['delta_ci']['upper']:.2f}]" in row
    console = Console(record=True, width=80)
    for table in compare_tables(comparison):
        console.print(table)
    text = console.export_text()
    assert "Δ 95% CI" in text and "▲†" in text


def test_when_both_agree_no_row_is_marked(runs):
    comparison = compare_runs([runs["baseline"], runs["clearly_better"]], **FAST)
    assert all(s["interval_agrees"] for r in comparison["results"] for s in r["systems"])
    assert "†" not in compare_markdown(comparison).split("## Stage")[1]


def test_the_terminal_tables_fit_80_columns_without_wrapping_names(runs):
    """At 80 columns the compare table wrapped system names over lines."""
    from harness.report.compare import print_comparison

    long_names = ["baseline-with-a-rather-long-config-name", "slightly-better-system-also-long-named",
                  "clearly-better-system-named-at-length"]
    comparison = compare_runs([runs["baseline"], runs["slightly_better"], runs["clearly_better"]],
                              names=long_names, **FAST)
    console = Console(record=True, width=80)
    print_comparison(console, comparison)
    text = console.export_text()
    table_lines = [line for line in text.splitlines() if not line.startswith(("note:", "* significant", "baseline:"))]
    assert max(len(line) for line in table_lines) <= 80
    assert all(name in text.splitlines()[0] for name in long_names)  # the full names, once
    for line in table_lines:  # a name is shown on one line, whole or shortened with …, never continued below
        cell = line.strip()
        for name in long_names:
            assert not any(cell.startswith(name[k:k + 6]) for k in range(1, len(name) - 6)), line
    for name in long_names:
        shown = [line for line in table_lines if name[:12] in line]
        assert shown and all(name in line or "…" in line for line in shown)


# --------------------------------------------------------------------------
# Issue 16: system outputs from elsewhere, against one set of references
# --------------------------------------------------------------------------

@pytest.fixture
def outputs(data, tmp_path):
    n = 12
    refs = tmp_path / "refs.txt"
    refs.write_text("\n".join(data["references"][:n]) + "\n", encoding="utf-8")
    files = []
    for name in ("baseline", "clearly_better"):
        path = tmp_path / f"{name}.txt"
        path.write_text("\n".join(data[name][:n]) + "\n", encoding="utf-8")
        files.append(path)
    return refs, files


def test_compare_scores_system_output_files_against_one_set_of_references(outputs, tmp_path, monkeypatch):
    import hashlib

    from sacrebleu.metrics import BLEU, CHRF

    from harness.cli import cli

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    refs, files = outputs
    result = CliRunner().invoke(cli, ["compare", "-r", str(refs), "-i", *map(str, files), "-m", "chrf", "-m", "bleu",
                                      "--format", "json", "-o", str(tmp_path / "cmp"), "--n-trials", "1000"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert printed["data"]["hypotheses"] is True and [r["metric"] for r in printed["results"]] == ["chrf", "bleu"]
    for system, path in zip(printed["systems"], files):
        assert system["name"] == path.name and system["hypothesis_file"] == str(path)
        assert system["hypothesis_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert system["signature_string"].startswith("harness:")
    references = [refs.read_text(encoding="utf-8").splitlines()]
    hyps = [p.read_text(encoding="utf-8").splitlines() for p in files]
    chrf, bleu = (next(r for r in printed["results"] if r["metric"] == m) for m in ("chrf", "bleu"))
    assert chrf["baseline"]["score"] == pytest.approx(CHRF(word_order=2).corpus_score(hyps[0], references).score)
    assert bleu["systems"][0]["score"] == pytest.approx(BLEU().corpus_score(hyps[1], references).score)
    assert bleu["systems"][0]["significant"] and "delta_ci" in bleu["systems"][0]
    markdown = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    assert "system outputs scored against the same references" in markdown
    assert hashlib.sha256(files[1].read_bytes()).hexdigest() in markdown


def test_system_outputs_can_be_cleaned_first_and_must_align(outputs, tmp_path, monkeypatch):
    from harness.cli import cli

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    refs, files = outputs
    runner = CliRunner()
    cleaned = runner.invoke(cli, ["compare", "-r", str(refs), "-i", *map(str, files), "-c", "clean-only",
                                  "-m", "chrf", "-q", "-o", str(tmp_path / "cleaned"), "--n-trials", "200"])
    assert cleaned.exit_code == 0, cleaned.output
    saved = json.loads((tmp_path / "cleaned" / "compare.json").read_text(encoding="utf-8"))
    assert saved["stages"] == ["distorted", "cleaned"]
    short = tmp_path / "short.txt"
    short.write_text("\n".join(files[1].read_text(encoding="utf-8").splitlines()[:5]) + "\n", encoding="utf-8")
    refused = runner.invoke(cli, ["compare", "-r", str(refs), "-i", str(files[0]), str(short), "-q",
                                  "-o", str(tmp_path / "x")])
    assert refused.exit_code == 2 and refused.stderr.startswith("error: ")
    no_refs = runner.invoke(cli, ["compare", "-i", *map(str, files), "-q", "-o", str(tmp_path / "y")])
    assert no_refs.exit_code == 2 and "give them with -r" in no_refs.stderr
