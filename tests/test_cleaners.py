"""The cleaners, specified by labelled cases (in the style of ftfy's tests) and by their API.

* every case in ``tests/cases/<cleaner>.yaml``: ``fix`` cases must come out as
  expected, ``keep`` cases unchanged, ``known-failure`` cases are expected to
  fail (strictly: one that starts passing must be relabelled);
* every entry of the spin lexicon repairs its own example and leaves its own
  real-use examples alone, even with the spin gate open;
* the chain API the pipeline uses: ``build_cleaner``, ``run_chain``, user
  functions, failures confined to a passage;
* ``harness clean`` on the command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import harness

from harness.cleaners import CLEANERS, DEFAULT_CHAIN, FunctionCleaner, build_cleaner, run_chain
from harness.cleaners.base import CleanResult
from harness.cleaners.cases import Case, check_case, load_cases
from harness.cleaners.lexicon import load_lexicon
from harness.cleaners.spans import apply_edits, compose, diff_edits
from harness.cleaners.spin import SpinCleaner
from harness.cleaners.unicode import redecode_word
from harness.commands.clean import clean as clean_command
from harness.errors import ConfigError, InputError, PassageError

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
BUILTINS = ["unicode", "whitespace", "injected", "spin", "casing"]

_cleaners: dict[str, object] = {}


def cleaner_named(name: str):
    """Built-in cleaners are built once per test session (the lexicon and models load once)."""
    if name not in _cleaners:
        _cleaners[name] = build_cleaner(name)
    return _cleaners[name]


def _all_cases() -> list:
    params = []
    for path in CASE_FILES:
        for case in load_cases(path):
            marks = []
            if case.kind == "known-failure":
                marks.append(pytest.mark.xfail(strict=True, reason=case.note or "documented limitation"))
            params.append(pytest.param(case, id=f"{path.stem}-{case.kind}-{case.source.rsplit(':', 1)[1]}", marks=marks))
    return params


# --------------------------------------------------------------------------
# Labelled cases
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", _all_cases())
def test_labelled_case(case: Case):
    outcome = check_case(cleaner_named(case.cleaner), case)
    assert outcome.actual == case.wanted, case.note


def test_every_builtin_has_all_three_kinds_of_case():
    for name in BUILTINS:
        cases = load_cases(CASES_DIR / f"{name}.yaml")
        kinds = {case.kind for case in cases}
        assert kinds == {"fix", "keep", "known-failure"}, name
    spin_cases = load_cases(CASES_DIR / "spin.yaml")
    assert sum(c.kind == "fix" for c in spin_cases) >= 8
    assert sum(c.kind == "keep" for c in spin_cases) >= 8


def test_load_cases_rejects_malformed_files(tmp_path):
    bad_kind = tmp_path / "x.yaml"
    bad_kind.write_text("- {kind: maybe, input: a}\n", encoding="utf-8")
    with pytest.raises(InputError, match="kind must be one of"):
        load_cases(bad_kind)
    no_expected = tmp_path / "y.yaml"
    no_expected.write_text("cleaner: spin\ncases:\n  - {kind: fix, input: a}\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs 'expected'"):
        load_cases(no_expected)
    with pytest.raises(InputError, match="cannot read"):
        load_cases(tmp_path / "missing.yaml")


def test_check_case_accepts_a_plain_function(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("- {kind: fix, input: 'a  b', expected: 'a b'}\n- {kind: keep, input: 'c d'}\n", encoding="utf-8")
    cases = load_cases(path)
    assert cases[0].cleaner == "mine"
    squeeze = lambda text: " ".join(text.split())  # noqa: E731
    assert [check_case(squeeze, case).passed for case in cases] == [True, True]


# --------------------------------------------------------------------------
# The spin lexicon: every entry has an example, and it works
# --------------------------------------------------------------------------

LEXICON = load_lexicon()


@pytest.mark.parametrize("rule", LEXICON.rules, ids=[r.id for r in LEXICON.rules])
def test_lexicon_entry_repairs_its_example(rule):
    spun, original = rule.example
    result = cleaner_named("spin").clean(spun)
    assert result.text == original
    assert rule.id in {part for edit in result.edits for part in edit.rule.split("+")}


@pytest.mark.parametrize("rule", [r for r in LEXICON.rules if r.keep], ids=[r.id for r in LEXICON.rules if r.keep])
def test_lexicon_entry_keeps_real_uses_even_with_the_gate_open(rule):
    ungated = SpinCleaner(gate=False)
    for sentence in rule.keep:
        assert ungated.clean(sentence).text == sentence


def test_gated_entries_need_a_signature():
    spin = cleaner_named("spin")
    real = "The challenges that individuals face are real, otherwise nobody would ask."
    assert spin.signatures(real) == []
    assert spin.clean(real).text == real
    spun = real + " We met Ukraine and you can Georgia."
    assert "that we face" in spin.clean(spun).text


def test_lexicon_ids_are_unique_and_documented():
    ids = [r.id for r in LEXICON.rules]
    assert len(ids) == len(set(ids))
    assert all(r.spun and r.original for r in LEXICON.rules)


def test_spin_version_follows_the_lexicon(tmp_path):
    bundled = SpinCleaner()
    copy = tmp_path / "lexicon.yaml"
    copy.write_text(Path(bundled.lexicon.path).read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert SpinCleaner(lexicon=copy).version != bundled.version


def test_a_broken_lexicon_is_a_config_error(tmp_path):
    broken = tmp_path / "lexicon.yaml"
    broken.write_text("entries:\n  - id: x\n    pattern: '(unclosed'\n    replace: ''\n"
                      "    example: {spun: a, original: b}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid pattern"):
        SpinCleaner(lexicon=broken)


# --------------------------------------------------------------------------
# Edits: spans index each cleaner's input, and explain the whole change
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_edits_rebuild_the_output(name):
    text = ("AMBASSADOR SMITH: So we, the united states, i’ve  provided $44 billion You.S. so that more "
            "Rusya kadД±nlar service can flow , and you may to drive them out-of their region.")
    result = cleaner_named(name).clean(text)
    assert apply_edits(text, result.edits) == result.text
    for edit in result.edits:
        assert text[edit.start:edit.end] == edit.before


def test_diff_edits_and_compose_rebuild_texts():
    a, b, c = "the fresh new  plan , and you may to go", "the fresh new plan, and to go", "the plan, and to go"
    first = CleanResult(b, diff_edits(a, b, "one"))
    second = CleanResult(c, diff_edits(b, c, "two"))
    assert apply_edits(a, first.edits) == b
    composed = compose(a, first, second)
    assert apply_edits(a, composed.edits) == c
    assert all(a[e.start:e.end] == e.before for e in composed.edits)


def test_redecode_needs_clear_evidence():
    assert redecode_word("kadД±nlar") == ("kadınlar", "cp1251")
    assert redecode_word("Київ") is None  # good Cyrillic
    assert redecode_word("crème") is None  # good Latin


# --------------------------------------------------------------------------
# Registry, user cleaners and the chain
# --------------------------------------------------------------------------

@harness.plugin
def shout(text: str) -> str:
    """A user's cleaner: upper-cases the word 'nato'."""
    return text.replace("nato", "NATO")


