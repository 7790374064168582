"""Reliability through the command line: every class of bad input is one clear
``error:`` line and exit code 2, or a per-passage error while the run goes on;
a full disk or a read-only folder never costs finished passages.

Each test runs ``harness run`` in-process with click's CliRunner and a fast
config (no cleaners unless the case needs one, no retranslation, sacrebleu
metrics only). The checklist in docs/failure-behaviour.md maps every case of
issue 11 to its test here (or in tests/test_cli.py, tests/test_loading.py and
tests/test_config.py, which cover the cases they already had).

Interruption by signals and two concurrent runs need real processes: they are
in tests/test_reliability_processes.py.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import harness.runstore as runstore
from harness.cli import cli
from harness.runstore import RunStore

#: no cleaners, no retranslation, metrics that need no model: a run takes well under a second
FAST = {"name": "fast", "cleaners": [], "retranslation": {"backend": "none"},
        "metrics": {"use": ["chrf", "bleu", "ter"]}}

SENTENCES = [
    "The fresh new minister said the budget of 12 million dollars is not enough.",
    "We are not going to raise taxes this year, and the council agreed.",
    "QUESTION: Will the bridge open in 2025 or later?",
    "Individuals trust the program will help 300 families in the region.",
    "The talks did not fail; they were postponed until Tuesday.",
    "Officials confirmed the port will reopen on Monday after repairs.",
]
REFERENCES = [
    ["The new minister said the 12 million dollar budget is not enough.",
     "According to the new minister, a budget of $12 million does not suffice."],
    ["We will not raise taxes this year, and the council agreed."],
    ["Will the bridge open in 2025 or later?", "Is the bridge opening in 2025, or after that?"],
    ["We believe the program will help 300 families in the region."],
    ["The talks did not fail; they were postponed until Tuesday."],
    ["Officials confirmed that the port reopens on Monday after repairs."],
]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def config_file(folder: Path, **changes) -> Path:
    """The fast config with ``changes``, as a YAML file (JSON is YAML)."""
    return write(folder / "config.yaml", json.dumps({**FAST, **changes}))


def dataset(folder: Path, n: int = 3) -> tuple[Path, Path]:
    transcript = write(folder / "t.txt", "\n".join(SENTENCES[:n]) + "\n")
    refs = write(folder / "r.yaml", json.dumps({f"p{i:02d}": REFERENCES[i - 1] for i in range(1, n + 1)}))
    return transcript, refs


def run(runner: CliRunner, folder: Path, *args: str, config: Path | None = None, out: Path | None = None):
    """``harness run`` with the fast config (unless ``-c`` is in ``args``) into ``folder/out``."""
    argv = ["run", *args]
    if "-c" not in args:
        argv[1:1] = ["-c", str(config or config_file(folder))]
    if "-o" not in args:
        argv += ["-o", str(out or folder / "out")]
    return runner.invoke(cli, argv)


def error_line(result) -> str:
    """The one line a user error prints: exit code 2, ``error: ...``, no traceback, no raw escapes."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output and "\x1b" not in result.output
    return lines[0]


def flat(text: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(text.split())


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def jsonl_records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def report_files(out: Path) -> list[Path]:
    return [out / "report.md", out / "report.html", *sorted((out / "passages").glob("*.md"))]


# --------------------------------------------------------------------------
# Input files: encodings, line ends, sizes, odd characters
# --------------------------------------------------------------------------

def test_an_empty_reference_file_is_refused(runner, tmp_path):
    transcript, _ = dataset(tmp_path)
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(write(tmp_path / "r.yaml", b""))))
    assert "r.yaml: is empty" in line


def test_a_binary_reference_file_is_refused(runner, tmp_path):
    transcript, _ = dataset(tmp_path)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(write(tmp_path / "ref.0.txt", png))))
    assert "binary" in line and "ref.0.txt" in line


def test_a_non_utf8_transcript_says_which_encoding_it_looks_like(runner, tmp_path):
    _, refs = dataset(tmp_path)
    russian = "Министр сказал, что бюджет недостаточен.\nМы не будем повышать налоги.\nМост откроется в 2025 году.\n"
    transcript = write(tmp_path / "t.txt", russian.encode("cp1251"))
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "is not valid UTF-8" in line
    assert "looks like" in line and ("1251" in line or "cyrillic" in line.lower())
    assert "iconv -f" in line


