"""The distortion generator: every kind does what it says, every change is
recorded exactly, and the same seed always writes the same bytes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.commands.distort import distort as distort_command
from harness.commands.distort import read_clean_passages
from harness.distort import (
    KINDS,
    Distorter,
    distort_corpus,
    distort_passage,
    garble,
    load_spam_table,
    load_spin_table,
    passage_rng,
    read_distortions,
    spell_number,
    split_sentences,
)
from harness.errors import ConfigError, InputError
from harness.loading import load_dataset

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = ROOT / "references" / "briefing" / "references.yaml"

CLEAN = (
    "Thank you. On the question of how Ukraine defends its territory, let me stress again that we believe "
    "Ukraine has every right to defend itself. The United States has already provided more than $44 billion "
    "in security assistance, and we continue to urge our friends in Congress to pass the supplemental. "
    "Georgia is one of our closest partners; it isn't a member of NATO, but it can work with the Alliance. "
    "In 2008 we said that two countries would become members. It's an important trip for the U.S. and its partners."
)


def run(text: str, kinds: list[str], rate: float = 1.0, seed: int = 1):
    return distort_passage(text, random.Random(seed), rate, kinds)


def check_records(source: str, output: str, records) -> None:
    """Records locate each change in both texts and rebuild the output from the source."""
    rebuilt, cursor = [], 0
    for record in sorted(records, key=lambda r: (r.source_start, r.source_end)):
        assert source[record.source_start:record.source_end] == record.before
        assert output[record.start:record.end] == record.after
        assert record.source_start >= cursor, "edits overlap"
        rebuilt += [source[cursor:record.source_start], record.after]
        cursor = record.source_end
    rebuilt.append(source[cursor:])
    assert "".join(rebuilt) == output


def unbake(garbled: str, codec: str) -> str:
    """Undo :func:`garble` exactly (bytes the code page lacks came through as Latin-1)."""
    data = b""
    for char in garbled:
        try:
            data += char.encode(codec)
        except UnicodeEncodeError:
            data += char.encode("latin-1")
    return data.decode("utf-8")


# --------------------------------------------------------------------------
# Rate and determinism
# --------------------------------------------------------------------------

def test_rate_zero_is_the_identity():
    for kinds in [list(KINDS), ["spin"], ["drop", "inject"]]:
        assert run(CLEAN, kinds, rate=0.0) == (CLEAN, [])


def test_same_seed_same_output_different_seed_different_output():
    first = distort_passage(CLEAN, passage_rng(7, "p01", 1), 0.3)
    again = distort_passage(CLEAN, passage_rng(7, "p01", 1), 0.3)
    other = distort_passage(CLEAN, passage_rng(8, "p01", 1), 0.3)
    assert first == again
    assert first[0] != other[0]


def test_rate_outside_zero_one_and_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="rate"):
        run(CLEAN, ["spin"], rate=1.5)
    with pytest.raises(ValueError, match="unknown distortion kind 'typo'"):
        run(CLEAN, ["typo"])


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "drop"])
def test_a_higher_rate_adds_distortions_and_keeps_those_of_a_lower_rate(kind):
    """A fixed number of draws per site, whatever the rate (common random
    numbers), so calibration curves are monotone without thousands of copies."""
    text = CLEAN.replace("It's", "It’s")
    for seed in range(20):
        made = [{(r.source_start, r.source_end, r.after) for r in run(text, [kind], rate, seed)[1]}
                for rate in (0.1, 0.2, 0.3, 0.5, 1.0)]
        for low, high in zip(made, made[1:]):
            assert low <= high, (seed, low - high)


def test_a_higher_drop_rate_touches_the_sentences_of_a_lower_rate():
    """...except when it would drop every sentence: then the last one stays whole."""
    sentences = split_sentences(CLEAN)
    all_but_last = set(range(len(sentences) - 1))

    def touched(records):
        return {next(i for i, (s, e) in enumerate(sentences) if r.source_start < e) for r in records}

    for seed in range(40):
        made = [touched(run(CLEAN, ["drop"], rate, seed)[1]) for rate in (0.1, 0.2, 0.3, 0.5, 0.8)]
        for low, high in zip(made, made[1:]):
            assert low <= high or high == all_but_last, (seed, low - high)


# --------------------------------------------------------------------------
# Each kind
# --------------------------------------------------------------------------

def test_spin_swaps_words_for_entries_of_the_substitution_table():
    table = load_spin_table()
    output, records = run(CLEAN, ["spin"])
    assert len(records) > 20
    for record in records:
        assert record.kind == "spin"
        key = record.before.lower()
        assert key == record.detail and key in table
        assert record.after.lower() in [option.lower() for option in table[key]]
        assert record.after[0].isupper() == record.before[0].isupper()  # capitalisation carried over
    assert "you may" in output or "you can" in output or "additionally" in output or "plus" in output


def test_spin_prefers_the_longest_phrase():
    _, records = run("We need more than $5 in order to eat.", ["spin"])
    assert {r.before for r in records} >= {"more than", "in order to"}


def test_spin_table_is_data_of_its_own():
    table = load_spin_table()
    assert len(table) >= 150
    for key, options in table.items():
        assert key == key.lower() and options and key not in [o.lower() for o in options]
    assert {"and", "the", "we", "partners", "or", "of", "important", "country", "help"} <= set(table)


def test_spin_table_with_yaml_booleans_is_refused(tmp_path):
    bad = tmp_path / "spin.yaml"
    bad.write_text("substitutions:\n  on: [towards]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="quote on/off"):
        load_spin_table(bad)


def test_mojibake_garbles_non_ascii_words_the_way_a_wrong_code_page_does():
    text = "The café’s owner said “no” — twice."
    for seed in range(10):
        output, records = run(text, ["mojibake"], seed=seed)
        assert records and output != text
        for record in records:
            assert record.detail in ("cp1252", "cp1251", "latin-1", "mac_roman", "cp437")
            assert not record.after.isascii()
            assert unbake(record.after, record.detail) == record.before


def test_mojibake_on_ascii_text_makes_quotes_typographic_then_garbles_them():
    output, records = run("It's a 'test' -- of sorts.", ["mojibake"], seed=3)
    assert [r.before for r in records] == ["It's", "'test'", "--"]
    assert [unbake(r.after, r.detail) for r in records] == ["It’s", "‘test’", "—"]
    cp1252 = Distorter()
    assert garble("It’s", "cp1252") == "Itâ€™s"
    assert cp1252  # the tables load


def test_mojibake_leaves_text_without_quotes_or_non_ascii_alone():
    assert run("Plain words only, nothing else.", ["mojibake"]) == ("Plain words only, nothing else.", [])


def test_inject_drops_spam_phrases_into_sentences():
    spam = {phrase for _, _, phrases in load_spam_table().groups for phrase, _ in phrases}
    seen_languages = set()
    for seed in range(30):
        output, records = run(CLEAN, ["inject"], seed=seed)
        assert len(records) == len(split_sentences(CLEAN))  # rate 1: one per sentence
        for record in records:
            assert record.before == "" and record.source_start == record.source_end
            assert record.after.endswith(" ") and record.after[:-1] in spam
            seen_languages.add(record.detail.split("+")[0])
        check_records(CLEAN, output, records)
    assert {"en", "tr", "ru"} <= seen_languages


def test_garbled_spam_phrases_are_real_mojibake():
    garbled = [p for name, _, phrases in load_spam_table().groups if name == "garbled" for p in phrases]
    assert ("Rusya kadД±nlar", "tr+cp1251") in garbled


def test_numbers_are_changed_respelled_or_dropped():
    text = "Congress approved $44 billion in 2008, and twenty-one countries agreed."
    operations = {}
    for seed in range(60):
        output, records = run(text, ["numbers"], seed=seed)
        for record in records:
            operations.setdefault(record.detail, []).append(record)
        check_records(text, output, records)
    assert set(operations) == {"change", "respell", "drop"}
    for record in operations["change"]:
        assert record.after != record.before and record.after.replace(" ", "")
        assert not record.meaning_preserving
    for record in operations["respell"]:
        assert record.meaning_preserving
    assert {r.after for r in operations["respell"]} <= {"two thousand eight", "21"}
    assert {r.before.strip() for r in operations["drop"]} <= {"$44 billion", "2008", "twenty-one"}
    assert all(r.after == "" for r in operations["drop"])


def test_a_changed_figure_differs_in_one_digit():
    for seed in range(20):
        _, records = run("It costs 4,470 dollars.", ["numbers"], seed=seed)
        for record in records:
            if record.detail == "change":
                before, after = record.before.replace(",", ""), record.after.replace(",", "")
                assert sum(a != b for a, b in zip(before, after)) == 1 and after[0] != "0"


def test_one_as_a_pronoun_is_not_a_figure():
    assert run("No one came, and they helped one another.", ["numbers"]) == (
        "No one came, and they helped one another.", [])


def test_spell_number():
    assert [spell_number(n) for n in (0, 7, 44, 100, 2008, 21_500)] == [
        "zero", "seven", "forty-four", "one hundred", "two thousand eight", "twenty-one thousand five hundred"]


@pytest.mark.parametrize("before, after, detail", [
    ("The U.S. is not supportive of that.", "The U.S. is supportive of that.", "removed"),
    ("Georgia isn't a member.", "Georgia is a member.", "removed"),
    ("We can't say it.", "We can say it.", "removed"),
    ("They have never been there.", "They have been there.", "removed"),
    ("Nobody knows it.", "Everybody knows it.", "removed"),
    ("No one came.", "Everyone came.", "removed"),
    ("Ukraine can defend its territory.", "Ukraine can not defend its territory.", "added"),
    ("They have worked hard.", "They have not worked hard.", "added"),
])
def test_negation_is_removed_or_added(before, after, detail):
    output, records = run(before, ["negation"])
    assert output == after
    assert [(r.kind, r.detail) for r in records] == [("negation", detail)]


def test_negation_leaves_auxiliaries_that_cannot_take_not():
    assert run("They have a dog. Is it true?", ["negation"]) == ("They have a dog. Is it true?", [])


def test_drop_removes_clauses_or_sentences_but_never_everything():
    kinds_seen = set()
    for seed in range(30):
        output, records = run(CLEAN, ["drop"], seed=seed)
        assert records and len(output) < len(CLEAN) and output.strip()
        for record in records:
            assert record.after == ""
            kinds_seen.add(record.detail)
            if record.detail == "clause":
                assert record.before.startswith(", ")
        assert output == output.strip()  # no stray white space at either end
        check_records(CLEAN, output, records)
    assert kinds_seen == {"clause", "sentence"}


def test_drop_on_a_single_sentence_only_removes_clauses():
    output, records = run("One, two, three.", ["drop"])
    assert output in ("One, three.", "One, two.") and records[0].detail == "clause"
    assert run("Just one sentence.", ["drop"]) == ("Just one sentence.", [])


def test_case_lowers_proper_nouns_and_acronyms_but_not_sentence_starts():
    output, records = run("In Tbilisi, NATO met the U.S. team. I'm sure Georgia will join.", ["case"])
    assert output == "In tbilisi, nato met the u.s. team. I'm sure georgia will join."
    assert {r.before for r in records} == {"Tbilisi", "NATO", "U.S.", "Georgia"}


def test_split_sentences_keeps_initialisms_and_titles_inside():
    text = "The U.S. Congress met. Dr. Smith said no! Then what? It's 5 p.m. now."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The U.S. Congress met.", "Dr. Smith said no!", "Then what?", "It's 5 p.m. now."]


# --------------------------------------------------------------------------
# Records are exact whatever the text
# --------------------------------------------------------------------------

VOCABULARY = ["the", "and", "we", "Georgia", "NATO", "U.S.", "is", "not", "isn't", "never", "no", "one", "two",
              "twenty-one", "44", "$44 billion", "2008", "1,200", "3.5", "it's", "“quoted”", "café", "--", "help",
              "partners", "more than", "in order to", "can", "have", "worked", "been", "Nobody"]


@st.composite
def passages(draw):
    sentences = []
    for _ in range(draw(st.integers(1, 5))):
        words = draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=14))
        words[0] = words[0][:1].upper() + words[0][1:]
        if len(words) > 3 and draw(st.booleans()):
            words[2] += ","
        sentences.append(" ".join(words) + draw(st.sampled_from([".", "!", "?"])))
    return " ".join(sentences)


@settings(max_examples=150, deadline=None)
@given(text=passages(), rate=st.sampled_from([0.1, 0.5, 1.0]), seed=st.integers(0, 2**32),
       kinds=st.lists(st.sampled_from(KINDS), min_size=1, unique=True))
def test_records_rebuild_the_output_from_the_source(text, rate, seed, kinds):
    output, records = distort_passage(text, random.Random(seed), rate, kinds)
    check_records(text, output, records)
    assert all(r.kind in kinds for r in records)
    assert [r.start for r in records] == sorted(r.start for r in records)
    if "drop" in kinds:
        assert output.strip()


# --------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------

SOURCES = [("a", CLEAN), ("b", "Georgia is one of our closest partners."), ("c", "It's not 44 but 45.")]


def test_corpus_is_byte_identical_for_a_seed_and_independent_of_order(tmp_path):
    one = distort_corpus(SOURCES, tmp_path / "one", rate=0.3, seed=5, copies=3)
    two = distort_corpus(SOURCES, tmp_path / "two", rate=0.3, seed=5, copies=3)
    rev = distort_corpus(list(reversed(SOURCES)), tmp_path / "rev", rate=0.3, seed=5, copies=3)
    other = distort_corpus(SOURCES, tmp_path / "other", rate=0.3, seed=6, copies=3)
    assert one.passages == 9 and one.sources == 3
    for name in ("transcript.jsonl", "references.jsonl", "distortions.jsonl", "distort.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    lines = (tmp_path / "one" / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted((tmp_path / "rev" / "transcript.jsonl").read_text(encoding="utf-8").splitlines())
    assert lines != (tmp_path / "other" / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    assert other.passages == 9


def test_corpus_files_describe_each_copy(tmp_path):
    summary = distort_corpus(SOURCES, tmp_path, rate=0.4, seed=1, copies=2)
    transcript = [json.loads(line) for line in (tmp_path / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    references = [json.loads(line) for line in (tmp_path / "references.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [t["id"] for t in transcript] == ["a-c1", "a-c2", "b-c1", "b-c2", "c-c1", "c-c2"]
    assert [r["references"] for r in references] == [[text] for _, text in SOURCES for _ in range(2)]
    records = read_distortions(tmp_path / "distortions.jsonl")
    clean = dict(SOURCES)
    for line in transcript:
        source_id = line["id"].rsplit("-c", 1)[0]
        check_records(clean[source_id], line["text"], records.get(line["id"], []))
    raw = [json.loads(line) for line in (tmp_path / "distortions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all({"id", "source_id", "copy", "kind", "start", "end", "before", "after"} <= set(r) for r in raw)
    assert sum(summary.distortions_by_kind.values()) == len(raw)
    assert summary.unchanged == sum(1 for t in transcript if t["id"] not in records)
    assert json.loads((tmp_path / "distort.json").read_text())["passages"] == 6


def test_corpus_feeds_the_loader(tmp_path):
    distort_corpus(SOURCES, tmp_path, rate=0.2, seed=0, copies=2)
    passages = load_dataset(tmp_path / "transcript.jsonl", [tmp_path / "references.jsonl"])
    assert len(passages) == 6
    assert all(p.references == [dict(SOURCES)[p.id.rsplit("-c", 1)[0]]] for p in passages)


def test_corpus_refuses_duplicate_ids(tmp_path):
    with pytest.raises(InputError, match="duplicate passage id 'a'"):
        distort_corpus([("a", "One."), ("a", "Two.")], tmp_path, rate=0.1)


# --------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------

def test_references_become_clean_passages():
    passages = read_clean_passages(REFERENCES)
    assert passages[0][0] == "p01-r1" and len(passages) >= 14
    assert all(text and "\n" not in text for _, text, _ in passages)


def test_command_writes_a_corpus_that_harness_run_reads(tmp_path):
    out = tmp_path / "corpus"
    result = CliRunner().invoke(distort_command, [str(REFERENCES), "--out", str(out), "--rate", "0.2",
                                                  "--kinds", "spin,negation", "--copies", "2", "--max-passages", "3"])
    assert result.exit_code == 0, result.output
    assert "wrote 6 passages (3 clean x 2 copies" in result.output
    assert "spin" in result.output and "mojibake" not in result.output
    kinds = {json.loads(line)["kind"] for line in (out / "distortions.jsonl").read_text(encoding="utf-8").splitlines()}
    assert kinds <= {"spin", "negation"}
    assert len(load_dataset(out / "transcript.jsonl", [out / "references.jsonl"])) == 6


def test_command_reads_transcripts_and_keeps_speakers(tmp_path):
    transcript = tmp_path / "t.txt"
    transcript.write_text("QUESTION: Is NATO ready?\nAMBASSADOR SMITH: We are not sure.\n", encoding="utf-8")
    result = CliRunner().invoke(distort_command, [str(transcript), "-o", str(tmp_path / "out"), "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (tmp_path / "out" / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(line["id"], line["speaker"]) for line in lines] == [("p01-c1", "QUESTION"), ("p02-c1", "AMBASSADOR SMITH")]


def test_command_refuses_to_overwrite_without_force_and_bad_kinds(tmp_path):
    args = [str(REFERENCES), "-o", str(tmp_path), "--max-passages", "1"]
    assert CliRunner().invoke(distort_command, args).exit_code == 0
    second = CliRunner().invoke(distort_command, args)
    assert second.exit_code != 0 and "pass --force" in str(second.exception)
    assert CliRunner().invoke(distort_command, args + ["--force"]).exit_code == 0
    bad = CliRunner().invoke(distort_command, args + ["--force", "--kinds", "spin,typo"])
    assert bad.exit_code == 2 and "unknown kind 'typo'" in bad.output


def test_mojibake_reaches_ascii_text_without_quotes_through_sentence_gaps(tmp_path):
    """Issue 16: ``distort --rate 0.2`` produced no mojibake on ASCII text: only
    quotes, dashes and non-ASCII words were sites. A word processor's
    non-breaking space after a full stop is one too ("end.Â  Next")."""
    source = tmp_path / "ascii.txt"
    source.write_text("\n".join(
        f"The council met on day {i}. It approved the plan. The mayor thanked the members. "
        f"Work starts next week." for i in range(1, 41)) + "\n", encoding="utf-8")
    out = tmp_path / "corpus"
    result = CliRunner().invoke(distort_command, [str(source), "--out", str(out), "--rate", "0.2"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "distortions.jsonl").read_text(encoding="utf-8").splitlines()]
    garbled = [r for r in records if r["kind"] == "mojibake"]
    assert len(garbled) >= 10, result.output
    texts = [json.loads(line)["text"] for line in (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum(not t.isascii() for t in texts) >= 10
    for record in garbled:
        assert record["before"] == " " and record["after"].endswith(" ") and not record["after"].isascii()
        assert unbake(record["after"], record["detail"]) == "\u00a0 "


def test_sentence_gap_mojibake_keeps_every_other_distortion_of_a_seed(monkeypatch):
    """The gaps draw from a stream of their own: adding them changed no other edit."""
    import harness.distort as distort_module

    runs = {}
    for gaps in (True, False):
        if not gaps:
            monkeypatch.setattr(distort_module, "_sentence_gaps", lambda text, sentences: [])
        runs[gaps] = [run(CLEAN, list(KINDS), rate=0.3, seed=seed)[1] for seed in range(20)]
    for with_gaps, without in zip(runs[True], runs[False]):
        others = [r for r in with_gaps if not (r.kind == "mojibake" and r.before == " ")]
        assert [(r.kind, r.before, r.after, r.source_start) for r in others] == \
            [(r.kind, r.before, r.after, r.source_start) for r in without]
    assert any(r.kind == "mojibake" and r.before == " " for records in runs[True] for r in records)
