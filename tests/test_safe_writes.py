"""No writer of the harness writes through a symbolic link (issue 17, point 6).

A link planted in an output folder (``corpus/transcript.jsonl ->
~/.bashrc``) must never get its target overwritten, truncated or appended
to: every output file is replaced (written to a temporary file and renamed
over the link), and the files a run keeps open (its lock and its results
log) are opened without following links.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
import harness.runstore as runstore
from harness.runstore import atomic_write_text

FAST = {"name": "fast", "cleaners": [], "retranslation": {"backend": "none"}, "metrics": {"use": ["chrf"]}}
PRECIOUS = "precious: must stay as it is\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def target(tmp_path) -> Path:
    """The file an attacker points links at."""
    return write(tmp_path / "victim" / "bashrc", PRECIOUS)


def plant(link: Path, target: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def test_the_shared_writer_replaces_a_link_instead_of_writing_through_it(tmp_path, target):
    link = plant(tmp_path / "out" / "report.md", target)
    atomic_write_text(link, "the report\n")
    assert target.read_text() == PRECIOUS
    assert not link.is_symlink() and link.read_text() == "the report\n"
    streamed = plant(tmp_path / "out" / "log.jsonl", target)
    with runstore.atomic_open(streamed) as handle:
        handle.write("a\n")
        handle.write("b\n")
    assert target.read_text() == PRECIOUS and streamed.read_text() == "a\nb\n" and not streamed.is_symlink()


def test_the_shared_writer_leaves_nothing_behind_when_writing_fails(tmp_path):
    path = tmp_path / "out" / "file.txt"
    with pytest.raises(RuntimeError):
        with runstore.atomic_open(path) as handle:
            handle.write("half")
            raise RuntimeError("boom")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("name", ["transcript.jsonl", "references.jsonl", "distortions.jsonl", "distort.json"])
def test_distort_force_never_writes_through_a_planted_link(tmp_path, target, name):
    source = write(tmp_path / "clean.txt", "The minister said the budget of 12 million dollars is not enough.\n")
    out = tmp_path / "corpus"
    first = CliRunner().invoke(cli, ["distort", str(source), "-o", str(out), "--rate", "0.5"])
    assert first.exit_code == 0, first.output
    (out / name).unlink()
    plant(out / name, target)
    again = CliRunner().invoke(cli, ["distort", str(source), "-o", str(out), "--rate", "0.5", "--force"])
    assert again.exit_code == 0, again.output
    assert target.read_text() == PRECIOUS
    assert not (out / name).is_symlink() and (out / name).stat().st_size > 0


def _run_folder(tmp_path: Path, runner: CliRunner) -> tuple[list[str], Path]:
    """A finished run, marked "running" again so that rerunning resumes it."""
    config = write(tmp_path / "c.yaml", json.dumps(FAST))
    transcript = write(tmp_path / "t.txt", "One sentence here.\nAnother sentence there.\n")
    refs = write(tmp_path / "r.yaml", json.dumps({"p01": ["One sentence."], "p02": ["Another sentence."]}))
    out = tmp_path / "run"
    args = ["run", "-q", "-c", str(config), "-t", str(transcript), "-r", str(refs), "-o", str(out)]
    assert runner.invoke(cli, args).exit_code == 0
    state = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({"state": "running", "signature": state["signature"]}))
    return args, out


@pytest.mark.parametrize("name", [".lock", "results.jsonl", "report.md", "results.json", "run.json"])
def test_a_resumed_run_never_writes_through_a_planted_link(tmp_path, target, name):
    runner = CliRunner()
    args, out = _run_folder(tmp_path, runner)
    (out / name).unlink()
    plant(out / name, target)
    result = runner.invoke(cli, args)
    assert target.read_text() == PRECIOUS, result.output
    if result.exit_code == 0:
        assert not (out / name).is_symlink()
    else:  # refused: one line that names the link
        assert result.exit_code == 2 and "symbolic link" in result.output, result.output


def test_a_planted_link_to_a_folder_gets_no_reports(tmp_path):
    runner = CliRunner()
    args, out = _run_folder(tmp_path, runner)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(elsewhere / "p01.md", PRECIOUS)
    for page in (out / "passages").iterdir():
        page.unlink()
    (out / "passages").rmdir()
    plant(out / "passages", elsewhere)
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in elsewhere.iterdir()) == ["p01.md"] and (elsewhere / "p01.md").read_text() == PRECIOUS
    assert (out / "passages").is_dir() and not (out / "passages").is_symlink()


def test_force_removes_planted_links_without_touching_their_targets(tmp_path, target):
    runner = CliRunner()
    args, out = _run_folder(tmp_path, runner)
    plant(out / "stray-link", target)
    assert runner.invoke(cli, [*args, "--force"]).exit_code == 0
    assert target.read_text() == PRECIOUS and not (out / "stray-link").exists()
