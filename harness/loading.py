"""Load transcripts and reference paraphrases, and align them by passage id.

Input is untrusted: every way a file can be unusable (empty, binary, not
UTF-8, misaligned, duplicated ids) is an :class:`InputError` with one line
that names the file and what is wrong. Tolerated quirks: a UTF-8 byte-order
mark, CRLF or CR line ends, trailing blank lines.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .errors import InputError

#: A passage longer than this is refused: no model or metric copes with it,
#: and it is almost always a file in the wrong format (no line breaks).
DEFAULT_MAX_PASSAGE_CHARS = 100_000

# "AMBASSADOR SMITH:", "QUESTION:", "MR. MILLER:" — upper-case words then a colon.
_SPEAKER = re.compile(r"^(?P<speaker>[A-Z][A-Z .'\-]{1,60}?):\s+")
#: upper-case labels of web pages and notices, not people: their text stays text
_NOT_SPEAKERS = frozenset({"NOTE", "EDITOR'S NOTE", "EDITORS NOTE", "WARNING", "CAUTION", "UPDATE", "UPDATED",
                           "CORRECTION", "DISCLAIMER", "SOURCE", "SOURCES", "PHOTO", "VIDEO", "WATCH", "READ MORE",
                           "RELATED", "SEE ALSO", "ADVERTISEMENT", "BREAKING", "BREAKING NEWS", "EXCLUSIVE",
                           "IMPORTANT", "ATTENTION", "PS", "P.S.", "NB", "N.B.", "TL;DR", "FAQ", "TIP", "HINT"})
#: A passage id (also a file name, passages/<id>.md): matched with fullmatch,
#: because ``$`` would also match before a final newline ("nl\n").
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")


@dataclass
class Passage:
    """One unit of evaluation: the distorted text and its references."""

    id: str
    text: str
    speaker: str | None = None
    references: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"id": self.id, "speaker": self.speaker, "text": self.text, "references": list(self.references)}


# --------------------------------------------------------------------------
# Reading bytes safely
# --------------------------------------------------------------------------

#: Encodings the "not UTF-8" error may suggest, in the order they are tried
#: (the common ones first): Python's codec name, the name iconv knows it by
#: (glibc and macOS alike), and the script its letters should be in.
ENCODING_CANDIDATES: tuple[tuple[str, str, str], ...] = (
    ("cp1252", "CP1252", "LATIN"),
    ("latin-1", "ISO-8859-1", "LATIN"),
    ("cp1251", "CP1251", "CYRILLIC"),
    ("cp1250", "CP1250", "LATIN"),
    ("iso-8859-15", "ISO-8859-15", "LATIN"),
    ("cp1253", "CP1253", "GREEK"),
    ("cp1254", "CP1254", "LATIN"),
    ("cp1257", "CP1257", "LATIN"),
    ("koi8-r", "KOI8-R", "CYRILLIC"),
    ("mac_roman", "MACINTOSH", "LATIN"),
    ("shift_jis", "SHIFT_JIS", "CJK"),
    ("euc-jp", "EUC-JP", "CJK"),
    ("gbk", "GBK", "CJK"),
    ("big5", "BIG5", "CJK"),
    ("euc-kr", "EUC-KR", "CJK"),
)
#: Non-letters that real text has outside ASCII.
_COMMON_SYMBOLS = set("\u00a0\u00ab\u00bb\u00b0\u00b7\u00a1\u00bf\u00a7\u20ac\u00a3\u2018\u2019\u201a\u201c\u201d"
                      "\u201e\u2013\u2014\u2026\u2022\u3000\u3001\u3002\u300c\u300d\u30fb\uff01\uff08\uff09\uff0c\uff1a"
                      "\uff1b\uff1f")
_SCRIPT_OF_PREFIX = {"CJK": "CJK", "HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "HALFWIDTH": "CJK",
                     "FULLWIDTH": "CJK"}


def _script(char: str) -> str:
    import unicodedata

    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0] if name else "OTHER"
    return _SCRIPT_OF_PREFIX.get(first, first)


def _plausible(text: str, script: str) -> bool:
    """Whether ``text`` (bytes decoded with a candidate encoding) reads as
    text of that encoding's script: no control or unassigned characters;
    outside ASCII only letters, marks and common punctuation; no word that
    mixes scripts ("cafй") or has a capital after a small letter; no symbol
    glued between two letters; and for a Latin code page at most half the
    letters outside ASCII (Greek or Cyrillic read as cp1252 is all accented
    Latin letters)."""
    import unicodedata

    letters = non_ascii_letters = 0
    for char in text:
        if char.isascii():
            if char.isalpha():
                letters += 1
            elif unicodedata.category(char) == "Cc" and char not in "\t\n\r\f":
                return False
            continue
        category = unicodedata.category(char)
        if category[0] == "L":
            letters += 1
            non_ascii_letters += 1
            if _script(char) not in (script, "LATIN") and not (script == "CJK" and category == "Lm"):
                return False
        elif category[0] != "M" and char not in _COMMON_SYMBOLS:
            return False
    # a symbol glued between two letters ("Za¿ó³æ": Polish read as cp1252)
    if re.search(r"[^\W\d_][^\w\s\u2019'\-.,;:!?)\]\u00bb\u201d\u3001\u3002][^\W\d_]", text):
        return False
    words = odd = 0
    for word in re.findall(r"[^\W\d_]+", text):
        scripts = {_script(c) for c in word if not c.isascii() and unicodedata.category(c)[0] == "L"}
        if len(scripts) > 1 or (scripts and scripts != {"LATIN"} and any(c.isascii() for c in word)):
            return False
        if scripts:
            words += 1
            # a capital after a small letter inside a word ("КблзмЭсб": Greek read as cp1251)
            odd += any(a.islower() and b.isupper() for a, b in zip(word, word[1:]))
    if odd > 0.1 * words:
        return False
    return not (script == "LATIN" and letters and non_ascii_letters > 0.5 * letters)


def _guess_encoding(data: bytes) -> tuple[str, str] | None:
    """``(Python codec, iconv name)`` of the first candidate encoding (common
    ones first) that decodes a sample of ``data`` into plausible text, or
    None: a guess that garbles the text, or that iconv does not know, is
    worse than none. Every candidate is in ``ENCODING_CANDIDATES``."""
    sample = data[:65536]
    found = [(codec, iconv_name) for codec, iconv_name, script in ENCODING_CANDIDATES
             if _plausible_decode(data, sample, codec, script)]
    if not found:
        return None
    if found[0][0] == "cp1252" and ("cp1254", "CP1254") in found and \
            any(c in sample.decode("cp1252") for c in "\u00d0\u00dd\u00de\u00f0\u00fd\u00fe"):
        return "cp1254", "CP1254"  # ð ý þ are Icelandic; in a text that is ğ ı ş, Turkish, far more likely
    return found[0]


def _plausible_decode(data: bytes, sample: bytes, codec: str, script: str) -> bool:
    try:
        text = sample.decode(codec)
    except UnicodeDecodeError as exc:
        # the sample may end inside a multi-byte character
        if len(data) <= len(sample) or exc.start < len(sample) - 4:
            return False
        try:
            text = sample[:exc.start].decode(codec)
        except UnicodeDecodeError:
            return False
    return _plausible(text, script)


def read_text(path: Path | str, what: str = "file") -> str:
    """Read a UTF-8 text file; one clear :class:`InputError` for anything else."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} {path}: no such file")
    if path.is_dir():
        raise InputError(f"{what} {path}: is a directory, expected a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read ({exc.strerror or exc})") from None
    return decode_text(data, f"{what} {path}")