@harness.plugin
def returns_a_number(text: str):
    return 42


@harness.plugin
def explodes(text: str) -> str:
    raise ValueError("boom on purpose")


@harness.plugin
class Prefixer:
    """A user's cleaner class with options."""

    name = "prefixer"
    version = "7"

    def __init__(self, prefix: str = "> "):
        self.prefix = prefix

    def clean(self, text: str) -> CleanResult:
        return CleanResult(self.prefix + text, [])


@harness.plugin
def make_prefixer():
    """A factory: no required argument, returns an object with clean()."""
    return Prefixer("# ")


def test_registry_knows_the_builtins_and_the_default_chain():
    assert set(BUILTINS) <= set(CLEANERS.names())
    assert DEFAULT_CHAIN == ["unicode", "whitespace", "injected", "spin", "casing"]
    for name in BUILTINS:
        cleaner = build_cleaner(name)
        assert cleaner.name == name and isinstance(cleaner.version, str) and cleaner.version


def test_user_function_by_import_path():
    cleaner = build_cleaner("tests.test_cleaners:shout")
    assert isinstance(cleaner, FunctionCleaner)
    result = cleaner.clean("the nato summit")
    assert result.text == "the NATO summit"
    assert [(e.before, e.after, e.rule) for e in result.edits] == [("nato", "NATO", "tests.test_cleaners:shout")]


def test_function_version_is_a_hash_of_its_source():
    assert FunctionCleaner("a", shout).version == FunctionCleaner("b", shout).version
    assert FunctionCleaner("a", shout).version != FunctionCleaner("a", explodes).version


