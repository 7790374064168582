"""Hostile text never reaches the terminal raw (issue 17, point 2).

Every command runs on inputs full of escape sequences (a screen clear, an
OSC window title, an OSC 8 hyperlink, a terminal reset), C1 controls, a
carriage return, bidi overrides and rich markup -- in passage texts, in a
cleaner's name, rule and error message, in config names, run-folder names,
baseline passage texts and cleaner names, cache labels and file paths -- and
its standard output and error are scanned for any such character. All of
them go through one function, :func:`harness.terminal.safe`.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap

import pytest
from click.testing import CliRunner

import harness.terminal
from harness.cli import cli

HOSTILE = ("\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\\x1bc"
           "\x9b31m\u202e\u2066[bold red]RED[/bold red]\r")
#: what must never be printed: C0 controls but tab and line feed, DEL, C1,
#: and the bidi controls (embeddings, overrides, isolates, marks)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MARKUP = "[bold red]RED[/bold red]"
#: a config name is a folder name (no "/"), so its markup has no closing tag
MARKUP_NAME = "[bold red]RED"
#: the loader refuses text that is more than 5 % control bytes (binary): real prose around it
PROSE = "The delegation met the minister and discussed the schedule of the talks in some detail. " * 4

PLUGIN = '''
import harness
from harness.cleaners.base import CleanResult, Edit

HOSTILE = {hostile!r}


@harness.plugin
def explode(text):
    raise ValueError("cannot clean " + HOSTILE)


@harness.plugin
class Shouter:
    """A cleaner whose name and rule are hostile too."""

    name = "shouter" + HOSTILE

    def clean(self, text):
        at = text.find("budget")
        if at < 0:
            return CleanResult(text, [])
        return CleanResult(text[:at] + "BUDGET" + text[at + 6:],
                           [Edit(at, at + 6, "budget", "BUDGET", "rule" + HOSTILE)])
'''


def scan(result) -> None:
    """No raw control character in what a command printed."""
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        found = RAW.search(text)
        assert found is None, f"raw U+{ord(found.group()):04X} in {name}: {text[max(0, found.start() - 60):found.end() + 60]!r}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "hostile_plugin.py").write_text(PLUGIN.format(hostile=HOSTILE), encoding="utf-8")
    sys.path.insert(0, str(root))
    (root / "transcript.txt").write_text(
        f"The budget is 44 billion dollars {HOSTILE} this year. {PROSE}\n\n"
        f"We will not send troops {HOSTILE} there. {PROSE}\n",
        encoding="utf-8")
    (root / "refs.txt").write_text(f"The budget is 44 billion dollars this year. {PROSE}\n"
                                   f"We will not send troops there. {PROSE}\n", encoding="utf-8")
    config = textwrap.dedent(f"""\
        name: "{MARKUP_NAME}"
        cleaners: [whitespace]
        retranslation: {{backend: none}}
        metrics: {{use: [chrf]}}
    """)
    (root / "config.yaml").write_text(config, encoding="utf-8")
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == "hostile_plugin"]:
        del sys.modules[name]


@pytest.fixture
def invoke(world, monkeypatch):
    monkeypatch.chdir(world)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(world / "cache"))

    def run(*args) -> object:
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        scan(result)
        return result

    return run


def test_clean_diff_explain_and_error_lines(world, invoke):
    for options in (["--diff"], ["--explain"], ["--cleaner", "hostile_plugin:Shouter", "--explain"],
                    ["--cleaner", "hostile_plugin:Shouter", "--diff"]):
        result = invoke("clean", *options, world / "transcript.txt")
        assert result.exit_code == 0, result.output
    failing = invoke("clean", "--diff", "--cleaner", "hostile_plugin:explode", world / "transcript.txt")
    assert failing.exit_code == 1 and "cannot clean ⟨U+001B⟩[2J" in failing.stderr


def test_clean_keeps_the_data_exact_in_a_pipe_and_escapes_it_on_a_terminal(world, monkeypatch):
    text = f"keep {HOSTILE} this budget. {PROSE}"
    runner = CliRunner()
    piped = runner.invoke(cli, ["clean", "--cleaners-only", "--cleaner", "hostile_plugin:Shouter", "-"], input=text)
    # the output data, exactly (a pipe, a file; the loader reads a carriage return as a line end)
    assert piped.stdout == text.replace("budget", "BUDGET").replace("\r", "\n") + "\n"
    monkeypatch.setattr(harness.terminal, "is_terminal", lambda stream=None: True)
    shown = runner.invoke(cli, ["clean", "--cleaners-only", "--cleaner", "hostile_plugin:Shouter", "-"], input=text)
    scan(shown)
    assert "⟨U+001B⟩[2J" in shown.stdout and MARKUP in shown.stdout


def test_run_summary_and_quiet_output(world, invoke):
    out = world / f"run{HOSTILE}"
    result = invoke("run", "-c", world / "config.yaml", "-t", world / "transcript.txt", "-r", world / "refs.txt",
                    "-o", out, "--cleaner", "hostile_plugin:explode", "--cleaner", "hostile_plugin:Shouter")
    assert result.exit_code == 0, result.output
    assert "2 passage(s) failed" in result.stdout and "cannot clean ⟨U+001B⟩[2J" in result.stdout
    quiet = invoke("run", "-q", "-c", world / "config.yaml", "-t", world / "transcript.txt", "-r", world / "refs.txt",
                   "-o", world / f"quiet{HOSTILE}")
    assert quiet.exit_code == 0 and quiet.stdout.startswith("cleaned: chrf ")


def test_compare_of_runs_with_hostile_names(world, invoke):
    folders = []
    folder_name = HOSTILE.replace("/", "")  # a folder name holds no "/"
    for name, extra in (("a", []), ("b", []), ("c", ["--cleaner", "hostile_plugin:Shouter"])):
        folder = world / f"{name}{folder_name}"
        result = invoke("run", "-q", "-c", world / "config.yaml", "-t", world / "transcript.txt",
                        "-r", world / "refs.txt", "-o", folder, "--force", *extra)
        assert result.exit_code == 0, result.output
        folders.append(folder)
    # the same config name in each: the systems are named by their (hostile) run folders
    shown = invoke("compare", *folders, "-o", world / "cmp")
    assert shown.exit_code == 0, shown.output
    assert "[bold red]RED[bold red]" in shown.stdout  # printed, not read as rich markup
    # a saved run's config name is data too (results.json)
    for folder, config_name in zip(folders, ("evil" + HOSTILE, MARKUP_NAME, "third")):
        results = folder / "results.json"
        data = json.loads(results.read_text(encoding="utf-8"))
        data["signature"]["config_name"] = config_name
        results.write_text(json.dumps(data), encoding="utf-8")
    shown = invoke("compare", *folders, "-o", world / "cmp")
    assert shown.exit_code == 0, shown.output
    assert MARKUP_NAME in shown.stdout and "evil⟨U+001B⟩[2J" in shown.stdout
    assert invoke("compare", *folders, "-o", world / "cmp", "-q").exit_code == 0


def test_regress_prints_baseline_data_escaped(world, invoke):
    base = world / "base.json"
    saved = invoke("baseline", "save", "-c", world / "config.yaml", "-t", world / "transcript.txt",
                   "-r", world / "refs.txt", "-o", base)
    assert saved.exit_code == 0, saved.output
    data = json.loads(base.read_text(encoding="utf-8"))
    data["signature"]["cleaners"][0]["name"] = "whitespace" + HOSTILE
    data["passages"][0]["stages"]["cleaned"]["text"] += HOSTILE
    base.write_text(json.dumps(data), encoding="utf-8")
    result = invoke("regress", "-b", base, "-q", "--no-cache")
    assert result.exit_code in (0, 1), result.output
    assert "⟨U+001B⟩" in result.stdout
    data["passages"][1]["id"] = "p02" + HOSTILE
    base.write_text(json.dumps(data), encoding="utf-8")
    refused = invoke("regress", "-b", base, "-q")
    assert refused.exit_code == 2 and refused.stderr.startswith("error: baseline")


def test_distort_and_cache_info(world, invoke):
    result = invoke("distort", world / "refs.txt", "-o", world / f"corpus{HOSTILE}", "--rate", "0.5")
    assert result.exit_code == 0, result.output
    from harness.translate.cache import CACHE_FILE, CachedTranslation, CacheKey, TranslationCache

    (world / "labels").mkdir(exist_ok=True)
    with TranslationCache(world / "labels" / CACHE_FILE) as cache:
        cache.put_many([(CacheKey("backend", "en", "pt", "text", label="model" + HOSTILE),
                         CachedTranslation("texto"))])
    info = invoke("cache", "info", "--cache-dir", world / "labels")
    assert info.exit_code == 0 and "model⟨U+001B⟩" in info.stdout


def test_errors_and_usage_errors(world, invoke):
    assert invoke("clean", f"--{HOSTILE}", "x").exit_code == 2
    assert invoke(HOSTILE).exit_code == 2
    missing = invoke("run", "-t", world / f"missing{HOSTILE}.txt")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: ")
    bad_name = world / "bad.yaml"
    bad_name.write_text('name: "x\\u001b[2J"\n', encoding="utf-8")
    refused = invoke("run", "-c", bad_name)
    assert refused.exit_code == 2 and "name" in refused.stderr