def test_a_utf16_transcript_is_named_as_such(runner, tmp_path):
    _, refs = dataset(tmp_path)
    transcript = write(tmp_path / "t.txt", "\n".join(SENTENCES[:3]).encode("utf-16"))
    assert "looks like UTF-16" in error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))


def test_a_utf8_bom_is_accepted_in_transcripts_and_references(runner, tmp_path):
    plain_t, plain_r = dataset(tmp_path / "plain")
    bom = b"\xef\xbb\xbf"
    transcript = write(tmp_path / "bom" / "t.txt", bom + plain_t.read_bytes())
    refs = write(tmp_path / "bom" / "r.yaml", bom + plain_r.read_bytes())
    with_bom = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), out=tmp_path / "bom-run")
    without = run(runner, tmp_path, "-t", str(plain_t), "-r", str(plain_r), out=tmp_path / "plain-run")
    assert with_bom.exit_code == 0 and without.exit_code == 0, with_bom.output
    a, b = results(tmp_path / "bom-run"), results(tmp_path / "plain-run")
    assert not a["passages"][0]["stages"]["distorted"]["text"].startswith("\ufeff")
    assert a["signature"]["transcript_sha256"] == b["signature"]["transcript_sha256"]
    assert a["passages"] == b["passages"]


def test_a_utf8_bom_is_accepted_in_jsonl_files(runner, tmp_path):
    lines = [json.dumps({"id": f"p{i}", "text": s}) for i, s in enumerate(SENTENCES[:2], 1)]
    refs = [json.dumps({"id": f"p{i}", "references": r}) for i, r in enumerate(REFERENCES[:2], 1)]
    transcript = write(tmp_path / "t.jsonl", "\ufeff" + "\n".join(lines) + "\n")
    references = write(tmp_path / "r.jsonl", "\ufeff" + "\n".join(refs) + "\n")
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(references))
    assert result.exit_code == 0, result.output
    assert [p["id"] for p in results(tmp_path / "out")["passages"]] == ["p1", "p2"]


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_crlf_and_cr_line_ends_are_accepted(runner, tmp_path, newline):
    plain_t, plain_r = dataset(tmp_path / "plain", 4)
    text = plain_t.read_text(encoding="utf-8").replace("\n", newline)
    transcript = write(tmp_path / "t.txt", text.encode("utf-8"))
    refs = write(tmp_path / "r.yaml", plain_r.read_text(encoding="utf-8").replace("\n", newline).encode())
    lines_ref = write(tmp_path / "ref.0.txt", newline.join(r[0] for r in REFERENCES[:4]) + newline)
    for args, out in [(["-r", str(refs)], "yaml"), (["-r", str(lines_ref)], "lines")]:
        result = run(runner, tmp_path, "-t", str(transcript), *args, out=tmp_path / out)
        assert result.exit_code == 0, result.output
        passages = results(tmp_path / out)["passages"]
        assert [p["id"] for p in passages] == ["p01", "p02", "p03", "p04"]
        assert not any("\r" in p["stages"]["distorted"]["text"] for p in passages)
    run(runner, tmp_path, "-t", str(plain_t), "-r", str(plain_r), out=tmp_path / "lf")
    assert results(tmp_path / "yaml")["signature"]["transcript_sha256"] == \
        results(tmp_path / "lf")["signature"]["transcript_sha256"]


def test_a_5_mb_single_line_is_refused_with_its_size(runner, tmp_path):
    _, refs = dataset(tmp_path)
    transcript = write(tmp_path / "huge.txt", "word " * 1_000_000)
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "passage p01 is 4,999,999 characters long (limit 100,000)" in line
    assert "one per line" in line


def test_a_nul_byte_is_refused_with_its_offset(runner, tmp_path):
    _, refs = dataset(tmp_path)
    transcript = write(tmp_path / "t.txt", b"One passage.\nAnother with a \x00 in it.\nThird.\n")
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "NUL byte at offset 28" in line


