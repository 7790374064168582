"""The persistent translation cache: hits, misses, invalidation, two processes, recovery."""

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.commands.cache import cache as cache_command
from harness.errors import OutputError
from harness.translate import RetranslationConfig, RoundTrip, build_translator
from harness.translate.cache import (
    CACHE_FILE,
    CachedTranslation,
    CacheKey,
    TranslationCache,
    default_cache_dir,
    open_cache,
)
from harness.translate.roundtrip import Stage
from tests.conftest_translate import RecordingTranslator

PLUGIN = "tests.conftest_translate:RecordingTranslator"


def key(text: str, translator: str = "fp-1", label: str = "test:model") -> CacheKey:
    return CacheKey(translator, "en", "pt", text, label=label)


def make_round_trip(cache: TranslationCache | None, translator: RecordingTranslator) -> RoundTrip:
    cfg = RetranslationConfig(backend=PLUGIN)
    return RoundTrip([Stage(s, t, PLUGIN, translator) for s, t in cfg.hops()], cfg, cache)


@pytest.fixture
def store(tmp_path: Path):
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        yield cache


# -- keys, hits and misses ------------------------------------------------------------


def test_put_then_get_returns_text_and_notes_and_misses_are_absent(store):
    store.put_many([(key("Hello."), CachedTranslation("Olá.", ("a note",)))])
    found = store.get_many([key("Hello."), key("Other.")])
    assert found == {key("Hello."): CachedTranslation("Olá.", ("a note",))}


def test_the_key_is_exact_text_languages_and_translator_but_not_the_label():
    assert key("Hello.").digest() == key("Hello.", label="other").digest()
    assert key("Hello.").digest() != key("Hello. ").digest()
    assert key("Hello.").digest() != key("Hello.", translator="fp-2").digest()
    assert key("Hello.").digest() != CacheKey("fp-1", "en", "es", "Hello.").digest()


def test_many_keys_are_read_in_chunks(store):
    items = [(key(f"sentence {i}"), CachedTranslation(f"frase {i}")) for i in range(1200)]
    assert store.put_many(items) == 1200
    found = store.get_many([k for k, _ in items])
    assert len(found) == 1200 and found[key("sentence 777")].text == "frase 777"


def test_a_second_identical_run_translates_nothing_and_gives_the_same_results(store):
    texts = ["First sentence here. Second sentence, long enough to split here.", "Third one here."]
    first_engine = RecordingTranslator(limit=5)
    first = make_round_trip(store, first_engine).run(texts)
    second_engine = RecordingTranslator(limit=5)
    rerun = make_round_trip(store, second_engine)
    second = rerun.run(texts)
    assert second_engine.calls == []
    assert rerun.stats.cache_hits == 6 and rerun.stats.translated == 0
    assert second == first  # including the split-to-fit notes, which are cached with the text


def test_no_cache_translates_every_time():
    engine = RecordingTranslator()
    make_round_trip(None, engine).run(["A sentence here."])
    make_round_trip(None, engine).run(["A sentence here."])
    assert len(engine.calls) == 4


def test_a_changed_translator_fingerprint_is_a_miss(store):
    make_round_trip(store, RecordingTranslator(version="1")).run(["A sentence here."])
    changed = RecordingTranslator(version="2")
    make_round_trip(store, changed).run(["A sentence here."])
    assert changed.sentences_translated == 2


# -- invalidation through a real backend's fingerprint ------------------------------


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A directory that passes the transformers backend's checks (it is never loaded here)."""
    directory = tmp_path / "opus-mt-en-pt"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({"model_type": "marian", "max_position_embeddings": 512}))
    (directory / "model.safetensors").write_bytes(b"\0" * 1024)
    (directory / "tokenizer.json").write_text("{}")
    return directory


def test_transformers_fingerprint_follows_decoding_settings_and_model_files(model_dir):
    base = build_translator("transformers", {"model": str(model_dir)}).fingerprint()
    assert build_translator("transformers", {"model": str(model_dir)}).fingerprint() == base
    assert build_translator("transformers", {"model": str(model_dir), "batch_size": 64}).fingerprint() == base
    for change in ({"num_beams": 1}, {"max_new_tokens": 99}, {"generation_kwargs": {"length_penalty": 0.8}},
                   {"dtype": "bfloat16"}, {"lang_codes": {"pt": "pob"}}):
        assert build_translator("transformers", {"model": str(model_dir), **change}).fingerprint() != base, change
    (model_dir / "model.safetensors").write_bytes(b"\1" * 1024)  # same size, new weights
    assert build_translator("transformers", {"model": str(model_dir)}).fingerprint() != base


