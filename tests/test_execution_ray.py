"""``--executor ray`` (issue 18), on a local Ray instance this module starts itself.

* the same ``results.json`` as the local executor, on a generated corpus and
  on the briefing (translation through the cache actor);
* a Ray worker killed mid-run: Ray restarts the actor and retries the chunk,
  and the records are complete and identical;
* without Ray installed: one line, exit 2.
"""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.config import config_from_dict, load_config
from harness.execution import with_execution
from harness.pipeline import run_config

from .test_execution import FAST, assert_same_results, corpus, metric_that_kills_its_process_once

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with 2 CPUs for this module's runs."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def on_ray(config, workers: int = 2):
    return with_execution(config, executor="ray", workers=workers)


def test_ray_gives_the_results_of_the_local_executor_on_a_generated_corpus(tmp_path, local_ray):
    transcript, refs = corpus(tmp_path, copies=6)
    config = config_from_dict({**FAST, "cleaners": ["unicode", "whitespace", "injected", "spin", "casing"],
                               "chunk_size": 8})
    local = run_config(with_execution(config, workers=1), transcript=transcript, references=[refs],
                       out_dir=tmp_path / "local", use_cache=False)
    remote = run_config(on_ray(config), transcript=transcript, references=[refs], out_dir=tmp_path / "ray",
                        use_cache=False)
    assert remote.header.summary.scored == 36
    assert_same_results(local.out_dir, remote.out_dir)


@pytest.mark.slow
def test_ray_gives_the_results_of_the_local_executor_on_the_briefing(tmp_path, local_ray):
    """The default config: cleaners, the Bergamot round trip (actors translate;
    the translation cache is written by the one cache actor), every metric."""
    config = load_config(None)
    cache = tmp_path / "cache"
    remote = run_config(on_ray(config), out_dir=tmp_path / "ray", cache_dir=cache)
    local = run_config(with_execution(config, workers=1), out_dir=tmp_path / "local", use_cache=False)
    assert_same_results(local.out_dir, remote.out_dir)
    # the actors' translations went to the cache: a rerun translates nothing and is served from it
    from harness.translate.cache import TranslationCache

    with TranslationCache(cache / "translations.sqlite3") as store:
        assert store.info()["entries"] > 20


def test_a_killed_ray_worker_still_gives_complete_identical_results(tmp_path, local_ray, monkeypatch):
    """The metric kills its own process (the actor) once, on the middle
    passage: Ray restarts the actor and retries the chunk."""
    spec, marker = metric_that_kills_its_process_once(tmp_path, "ray_dies_once", monkeypatch)
    transcript, refs = corpus(tmp_path / "data", copies=4, marker="KILLME")
    config = config_from_dict({**FAST, "chunk_size": 4,
                               "metrics": {"use": ["chrf", "ter"], "extra": [spec]}})
    remote = run_config(on_ray(config), transcript=transcript, references=[refs], out_dir=tmp_path / "ray",
                        use_cache=False)
    assert marker.exists(), "the actor was not killed"
    local = run_config(with_execution(config, workers=1), transcript=transcript, references=[refs],
                       out_dir=tmp_path / "local", use_cache=False)
    assert remote.header.summary.scored == 24 and not remote.header.failed
    assert_same_results(local.out_dir, remote.out_dir)
    state = json.loads((remote.out_dir / "run.json").read_text(encoding="utf-8"))
    assert state["state"] == "complete"


def test_without_ray_the_executor_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    transcript, refs = corpus(tmp_path, copies=1)
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(FAST), encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "-c", str(config), "-t", str(transcript), "-r", str(refs),
                                      "-o", str(tmp_path / "out"), "--executor", "ray"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: executor 'ray' needs Ray, which is not installed: pip install 'harness[ray]'"]
    assert not (tmp_path / "out").exists(), "nothing is written before the executor is known to work"