def test_control_characters_are_kept_as_data_but_never_reach_the_terminal_or_reports_raw(runner, tmp_path):
    """Decision: a few C0 controls (an ANSI colour code, a bell, a backspace)
    are data, scored as they are; reports show them as marks; terminal output
    never contains them. (Many of them make the file binary: refused.)"""
    _, refs = dataset(tmp_path)
    evil = "The fresh \x1b[31mnew\x1b[0m minister\x07 said the budget\x08 of 12 million dollars is not enough."
    transcript = write(tmp_path / "t.txt", "\n".join([evil, *SENTENCES[1:3]]) + "\n")
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    out = tmp_path / "out"
    assert results(out)["passages"][0]["stages"]["distorted"]["text"] == evil
    for path in report_files(out):
        text = path.read_text(encoding="utf-8")
        assert not any(c in text for c in "\x1b\x07\x08"), path
    page = (out / "passages" / "p01.md").read_text(encoding="utf-8")
    assert "⟨U+001B⟩" in page and "⟨U+0007⟩" in page and "⟨U+0008⟩" in page
    assert "⟨U+001B⟩" in (out / "report.html").read_text(encoding="utf-8")


def test_control_characters_in_an_error_line_are_shown_as_marks(runner, tmp_path):
    _, refs = dataset(tmp_path)
    line = error_line(run(runner, tmp_path, "-t", str(tmp_path / "evil\x1b[2Jname.txt"), "-r", str(refs)))
    assert "evil⟨U+001B⟩[2Jname.txt: no such file" in line


def test_bidi_overrides_and_zero_width_characters_show_as_marks_in_every_report(runner, tmp_path):
    _, refs = dataset(tmp_path)
    sneaky = "The budget is \u202e000,000,21\u202c dollars and\u200b not\u200d enough\ufeff."
    transcript = write(tmp_path / "t.txt", "\n".join([sneaky, *SENTENCES[1:3]]) + "\n")
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs))
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert results(out)["passages"][0]["stages"]["distorted"]["text"] == sneaky
    for path in (out / "passages" / "p01.md", out / "report.html"):
        text = path.read_text(encoding="utf-8")
        for mark in ("⟨U+202E⟩", "⟨U+202C⟩", "⟨U+200B⟩", "⟨U+200D⟩", "⟨U+FEFF⟩"):
            assert mark in text, (path.name, mark)
    for path in report_files(out):
        text = path.read_text(encoding="utf-8")
        assert not any(c in text for c in "\u202e\u202c\u200b\u200d\ufeff"), path


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("t.jsonl", '{"id": "p01", "text": "Half a pair \\ud800 here."}\n', "line 1: has an unpaired surrogate escape \\ud800"),
        ("r.jsonl", '{"id": "p01", "references": ["ok"]}\n{"id": "p02", "references": ["bad \\udfff"]}\n',
         "line 2: has an unpaired surrogate escape \\udfff"),
        ("r.yaml", 'p01: [ok]\np02: ["bad \\ud83d"]\n', "line 2: an unpaired surrogate escape is not a character"),
        ("c.yaml", 'name: "run\\udc80"\n', "line 1: an unpaired surrogate escape is not a character"),
    ],
    ids=["transcript-jsonl", "references-jsonl", "references-yaml", "config"],
)
def test_an_escaped_unpaired_surrogate_is_refused(runner, tmp_path, name, content, expected):
    """Regression: JSON and YAML can escape half a UTF-16 pair; it is no
    character, could never be written to a UTF-8 file, and crashed the run
    with an internal UnicodeEncodeError. (A proper pair, \\ud83d\\ude00, is fine.)"""
    transcript, refs = dataset(tmp_path, 2)
    path = write(tmp_path / "bad" / name, content)
    args = {"t": ["-t", str(path), "-r", str(refs)], "r": ["-t", str(transcript), "-r", str(path)],
            "c": ["-c", str(path), "-t", str(transcript), "-r", str(refs)]}[name[0]]
    if name.startswith("t."):
        write(path.parent / "r.jsonl", '{"id": "p01", "references": ["Half a pair here."]}\n')
        args[-1] = str(path.parent / "r.jsonl")
    line = error_line(run(runner, tmp_path, *args))
    assert expected in line and name in line


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("t.jsonl", '{"id": "p01", "text": ' + "[" * 100_000 + "}\n", "line 1: JSON nested too deeply"),
        ("r.yaml", "p01: " + "[" * 5_000 + "\n", "invalid YAML (nested too deeply)"),
        ("c.yaml", "name: x\ncleaners: " + "[" * 5_000 + "\n", "invalid YAML (nested too deeply)"),
    ],
    ids=["transcript-jsonl", "references-yaml", "config"],
)
def test_absurdly_nested_json_or_yaml_is_refused(runner, tmp_path, name, content, expected):
    """Regression (found while writing the fuzz tests): thousands of '[' made json and PyYAML
    raise RecursionError, an internal error instead of one line."""
    transcript, refs = dataset(tmp_path, 2)
    path = write(tmp_path / "bad" / name, content)
    args = {"t": ["-t", str(path), "-r", str(refs)], "r": ["-t", str(transcript), "-r", str(path)],
            "c": ["-c", str(path), "-t", str(transcript), "-r", str(refs)]}[name[0]]
    line = error_line(run(runner, tmp_path, *args))
    assert expected in line and name in line