def test_bergamot_fingerprint_follows_the_postprocess_setting_but_not_threads():
    base = build_translator("bergamot", {}).fingerprint()
    assert build_translator("bergamot", {"threads": 1}).fingerprint() == base
    assert build_translator("bergamot", {"postprocess": True}).fingerprint() != base


# -- two processes --------------------------------------------------------------------


def _writer(path: str, worker: int, count: int) -> None:
    with TranslationCache(Path(path)) as cache:
        for start in range(0, count, 50):
            batch = [(key(f"w{worker} s{i}"), CachedTranslation(f"t{i}")) for i in range(start, start + 50)]
            cache.put_many(batch)
            cache.get_many([k for k, _ in batch])
            # both writers also write the shared sentences
            cache.put_many([(key(f"shared {i}"), CachedTranslation("same")) for i in range(start, start + 50)])


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path):
    path = tmp_path / "fresh" / CACHE_FILE  # both also race to create the file
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(str(path), n, 600)) for n in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [p.exitcode for p in workers] == [0, 0]
    with TranslationCache(path) as cache:
        assert cache.info()["entries"] == 600 * 3
    assert not path.with_name(CACHE_FILE + ".recovered").exists()


# -- corrupt and foreign files ----------------------------------------------------------


def _assert_rebuilt(path: Path, caplog) -> None:
    assert "was unusable" in caplog.text
    assert path.with_name(path.name + ".recovered").read_text().count("moved to") == 1
    assert path.with_name(path.name + ".corrupt").exists()


def test_a_file_that_is_not_a_database_is_reported_and_rebuilt(tmp_path: Path, caplog):
    path = tmp_path / CACHE_FILE
    path.write_bytes(b"this is not sqlite" * 100)
    with caplog.at_level(logging.WARNING, logger="harness.translate.cache"):
        cache = TranslationCache(path)
    _assert_rebuilt(path, caplog)
    cache.put_many([(key("Hello."), CachedTranslation("Olá."))])
    assert cache.get_many([key("Hello.")])[key("Hello.")].text == "Olá."
    cache.close()


@pytest.mark.parametrize(
    "setup",
    [
        "CREATE TABLE photos (id INTEGER)",
        "CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema', 'someone-else')",
        "CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('schema', 'harness-translation-cache'), ('version', '0')",
    ],
    ids=["foreign-tables", "foreign-schema", "old-version"],
)
def test_a_foreign_or_outdated_database_is_set_aside_not_modified(tmp_path: Path, caplog, setup):
    path = tmp_path / CACHE_FILE
    with sqlite3.connect(path) as conn:
        conn.executescript(setup)
    with caplog.at_level(logging.WARNING, logger="harness.translate.cache"):
        TranslationCache(path).close()
    _assert_rebuilt(path, caplog)
    with sqlite3.connect(path.with_name(path.name + ".corrupt")) as conn:  # the original, untouched
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] >= 1


def test_a_file_damaged_while_open_is_rebuilt_on_the_next_query(tmp_path: Path, caplog):
    path = tmp_path / CACHE_FILE
    keys = [key(f"sentence {i}") for i in range(2000)]
    with TranslationCache(path) as cache:
        cache.put_many([(k, CachedTranslation("x" * 200)) for k in keys])
    cache = TranslationCache(path)
    path.write_bytes(b"\xff" * path.stat().st_size)  # every page destroyed under the open cache
    with caplog.at_level(logging.WARNING, logger="harness.translate.cache"):
        assert cache.get_many(keys) == {}
    assert "database disk image is malformed" in caplog.text
    cache.put_many([(key("Again."), CachedTranslation("De novo."))])
    assert cache.get_many([key("Again.")])[key("Again.")].text == "De novo."
    assert cache.info()["entries"] == 1
    cache.close()