def decode_text(data: bytes, label: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{label}: looks like UTF-16 (byte-order mark); re-save it as UTF-8")
    if not data.strip():
        raise InputError(f"{label}: is empty")
    if _looks_binary(data[:8192]):
        raise InputError(f"{label}: looks like a binary file, not text")
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise InputError(f"{label}: contains a NUL byte at offset {offset}, which text never has (binary or UTF-16?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = _guess_encoding(data)
        where = f"{label}: is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        if guess is None:
            raise InputError(f"{where}; convert it to UTF-8, e.g. iconv -f ENCODING -t utf-8 "
                             f"(iconv -l lists the encodings)") from None
        raise InputError(f"{where}; it looks like {guess[0]}; convert it, e.g. iconv -f {guess[1]} -t utf-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_binary(head: bytes) -> bool:
    """Many C0 control bytes (other than tab/newline/CR/form feed) => binary."""
    if not head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) > 0.05


# --------------------------------------------------------------------------
# Transcripts
# --------------------------------------------------------------------------

def passage_ids(count: int) -> list[str]:
    """Stable ids ``p01``, ``p02``, ... (wider when there are more passages)."""
    width = max(2, len(str(count)))
    return [f"p{i:0{width}d}" for i in range(1, count + 1)]


def split_speaker(text: str) -> tuple[str | None, str]:
    """``"QUESTION: Hello."`` -> ``("QUESTION", "Hello.")``; the label is metadata."""
    match = _SPEAKER.match(text)
    if not match or match.group("speaker").strip() in _NOT_SPEAKERS:
        return None, text
    return match.group("speaker").strip(), text[match.end():]


def _split_plain(text: str) -> list[str]:
    """A passage per line, or per paragraph when blank lines separate paragraphs."""
    stripped = text.strip("\n")
    if re.search(r"\n[ \t]*\n", stripped):
        blocks = re.split(r"\n[ \t]*\n+", stripped)
        return [" ".join(line.strip() for line in block.splitlines()).strip() for block in blocks if block.strip()]
    return [line.strip() for line in stripped.split("\n") if line.strip()]


def is_valid_id(text: str) -> bool:
    """Whether ``text`` can be a passage id: 1-128 letters, digits, ``_ - .``,
    starting with a letter or digit, and nothing else (no final newline)."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def _check_id(value: object, label: str, line_no: int | None) -> str:
    where = f"{label} line {line_no}" if line_no is not None else label
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InputError(f"{where}: 'id' must be a string, got {type(value).__name__}")
    text = str(value)
    if not is_valid_id(text):
        raise InputError(f"{where}: id {text[:40]!r} must be 1-128 letters, digits, '_', '-' or '.'")
    return text


def _read_jsonl(text: str, label: str) -> Iterable[tuple[int, dict]]:
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{label} line {line_no}: invalid JSON ({exc.msg})") from None
        except RecursionError:  # "[[[[..." thousands deep: json gives up, so do we, politely
            raise InputError(f"{label} line {line_no}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise InputError(f"{label} line {line_no}: expected a JSON object, got {type(obj).__name__}")
        surrogate = _first_surrogate(obj)
        if surrogate is not None:
            # JSON can escape half a UTF-16 pair ("\ud800"): not a character, and no file can store it
            raise InputError(f"{label} line {line_no}: has an unpaired surrogate escape \\u{ord(surrogate):04x}, "
                             f"which is not a character")
        yield line_no, obj


_SURROGATE = re.compile("[\ud800-\udfff]")


def _first_surrogate(value: object) -> str | None:
    """A lone surrogate in any string inside ``value``, if there is one
    (iterative: a JSON line may nest as deeply as json allows)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            match = _SURROGATE.search(item)
            if match:
                return match.group()
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def parse_transcript(text: str, label: str = "transcript", jsonl: bool | None = None,
                     max_chars: int = DEFAULT_MAX_PASSAGE_CHARS) -> list[Passage]:
    """Parse transcript text (plain or JSONL) into passages with stable ids."""
    if jsonl is None:
        jsonl = text.lstrip().startswith("{")
    passages: list[Passage] = []
    if jsonl:
        seen: dict[str, int] = {}
        for line_no, obj in _read_jsonl(text, label):
            if "text" not in obj:
                raise InputError(f"{label} line {line_no}: missing 'text'")
            if not isinstance(obj["text"], str):
                raise InputError(f"{label} line {line_no}: 'text' must be a string")
            pid = _check_id(obj["id"], label, line_no) if "id" in obj else None
            if pid is None:
                raise InputError(f"{label} line {line_no}: missing 'id'")
            if pid in seen:
                raise InputError(f"{label} line {line_no}: duplicate id {pid!r} (first on line {seen[pid]})")
            seen[pid] = line_no
            speaker = obj.get("speaker")
            body = obj["text"].strip()
            if speaker is None:
                speaker, body = split_speaker(body)
            passages.append(Passage(pid, body, speaker if isinstance(speaker, str) else None))
    else:
        blocks = _split_plain(text)
        for pid, block in zip(passage_ids(len(blocks)), blocks):
            speaker, body = split_speaker(block)
            passages.append(Passage(pid, body, speaker))
    if not passages:
        raise InputError(f"{label}: has no passages")
    for passage in passages:
        if not passage.text.strip():
            raise InputError(f"{label}: passage {passage.id} is empty")
        if len(passage.text) > max_chars:
            raise InputError(
                f"{label}: passage {passage.id} is {len(passage.text):,} characters long "
                f"(limit {max_chars:,}); split it into passages, one per line"
            )
    return passages


#: The transcript path that means standard input (``harness run -t -``).
STDIN = "-"


def load_transcript(path: Path | str, max_chars: int = DEFAULT_MAX_PASSAGE_CHARS) -> list[Passage]:
    """Passages of a transcript file, or of standard input when ``path`` is ``-``
    (plain text or JSONL, told apart by the content)."""
    if str(path) == STDIN:
        label = "transcript (standard input)"
        text = decode_text(sys.stdin.buffer.read(), label)
        return parse_transcript(text, label, max_chars=max_chars)
    path = Path(path)
    text = read_text(path, "transcript")
    jsonl = True if path.suffix.lower() in (".jsonl", ".ndjson") else None
    return parse_transcript(text, f"transcript {path}", jsonl=jsonl, max_chars=max_chars)


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------

def _as_reference_list(value: object, label: str, pid: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{label}: references for {pid!r} must be a list of strings")
    refs = [" ".join(v.split()) for v in value if v.strip()]
    if not refs:
        raise InputError(f"{label}: passage {pid!r} has an empty reference list")
    return refs


def _load_reference_mapping(path: Path) -> dict[str, list[str]]:
    label = f"references {path}"
    text = read_text(path, "references")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        mapping: dict[str, list[str]] = {}
        for line_no, obj in _read_jsonl(text, label):
            if "id" not in obj:
                raise InputError(f"{label} line {line_no}: missing 'id'")
            pid = _check_id(obj["id"], label, line_no)
            if pid in mapping:
                raise InputError(f"{label} line {line_no}: duplicate id {pid!r}")
            value = obj.get("references", obj.get("reference"))
            if value is None:
                raise InputError(f"{label} line {line_no}: missing 'references'")
            mapping[pid] = _as_reference_list(value, label, pid)
        return mapping
    from .yamlsafe import load_yaml

    data = load_yaml(text, label)
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected a mapping from passage id to a list of references")
    mapping = {}
    for pid, value in data.items():
        if isinstance(pid, bool) or not isinstance(pid, (str, int)):
            raise InputError(f"{label}: passage id {pid!r} must be a string (quote it)")
        pid = _check_id(pid, label, None)
        if pid in mapping:  # 1 and "1" (load_yaml already refuses them, with their lines)
            raise InputError(f"{label}: duplicate id {pid!r}")
        mapping[pid] = _as_reference_list(value, label, pid)
    return mapping


def _load_reference_streams(paths: Sequence[Path], ids: list[str]) -> dict[str, list[str]]:
    """sacrebleu's convention: one file per reference, one line per passage."""
    mapping: dict[str, list[str]] = {pid: [] for pid in ids}
    for path in paths:
        label = f"references {path}"
        text = read_text(path, "references")
        # The final newline ends the last line; blank lines before it are
        # passages without this reference.
        lines = (text[:-1] if text.endswith("\n") else text).split("\n")
        if len(lines) != len(ids):
            raise InputError(
                f"{label}: has {len(lines)} lines but the transcript has {len(ids)} passages; "
                f"a reference file needs one line per passage (an empty line for none)"
            )
        for pid, line in zip(ids, lines):
            if line.strip():
                mapping[pid].append(" ".join(line.split()))
    return mapping


def load_references(paths: Sequence[Path | str], ids: list[str]) -> dict[str, list[str]]:
    """References from one YAML/JSONL mapping, or from sacrebleu-style line files."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no reference file given")
    mapping_files = [p for p in paths if p.suffix.lower() in (".yaml", ".yml", ".jsonl", ".ndjson", ".json")]
    if mapping_files:
        merged: dict[str, list[str]] = {}
        for path in mapping_files:
            for pid, refs in _load_reference_mapping(path).items():
                merged.setdefault(pid, []).extend(refs)
        line_files = [p for p in paths if p not in mapping_files]
        if line_files:
            for pid, refs in _load_reference_streams(line_files, ids).items():
                merged.setdefault(pid, []).extend(refs)
        return merged
    return _load_reference_streams(paths, ids)


def align(passages: list[Passage], references: dict[str, list[str]], label: str = "references") -> list[Passage]:
    """Attach references to passages; refuse any id on one side only."""
    ids = [p.id for p in passages]
    unknown = [pid for pid in references if pid not in set(ids)]
    if unknown:
        raise InputError(
            f"{label}: reference for unknown passage id {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + f"; the transcript's ids are {ids[0]}..{ids[-1]}"
        )
    missing = [pid for pid in ids if not references.get(pid)]
    if missing:
        raise InputError(
            f"{label}: passage {missing[0]!r} has no reference"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    for passage in passages:
        passage.references = list(references[passage.id])
    return passages


def load_dataset(transcript: Path | str, references: Sequence[Path | str] | None,
                 max_chars: int = DEFAULT_MAX_PASSAGE_CHARS) -> list[Passage]:
    """The transcript's passages, each with its references (if any were given)."""
    passages = load_transcript(transcript, max_chars=max_chars)
    if references:
        label = "references " + ", ".join(str(p) for p in references)
        align(passages, load_references(references, [p.id for p in passages]), label)
    return passages


def dataset_fingerprint(passages: Sequence[Passage]) -> dict[str, str]:
    """Hashes of the transcript and reference *content* (independent of file format)."""
    transcript = hashlib.sha256()
    refs = hashlib.sha256()
    for p in passages:
        transcript.update(json.dumps([p.id, p.speaker, p.text], ensure_ascii=False).encode())
        refs.update(json.dumps([p.id, p.references], ensure_ascii=False).encode())
    return {"transcript_sha256": transcript.hexdigest(), "references_sha256": refs.hexdigest()}