def test_an_escaped_surrogate_pair_is_one_character(runner, tmp_path):
    transcript = write(tmp_path / "t.jsonl", '{"id": "p01", "text": "Smile \\ud83d\\ude00 please."}\n')
    refs = write(tmp_path / "r.jsonl", '{"id": "p01", "references": ["Smile please."]}\n')
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)).exit_code == 0
    assert results(tmp_path / "out")["passages"][0]["stages"]["distorted"]["text"] == "Smile \U0001F600 please."


# --------------------------------------------------------------------------
# References: misaligned, duplicated, uneven
# --------------------------------------------------------------------------

def test_a_line_reference_file_with_too_few_lines_is_refused(runner, tmp_path):
    transcript, _ = dataset(tmp_path, 3)
    ref = write(tmp_path / "ref.0.txt", "\n".join(r[0] for r in REFERENCES[:2]) + "\n")
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(ref)))
    assert "has 2 lines but the transcript has 3 passages" in line


def test_a_jsonl_reference_for_an_id_the_transcript_lacks_is_refused(runner, tmp_path):
    transcript, _ = dataset(tmp_path, 2)
    refs = write(tmp_path / "r.jsonl", "".join(json.dumps({"id": pid, "references": ["x"]}) + "\n"
                                               for pid in ("p01", "p02", "p7")))
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "unknown passage id 'p7'" in line and "p01..p02" in line


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("t.jsonl", '{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n{"id": "a", "text": "Three."}\n',
         "line 3: duplicate id 'a' (first on line 1)"),
        ("r.jsonl", '{"id": "p01", "references": ["x"]}\n{"id": "p01", "references": ["y"]}\n',
         "line 2: duplicate id 'p01'"),
        ("r.yaml", "p01: [x]\np02: [y]\np01: [z]\n", "line 3: duplicate key 'p01' (first on line 1)"),
        # issue 17: an integer key and the same digits quoted were merged, the first list silently lost
        ("r.yaml", "1: [x]\n'1': [y]\n", "line 2: duplicate key '1' (first on line 1)"),
        ("r.yaml", '"1": [x]\n1: [y]\n', "line 2: duplicate key 1 (first on line 1)"),
    ],
    ids=["transcript-jsonl", "references-jsonl", "references-yaml", "references-yaml-int-then-str",
         "references-yaml-str-then-int"],
)
def test_duplicate_ids_are_refused(runner, tmp_path, name, content, expected):
    transcript, refs = dataset(tmp_path, 2)
    path = write(tmp_path / "dup" / name, content)
    args = ["-t", str(path), "-r", str(refs)] if name.startswith("t.") else ["-t", str(transcript), "-r", str(path)]
    assert expected in error_line(run(runner, tmp_path, *args))


@pytest.mark.parametrize("name, content", [
    ("t.jsonl", '{"id": "nl\\n", "text": "One."}\n'),
    ("t.jsonl", '{"id": "p01\\n", "text": "One."}\n{"id": "p02", "text": "Two."}\n'),
    ("r.jsonl", '{"id": "p01\\n", "references": ["x"]}\n{"id": "p02", "references": ["y"]}\n'),
    ("r.yaml", '"p01\\n": [x]\np02: [y]\n'),
], ids=["transcript-jsonl", "transcript-jsonl-known-id", "references-jsonl", "references-yaml"])
def test_a_passage_id_ending_in_a_newline_is_refused(runner, tmp_path, name, content):
    """Issue 17: ``"nl\\n"`` passed the id check (``$`` matches before a final
    newline) and became a file name with a newline and a broken table row."""
    transcript, refs = dataset(tmp_path, 2)
    path = write(tmp_path / "ids" / name, content)
    args = ["-t", str(path), "-r", str(refs)] if name.startswith("t.") else ["-t", str(transcript), "-r", str(path)]
    line = error_line(run(runner, tmp_path, *args))
    assert "must be 1-128 letters, digits" in line
    assert not (tmp_path / "out").exists()


