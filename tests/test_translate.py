"""Round-trip retranslation: config, sentence splitting, the round-trip machinery.

The machinery is driven by ``RecordingTranslator``, a visible test double
(``<pt>`` + text), because these tests are about what the round trip does
with a backend: batching, hops, spacing, checks. The real engines are in
test_translate_engines.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import ConfigError, ModelError
from harness.translate import (
    TRANSLATORS,
    RetranslationConfig,
    RoundTrip,
    build_round_trip,
    build_translator,
)
from harness.translate.roundtrip import Stage
from harness.translate.sentences import segment_text, split_sentences
from tests.conftest_translate import RecordingTranslator

PLUGIN = "tests.conftest_translate:RecordingTranslator"


def round_trip(translator: RecordingTranslator | None = None, cache=None, **config) -> tuple[RoundTrip, RecordingTranslator]:
    translator = translator or RecordingTranslator()
    cfg = RetranslationConfig(backend=PLUGIN, **config)
    stages = [Stage(src, tgt, PLUGIN, translator) for src, tgt in cfg.hops()]
    return RoundTrip(stages, cfg, cache), translator


# -- config -----------------------------------------------------------------------


def test_default_config_is_bergamot_en_pt_en_on_two_threads():
    cfg = RetranslationConfig()
    assert cfg.backend == "bergamot"
    assert cfg.hops() == [("en", "pt"), ("pt", "en")]
    backend, options = cfg.direction("en", "pt")
    assert backend == "bergamot"
    translator = build_translator(backend, options)
    assert translator.options.threads == 2
    assert translator.options.postprocess is False


def test_pivot_chain_gives_one_hop_per_pair():
    cfg = RetranslationConfig(pivots=["pt", "es"])
    assert cfg.chain_label() == "en->pt->es->en"
    assert cfg.hops() == [("en", "pt"), ("pt", "es"), ("es", "en")]


def test_direction_options_merge_over_the_default_backend_options():
    cfg = RetranslationConfig(
        backend="transformers",
        options={"device": "cpu", "num_beams": 2},
        directions={"en-pt": {"options": {"model": "/m/en-pt"}}, "pt-en": {"backend": "apertium"}},
    )
    assert cfg.direction("en", "pt") == ("transformers", {"device": "cpu", "num_beams": 2, "model": "/m/en-pt"})
    # Another backend does not inherit options meant for transformers.
    assert cfg.direction("pt", "en") == ("apertium", {})


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"directions": {"en-es": {"backend": "apertium"}}}, "not a hop of the chain en->pt->en"),
        ({"pivots": []}, "pivots is empty"),
        ({"pivots": ["en"]}, "translates en into itself"),
        ({"pivots": ["Portuguese"]}, "not an ISO 639 code"),
        ({"length_ratio": (2.0, 0.5)}, "0 < low < high"),
        ({"split": "paragraphs"}, "sentences"),
        ({"threads": 2}, "Extra inputs are not permitted"),
        ({"directions": {"en-pt": {"backend": "none"}}}, "cannot use backend none"),
    ],
)
def test_config_rejects(fields, message):
    with pytest.raises(ValueError, match=message):
        RetranslationConfig(**fields)


def test_backend_none_builds_no_round_trip():
    assert build_round_trip(RetranslationConfig(backend="none", pivots=[])) is None


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(ConfigError, match="did you mean 'bergamot'.*known: apertium, bergamot, ctranslate2, transformers"):
        build_round_trip(RetranslationConfig(backend="bergamott"))


def test_unknown_backend_option_is_a_config_error_listing_the_options():
    with pytest.raises(ConfigError, match=r"thread: unknown option \(options: threads, postprocess\)"):
        build_round_trip(RetranslationConfig(options={"thread": 2}))


def test_bergamot_refuses_a_pair_it_has_no_model_for():
    with pytest.raises(ModelError, match="bergamot has models for en-pt, pt-en only, not en-es"):
        build_round_trip(RetranslationConfig(pivots=["es"]))


def test_plugin_by_import_path_gets_its_options_and_hops_share_one_instance():
    rt = build_round_trip(RetranslationConfig(backend=PLUGIN, options={"version": "7"}))
    assert [s.translator.version for s in rt.stages] == ["7", "7"]
    assert rt.stages[0].translator is rt.stages[1].translator
    assert "recording" not in TRANSLATORS.builtin_names()


def test_plugin_by_entry_point_in_the_harness_translators_group(monkeypatch):
    from importlib.metadata import EntryPoint

    import harness.registry

    plugin = EntryPoint("recording", PLUGIN, "harness.translators")
    monkeypatch.setattr(harness.registry, "entry_points", lambda group: [plugin] if group == "harness.translators" else [])
    rt = build_round_trip(RetranslationConfig(backend="recording"))
    assert isinstance(rt.stages[0].translator, RecordingTranslator)
    assert "recording" in TRANSLATORS.names()


def test_plugin_that_is_not_a_translator_is_refused():
    with pytest.raises(ConfigError, match="lacks name / fingerprint"):
        build_translator("tests.conftest_translate:NotATranslator", {})
    with pytest.raises(ConfigError, match="standard library"):
        build_translator("collections:OrderedDict", {})


def test_plugin_rejecting_its_options_is_a_config_error():
    with pytest.raises(ConfigError, match="rejected its options"):
        build_translator(PLUGIN, {"no_such_option": 1})


# -- sentences --------------------------------------------------------------------


def test_splitter_keeps_abbreviations_and_amounts_inside_sentences():
    text = "The U.S. gave $44.5 billion to Ukraine. Mr. Smith met them at 5 p.m. on Monday. Then they left."
    assert [s.strip() for s in split_sentences(text, "en")] == [
        "The U.S. gave $44.5 billion to Ukraine.",
        "Mr. Smith met them at 5 p.m. on Monday.",
        "Then they left.",
    ]


def test_a_lowercase_start_continues_the_previous_sentence():
    # Spun text: "You.S." ends nothing; pysbd alone would split after it.
    text = "We provided over $44 billion You.S. regarding defense assistance. Next one."
    assert [s.strip() for s in split_sentences(text, "en")] == [
        "We provided over $44 billion You.S. regarding defense assistance.",
        "Next one.",
    ]


def test_segments_record_the_spacing_between_sentences():
    split = segment_text("  One here.  Two there!\n\nThree.  ", "en")
    assert [s.text for s in split.segments] == ["One here.", "Two there!", "Three."]
    assert [s.before for s in split.segments] == ["  ", "  ", "\n\n"]
    assert split.trailing == "  "
    assert split.join(["Um.", "Dois!", "Três."]) == "  Um.  Dois!\n\nTrês.  "


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list("ab U.S$4,?!\n\t.'\"") + ["Mr.", " e.g. ", "44.5", " Yes"]), max_size=40).map("".join))
def test_split_sentences_rejoins_to_the_exact_text(text):
    assert "".join(split_sentences(text, "en")) == text
    split = segment_text(text, "en")
    assert split.join([s.text for s in split.segments]) == text


# -- the round trip -----------------------------------------------------------------


def test_every_sentence_of_every_text_goes_in_one_call_per_hop():
    rt, fake = round_trip()
    results = rt.run(["First one here. Second one here.", "Third one here."])
    assert [(src, tgt, len(texts)) for src, tgt, texts in fake.calls] == [("en", "pt", 3), ("pt", "en", 3)]
    assert [r.sentences for r in results] == [2, 1]


def test_hops_keep_the_pivot_text_and_the_source_spacing():
    rt, _ = round_trip()
    (result,) = rt.run(["  First one here.\n\nSecond one here.  "])
    assert [(h.src, h.tgt) for h in result.hops] == [("en", "pt"), ("pt", "en")]
    assert result.hops[0].text == "  <pt>First one here.\n\n<pt>Second one here.  "
    assert result.text == result.hops[-1].text == "  <en><pt>First one here.\n\n<en><pt>Second one here.  "


def test_split_none_translates_each_text_whole():
    rt, fake = round_trip(split="none")
    (result,) = rt.run(["First one here. Second one here.\n"])
    assert fake.calls[0][2] == ["First one here. Second one here."]
    assert result.text == "<en><pt>First one here. Second one here.\n"
    assert result.sentences == 1


def test_repeated_sentences_are_translated_once_and_empty_texts_not_at_all():
    rt, fake = round_trip()
    results = rt.run(["Same sentence here.", "Same sentence here. – ", "", "   "])
    assert fake.calls[0][2] == ["Same sentence here."]
    assert results[1].text == "<en><pt>Same sentence here. – "  # a lone dash is copied, not translated
    assert results[2].text == "" and results[2].hops[0].text == "" and results[2].sentences == 0
    assert results[3].text == "   "


def test_a_dropped_sentence_is_reported_with_its_hop_and_ratio():
    rt, _ = round_trip(RecordingTranslator(tag_mode=False, drop="commanders"))
    (result,) = rt.run(["Thanks. More help can flow into the hands of Ukrainian commanders."])
    assert result.length_flags == 1
    (warning,) = result.warnings
    assert warning.startswith("sentence 2 en->pt length ratio 0.31 outside [0.5, 2]: \"More help can flow")


def test_a_short_sentence_is_flagged_only_when_its_length_changed_by_more_than_the_slack():
    rt, _ = round_trip(RecordingTranslator(tag_mode=False, drop="Thanks"))
    (result,) = rt.run(["Thanks. Here is a long enough sentence."])
    assert result.warnings == []  # "Thanks." -> "Th": ratio 0.29 but only 5 characters lost

    class Hallucinating(RecordingTranslator):
        def translate_batch(self, texts, src, tgt):
            return ["Obrigado por enviar uma edição." if t == "Thank you." else t for t in texts]

    rt, _ = round_trip(Hallucinating())
    (result,) = rt.run(["Thank you."])
    assert result.length_flags == 1
    assert result.warnings[0].startswith('sentence 1 en->pt length ratio 3.10 outside [0.5, 2]: "Thank you."')
    rt, _ = round_trip(RecordingTranslator(tag_mode=False, drop="Hi"))
    (result,) = rt.run(["Hi"])  # an empty output is always flagged
    assert result.length_flags == 1 and "en->pt length ratio 0.00" in result.warnings[0]


def test_an_over_long_sentence_is_split_at_clauses_and_reported_not_cut():
    fake = RecordingTranslator(limit=6)
    rt, _ = round_trip(fake)
    sentence = "We trust Ukraine, we provide help to them, and we urge Congress now."
    (result,) = rt.run([sentence])
    assert all(len(t.split()) <= 6 for t in fake.calls[0][2])
    assert " ".join(fake.calls[0][2]) == sentence  # every word is sent
    assert result.translation_notes == 2  # once per hop
    assert "tokens exceed the model's 6-token input; translated in 3 parts split at clause boundaries" in result.warnings[0]


def test_a_clause_still_too_long_is_split_between_words():
    fake = RecordingTranslator(limit=4)
    rt, _ = round_trip(fake)
    (result,) = rt.run(["one two three four five six seven eight nine ten"])
    assert fake.calls[0][2] == ["one two three four", "five six seven eight", "nine ten"]
    assert "split at clause and word boundaries" in result.warnings[0]


def test_progress_adds_up_to_the_number_of_texts():
    rt, _ = round_trip(pivots=["pt", "es"])
    steps: list[int] = []
    rt.run(["A sentence here.", "Another one here.", "And one more here."], progress=steps.append)
    assert sum(steps) == 3 and len(steps) == 3


def test_a_backend_returning_the_wrong_count_is_a_model_error():
    class Short(RecordingTranslator):
        def translate_batch(self, texts, src, tgt):
            return texts[:-1]

    rt, _ = round_trip(Short())
    with pytest.raises(ModelError, match="returned 1 results for 2 texts"):
        rt.run(["One sentence here. Two sentences here."])


def test_fingerprint_changes_with_everything_that_changes_the_output():
    base = round_trip()[0].fingerprint()
    assert round_trip()[0].fingerprint() == base
    assert round_trip(RecordingTranslator(version="2"))[0].fingerprint() != base
    assert round_trip(pivots=["es"])[0].fingerprint() != base
    assert round_trip(split="none")[0].fingerprint() != base
    assert round_trip(length_ratio=(0.4, 2.0))[0].fingerprint() != base
    assert round_trip(length_slack_chars=3)[0].fingerprint() != base


def test_describe_names_chain_backends_and_models():
    described = round_trip()[0].describe()
    assert described["chain"] == "en->pt->en" and described["backend"] == PLUGIN
    assert described["split"] == "sentences" and described["splitter"].startswith("pysbd-")
    assert [h["direction"] for h in described["hops"]] == ["en-pt", "pt-en"]
    assert described["hops"][0]["model"] == "recording-v1"
