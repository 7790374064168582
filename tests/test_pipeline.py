"""The pipeline end to end: stages, score parity with sacrebleu, outputs, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sacrebleu

from harness.config import BUNDLED_REFERENCES, BUNDLED_TRANSCRIPT, config_from_dict, load_config
from harness.errors import OutputError
from harness.loading import load_dataset
from harness.pipeline import CLEANED, DISTORTED, RETRANSLATED, Progress, run_config

RAW = {"name": "raw", "cleaners": [], "retranslation": {"backend": "none"}}


def small_dataset(tmp_path: Path, n: int = 5) -> tuple[Path, Path]:
    transcript = tmp_path / "t.txt"
    refs = tmp_path / "r.yaml"
    sentences = [
        "The fresh new minister said the budget of 12 million dollars is not enough.",
        "We are not going to raise taxes this year, and you may the council agreed.",
        "QUESTION: Will the bridge open in 2025 or later?",
        "Individuals trust the program will help 300 families in the region.",
        "The talks did not fail; they were postponed until Tuesday.",
    ][:n]
    references = {
        "p01": ["The new minister said the 12 million dollar budget is not enough.",
                "According to the new minister, a budget of $12 million does not suffice."],
        "p02": ["We will not raise taxes this year, and the council agreed."],
        "p03": ["Will the bridge open in 2025 or later?", "Is the bridge opening in 2025, or after that?"],
        "p04": ["We believe the program will help 300 families in the region."],
        "p05": ["The talks did not fail; they were postponed until Tuesday."],
    }
    transcript.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    refs.write_text(json.dumps({k: v for k, v in references.items() if int(k[1:]) <= n}), encoding="utf-8")
    return transcript, refs


def read_results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_a_raw_run_scores_the_distorted_stage_and_writes_every_report(tmp_path):
    transcript, refs = small_dataset(tmp_path)
    out = tmp_path / "run"
    outcome = run_config(config_from_dict(RAW), transcript=transcript, references=[refs], out_dir=out)
    assert outcome.header.stages == [DISTORTED]
    results = read_results(out)
    assert [p["id"] for p in results["passages"]] == ["p01", "p02", "p03", "p04", "p05"]
    assert results["passages"][2]["speaker"] == "QUESTION"
    for name in ("report.md", "passages/p01.md", "passages/p05.md", "run.json"):
        assert (out / name).exists(), name
    assert json.loads((out / "run.json").read_text())["state"] == "complete"
    assert results["signature"]["key"] in results["signature_string"]


def test_corpus_and_sentence_scores_equal_sacrebleu_on_the_same_texts(tmp_path):
    transcript, refs = small_dataset(tmp_path)
    out = tmp_path / "run"
    run_config(config_from_dict(RAW), transcript=transcript, references=[refs], out_dir=out)
    results = read_results(out)
    hyps = [p["stages"][DISTORTED]["text"] for p in results["passages"]]
    refs_per = [p["references"] for p in results["passages"]]
    width = max(len(r) for r in refs_per)
    streams = [[r[i] if i < len(r) else None for r in refs_per] for i in range(width)]
    corpus = results["corpus"][DISTORTED]
    assert corpus["chrf"] == pytest.approx(sacrebleu.CHRF(word_order=2).corpus_score(hyps, streams).score)
    assert corpus["bleu"] == pytest.approx(sacrebleu.BLEU().corpus_score(hyps, streams).score)
    assert corpus["ter"] == pytest.approx(sacrebleu.TER().corpus_score(hyps, streams).score)
    for passage, hyp, ref in zip(results["passages"], hyps, refs_per):
        scores = passage["stages"][DISTORTED]["scores"]
        assert scores["chrf"] == pytest.approx(sacrebleu.sentence_chrf(hyp, ref, word_order=2).score)
        assert scores["bleu"] == pytest.approx(sacrebleu.BLEU(effective_order=True).sentence_score(hyp, ref).score)


def test_the_cleaned_stage_keeps_its_edits_and_differs_from_the_input(tmp_path):
    transcript, refs = small_dataset(tmp_path)
    out = tmp_path / "run"
    config = config_from_dict({"name": "clean", "retranslation": {"backend": "none"}})
    outcome = run_config(config, transcript=transcript, references=[refs], out_dir=out)
    assert outcome.header.stages == [DISTORTED, CLEANED]
    second = read_results(out)["passages"][1]["stages"]
    assert second[CLEANED]["text"] != second[DISTORTED]["text"]
    assert second[CLEANED]["edits"], "the spun 'and you may' should have been repaired with an explained edit"
    assert {"cleaner", "rule", "before", "after"} <= set(second[CLEANED]["edits"][0])


def test_an_existing_output_folder_is_refused_unless_forced(tmp_path):
    transcript, refs = small_dataset(tmp_path, 2)
    out = tmp_path / "run"
    run_config(config_from_dict(RAW), transcript=transcript, references=[refs], out_dir=out)
    with pytest.raises(OutputError, match="already complete; use --force"):
        run_config(config_from_dict(RAW), transcript=transcript, references=[refs], out_dir=out)
    run_config(config_from_dict(RAW), transcript=transcript, references=[refs], out_dir=out, force=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(OutputError, match="not a harness run"):
        run_config(config_from_dict(RAW), transcript=transcript, references=[refs], out_dir=other)


def test_an_interrupted_run_resumes_and_recomputes_only_missing_passages(tmp_path):
    transcript, refs = small_dataset(tmp_path)
    config = config_from_dict({**RAW, "chunk_size": 1})
    full = tmp_path / "full"
    run_config(config, transcript=transcript, references=[refs], out_dir=full)

    # Simulate a kill after two passages, in the middle of writing the third.
    partial = tmp_path / "partial"
    run_config(config, transcript=transcript, references=[refs], out_dir=partial)
    lines = (partial / "results.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (partial / "results.jsonl").write_text("".join(lines[:2]) + lines[2][:40], encoding="utf-8")
    run_json = json.loads((partial / "run.json").read_text())
    (partial / "run.json").write_text(json.dumps({"state": "running", "signature": run_json["signature"]}))
    for name in ("results.json", "report.md"):
        (partial / name).unlink()

    outcome = run_config(config, transcript=transcript, references=[refs], out_dir=partial)
    assert (outcome.resumed, outcome.computed) == (2, 3)
    assert read_results(partial)["passages"] == read_results(full)["passages"]
    assert read_results(partial)["corpus"] == read_results(full)["corpus"]


def _without_times(results: dict) -> dict:
    return {**results, "summary": {k: v for k, v in results["summary"].items() if k != "finished_at"}}


def test_a_run_resumed_after_its_last_chunk_has_the_same_scores_and_signatures(tmp_path):
    """Issue 17: after a kill -9 between the last chunk and the reports, the
    resumed run scored nothing, and its metric_signatures said nrefs:? where
    an uninterrupted run says nrefs:1 (compare then saw 'configured differently')."""
    transcript, refs = small_dataset(tmp_path)
    config = config_from_dict({**RAW, "metrics": {"use": ["chrf", "bleu", "ter"]}, "chunk_size": 2})
    full = tmp_path / "full"
    run_config(config, transcript=transcript, references=[refs], out_dir=full, use_cache=False)
    killed = tmp_path / "killed"
    run_config(config, transcript=transcript, references=[refs], out_dir=killed, use_cache=False)
    run_json = json.loads((killed / "run.json").read_text())
    (killed / "run.json").write_text(json.dumps({"state": "running", "signature": run_json["signature"]}))
    (killed / "results.json").unlink()
    outcome = run_config(config, transcript=transcript, references=[refs], out_dir=killed, use_cache=False)
    assert (outcome.resumed, outcome.computed) == (5, 0)
    resumed, uninterrupted = read_results(killed), read_results(full)
    assert not any("nrefs:?" in s for s in resumed["metric_signatures"].values()), resumed["metric_signatures"]
    assert resumed["metric_signatures"] == uninterrupted["metric_signatures"]
    assert _without_times(resumed) == _without_times(uninterrupted)


def test_rerunning_without_out_resumes_the_unfinished_run_of_the_same_pipeline(tmp_path):
    transcript, refs = small_dataset(tmp_path, 3)
    runs = tmp_path / "runs"
    first = run_config(config_from_dict(RAW), transcript=transcript, references=[refs], runs_root=runs)
    state = json.loads((first.out_dir / "run.json").read_text())
    (first.out_dir / "run.json").write_text(json.dumps({"state": "running", "signature": state["signature"]}))
    again = run_config(config_from_dict(RAW), transcript=transcript, references=[refs], runs_root=runs)
    assert again.out_dir == first.out_dir and again.computed == 0 and again.resumed == 3
    third = run_config(config_from_dict(RAW), transcript=transcript, references=[refs], runs_root=runs)
    assert third.out_dir != first.out_dir, "a complete run is never overwritten by a new one"


def test_a_cleaner_that_raises_fails_only_its_passage(tmp_path):
    transcript, refs = small_dataset(tmp_path, 3)
    out = tmp_path / "run"
    config = config_from_dict({**RAW, "cleaners": ["tests.fixtures.user_cleaners:explode_on_budget"]})
    outcome = run_config(config, transcript=transcript, references=[refs], out_dir=out)
    assert [f.id for f in outcome.header.failed] == ["p01"]
    results = read_results(out)
    assert "ValueError" in results["passages"][0]["error"]["detail"]
    assert results["summary"]["scored"] == 2
    assert "Failed at the cleaned stage" in (out / "passages" / "p01.md").read_text()


def test_a_cleaner_that_hangs_is_stopped_by_the_time_limit(tmp_path):
    transcript, refs = small_dataset(tmp_path, 2)
    config = config_from_dict({**RAW, "cleaners": ["tests.fixtures.user_cleaners:hang_on_budget"],
                               "cleaner_timeout_s": 0.5})
    outcome = run_config(config, transcript=transcript, references=[refs], out_dir=tmp_path / "run")
    assert [f.id for f in outcome.header.failed] == ["p01"]
    assert "longer than 0.5 s" in outcome.header.failed[0].error.message


def test_a_cleaner_that_returns_a_non_string_fails_its_passage(tmp_path):
    transcript, refs = small_dataset(tmp_path, 2)
    config = config_from_dict({**RAW, "cleaners": ["tests.fixtures.user_cleaners:returns_none"]})
    outcome = run_config(config, transcript=transcript, references=[refs], out_dir=tmp_path / "run")
    assert len(outcome.header.failed) == 2 and "str" in outcome.header.failed[0].error.message


@pytest.mark.slow
def test_the_default_pipeline_on_the_bundled_briefing(tmp_path):
    out = tmp_path / "run"
    outcome = run_config(load_config(None), out_dir=out, cache_dir=tmp_path / "cache")
    assert outcome.header.stages == [DISTORTED, CLEANED, RETRANSLATED]
    results = read_results(out)
    assert len(results["passages"]) == 7
    for passage in results["passages"]:
        rt = passage["stages"][RETRANSLATED]
        assert rt["hops"][0]["tgt"] == "pt" and rt["hops"][0]["text"] != rt["text"]
        assert rt["text"].strip()
    assert len(load_dataset(BUNDLED_TRANSCRIPT, [BUNDLED_REFERENCES])) == 7
    assert results["signature"]["retranslation"] is not None


class RecordingProgress(Progress):
    def __init__(self):
        self.calls: list[tuple] = []

    def start(self, total_passages, already_done):
        self.calls.append(("start", total_passages))

    def step(self, description):
        self.calls.append(("step", description))

    def loading(self, what):
        self.calls.append(("loading", what))

    def loaded(self):
        self.calls.append(("loaded",))


@pytest.mark.slow
def test_model_loading_is_a_step_of_its_own_and_a_cached_run_loads_nothing(tmp_path):
    """Issue 16: the bar sat at 0/7 for 85 s while the models loaded."""
    transcript, refs = small_dataset(tmp_path, 3)
    config = config_from_dict({**RAW, "metrics": {"use": ["chrf", "cosine"]}})
    progress = RecordingProgress()
    run_config(config, transcript=transcript, references=[refs], out_dir=tmp_path / "a", cache_dir=tmp_path / "c",
               progress=progress)
    kinds = [call[0] for call in progress.calls]
    assert kinds[:4] == ["start", "loading", "loaded", "step"], progress.calls
    assert progress.calls[1] == ("loading", "embedder")
    again = RecordingProgress()
    run_config(config, transcript=transcript, references=[refs], out_dir=tmp_path / "b", cache_dir=tmp_path / "c",
               progress=again)
    assert "loading" not in [call[0] for call in again.calls]


def test_the_terminal_shows_loading_instead_of_a_passages_bar_at_zero():
    from io import StringIO

    from rich.console import Console

    from harness.commands.run import RichProgress

    progress = RichProgress(Console(file=StringIO(), force_terminal=True))
    progress.start(7, 0)
    progress.loading("embedder, bergamot en->pt")
    tasks = {task.description: task for task in progress.bars.tasks}
    assert not tasks["passages"].visible
    loading = tasks["loading models: embedder, bergamot en->pt"]
    assert loading.visible and loading.total is None
    progress.loaded()
    assert [task.description for task in progress.bars.tasks if task.visible] == ["passages"]
    progress.finish()
