"""Run configs: every shipped config validates; every mistake is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import CONFIG_DIR, RunConfig, config_from_dict, load_config, resolve_config_path
from harness.errors import ConfigError

SHIPPED = sorted(CONFIG_DIR.glob("*.yaml"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_config_validates(path):
    assert isinstance(load_config(path), RunConfig)


def test_the_shipped_configs_the_issue_names_exist():
    assert {"default", "apertium-es", "clean-only", "raw", "transformers-template"} <= {p.stem for p in SHIPPED}


def test_default_config_is_cleaners_plus_bergamot_round_trip_through_portuguese():
    config = load_config(None)
    assert config.retranslation.backend == "bergamot"
    assert config.retranslation.languages() == ["en", "pt", "en"]
    assert [c.name for c in config.cleaner_specs()][:1] == ["unicode"]


def test_a_shipped_config_can_be_named_without_its_path():
    assert resolve_config_path("raw") == CONFIG_DIR / "raw.yaml"


def test_an_unknown_config_name_suggests_the_closest_one():
    with pytest.raises(ConfigError, match="did you mean 'apertium-es'"):
        resolve_config_path("apertium-se")


def test_an_unknown_top_level_key_is_named_with_a_suggestion(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "name: x\nretranslaton: {backend: none}\n"))
    message = str(info.value)
    assert "unknown key 'retranslaton'" in message and "did you mean 'retranslation'" in message
    assert "\n" not in message


def test_an_unknown_nested_key_is_named_with_its_path_and_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'retranslation\.pivot'.*did you mean 'pivots'"):
        load_config(write(tmp_path, "retranslation: {backend: none, pivot: [pt]}\n"))


def test_a_wrong_type_names_the_key_and_the_value(tmp_path):
    with pytest.raises(ConfigError, match=r"chunk_size: .*integer.*'many'"):
        load_config(write(tmp_path, "chunk_size: many\n"))


def test_yaml_alias_bombs_are_refused(tmp_path):
    bomb = 'a: &a ["lol","lol"]\nb: &b [*a,*a,*a]\nc: &c [*b,*b,*b]\ndescription: *c\n'
    with pytest.raises(ConfigError, match="aliases"):
        load_config(write(tmp_path, bomb))


def test_a_config_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, "- just\n- a list\n"))


def test_invalid_yaml_gives_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"c.yaml line \d+: invalid YAML"):
        load_config(write(tmp_path, "name: x\ncleaners: [unclosed\n"))


def test_relative_input_paths_resolve_against_the_config_folder(tmp_path):
    config = config_from_dict({"transcript": "data/t.txt", "references": ["data/r.yaml"]}, base_dir=tmp_path)
    assert config.transcript == (tmp_path / "data" / "t.txt").resolve()
    assert config.references == [(tmp_path / "data" / "r.yaml").resolve()]


def test_an_empty_config_file_means_all_defaults(tmp_path):
    assert load_config(write(tmp_path, "")).name == "default"


def test_the_default_cleaner_list_is_the_cleaners_default_chain():
    from harness.cleaners import DEFAULT_CHAIN
    from harness.config import DEFAULT_CLEANERS

    assert DEFAULT_CLEANERS == DEFAULT_CHAIN
    assert load_config("default").cleaners == DEFAULT_CHAIN