def test_user_class_and_factory_are_used_as_they_are():
    assert build_cleaner("tests.test_cleaners:Prefixer", {"prefix": "* "}).clean("x").text == "* x"
    assert build_cleaner("tests.test_cleaners:make_prefixer").clean("x").text == "# x"


def test_unknown_cleaner_and_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="unknown cleaner"):
        build_cleaner("spinn")
    with pytest.raises(ConfigError, match="bad options"):
        build_cleaner("spin", {"no_such_option": 1})
    with pytest.raises(ConfigError, match="takes no options"):
        build_cleaner("tests.test_cleaners:shout", {"x": 1})


def test_run_chain_reports_edits_per_cleaner():
    chain = [build_cleaner("whitespace"), build_cleaner("tests.test_cleaners:shout")]
    text, edits = run_chain(chain, "the  nato summit")
    assert text == "the NATO summit"
    assert edits == [
        {"cleaner": "whitespace", "start": 3, "end": 5, "before": "  ", "after": " ", "rule": "spaces"},
        {"cleaner": "tests.test_cleaners:shout", "start": 4, "end": 8, "before": "nato", "after": "NATO",
         "rule": "tests.test_cleaners:shout"},
    ]


def test_a_failing_cleaner_fails_only_its_passage():
    chain = [build_cleaner("tests.test_cleaners:explodes")]
    with pytest.raises(PassageError, match="boom on purpose") as info:
        run_chain(chain, "text")
    assert "Traceback" in info.value.detail
    with pytest.raises(PassageError, match="returned int, not str"):
        run_chain([build_cleaner("tests.test_cleaners:returns_a_number")], "text")


# --------------------------------------------------------------------------
# harness clean
# --------------------------------------------------------------------------

SPUN = "We met the usa and you may Georgia.\nThe  talks  went well.\n"


def test_clean_command_prints_cleaned_text(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(SPUN, encoding="utf-8")
    result = CliRunner().invoke(clean_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == "We met the U.S. and Georgia.\nThe talks went well.\n"


def test_clean_command_explain_and_diff(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(SPUN, encoding="utf-8")
    explained = CliRunner().invoke(clean_command, [str(path), "--explain"])
    assert explained.exit_code == 0
    assert "spin" in explained.output and "and-you-may" in explained.output and "'and you may ' -> 'and '" in explained.output
    diffed = CliRunner().invoke(clean_command, [str(path), "--diff"])
    assert diffed.exit_code == 0
    assert "[-you may -]" in diffed.output and "{+U.S.+}" in diffed.output


def test_clean_explain_columns_fit_a_long_cleaner_name(tmp_path):
    """Issue 16: with a plugin cleaner (a long ``package.module:name``) the
    columns spilled over: every column now starts at the same place."""
    path = tmp_path / "in.txt"
    path.write_text("a  nato b , and the un\n", encoding="utf-8")
    result = CliRunner().invoke(clean_command, [str(path), "--explain", "--cleaner", "tests.test_cleaners:shout"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("  ")]
    assert any("tests.test_cleaners:shout" in row for row in rows) and len(rows) >= 2
    before_column = {row.index("'") for row in rows}
    rule_column = {len(row) - len(row[2:].split("  ", 1)[1].lstrip()) for row in rows}
    assert len(before_column) == 1 and len(rule_column) == 1, result.output


def test_clean_command_reads_stdin_and_runs_user_cleaners():
    result = CliRunner().invoke(clean_command, ["-", "--cleaner", "tests.test_cleaners:shout"], input="a nato b\n")
    assert result.exit_code == 0
    assert result.output == "a NATO b\n"


def test_clean_command_goes_on_after_a_failing_passage(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("one\ntwo\n", encoding="utf-8")
    result = CliRunner().invoke(clean_command, [str(path), "--cleaner", "tests.test_cleaners:explodes"])
    assert result.exit_code == 1
    assert "passage p01" in result.output and "passage p02" in result.output


def test_clean_command_errors_are_harness_errors(tmp_path):
    missing = CliRunner().invoke(clean_command, [str(tmp_path / "nope.txt")])
    assert isinstance(missing.exception, InputError)
    unknown = CliRunner().invoke(clean_command, ["-", "--cleaner", "nope"], input="x\n")
    assert isinstance(unknown.exception, ConfigError)