def test_passages_may_have_fewer_references_than_others(runner, tmp_path):
    """Two sacrebleu-style files where the second has an empty line for p02:
    p02 is scored against one reference, the others against two."""
    transcript, _ = dataset(tmp_path, 3)
    first = write(tmp_path / "ref.0.txt", "\n".join(r[0] for r in REFERENCES[:3]) + "\n")
    second = write(tmp_path / "ref.1.txt", f"{REFERENCES[0][1]}\n\n{REFERENCES[2][1]}\n")
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(first), "-r", str(second))
    assert result.exit_code == 0, result.output
    passages = results(tmp_path / "out")["passages"]
    assert [len(p["references"]) for p in passages] == [2, 1, 2]
    assert all(p["error"] is None for p in passages)


def test_a_passage_with_no_reference_in_any_file_is_refused(runner, tmp_path):
    transcript, _ = dataset(tmp_path, 3)
    first = write(tmp_path / "ref.0.txt", f"{REFERENCES[0][0]}\n\n{REFERENCES[2][0]}\n")
    second = write(tmp_path / "ref.1.txt", f"{REFERENCES[0][1]}\n\n{REFERENCES[2][1]}\n")
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(first), "-r", str(second)))
    assert "passage 'p02' has no reference" in line


# --------------------------------------------------------------------------
# YAML: unknown keys, wrong types, alias bombs
# --------------------------------------------------------------------------

BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                 + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
                    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(8)])


@pytest.mark.parametrize(
    "config_text, expected",
    [
        ("name: x\nretranslation: {backend: none, pivot: [pt]}\n",
         "unknown key 'retranslation.pivot'; did you mean 'pivots'?"),
        ("name: x\nchunk_size: many\n", "chunk_size: Input should be a valid integer"),
        ("name: x\ncleaners: unicode\n", "cleaners"),
        ("name: x\ncleaner_timeout_s: -1\n", "cleaner_timeout_s"),
        ("- just\n- a list\n", "expected a mapping of settings, got list"),
        ("name: x\nname: y\n", "line 2: duplicate key 'name'"),
        (BOMB + "\n", "YAML aliases (*a) are not allowed"),
        ("name: [unclosed\n", "invalid YAML"),
    ],
    ids=["unknown-nested-key", "wrong-type", "list-not-mapping", "out-of-range", "not-a-mapping",
         "duplicate-key", "alias-bomb", "syntax"],
)
def test_bad_config_yaml_is_one_line(runner, tmp_path, config_text, expected):
    transcript, refs = dataset(tmp_path)
    config = write(tmp_path / "bad.yaml", config_text)
    line = error_line(run(runner, tmp_path, "-c", str(config), "-t", str(transcript), "-r", str(refs)))
    assert expected in line and "bad.yaml" in line


def test_an_alias_bomb_in_references_is_refused_without_expanding_it(runner, tmp_path):
    transcript, _ = dataset(tmp_path)
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(write(tmp_path / "r.yaml", BOMB + "\n"))))
    assert "YAML aliases (*a) are not allowed" in line


def test_a_reference_of_the_wrong_type_is_refused(runner, tmp_path):
    transcript, _ = dataset(tmp_path, 2)
    refs = write(tmp_path / "r.yaml", "p01: [fine]\np02: {nested: 1}\n")
    assert "references for 'p02' must be a list of strings" in error_line(
        run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))


# --------------------------------------------------------------------------
# Models and cleaners named by the config
# --------------------------------------------------------------------------

def test_a_missing_model_is_one_line(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    config = config_file(tmp_path, retranslation={"backend": "transformers", "options": {"model": "/nonexistent"}})
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=config))
    assert "/nonexistent" in line and "does not exist" in line and "never downloads" in line
    assert not (tmp_path / "out").exists(), "nothing is written before the pipeline can run"


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("no_such_package.cleaners:fix", "no_such_package"),
        ("tests.fixtures.user_cleaners:no_such_function", "no_such_function"),
        ("unicod", "unicod"),
    ],
    ids=["missing-module", "missing-function", "unknown-builtin"],
)
def test_a_config_naming_a_missing_cleaner_is_one_line(runner, tmp_path, spec, expected):
    transcript, refs = dataset(tmp_path)
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs),
                          config=config_file(tmp_path, cleaners=[spec])))
    assert expected in line
    assert line.startswith(f"error: config {tmp_path / 'config.yaml'}: "), line  # names the config file


