"""Plugin trust: a name in a config, a baseline or on the command line loads
only code that declares itself a harness plugin (issue 17, point 1).

Every attack passage below would leave a file ``pwned`` behind if the named
callable ever ran on it; each test checks that it is refused with one
``error:`` line, exit code 2, and that nothing ran.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import harness
from harness.cli import cli
from harness.errors import ConfigError
from harness.plugins import is_plugin
from harness.registry import import_plugin

FAST = {"name": "fast", "cleaners": [], "retranslation": {"backend": "none"}, "metrics": {"use": ["chrf"]}}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def attack_dataset(folder: Path) -> tuple[Path, Path, Path]:
    """A transcript whose passages are a shell command and a Python statement
    that both create ``folder/pwned``."""
    canary = folder / "pwned"
    transcript = write(folder / "t.txt", f"touch {canary}\nopen({str(canary)!r}, 'w').close()\n")
    refs = write(folder / "r.yaml", json.dumps({"p01": ["a reference"], "p02": ["another reference"]}))
    return transcript, refs, canary


def config_file(folder: Path, **changes) -> Path:
    return write(folder / "config.yaml", json.dumps({**FAST, **changes}))


def one_error_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A user's plugin module on sys.path: one marked cleaner, one unmarked,
    one imported from the standard library, and an object that claims every
    attribute."""
    folder = tmp_path / "mods"
    write(folder / "trust_mod.py",
          "import harness\n"
          "from os import system\n"
          "@harness.plugin\n"
          "def marked(text):\n    return text.upper()\n"
          "def unmarked(text):\n    return text.upper()\n"
          "class Liar:\n"
          "    def __getattr__(self, name):\n        return True\n"
          "    def __call__(self, text):\n        return text\n"
          "liar = Liar()\n"
          "@harness.plugin\n"
          "class MarkedCleaner:\n"
          "    name = 'marked-class'\n    version = '1'\n"
          "    def clean(self, text):\n        return text\n"
          "class Child(MarkedCleaner):\n    pass\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "trust_mod", raising=False)
    return "trust_mod"


# --------------------------------------------------------------------------
# The three attacks of the issue
# --------------------------------------------------------------------------

def test_a_config_naming_os_system_is_refused_and_runs_nothing(runner, tmp_path):
    transcript, refs, canary = attack_dataset(tmp_path)
    config = config_file(tmp_path, cleaners=["os:system"])
    result = runner.invoke(cli, ["run", "-c", str(config), "-t", str(transcript), "-r", str(refs),
                                 "-o", str(tmp_path / "out")])
    line = one_error_line(result)
    assert f"config {config}" in line and "'os:system'" in line and "standard library" in line
    assert not canary.exists() and not (tmp_path / "out").exists()


def test_cleaner_option_naming_builtins_exec_is_refused_and_runs_nothing(runner, tmp_path):
    transcript, refs, canary = attack_dataset(tmp_path)
    result = runner.invoke(cli, ["run", "-c", str(config_file(tmp_path)), "--cleaner", "builtins:exec",
                                 "-t", str(transcript), "-r", str(refs), "-o", str(tmp_path / "out")])
    line = one_error_line(result)
    assert "'builtins:exec'" in line and "standard library" in line
    assert not canary.exists()


def test_clean_command_refuses_a_stdlib_cleaner(runner, tmp_path):
    canary = tmp_path / "pwned"
    result = runner.invoke(cli, ["clean", "-", "--cleaner", "os:system"], input=f"touch {canary}\n")
    line = one_error_line(result)
    assert "'os:system'" in line and "standard library" in line
    assert not canary.exists()


def test_regress_refuses_a_baseline_whose_stored_config_names_os_system(runner, tmp_path):
    transcript, refs, canary = attack_dataset(tmp_path)
    baseline = tmp_path / "baseline.json"
    saved = runner.invoke(cli, ["baseline", "save", "-c", str(config_file(tmp_path, cleaners=["whitespace"])),
                                "-t", str(transcript), "-r", str(refs), "-o", str(baseline), "-q"])
    assert saved.exit_code == 0, saved.output
    data = json.loads(baseline.read_text(encoding="utf-8"))
    data["config"]["cleaners"] = ["os:system"]
    baseline.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(cli, ["regress", "-b", str(baseline), "-q"])
    line = one_error_line(result)
    assert f"baseline {baseline}" in line and "'os:system'" in line and "standard library" in line
    assert not canary.exists()


@pytest.mark.parametrize("section", [
    {"metrics": {"use": ["chrf"], "extra": ["os:system"]}},
    {"retranslation": {"backend": "subprocess:Popen"}},
], ids=["metric", "translator"])
def test_metrics_and_translators_named_by_spec_are_checked_too(runner, tmp_path, section):
    transcript, refs, canary = attack_dataset(tmp_path)
    config = config_file(tmp_path, **section)
    line = one_error_line(runner.invoke(cli, ["run", "-c", str(config), "-t", str(transcript), "-r", str(refs),
                                              "-o", str(tmp_path / "out")]))
    assert f"config {config}" in line and "standard library" in line
    assert not canary.exists()


# --------------------------------------------------------------------------
# The marker
# --------------------------------------------------------------------------

def test_only_marked_objects_of_a_user_module_load(user_module):
    assert import_plugin(f"{user_module}:marked", "cleaner")("ab") == "AB"
    assert import_plugin(f"{user_module}:MarkedCleaner", "cleaner") is not None
    assert import_plugin(f"{user_module}:Child", "cleaner") is not None  # a subclass of a plugin class
    for name, why in [("unmarked", "not marked"), ("system", "not marked"), ("liar", "not marked"),
                      ("marked.__globals__", "dunder")]:
        with pytest.raises(ConfigError, match=why):
            import_plugin(f"{user_module}:{name}", "cleaner")


def test_the_marker_cannot_be_claimed_through_getattr():
    class Liar:
        def __getattr__(self, name):
            return True

    assert not is_plugin(Liar()) and not is_plugin(print) and not is_plugin(len)
    assert is_plugin(harness.plugin(lambda text: text))


def test_an_unmarked_user_cleaner_is_refused_with_the_way_to_mark_it(runner, tmp_path, user_module):
    line = one_error_line(runner.invoke(cli, ["clean", "-", "--cleaner", f"{user_module}:unmarked"], input="x\n"))
    assert "@harness.plugin" in line


def test_a_marked_user_cleaner_runs(runner, user_module):
    result = runner.invoke(cli, ["clean", "-", "--cleaner", f"{user_module}:marked"],
                           input="quiet words\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "QUIET WORDS"
