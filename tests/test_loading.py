"""Loading transcripts and references: every format, every bad-input case."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.config import BUNDLED_REFERENCES, BUNDLED_TRANSCRIPT
from harness.errors import InputError
from harness.loading import (
    align,
    dataset_fingerprint,
    load_dataset,
    load_references,
    load_transcript,
    parse_transcript,
    passage_ids,
    split_speaker,
)

#: sha256 of the bundled briefing: the spun seed transcript, kept byte for byte
SEED_SHA256 = "efff7067afaa4e63b9fe738eab942d83e17278fc0d9ea48db3dc3d2f3104b52d"


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- the bundled data -------------------------------------------------------

def test_bundled_transcript_is_the_seed_byte_for_byte():
    data = BUNDLED_TRANSCRIPT.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SEED_SHA256
    # the damage the harness exists to measure is in it, untouched: mojibake, spun words, typographic quotes
    text = data.decode("utf-8")
    assert "Rusya kadД±nlar" in text and "the united states, i’ve" in text and not text.startswith("\ufeff")


def test_bundled_briefing_has_seven_passages_each_with_two_or_more_references():
    passages = load_dataset(BUNDLED_TRANSCRIPT, [BUNDLED_REFERENCES])
    assert [p.id for p in passages] == [f"p0{i}" for i in range(1, 8)]
    assert all(len(p.references) >= 2 for p in passages)
    assert [p.speaker for p in passages][:2] == ["AMBASSADOR SMITH", None]
    assert passages[5].speaker == "QUESTION"
    assert not passages[0].text.startswith("AMBASSADOR")


def test_bundled_sacrebleu_style_reference_files_align_with_the_yaml():
    folder = BUNDLED_REFERENCES.parent
    by_lines = load_dataset(BUNDLED_TRANSCRIPT, [folder / "ref.0.txt", folder / "ref.1.txt"])
    by_yaml = load_dataset(BUNDLED_TRANSCRIPT, [BUNDLED_REFERENCES])
    for a, b in zip(by_lines, by_yaml):
        assert a.references == b.references[:2]


# --- transcript formats -----------------------------------------------------

def test_plain_text_is_one_passage_per_line_with_stable_ids():
    passages = parse_transcript("First line.\nSecond line.\n\n")
    assert [(p.id, p.text) for p in passages] == [("p01", "First line."), ("p02", "Second line.")]


def test_blank_lines_make_paragraph_passages_joining_wrapped_lines():
    passages = parse_transcript("One wrapped\nparagraph.\n\nAnother\n  one.\n")
    assert [p.text for p in passages] == ["One wrapped paragraph.", "Another one."]


def test_a_leading_speaker_label_becomes_metadata():
    assert split_speaker("AMBASSADOR SMITH: Thank you.") == ("AMBASSADOR SMITH", "Thank you.")
    assert split_speaker("MR. MILLER: Hi.") == ("MR. MILLER", "Hi.")
    assert split_speaker("Note: lower-case labels are text.") == (None, "Note: lower-case labels are text.")
    # upper-case labels of notices and web pages are not people
    assert split_speaker("NOTE: the figures are provisional.") == (None, "NOTE: the figures are provisional.")
    assert split_speaker("UPDATE: the bridge has reopened.") == (None, "UPDATE: the bridge has reopened.")


def test_ids_widen_for_long_transcripts():
    assert passage_ids(3) == ["p01", "p02", "p03"]
    assert passage_ids(150)[0] == "p001"


def test_jsonl_transcripts_keep_their_ids(tmp_path):
    path = write(tmp_path / "t.jsonl", '{"id": "a1", "text": "QUESTION: Hello."}\n{"id": "a2", "text": "Bye."}\n')
    passages = load_transcript(path)
    assert [(p.id, p.speaker, p.text) for p in passages] == [("a1", "QUESTION", "Hello."), ("a2", None, "Bye.")]


def test_bom_and_crlf_are_accepted(tmp_path):
    path = write(tmp_path / "t.txt", b"\xef\xbb\xbfFirst.\r\nSecond.\r\n")
    assert [p.text for p in load_transcript(path)] == ["First.", "Second."]


# --- reference formats --------------------------------------------------------

def test_yaml_jsonl_and_line_files_give_the_same_mapping(tmp_path):
    ids = ["p01", "p02"]
    yaml_path = write(tmp_path / "r.yaml", "p01: [A one., A two.]\np02:\n  - B one.\n")
    jsonl_path = write(tmp_path / "r.jsonl", '{"id": "p01", "references": ["A one.", "A two."]}\n'
                                             '{"id": "p02", "references": ["B one."]}\n')
    r0 = write(tmp_path / "ref.0.txt", "A one.\nB one.\n")
    r1 = write(tmp_path / "ref.1.txt", "A two.\n\n")
    expected = {"p01": ["A one.", "A two."], "p02": ["B one."]}
    assert load_references([yaml_path], ids) == expected
    assert load_references([jsonl_path], ids) == expected
    assert load_references([r0, r1], ids) == expected


def test_passages_may_have_different_numbers_of_references(tmp_path):
    passages = parse_transcript("One.\nTwo.\n")
    align(passages, {"p01": ["x", "y", "z"], "p02": ["w"]})
    assert [len(p.references) for p in passages] == [3, 1]


def test_fingerprint_depends_on_content_not_on_file_format(tmp_path):
    a = parse_transcript("One.\nTwo.\n")
    b = parse_transcript('{"id": "p01", "text": "One."}\n{"id": "p02", "text": "Two."}\n')
    for p in a + b:
        p.references = ["ref"]
    assert dataset_fingerprint(a) == dataset_fingerprint(b)


# --- bad input: one clear line ---------------------------------------------

@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"  \n\n ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00e0 la carte\n".encode("cp1252") * 3, "not valid UTF-8"),
        (b"\xff\xfeH\x00i\x00", "UTF-16"),
        (b"text with a \x00 NUL in it\n", "NUL"),
    ],
    ids=["empty", "blank", "binary", "cp1252", "utf16", "nul"],
)
def test_unusable_transcripts_are_refused_with_one_line(tmp_path, content, message):
    path = write(tmp_path / "t.txt", content)
    with pytest.raises(InputError) as info:
        load_transcript(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_non_utf8_file_names_the_encoding_it_looks_like(tmp_path):
    path = write(tmp_path / "t.txt", ("Привет, как дела? Это тест кодировки.\n" * 5).encode("cp1251"))
    with pytest.raises(InputError, match=r"looks like (cp1251|windows-1251|mac_cyrillic|cp1125|koi8)"):
        load_transcript(path)


ENCODED_SAMPLES = [
    ("French, cp1252", "Le café crème coûte 3 € à l'élève ; « très sérieux », dit-il. Où est la gare ?\n" * 3,
     "cp1252"),
    ("short, cp1252", "café", "cp1252"),
    ("German, cp1252", "Grüße aus München: die Straße ist schön.\n", "cp1252"),
    ("English quotes, cp1252", "He said \u201cdon\u2019t\u201d \u2014 it\u2019s fine.\n", "cp1252"),
    ("Turkish, cp1254", "Günaydın, nasılsınız? Çok güzel bir gün.\n", "cp1254"),
    ("Russian, cp1251", "Привет, как дела? Это тест кодировки.\n" * 5, "cp1251"),
    ("short Russian, cp1251", "Привет", "cp1251"),
    ("Polish, cp1250", "Zażółć gęślą jaźń, powiedział Łukasz.\n" * 2, "cp1250"),
    ("Greek, cp1253", "Καλημέρα, τι κάνετε; Αυτό είναι ένα τεστ.\n" * 2, "cp1253"),
    ("Japanese, shift_jis", "これは日本語のテストです。\n" * 3, "shift_jis"),
]


@pytest.mark.parametrize("label, text, encoding", ENCODED_SAMPLES, ids=[s[0] for s in ENCODED_SAMPLES])
def test_the_encoding_advice_decodes_the_file_into_the_right_text(tmp_path, label, text, encoding):
    """Issue 16: cp1252 French got 'looks like cp1257' (which garbles it) and a
    short input got 'cp1006', which iconv does not know. The advice must name
    an encoding that iconv knows and that gives back the text."""
    data = text.encode(encoding)
    path = write(tmp_path / "t.txt", data)
    with pytest.raises(InputError) as info:
        load_transcript(path)
    message = str(info.value)
    match = re.search(r"it looks like (\S+); convert it, e\.g\. iconv -f (\S+) -t utf-8", message)
    assert match, message
    python_name, iconv_name = match.groups()
    assert data.decode(python_name) == text, f"following the advice ({python_name}) garbles the text"
    if shutil.which("iconv"):
        converted = subprocess.run(["iconv", "-f", iconv_name, "-t", "utf-8"], input=data, capture_output=True)
        assert converted.returncode == 0, converted.stderr
        assert converted.stdout.decode("utf-8") == text


def test_no_encoding_is_suggested_when_none_gives_plausible_text(tmp_path):
    data = bytes(range(0x80, 0x100)) * 4  # every high byte, no text in any code page
    path = write(tmp_path / "t.txt", b"plain words " + data)
    with pytest.raises(InputError) as info:
        load_transcript(path)
    assert "looks like" not in str(info.value) and "iconv -f ENCODING -t utf-8" in str(info.value)


def test_a_missing_file_is_one_line():
    with pytest.raises(InputError, match="no such file"):
        load_transcript("/nonexistent/t.txt")


def test_a_huge_single_line_passage_is_refused_with_its_size(tmp_path):
    path = write(tmp_path / "t.txt", "word " * 1_000_000)
    with pytest.raises(InputError, match=r"p01 is 4,999,999 characters long"):
        load_transcript(path)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "duplicate id 'a'"),
        ('{"id": "a", "text": "x"}\nnot json\n', "line 2: invalid JSON"),
        ('{"text": "x"}\n', "missing 'id'"),
        ('{"id": "a"}\n', "missing 'text'"),
        ('{"id": "a b", "text": "x"}\n', "must be 1-128 letters"),
        ('["a", "x"]\n', "expected a JSON object"),
        ('{"id": "a", "text": "   "}\n', "passage a is empty"),
    ],
)
def test_bad_jsonl_transcripts(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        load_transcript(write(tmp_path / "t.jsonl", content))


def test_a_passage_without_reference_is_refused(tmp_path):
    passages = parse_transcript("One.\nTwo.\n")
    with pytest.raises(InputError, match="passage 'p02' has no reference"):
        align(passages, {"p01": ["x"]})


def test_a_reference_for_an_unknown_id_is_refused():
    passages = parse_transcript("One.\n")
    with pytest.raises(InputError, match="unknown passage id 'p09'"):
        align(passages, {"p01": ["x"], "p09": ["y"]})


def test_a_line_reference_file_with_the_wrong_count_is_refused(tmp_path):
    ref = write(tmp_path / "ref.0.txt", "only one line\n")
    with pytest.raises(InputError, match="has 1 lines but the transcript has 2 passages"):
        load_references([ref], ["p01", "p02"])


def test_yaml_references_reject_aliases_and_wrong_types(tmp_path):
    bomb = write(tmp_path / "r.yaml", 'a: &a ["x", "x"]\nb: &b [*a, *a]\nc: [*b, *b]\n')
    with pytest.raises(InputError, match="aliases"):
        load_references([bomb], ["a"])
    wrong = write(tmp_path / "w.yaml", "p01: {nested: 1}\n")
    with pytest.raises(InputError, match="must be a list of strings"):
        load_references([wrong], ["p01"])
    bad = write(tmp_path / "b.yaml", "p01: [unclosed\n")
    with pytest.raises(InputError, match="invalid YAML"):
        load_references([bad], ["p01"])


def test_duplicate_ids_in_jsonl_references_are_refused(tmp_path):
    path = write(tmp_path / "r.jsonl", json.dumps({"id": "p01", "references": ["x"]}) + "\n"
                 + json.dumps({"id": "p01", "references": ["y"]}) + "\n")
    with pytest.raises(InputError, match="duplicate id 'p01'"):
        load_references([path], ["p01"])
