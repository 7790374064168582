"""Where the work runs (issue 18) and user cleaners in worker processes (issue 17, point 7).

* ``--workers 2`` gives the same ``results.json`` as ``--workers 1``, on the
  briefing and on a generated corpus; ``workers`` is not part of the signature;
* a user's cleaner that calls ``sys.exit``, ``os._exit``, raises
  ``KeyboardInterrupt`` or ignores SIGALRM fails only its passage;
* a worker process killed mid-run is replaced and the run's records are
  complete and identical;
* Ray: see tests/test_execution_ray.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.config import config_from_dict, load_config
from harness.execution import with_execution
from harness.execution.pool import TaskFailed, TaskTimeout, WorkerLost, WorkerPool
from harness.pipeline import run_config, worker_config

REPO = Path(__file__).resolve().parent.parent
FAST = {"name": "fast", "cleaners": [], "retranslation": {"backend": "none"},
        "metrics": {"use": ["chrf", "bleu", "ter", "anchors"]}}
SENTENCES = [
    "The fresh new minister said the budget of 12 million dollars is not enough.",
    "We are not going to raise taxes this year, and the council agreed.",
    "QUESTION: Will the bridge open in 2025 or later?",
    "Individuals trust the program will help 300 families in the region.",
    "The talks did not fail; they were postponed until Tuesday.",
    "Officials confirmed the port will reopen on Monday after repairs.",
]
REFERENCES = [
    ["The new minister said the 12 million dollar budget is not enough."],
    ["We will not raise taxes this year, and the council agreed."],
    ["Will the bridge open in 2025 or later?", "Is the bridge opening in 2025, or after that?"],
    ["We believe the program will help 300 families in the region."],
    ["The talks did not fail; they were postponed until Tuesday."],
    ["Officials confirmed that the port reopens on Monday after repairs."],
]


def metric_that_kills_its_process_once(tmp_path: Path, name: str, monkeypatch) -> tuple[str, Path]:
    """A user metric module ``name`` on sys.path whose ``length`` kills its own
    process (SIGKILL) the first time it sees a passage with 'KILLME'; its spec,
    and the marker file it leaves behind when it did."""
    module = tmp_path / "mods" / f"{name}.py"
    module.parent.mkdir()
    marker = tmp_path / "died"
    module.write_text(
        "import os, signal\n"
        f"MARKER = {str(marker)!r}\n"
        "import harness\n@harness.plugin\ndef length(hyps, refs):\n"
        "    if any('KILLME' in h for h in hyps) and not os.path.exists(MARKER):\n"
        "        open(MARKER, 'w').write(str(os.getpid()))\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return [float(len(h)) for h in hyps]\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(module.parent))
    return f"{name}:length", marker


def corpus(folder: Path, copies: int = 10, marker: str | None = None) -> tuple[Path, Path]:
    """A generated corpus: the sentences above, numbered copies (``marker`` in
    the middle passage's text, for a metric that acts on it)."""
    lines, refs = [], {}
    total = copies * len(SENTENCES)
    for k in range(total):
        sentence = SENTENCES[k % len(SENTENCES)]
        text = f"{sentence} Item {k}."
        if marker and k == total // 2:
            text += f" {marker}"
        lines.append(json.dumps({"id": f"g{k:04d}", "text": text}))
        refs[f"g{k:04d}"] = [f"{r} Item {k}." for r in REFERENCES[k % len(SENTENCES)]]
    folder.mkdir(parents=True, exist_ok=True)
    transcript = folder / "t.jsonl"
    transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
    references = folder / "r.json"
    references.write_text(json.dumps(refs), encoding="utf-8")
    return transcript, references


def results_without_time(out: Path) -> dict:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    data["summary"].pop("finished_at")
    return data


def _floats_approx(value):
    """Every float of a results tree as ``pytest.approx`` (relative 1e-6): float32
    embeddings batched in other company (a worker's chunk, a Ray actor's) differ in
    the last bits on some CPUs; everything else must be equal."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-6, abs=1e-9, nan_ok=True)
    if isinstance(value, dict):
        return {k: _floats_approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats_approx(v) for v in value]
    return value


def assert_same_results(a: Path, b: Path) -> None:
    """Two runs' ``results.json`` agree: the same records, texts, findings and
    verdicts, and scores equal up to float32 noise."""
    assert results_without_time(a) == _floats_approx(results_without_time(b))


def workers(config, n: int):
    return with_execution(config, workers=n)


# --------------------------------------------------------------------------
# The same results, whatever the number of workers
# --------------------------------------------------------------------------

def test_workers_is_not_part_of_the_signature(tmp_path):
    from harness.loading import load_dataset
    from harness.pipeline import Pipeline

    transcript, refs = corpus(tmp_path, copies=1)
    passages = load_dataset(transcript, [refs])
    config = config_from_dict(FAST)
    keys = {Pipeline(workers(config, n), use_cache=False).signature(passages)["key"] for n in (1, 2, 7)}
    keys.add(Pipeline(with_execution(config, executor="ray"), use_cache=False).signature(passages)["key"]
             if _ray_installed() else keys.copy().pop())
    assert len(keys) == 1


def _ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def test_two_workers_give_the_results_of_one_on_a_generated_corpus(tmp_path):
    transcript, refs = corpus(tmp_path, copies=8)
    config = config_from_dict({**FAST, "cleaners": ["unicode", "whitespace", "injected", "spin", "casing"],
                               "chunk_size": 10})
    one = run_config(workers(config, 1), transcript=transcript, references=[refs], out_dir=tmp_path / "one",
                     use_cache=False)
    two = run_config(workers(config, 2), transcript=transcript, references=[refs], out_dir=tmp_path / "two",
                     use_cache=False)
    assert one.header.summary.scored == 48
    assert_same_results(one.out_dir, two.out_dir)
    assert (one.out_dir / "results.jsonl").read_bytes() == (two.out_dir / "results.jsonl").read_bytes()


@pytest.mark.slow
def test_two_workers_give_the_results_of_one_on_the_briefing(tmp_path):
    """The bundled briefing with the default config: cleaners, the Bergamot
    round trip, every metric (the embedding model in the driver, TER and the
    anchors in the workers)."""
    config = load_config(None)
    one = run_config(workers(config, 1), out_dir=tmp_path / "one", use_cache=False)
    two = run_config(workers(config, 2), out_dir=tmp_path / "two", use_cache=False)
    assert_same_results(one.out_dir, two.out_dir)
    assert one.header.signature["key"] == two.header.signature["key"]


# --------------------------------------------------------------------------
# A user's cleaner cannot end the run (issue 17, point 7)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n_workers", [1, 2])
@pytest.mark.parametrize(
    "cleaner, message",
    [
        ("exits_on_budget", "SystemExit: 3"),
        ("hard_exits_on_budget", "ended its worker process on passage g0000 (exit code 0)"),
        ("interrupts_on_budget", "KeyboardInterrupt"),
        ("ignores_alarms_on_budget", "took longer than 1 s"),
    ],
    ids=["sys.exit(3)", "os._exit(0)", "KeyboardInterrupt", "ignores-SIGALRM"],
)
def test_a_cleaner_that_tries_to_end_the_run_fails_only_its_passage(tmp_path, cleaner, message, n_workers):
    transcript, refs = corpus(tmp_path, copies=1)
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({**FAST, "cleaners": [f"tests.fixtures.user_cleaners:{cleaner}"],
                                  "cleaner_timeout_s": 1}), encoding="utf-8")
    out = tmp_path / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "-q", "-c", str(config), "-t", str(transcript),
                           "-r", str(refs), "-o", str(out), "--no-cache", "--workers", str(n_workers)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    state = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert state["state"] == "complete"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [f["id"] for f in data["failed"]] == ["g0000"]
    (failed,) = [p for p in data["passages"] if p["error"]]
    assert message in failed["error"]["message"] and failed["error"]["stage"] == "cleaned"
    assert data["summary"]["scored"] == len(SENTENCES) - 1


def test_main_module_is_not_run_again_in_workers(tmp_path):
    """A script that calls the harness without ``if __name__ == '__main__'``
    must not start its run again in every worker process."""
    transcript, refs = corpus(tmp_path, copies=1)
    script = tmp_path / "script.py"
    script.write_text(
        "from harness.config import config_from_dict\n"
        "from harness.pipeline import run_config\n"
        f"config = config_from_dict({{**{FAST!r}, 'cleaners': ['tests.fixtures.user_cleaners:explode_on_budget'],"
        " 'execution': {'workers': 2}})\n"
        f"run_config(config, transcript={str(transcript)!r}, references=[{str(refs)!r}],"
        f" out_dir={str(tmp_path / 'out')!r}, use_cache=False)\n"
        "print('ran once')\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ran once") == 1


# --------------------------------------------------------------------------
# The pool itself
# --------------------------------------------------------------------------

@pytest.fixture
def pool():
    config = config_from_dict({**FAST, "cleaners": ["tests.fixtures.user_cleaners:explode_on_budget"]})
    with WorkerPool(2, worker_config(config)) as workers_pool:
        yield workers_pool


def test_a_task_that_kills_its_worker_is_retried_on_a_new_one(pool, tmp_path):
    first = pool.submit("ping", None).result(30)
    os.kill(first, 9)
    time.sleep(0.2)
    # the dead worker is found when a task goes to it, or its pipe closes; either way the pool goes on
    pids = {pool.submit("ping", None, retries=2).result(30) for _ in range(4)}
    assert first not in pids


def test_pool_failures_are_typed(pool):
    with pytest.raises(TaskFailed) as failed:
        pool.submit("clean", ("p1", "the budget")).result(30)
    assert failed.value.kind == "PassageError" and "budgets" in failed.value.message
    with pytest.raises(TaskFailed, match="unknown task"):
        pool.submit("no-such-task", None).result(30)
    assert pool.submit("clean", ("p2", "fine text")).result(30)[0] == "fine text"


def test_a_killed_measuring_worker_is_replaced_and_the_records_are_identical(tmp_path, monkeypatch):
    """A metric whose worker process dies mid-run (here: it kills itself once,
    on the middle passage) is measured again on a new worker."""
    spec, marker = metric_that_kills_its_process_once(tmp_path, "dies_once_metric", monkeypatch)
    transcript, refs = corpus(tmp_path / "data", copies=4, marker="KILLME")
    config = config_from_dict({**FAST, "chunk_size": 5,
                               "metrics": {"use": ["chrf", "ter"], "extra": [spec]}})
    killed = run_config(workers(config, 2), transcript=transcript, references=[refs], out_dir=tmp_path / "killed",
                        use_cache=False)
    assert marker.exists(), "the metric did not kill its worker"
    serial = run_config(workers(config, 1), transcript=transcript, references=[refs], out_dir=tmp_path / "serial",
                        use_cache=False)
    assert killed.header.summary.scored == 24
    assert_same_results(killed.out_dir, serial.out_dir)


def test_lost_and_timeout_errors_read_well():
    assert "exit code 0" in str(WorkerLost(0)) and "signal 9" in str(WorkerLost(-9))
    assert "longer than 2 s" in str(TaskTimeout(2))


def test_the_local_executor_never_imports_ray(tmp_path):
    transcript, refs = corpus(tmp_path, copies=1)
    code = (
        "import json, sys\n"
        "from harness.config import config_from_dict\n"
        "from harness.pipeline import run_config\n"
        f"config = config_from_dict({{**{FAST!r}, 'execution': {{'workers': 2}}}})\n"
        f"run_config(config, transcript={str(transcript)!r}, references=[{str(refs)!r}],"
        f" out_dir={str(tmp_path / 'out')!r}, use_cache=False)\n"
        "print(json.dumps('ray' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "false"