@pytest.mark.parametrize(
    "cleaner, failed, message",
    [
        ("explode_on_budget", ["p01"], "ValueError: this cleaner cannot handle budgets"),
        ("returns_none", ["p01", "p02", "p03"], "returned NoneType, not str"),
        ("hang_on_budget", ["p01"], "took longer than 0.5 s"),
    ],
    ids=["raises", "non-string", "hangs"],
)
def test_a_misbehaving_cleaner_fails_only_its_passages_and_the_run_goes_on(runner, tmp_path, cleaner, failed,
                                                                           message):
    transcript, refs = dataset(tmp_path)
    config = config_file(tmp_path, cleaners=[f"tests.fixtures.user_cleaners:{cleaner}"], cleaner_timeout_s=0.5)
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=config)
    assert result.exit_code == 0, result.output
    assert f"{len(failed)} passage(s) failed" in result.stdout and message in flat(result.stdout)
    out = tmp_path / "out"
    data = results(out)
    assert [f["id"] for f in data["failed"]] == failed
    assert data["summary"]["scored"] == 3 - len(failed)
    for passage in data["passages"]:
        if passage["id"] in failed:
            assert passage["error"]["stage"] == "cleaned" and message in passage["error"]["message"]
            assert "Failed at the cleaned stage" in (out / "passages" / f"{passage['id']}.md").read_text()
        else:
            assert passage["error"] is None and "cleaned" in passage["stages"]
    assert "## Failed passages" in (out / "report.md").read_text()


def test_a_cleaner_error_with_markup_and_escape_codes_is_printed_safely(runner, tmp_path, monkeypatch):
    """Regression: a message containing ``[/red]`` crashed the summary with
    rich's MarkupError, and ANSI codes in it reached the terminal."""
    write(tmp_path / "mods" / "rel_evil_cleaner.py",
          "import harness\n@harness.plugin\ndef clean(text):\n    raise ValueError('bad [/red] [bold]tag \\x1b[31mRED\\x1b[0m ' + text[:8])\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    transcript, refs = dataset(tmp_path, 2)
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs),
                 config=config_file(tmp_path, cleaners=["rel_evil_cleaner:clean"]))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "2 passage(s) failed" in result.stdout
    assert "bad [/red] [bold]tag ⟨U+001B⟩[31mRED" in flat(result.stdout)
    for path in report_files(tmp_path / "out"):
        assert "\x1b" not in path.read_text(encoding="utf-8"), path


def test_a_cleaner_producing_an_unpaired_surrogate_fails_only_its_passage(runner, tmp_path, monkeypatch):
    """Regression (found by fuzzing the results store): a user cleaner that
    returned a lone surrogate (bytes decoded with surrogateescape), or raised
    an exception quoting one, crashed the run with UnicodeEncodeError."""
    write(tmp_path / "mods" / "rel_surrogate_cleaners.py",
          "import harness\n@harness.plugin\ndef lone(text):\n    return text.replace('budget', 'budg\\udc80et')\n"
          "@harness.plugin\ndef raises(text):\n    if 'bridge' in text:\n        raise ValueError('bad byte \\udc80')\n    return text\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    transcript, refs = dataset(tmp_path, 3)
    config = config_file(tmp_path, cleaners=["rel_surrogate_cleaners:lone", "rel_surrogate_cleaners:raises"])
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=config)
    assert result.exit_code == 0, result.output
    data = results(tmp_path / "out")
    assert [f["id"] for f in data["failed"]] == ["p01", "p03"]
    assert "unpaired surrogate (U+DC80)" in data["passages"][0]["error"]["message"]
    assert "bad byte \\udc80" in data["passages"][2]["error"]["message"]
    assert data["passages"][1]["error"] is None


def test_a_metric_with_nothing_to_average_writes_null_not_nan(runner, tmp_path, monkeypatch):
    """Regression (found by fuzzing): a NaN score was written as ``NaN``,
    which is not JSON (JavaScript, jq and strict parsers refuse it)."""
    write(tmp_path / "mods" / "rel_nan_metric.py",
          "import harness\n@harness.plugin\ndef undefined_on_questions(hyps, refs):\n"
          "    return [float('nan') if h.endswith('?') else 1.0 for h in hyps]\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    transcript, refs = dataset(tmp_path, 3)
    config = config_file(tmp_path, metrics={"use": ["chrf"], "extra": ["rel_nan_metric:undefined_on_questions"]})
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=config)
    assert result.exit_code == 0, result.output

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    out = tmp_path / "out"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"), parse_constant=refuse)
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line, parse_constant=refuse)
    scores = [p["stages"]["distorted"]["scores"]["rel_nan_metric:undefined_on_questions"] for p in data["passages"]]
    assert scores == [1.0, 1.0, None]
    assert data["corpus"]["distorted"]["rel_nan_metric:undefined_on_questions"] is None


