"""The command line, through click's CliRunner: exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import COMMANDS, cli

from .test_pipeline import small_dataset

RAW_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "raw.yaml"


@pytest.fixture
def runner():
    return CliRunner()


def test_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_help_imports_no_heavy_library():
    code = ("import sys; from harness.cli import cli; "
            "from click.testing import CliRunner; CliRunner().invoke(cli, ['--help']); "
            "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'sacrebleu', 'numpy') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and "harness" in result.output


def test_run_writes_reports_and_prints_a_summary(runner, tmp_path):
    transcript, refs = small_dataset(tmp_path, 3)
    out = tmp_path / "run"
    result = runner.invoke(cli, ["run", "-c", str(RAW_CONFIG), "-t", str(transcript), "-r", str(refs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Corpus scores" in result.output and "distorted" in result.output
    assert (out / "report.md").exists() and (out / "passages" / "p03.md").exists()
    assert len(json.loads((out / "results.json").read_text())["passages"]) == 3


def test_quiet_run_prints_only_the_score_line(runner, tmp_path):
    """Issue 16: ``--quiet`` prints only the score line (the last stage's corpus scores)."""
    transcript, refs = small_dataset(tmp_path, 2)
    out = tmp_path / "run"
    result = runner.invoke(cli, ["run", "-q", "-c", "raw", "-m", "chrf", "-m", "bleu", "-t", str(transcript),
                                 "-r", str(refs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    corpus = results["corpus"]["distorted"]
    assert result.stdout == f"distorted: chrf {corpus['chrf']:.2f}, bleu {corpus['bleu']:.2f}\n"
    assert result.stderr == ""


def test_format_json_prints_scores_and_signatures_for_scripts(runner, tmp_path):
    transcript, refs = small_dataset(tmp_path, 2)
    out = tmp_path / "run"
    result = runner.invoke(cli, ["run", "--format", "json", "-c", "raw", "-m", "chrf", "-m", "ter",
                                 "-t", str(transcript), "-r", str(refs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert result.stdout.isascii()
    results = json.loads((out / "results.json").read_text())
    assert printed["corpus"] == results["corpus"] and set(printed["corpus"]["distorted"]) == {"chrf", "ter"}
    assert printed["signature"] == results["signature_string"] and printed["signature_key"] == results["signature"]["key"]
    assert printed["metric_signatures"] == results["metric_signatures"]
    assert printed["out_dir"] == str(out) and printed["passages"] == 2


def test_metric_option_chooses_the_metrics_without_a_config(runner, tmp_path):
    transcript, refs = small_dataset(tmp_path, 2)
    args = ["run", "-q", "-c", "raw", "-t", str(transcript), "-r", str(refs)]
    result = runner.invoke(cli, [*args, "-m", "bleu", "-o", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert list(json.loads((tmp_path / "a" / "results.json").read_text())["metric_signatures"]) == \
        ["bleu", "bleu.sentence"]
    unknown = runner.invoke(cli, [*args, "-m", "blue", "-o", str(tmp_path / "b")])
    assert unknown.exit_code == 2 and "error: --metric: unknown metric 'blue'; did you mean 'bleu'?" in unknown.stderr
    alone = runner.invoke(cli, [*args, "-m", "meaning", "-o", str(tmp_path / "c")])
    assert alone.exit_code == 0 and "internal error" not in alone.stderr, alone.output


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    "make_args, expected",
    [
        (lambda d, t, r: ["-t", str(d / "missing.txt"), "-r", str(r)], "no such file"),
        (lambda d, t, r: ["-t", str(_write(d / "e.txt", b"")), "-r", str(r)], "is empty"),
        (lambda d, t, r: ["-t", str(_write(d / "b.bin", bytes(range(256)) * 4)), "-r", str(r)], "binary"),
        (lambda d, t, r: ["-t", str(_write(d / "l.txt", "caf\u00e9 cr\u00e8me\n".encode("latin-1") * 9)), "-r", str(r)],
         "not valid UTF-8"),
        (lambda d, t, r: ["-t", str(t), "-r", str(_write(d / "r.yaml", b"p01: [x]\n"))], "has no reference"),
        (lambda d, t, r: ["-t", str(t), "-r", str(_write(d / "r2.yaml", b"p01: [x]\np02: [y]\np03: [z]\np09: [w]\n"))],
         "unknown passage id 'p09'"),
        (lambda d, t, r: ["-c", str(_write(d / "c.yaml", b"nmae: x\n")), "-t", str(t), "-r", str(r)],
         "unknown key 'nmae'"),
        (lambda d, t, r: ["-c", "no-such-config", "-t", str(t), "-r", str(r)], "no such file"),
        (lambda d, t, r: ["--cleaner", "nosuchpackage.mod:fn", "-t", str(t), "-r", str(r)], "nosuchpackage"),
    ],
    ids=["missing", "empty", "binary", "latin1", "missing-ref", "unknown-ref-id", "config-key", "config-name",
         "cleaner-module"],
)
def test_bad_input_is_one_error_line_and_exit_code_2(runner, tmp_path, make_args, expected):
    transcript, refs = small_dataset(tmp_path, 3)
    args = make_args(tmp_path, transcript, refs)
    if "-c" not in args:
        args = ["-c", str(RAW_CONFIG), *args]
    result = runner.invoke(cli, ["run", *args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    line = error_line(result)
    assert line.startswith("error: ") and expected in line


def test_an_existing_output_folder_needs_force(runner, tmp_path):
    transcript, refs = small_dataset(tmp_path, 2)
    args = ["run", "-q", "-c", "raw", "-t", str(transcript), "-r", str(refs), "-o", str(tmp_path / "run")]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 2 and "--force" in error_line(again)
    assert runner.invoke(cli, [*args, "--force"]).exit_code == 0


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_user_cleaner_in_the_working_directory_is_found_by_the_script(tmp_path):
    (tmp_path / "my_cleaning.py").write_text("import harness\n@harness.plugin\ndef shout(text):\n    return text.upper()\n")
    harness_script = Path(sys.executable).parent / "harness"
    if not harness_script.exists():
        pytest.skip("the harness console script is not installed next to this Python")
    result = subprocess.run([str(harness_script), "clean", "-", "--cleaner", "my_cleaning:shout"], input="quiet words\n",
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "QUIET WORDS"


def test_run_reads_the_transcript_from_standard_input(runner, tmp_path):
    """Issue 16: ``run -t -`` did not read standard input (``clean -`` did)."""
    transcript, refs = small_dataset(tmp_path, 3)
    out = tmp_path / "stdin-run"
    result = runner.invoke(cli, ["run", "-q", "-c", str(RAW_CONFIG), "-t", "-", "-r", str(refs), "-o", str(out)],
                           input=transcript.read_bytes())
    assert result.exit_code == 0, result.output
    from_file = tmp_path / "file-run"
    assert runner.invoke(cli, ["run", "-q", "-c", str(RAW_CONFIG), "-t", str(transcript), "-r", str(refs),
                               "-o", str(from_file)]).exit_code == 0
    piped, direct = (json.loads((d / "results.json").read_text()) for d in (out, from_file))
    assert piped["signature"]["key"] == direct["signature"]["key"]
    assert [p["stages"]["distorted"]["text"] for p in piped["passages"]] == \
        [p["stages"]["distorted"]["text"] for p in direct["passages"]]
    empty = runner.invoke(cli, ["run", "-q", "-c", str(RAW_CONFIG), "-t", "-", "-r", str(refs),
                                "-o", str(tmp_path / "empty")], input=b"")
    assert empty.exit_code == 2 and "transcript (standard input): is empty" in empty.stderr


@pytest.mark.parametrize("command", [["run"], ["compare"], ["baseline", "save"], ["regress"]])
def test_no_cache_help_names_both_caches(runner, command):
    """Issue 16: --no-cache also turns the passage cache off; the help did not say so."""
    shown = " ".join(runner.invoke(cli, [*command, "--help"]).output.split())
    assert "--no-cache" in shown and "translation cache" in shown and "passage cache" in shown


@pytest.mark.parametrize("command", [["run"], ["baseline", "save"]])
def test_config_help_names_the_default_config_by_name(runner, command):
    """Issue 16: the help said 'Default: configs/default.yaml', a file, where -c takes a name."""
    shown = " ".join(runner.invoke(cli, [*command, "--help"]).output.split())
    assert "Default: default (" in shown and "Default: configs/default.yaml" not in shown
