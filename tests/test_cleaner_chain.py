"""``--cleaner X`` adds X to the chain; ``--cleaners-only`` replaces the chain
(issue 16, point 2), in ``run``, ``baseline save``, ``regress`` and ``clean``
alike (the pytest fixture: tests/test_pytest_plugin.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli

FAST = {"name": "chain", "cleaners": ["whitespace"], "retranslation": {"backend": "none"},
        "metrics": {"use": ["chrf"]}}
SENTENCES = ["The  minister said the budget is not enough .", "We will  not raise taxes this year ."]
REFERENCES = {"p01": ["The minister said the budget is not enough."], "p02": ["We will not raise taxes this year."]}

pytestmark = pytest.mark.usefixtures("private_cache")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A config with one built-in cleaner, a dataset, and a marked user cleaner ``chain_mod:shout``."""
    write(tmp_path / "mods" / "chain_mod.py",
          "import harness\n@harness.plugin\ndef shout(text):\n    return text.upper()\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    monkeypatch.delitem(sys.modules, "chain_mod", raising=False)
    config = write(tmp_path / "config.yaml", json.dumps(FAST))
    transcript = write(tmp_path / "t.txt", "\n".join(SENTENCES) + "\n")
    refs = write(tmp_path / "r.yaml", json.dumps(REFERENCES))
    return tmp_path, ["-c", str(config), "-t", str(transcript), "-r", str(refs)]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def signature_cleaners(run_dir: Path) -> list[str]:
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    return [c["name"] for c in data["signature"]["cleaners"]]


def test_run_cleaner_adds_to_the_configs_chain(project):
    folder, args = project
    result = invoke("run", "-q", *args, "--cleaner", "chain_mod:shout", "-o", folder / "added")
    assert result.exit_code == 0, result.output
    assert signature_cleaners(folder / "added") == ["whitespace", "chain_mod:shout"]


def test_run_cleaners_only_replaces_the_chain(project):
    folder, args = project
    result = invoke("run", "-q", *args, "--cleaner", "chain_mod:shout", "--cleaners-only", "-o", folder / "only")
    assert result.exit_code == 0, result.output
    assert signature_cleaners(folder / "only") == ["chain_mod:shout"]


def test_a_cleaner_already_in_the_chain_is_not_added_twice(project):
    folder, args = project
    result = invoke("run", "-q", *args, "--cleaner", "whitespace", "--cleaner", "chain_mod:shout",
                    "-o", folder / "again")
    assert result.exit_code == 0, result.output
    assert signature_cleaners(folder / "again") == ["whitespace", "chain_mod:shout"]


def test_cleaners_only_without_a_cleaner_is_a_usage_error(project):
    folder, args = project
    result = invoke("run", "-q", *args, "--cleaners-only", "-o", folder / "none")
    assert result.exit_code == 2 and "--cleaners-only needs at least one --cleaner" in result.output


def test_clean_adds_to_the_default_chain_unless_cleaners_only(project):
    added = CliRunner().invoke(cli, ["clean", "-", "--cleaner", "chain_mod:shout"], input="a  quiet  word\n")
    only = CliRunner().invoke(cli, ["clean", "-", "--cleaner", "chain_mod:shout", "--cleaners-only"],
                              input="a  quiet  word\n")
    assert added.exit_code == 0 and only.exit_code == 0, added.output + only.output
    assert added.stdout.strip() == "A QUIET WORD"  # the whitespace cleaner ran first
    assert only.stdout.strip() == "A  QUIET  WORD"


def test_baseline_save_and_regress_add_the_cleaner_to_the_baselines_chain(project):
    folder, args = project
    baseline = folder / "b.json"
    saved = invoke("baseline", "save", "-q", *args, "--cleaner", "chain_mod:shout", "-o", baseline)
    assert saved.exit_code == 0, saved.output
    assert json.loads(baseline.read_text(encoding="utf-8"))["config"]["cleaners"] == ["whitespace", "chain_mod:shout"]

    plain = folder / "plain.json"
    assert invoke("baseline", "save", "-q", *args, "-o", plain).exit_code == 0
    rerun = invoke("regress", "-q", "-b", plain, "--cleaner", "chain_mod:shout", "--out", folder / "rerun")
    assert rerun.exit_code in (0, 1), rerun.output
    assert signature_cleaners(folder / "rerun") == ["whitespace", "chain_mod:shout"]
    only = invoke("regress", "-q", "-b", plain, "--cleaner", "chain_mod:shout", "--cleaners-only",
                  "--out", folder / "only")
    assert only.exit_code in (0, 1), only.output
    assert signature_cleaners(folder / "only") == ["chain_mod:shout"]
