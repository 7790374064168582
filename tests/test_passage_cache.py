"""The passage cache: a rerun of the same pipeline on the same text is answered
from the cache, gives the same results, and never serves a result that code,
settings or data changes could have changed."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import config_from_dict
from harness.findings import Finding
from harness.loading import Passage
from harness.passage_cache import PassageCache, code_digest
from harness.pipeline import run_config
from harness.results import PassageResult, StageResult
from harness.translate.cache import TranslationCache

SENTENCES = [
    "The fresh new minister said the budget of 12 million dollars is not enough.",
    "We are not going to raise taxes this year, and you may the council agreed.",
    "QUESTION: Will the bridge open in 2025 or later?",
]
REFERENCES = {
    "p01": ["The new minister said the 12 million dollar budget is not enough."],
    "p02": ["We will not raise taxes this year, and the council agreed.", "Taxes stay as they are this year."],
    "p03": ["Will the bridge open in 2025 or later?"],
}


def dataset(tmp_path: Path) -> tuple[Path, Path]:
    transcript = tmp_path / "t.txt"
    transcript.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    refs = tmp_path / "r.json"
    refs.write_text(json.dumps(REFERENCES), encoding="utf-8")
    return transcript, refs


def config(tmp_path: Path, cleaner: str, **changes):
    """A model-free pipeline whose one cleaner counts its calls (module ``pc_cleaner``)."""
    return config_from_dict({"name": "pc", "cleaners": [f"pc_cleaner:{cleaner}"], "retranslation": {"backend": "none"},
                             "metrics": {"use": ["chrf", "bleu", "ter"]}, **changes})


class CallLog(list):
    """The texts a user cleaner was called with, read from the file it appends
    to (a user's cleaner runs in a worker process); ``clear()`` empties the file."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()) \
            if path.exists() else super().__init__()

    def clear(self) -> None:
        self.path.write_text("", encoding="utf-8")


class CountingCleaner:
    def __init__(self, log: Path):
        self.log = log

    @property
    def calls(self) -> CallLog:
        return CallLog(self.log)


@pytest.fixture
def counting_cleaner(tmp_path, monkeypatch):
    """A user cleaner module on sys.path; ``calls`` lists the passages it cleaned."""
    module = tmp_path / "mods" / "pc_cleaner.py"
    module.parent.mkdir()
    log = tmp_path / "mods" / "calls.jsonl"
    module.write_text(
        "import json\nimport harness\n"
        f"LOG = {str(log)!r}\n"
        "def note(text):\n    with open(LOG, 'a', encoding='utf-8') as f:\n        f.write(json.dumps(text) + '\\n')\n"
        "@harness.plugin\ndef tidy(text):\n    note(text)\n    return text.replace('fresh new', 'new')\n"
        "@harness.plugin\ndef fail_on_taxes(text):\n    note(text)\n"
        "    if 'taxes' in text:\n        raise ValueError('no taxes')\n    return text\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(module.parent))
    monkeypatch.delitem(sys.modules, "pc_cleaner", raising=False)
    yield CountingCleaner(log)
    sys.modules.pop("pc_cleaner", None)


def results(out: Path) -> dict:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    data["summary"].pop("finished_at")
    return data


def test_a_rerun_is_answered_from_the_cache_with_identical_results(tmp_path, counting_cleaner):
    transcript, refs = dataset(tmp_path)
    cache = tmp_path / "cache"
    run_config(config(tmp_path, "tidy"), transcript=transcript, references=[refs], out_dir=tmp_path / "a",
               cache_dir=cache)
    assert len(counting_cleaner.calls) == 3
    run_config(config(tmp_path, "tidy"), transcript=transcript, references=[refs], out_dir=tmp_path / "b",
               cache_dir=cache)
    assert len(counting_cleaner.calls) == 3, "nothing was cleaned (or scored) again"
    first, second = results(tmp_path / "a"), results(tmp_path / "b")
    assert second == first
    assert "nrefs:var" in second["metric_signatures"]["chrf"], "cached passages still count their references"
    assert (tmp_path / "a" / "report.md").read_text() == (tmp_path / "b" / "report.md").read_text()


def test_only_new_or_changed_passages_are_computed(tmp_path, counting_cleaner):
    """One passage per chunk (a chunk is served whole or computed whole)."""
    transcript, refs = dataset(tmp_path)
    cache = tmp_path / "cache"
    run_config(config(tmp_path, "tidy", chunk_size=1), transcript=transcript, references=[refs], out_dir=tmp_path / "a",
               cache_dir=cache)
    transcript.write_text("\n".join([SENTENCES[0], SENTENCES[1] + " Really.", SENTENCES[2]]) + "\n", encoding="utf-8")
    counting_cleaner.calls.clear()
    run_config(config(tmp_path, "tidy", chunk_size=1), transcript=transcript, references=[refs], out_dir=tmp_path / "b",
               cache_dir=cache)
    assert counting_cleaner.calls == [SENTENCES[1] + " Really."]
    changed_refs = {**REFERENCES, "p03": ["Is the bridge opening in 2025 or after that?"]}
    refs.write_text(json.dumps(changed_refs), encoding="utf-8")
    counting_cleaner.calls.clear()
    run_config(config(tmp_path, "tidy", chunk_size=1), transcript=transcript, references=[refs], out_dir=tmp_path / "c",
               cache_dir=cache)
    assert counting_cleaner.calls == ["Will the bridge open in 2025 or later?"], "new references: scored again"


def test_other_settings_and_no_cache_compute_everything(tmp_path, counting_cleaner):
    transcript, refs = dataset(tmp_path)
    cache = tmp_path / "cache"
    run_config(config(tmp_path, "tidy"), transcript=transcript, references=[refs], out_dir=tmp_path / "a",
               cache_dir=cache)
    counting_cleaner.calls.clear()
    run_config(config(tmp_path, "tidy", metrics={"use": ["chrf", "bleu"]}), transcript=transcript,
               references=[refs], out_dir=tmp_path / "b", cache_dir=cache)
    assert len(counting_cleaner.calls) == 3, "other metrics: another pipeline"
    counting_cleaner.calls.clear()
    run_config(config(tmp_path, "tidy"), transcript=transcript, references=[refs], out_dir=tmp_path / "c",
               cache_dir=cache, use_cache=False)
    assert len(counting_cleaner.calls) == 3, "--no-cache reads no cache"


def test_failed_passages_are_not_cached(tmp_path, counting_cleaner):
    transcript, refs = dataset(tmp_path)
    cache = tmp_path / "cache"
    for out in ("a", "b"):
        counting_cleaner.calls.clear()
        outcome = run_config(config(tmp_path, "fail_on_taxes", chunk_size=1), transcript=transcript, references=[refs],
                             out_dir=tmp_path / out, cache_dir=cache)
        assert [f.id for f in outcome.header.failed] == ["p02"]
    assert counting_cleaner.calls == [SENTENCES[1]], "the failed passage is tried again, the others come from the cache"


def test_a_chunk_with_a_changed_passage_is_computed_whole(tmp_path, counting_cleaner):
    transcript, refs = dataset(tmp_path)
    cache = tmp_path / "cache"
    run_config(config(tmp_path, "tidy"), transcript=transcript, references=[refs], out_dir=tmp_path / "a",
               cache_dir=cache)
    counting_cleaner.calls.clear()
    run_config(config(tmp_path, "tidy"), transcript=transcript, references=[refs], out_dir=tmp_path / "b",
               cache_dir=cache)
    assert counting_cleaner.calls == [], "the same chunk: served"
    transcript.write_text("\n".join([SENTENCES[0], SENTENCES[1] + " Really.", SENTENCES[2]]) + "\n", encoding="utf-8")
    run_config(config(tmp_path, "tidy"), transcript=transcript, references=[refs], out_dir=tmp_path / "c",
               cache_dir=cache)
    assert len(counting_cleaner.calls) == 3, "one passage changed: its chunk is computed again, whole"


def test_editing_a_plugin_file_changes_the_code_digest(tmp_path, monkeypatch):
    module = tmp_path / "pc_metric.py"
    module.write_text("def score(hyps, refs):\n    return [1.0 for _ in hyps]\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import pc_metric

    from harness.metrics import FunctionMetric

    metric = FunctionMetric("pc_metric:score", pc_metric.score)
    before = code_digest([metric])
    assert code_digest([metric]) == before
    module.write_text("def score(hyps, refs):\n    return [0.5 for _ in hyps]  # edited\n", encoding="utf-8")
    assert code_digest([metric]) != before
    sys.modules.pop("pc_metric", None)


def test_a_hit_takes_the_current_passage_id_and_speaker(tmp_path):
    store = TranslationCache(tmp_path / "translations.sqlite3")
    cache = PassageCache(store, "namespace", "passages:test")
    first = Passage("p01", "Hello there.", None, ["Hello."])
    stage = StageResult("Hello there.", scores={"chrf": float("nan")},
                        findings=[Finding("number", "lost", "major", "2", "number 2 missing", "anchors")])
    cache.put_chunk([first], [PassageResult("p01", None, ["Hello."], {"distorted": stage})])
    renamed = Passage("x7", "Hello there.", "MR. SMITH", ["Hello."])
    record = cache.get_chunk([renamed])["x7"]
    assert record.id == "x7" and record.speaker == "MR. SMITH"
    assert math.isnan(record.stages["distorted"].scores["chrf"])  # NaN kept
    assert record.stages["distorted"].findings == stage.findings
    assert cache.get_chunk([Passage("p01", "Hello there.", None, ["Hi."])]) is None
    assert PassageCache(store, "other", "passages:test").get_chunk([first]) is None
    store.close()


def test_a_passage_is_served_only_with_the_neighbours_it_was_computed_with(tmp_path):
    """Issue 17: a passage computed in another chunk differed from a fresh
    computation by up to 1e-6 relative (batched embeddings)."""
    store = TranslationCache(tmp_path / "translations.sqlite3")
    cache = PassageCache(store, "namespace", "passages:test")
    a, b, c = (Passage(f"p{i}", f"Text {i}.", None, [f"Ref {i}."]) for i in range(3))
    cache.put_chunk([a, b], [PassageResult(p.id, None, p.references, {"distorted": StageResult(p.text)})
                             for p in (a, b)])
    assert set(cache.get_chunk([a, b])) == {"p0", "p1"}
    assert cache.get_chunk([a]) is None and cache.get_chunk([b, a]) is None and cache.get_chunk([a, b, c]) is None
    store.close()


# --------------------------------------------------------------------------
# Issue 16: the cache keys on everything the plugin's code can reach
# --------------------------------------------------------------------------

PLUGIN = ("import harness\n"
          "from gate_helpers import tidy\n"
          "@harness.plugin\n"
          "def clean(text):\n    return tidy(text)\n")
HELPER_HARMLESS = "def tidy(text):\n    return ' '.join(text.split())\n"
HELPER_DROPS_NOT = "def tidy(text):\n    return ' '.join(text.split()).replace(' not ', ' ')\n"


def _plugin_with_helper(folder: Path, helper: str = HELPER_HARMLESS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gate_cleaner.py").write_text(PLUGIN, encoding="utf-8")
    (folder / "gate_helpers.py").write_text(helper, encoding="utf-8")
    return folder


def test_editing_a_helper_module_the_plugin_imports_changes_the_code_digest(tmp_path, monkeypatch):
    folder = _plugin_with_helper(tmp_path / "mods")
    monkeypatch.syspath_prepend(str(folder))
    for name in ("gate_cleaner", "gate_helpers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    from harness.cleaners import build_cleaner

    cleaner = build_cleaner("gate_cleaner:clean")
    before = code_digest([cleaner])
    assert before is not None and code_digest([cleaner]) == before
    (folder / "gate_helpers.py").write_text(HELPER_DROPS_NOT, encoding="utf-8")
    assert code_digest([cleaner]) != before


def test_helpers_imported_inside_functions_and_relatively_count_too(tmp_path, monkeypatch):
    package = tmp_path / "mods" / "gatepkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "cleaning.py").write_text(
        "import harness\n@harness.plugin\ndef clean(text):\n"
        "    from .rules import apply\n    return apply(text)\n", encoding="utf-8")
    (package / "rules.py").write_text("from .words import WORDS\ndef apply(text):\n    return text\n", encoding="utf-8")
    (package / "words.py").write_text("WORDS = ['not']\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    for name in ("gatepkg", "gatepkg.cleaning", "gatepkg.rules", "gatepkg.words"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    from harness.cleaners import build_cleaner

    cleaner = build_cleaner("gatepkg.cleaning:clean")
    before = code_digest([cleaner])
    (package / "words.py").write_text("WORDS = []\n", encoding="utf-8")  # two imports away, never imported yet
    assert code_digest([cleaner]) != before


def test_a_plugin_whose_imports_cannot_be_followed_gets_no_passage_cache(tmp_path, monkeypatch):
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "gate_dynamic.py").write_text(
        "import importlib\nimport harness\n@harness.plugin\ndef clean(text):\n"
        "    return importlib.import_module('gate_' + 'helpers').tidy(text)\n", encoding="utf-8")
    (folder / "gate_helpers.py").write_text(HELPER_HARMLESS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "gate_dynamic", raising=False)
    from harness.cleaners import build_cleaner

    assert code_digest([build_cleaner("gate_dynamic:clean")]) is None
    store = TranslationCache(tmp_path / "translations.sqlite3")
    assert PassageCache.for_pipeline(store, {"key": "k"}, [build_cleaner("gate_dynamic:clean")], "x") is None
    store.close()


def test_regress_is_not_passed_from_the_cache_after_a_helper_change(tmp_path):
    """Issue 16, point 1, end to end with real processes: the helper of a
    plugin cleaner changes so that it drops " not "; regress must say
    REGRESSED, not PASSED from the passage cache."""
    harness_script = Path(sys.executable).parent / "harness"
    if not harness_script.exists():
        pytest.skip("the harness console script is not installed next to this Python")
    project = _plugin_with_helper(tmp_path / "project")
    transcript, refs = dataset(project)
    (project / "gate.yaml").write_text(json.dumps({
        "name": "gate", "cleaners": ["whitespace", "gate_cleaner:clean"], "retranslation": {"backend": "none"},
        # without the semantic metric (spaCy), anchors compare negations by their words
        "metrics": {"use": ["chrf", "bleu", "anchors", "meaning"],
                    "anchors": {"kinds": ["numbers", "names", "negations"]}}}), encoding="utf-8")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}

    def harness(*args):
        return subprocess.run([str(harness_script), *args], cwd=project, env=env, capture_output=True, text=True)

    saved = harness("baseline", "save", "-q", "-c", "gate.yaml", "-t", str(transcript), "-r", str(refs),
                    "-o", "baseline.json")
    assert saved.returncode == 0, saved.stderr
    first = harness("regress", "-q", "-b", "baseline.json")
    assert first.returncode == 0 and "PASSED" in first.stdout, first.stdout + first.stderr
    (project / "gate_helpers.py").write_text(HELPER_DROPS_NOT, encoding="utf-8")
    second = harness("regress", "-q", "-b", "baseline.json")
    assert second.returncode == 1 and "REGRESSED" in second.stdout, second.stdout + second.stderr
    assert "negation" in second.stdout


def test_installed_and_standard_modules_are_left_out_and_never_imported(tmp_path, monkeypatch):
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "gate_plain.py").write_text(
        "import re\nimport harness\nimport numpy\n_WORD = re.compile(r'\\\\w+')\n"
        "@harness.plugin\ndef clean(text):\n"
        "    from sklearn.feature_extraction import text as sk_text\n    return text\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "gate_plain", raising=False)
    from harness.cleaners import build_cleaner

    had_sklearn = "sklearn" in sys.modules
    digest = code_digest([build_cleaner("gate_plain:clean"), build_cleaner("tests.fixtures.broken_cleaners:drop_numbers")])
    assert digest is not None, "re.compile, numpy and sklearn are no reason to give up the cache"
    assert had_sklearn or "sklearn" not in sys.modules, "looking at an import never imports an installed package"


@pytest.mark.slow
def test_a_cached_run_is_byte_identical_to_an_uncached_one(tmp_path):
    """Issue 17: passages served from the cache differed from freshly computed
    ones by up to 1e-6 relative. Here the cache is filled by a run on the whole
    corpus, then a corpus without its first passage (every chunk has other
    neighbours) is run with and without the cache: the same bytes."""
    source = Path(__file__).parent / "data" / "scores_before"
    lines = (source / "transcript.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    shifted = tmp_path / "shifted.jsonl"
    shifted.write_text("".join(lines[1:]), encoding="utf-8")
    dropped = json.loads(lines[0])["id"]
    ref_lines = (source / "references.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    shifted_refs = tmp_path / "shifted-refs.jsonl"
    shifted_refs.write_text("".join(l for l in ref_lines if json.loads(l)["id"] != dropped), encoding="utf-8")
    refs = [source / "references.jsonl"]
    config = config_from_dict({"name": "exact", "cleaners": [], "retranslation": {"backend": "none"},
                               "metrics": {"use": ["chrf", "cosine", "bertscore"]}, "chunk_size": 4})
    cache = tmp_path / "cache"
    run_config(config, transcript=source / "transcript.jsonl", references=refs, out_dir=tmp_path / "all",
               cache_dir=cache)
    refs = [shifted_refs]
    run_config(config, transcript=shifted, references=refs, out_dir=tmp_path / "cached", cache_dir=cache)
    run_config(config, transcript=shifted, references=refs, out_dir=tmp_path / "again", cache_dir=cache)
    run_config(config, transcript=shifted, references=refs, out_dir=tmp_path / "fresh", use_cache=False)

    def numbers(out: Path) -> dict:
        data = json.loads((out / "results.json").read_text(encoding="utf-8"))
        return {"corpus": data["corpus"], "metric_signatures": data["metric_signatures"],
                "passages": [{s: {"scores": st["scores"], "stats": st["stats"]} for s, st in p["stages"].items()}
                             for p in data["passages"]]}

    assert numbers(tmp_path / "cached") == numbers(tmp_path / "fresh")
    assert numbers(tmp_path / "again") == numbers(tmp_path / "fresh")