def test_a_locked_cache_costs_the_write_but_is_never_set_aside(tmp_path: Path, caplog, monkeypatch):
    import harness.translate.cache as cache_module

    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT_MS", 100)
    path = tmp_path / CACHE_FILE
    cache = TranslationCache(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    with caplog.at_level(logging.WARNING, logger="harness.translate.cache"):
        assert cache.put_many([(key("Hello."), CachedTranslation("Olá."))]) == 0
    assert "cannot be written" in caplog.text and "unusable" not in caplog.text
    holder.execute("ROLLBACK")
    holder.close()
    assert not path.with_name(CACHE_FILE + ".recovered").exists()
    assert cache.put_many([(key("Hello."), CachedTranslation("Olá."))]) == 1
    cache.close()


# -- info, clear, opening ------------------------------------------------------------------


def test_info_counts_entries_by_model_and_clear_empties(store):
    store.put_many([(key(f"s{i}", label="bergamot:enpt"), CachedTranslation("x")) for i in range(3)])
    store.put_many([(CacheKey("fp-9", "en", "es", "s", label="apertium:eng-spa"), CachedTranslation("y"))])
    facts = store.info()
    assert facts["entries"] == 4 and facts["size_bytes"] > 0
    assert facts["by_model"] == [
        {"model": "bergamot:enpt", "entries": 3, "languages": ["en-pt"]},
        {"model": "apertium:eng-spa", "entries": 1, "languages": ["en-es"]},
    ]
    assert store.clear() == 4
    assert store.info()["entries"] == 0


def test_open_cache_honours_disable_env_and_explicit_dir(tmp_path: Path, monkeypatch):
    assert open_cache(tmp_path, enabled=False) is None
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "from-env"))
    assert default_cache_dir() == tmp_path / "from-env"
    with open_cache(None, enabled=True) as cache:
        assert cache.path == tmp_path / "from-env" / CACHE_FILE
    with open_cache(tmp_path / "explicit", enabled=True) as cache:
        assert cache.path == tmp_path / "explicit" / CACHE_FILE


def test_an_explicit_cache_dir_that_cannot_be_used_is_an_error(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(OutputError, match="cannot be used"):
        open_cache(blocker, enabled=True)


def test_default_cache_dir_is_the_user_cache_dir(monkeypatch):
    monkeypatch.delenv("HARNESS_CACHE_DIR", raising=False)
    import platformdirs

    assert default_cache_dir() == Path(platformdirs.user_cache_dir("harness", appauthor=False))


def test_cache_cli_info_and_clear(tmp_path: Path):
    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        cache.put_many([(key(f"s{i}", label="bergamot:enpt"), CachedTranslation("x")) for i in range(2)])
    runner = CliRunner()
    shown = runner.invoke(cache_command, ["info", "--cache-dir", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    assert "entries: 2" in shown.output and "bergamot:enpt" in shown.output
    as_json = runner.invoke(cache_command, ["info", "--cache-dir", str(tmp_path), "--json"])
    assert json.loads(as_json.output)["entries"] == 2
    cleared = runner.invoke(cache_command, ["clear", "--cache-dir", str(tmp_path)])
    assert cleared.exit_code == 0 and "removed 2 cached translations" in cleared.output
    assert "entries: 0" in runner.invoke(cache_command, ["info", "--cache-dir", str(tmp_path)]).output


def test_cache_clear_and_info_count_passage_records_apart_from_translations(tmp_path: Path):
    """Issue 16: ``cache clear`` said "removed 5 cached translations" for 2
    translations and 3 finished passages of the passage cache."""
    from harness.loading import Passage
    from harness.passage_cache import PassageCache
    from harness.results import PassageResult

    with TranslationCache(tmp_path / CACHE_FILE) as cache:
        cache.put_many([(key(f"s{i}", label="bergamot:enpt"), CachedTranslation("x")) for i in range(2)])
        passages = PassageCache(cache, "namespace", "passages:default")
        chunk = [Passage(f"p{i}", f"text {i}", None, ["ref"]) for i in range(3)]
        passages.put_chunk(chunk, [PassageResult(f"p{i}") for i in range(3)])
        facts = cache.info()
    assert facts["translations"] == 2 and facts["passages"] == 3 and facts["entries"] == 5
    assert [row["model"] for row in facts["by_model"]] == ["bergamot:enpt"]
    runner = CliRunner()
    shown = runner.invoke(cache_command, ["info", "--cache-dir", str(tmp_path)])
    assert "translations: 2" in shown.output and "passages: 3" in shown.output, shown.output
    cleared = runner.invoke(cache_command, ["clear", "--cache-dir", str(tmp_path)])
    assert cleared.exit_code == 0, cleared.output
    assert "removed 2 cached translations and 3 finished passages" in cleared.output