def test_square_brackets_in_the_output_path_are_printed_as_they_are(runner, tmp_path):
    transcript, refs = dataset(tmp_path, 2)
    out = tmp_path / "[bold]run[/bold]"
    result = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), out=out)
    assert result.exit_code == 0, result.output
    assert str(out / "report.md") in result.stdout.replace("\n", "")


# --------------------------------------------------------------------------
# The output folder
# --------------------------------------------------------------------------

def test_an_output_folder_holding_other_files_is_refused_and_left_alone(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    keep = write(tmp_path / "out" / "thesis.tex", "precious")
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "is not a harness run" in line and "--force" not in line  # --force would not help: say so, never advise it
    assert keep.read_text() == "precious" and sorted(os.listdir(tmp_path / "out")) == ["thesis.tex"]


@pytest.mark.parametrize("planted", ["nothing", "run.json"])
def test_force_refuses_a_folder_that_is_not_a_harness_run(runner, tmp_path, planted):
    """Issue 17: ``run -c raw -o . --force`` deleted unrelated files. --force
    clears only a folder marked as a harness run by its own marker file (a
    copied or look-alike run.json is not enough)."""
    transcript, refs = dataset(tmp_path)
    folder = tmp_path / "project"
    keep = write(folder / "thesis.tex", "precious")
    write(folder / "chapters" / "one.tex", "also precious")
    if planted == "run.json":
        assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), out=tmp_path / "real").exit_code == 0
        shutil.copyfile(tmp_path / "real" / "run.json", folder / "run.json")
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), "--force", out=folder))
    assert "is not a harness run" in line and ".harness-run" in line and "will not clear it" in line
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == before
    assert keep.read_text() == "precious"


def test_a_run_folder_of_an_older_harness_without_the_marker(runner, tmp_path):
    """Unfinished: resumed (and marked from then on). Complete: refused, and
    the error does not advise --force, which would not clear it."""
    transcript, refs = dataset(tmp_path)
    out = tmp_path / "out"
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)).exit_code == 0
    (out / ".harness-run").unlink()
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "is not a harness run" in line and "--force" not in line
    state = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({"state": "running", "signature": state["signature"]}))
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)).exit_code == 0
    assert (out / ".harness-run").is_file()


def test_force_clears_a_harness_run_folder_and_the_run_marks_its_folder(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    out = tmp_path / "out"
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)).exit_code == 0
    assert (out / ".harness-run").is_file()
    write(out / "stray.txt", "left by the user in a run folder")
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), "--force").exit_code == 0
    assert not (out / "stray.txt").exists() and (out / "results.json").exists()


def test_an_output_path_that_is_a_file_is_refused_even_with_force(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    target = write(tmp_path / "out", "a file")
    for extra in ([], ["--force"]):
        line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), *extra))
        assert "exists and is not a folder" in line
    assert target.read_text() == "a file"


def test_an_output_folder_of_another_pipeline_is_refused(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)).exit_code == 0
    state = json.loads((tmp_path / "out" / "run.json").read_text())
    (tmp_path / "out" / "run.json").write_text(json.dumps({**state, "state": "running"}))
    other = config_file(tmp_path / "other", metrics={"use": ["chrf"]})
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=other))
    assert "holds a run of a different pipeline or data" in line


def test_force_never_clears_a_folder_another_run_is_writing_to(runner, tmp_path):
    """Regression: --force emptied the folder before taking its lock, so a
    second run wiped and then wrote into a running one's folder."""
    transcript, refs = dataset(tmp_path)
    out = tmp_path / "out"
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)).exit_code == 0
    state = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({"state": "running", "signature": state["signature"]}))
    before = (out / "results.jsonl").read_bytes()
    with RunStore(out) as busy:  # "another run": holds the folder's lock
        busy.open(state["signature"], force=False, resume=True)
        for extra in ([], ["--force"]):
            line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), *extra))
            assert "another harness run is writing to this folder" in line
        assert (out / "results.jsonl").read_bytes() == before
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), "--force").exit_code == 0


@contextlib.contextmanager
def immutable(folder: Path):
    """A folder even root cannot write to: ext4's immutable attribute (chattr +i).
    Permission bits would not do: the tests run as root, which ignores them."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not available")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a folder immutable here: {made.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_output_folder_is_one_line(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    (tmp_path / "out").mkdir()
    with immutable(tmp_path / "out"):
        line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "out: not writable (Operation not permitted); choose another folder with --out" in line


def test_a_read_only_folder_holding_an_unfinished_run_keeps_its_results(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    out = tmp_path / "out"
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)).exit_code == 0
    state = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({"state": "running", "signature": state["signature"]}))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with immutable(out):
        for extra in ([], ["--force"]):
            assert "not writable" in error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), *extra))
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_an_output_path_below_a_file_is_one_line(runner, tmp_path):
    transcript, refs = dataset(tmp_path)
    blocker = write(tmp_path / "blocker", "x")
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), out=blocker / "run"))
    assert "blocker/run: cannot write (Not a directory)" in line


# --------------------------------------------------------------------------
# A full disk (simulated: ENOSPC from the write path)
# --------------------------------------------------------------------------

class _FillingFile:
    """A text file on a disk with ``room`` characters left: the write that
    overflows stores what fits (a torn line), then fails with ENOSPC."""

    def __init__(self, handle, room: int):
        self._handle = handle
        self.room = room

    def write(self, text: str) -> int:
        if len(text) > self.room:
            self._handle.write(text[: self.room])
            self._handle.flush()
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(text)
        return self._handle.write(text)

    def __getattr__(self, name):
        return getattr(self._handle, name)


def _full_reference_run(runner, tmp_path, transcript, refs, config) -> list[str]:
    out = tmp_path / "reference-run"
    assert run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=config, out=out).exit_code == 0
    return (out / "results.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def test_a_full_disk_while_appending_results_keeps_finished_passages_and_resumes(runner, tmp_path, monkeypatch):
    transcript, refs = dataset(tmp_path, 6)
    config = config_file(tmp_path, chunk_size=2)
    lines = _full_reference_run(runner, tmp_path, transcript, refs, config)
    room = len("".join(lines[:4])) + len(lines[4]) // 2  # two chunks fit, the third is torn

    real_open = runstore.open_no_follow

    def disk_with_little_room(path, flags, mode):
        handle = real_open(path, flags, mode)
        if Path(path).name == "results.jsonl" and "a" in mode:
            return _FillingFile(handle, room)
        return handle

    monkeypatch.setattr(runstore, "open_no_follow", disk_with_little_room)
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=config))
    assert "results.jsonl: disk full; finished passages are kept, free space and rerun to resume" in line
    out = tmp_path / "out"
    raw = (out / "results.jsonl").read_text(encoding="utf-8")
    assert raw == "".join(lines[:4]) + lines[4][: len(lines[4]) // 2], "finished chunks intact, then a torn line"
    assert not (out / "results.json").exists()
    assert json.loads((out / "run.json").read_text())["state"] == "running"

    monkeypatch.undo()  # space freed
    again = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs), config=config)
    assert again.exit_code == 0, again.output
    assert "resuming: 4 of 6 passages already done" in again.stderr
    assert "2 computed, 4 resumed" in flat(again.stdout)
    assert (out / "results.jsonl").read_text(encoding="utf-8") == "".join(lines)
    assert results(out)["passages"] == results(tmp_path / "reference-run")["passages"]


def test_a_full_disk_while_writing_reports_leaves_no_partial_file_and_resumes(runner, tmp_path, monkeypatch):
    transcript, refs = dataset(tmp_path, 4)
    real_fsync = os.fsync

    def fsync_fails_for_results_json(fd):
        if ".results.json." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_fails_for_results_json)
    line = error_line(run(runner, tmp_path, "-t", str(transcript), "-r", str(refs)))
    assert "results.json: disk full" in line
    out = tmp_path / "out"
    assert not (out / "results.json").exists()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")], "the temporary file is removed"
    assert len(jsonl_records(out)) == 4

    monkeypatch.undo()
    again = run(runner, tmp_path, "-t", str(transcript), "-r", str(refs))
    assert again.exit_code == 0, again.output
    assert "0 computed, 4 resumed" in flat(again.stdout)
    assert len(results(out)["passages"]) == 4
