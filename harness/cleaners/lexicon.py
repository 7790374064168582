"""Loading and matching the data-driven rule tables of the cleaners.

The ``spin`` cleaner's lexicon (``harness/data/spin_lexicon.yaml``) is the main
user; the format is documented at the top of that file. This module turns it
into compiled :class:`Rule` objects and knows how to test a rule's context
conditions on the words around a match.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..yamlsafe import load_yaml

_CLASS_REF = re.compile(r"\{([a-z_]+)\}")
_PREV_WORD = re.compile(r"([\w'\u2019-]+)[ \t]*\Z")
_NEXT_WORD = re.compile(r"[ \t]*([\w'\u2019-]+)")
_KEYWORDS = ("PUNCT", "CAP")
_CONTEXT_WINDOW = 80


def data_path(name: str) -> Path:
    """Path of a data file shipped in ``harness/data``."""
    return Path(str(resources.files("harness") / "data" / name))


#: parsed data files by (path, size, mtime): a cleaner built again (in each
#: worker process forked from one that built it) does not parse YAML again
_PARSED: dict[tuple[str, int, int], tuple[Any, str]] = {}


def read_data(path: Path) -> tuple[Any, str]:
    """Parse a YAML data file; returns the data (the caller's own copy) and the SHA-256 of its bytes."""
    try:
        raw = path.read_bytes()
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read cleaner data file {path}: {exc.strerror or exc}") from None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _PARSED:
        data = load_yaml(raw.decode("utf-8"), str(path), error=ConfigError)
        _PARSED[key] = (data, hashlib.sha256(raw).hexdigest())
    data, sha = _PARSED[key]
    return copy.deepcopy(data), sha


def word_before(text: str, start: int) -> str | None:
    """The word right before ``start`` with only spaces in between, else None."""
    match = _PREV_WORD.search(text[max(0, start - _CONTEXT_WINDOW):start])
    return match.group(1) if match else None


def char_before(text: str, start: int) -> str:
    """The last non-space character before ``start`` ("" at the start of the text)."""
    stripped = text[max(0, start - _CONTEXT_WINDOW):start].rstrip()
    return stripped[-1:] if stripped else ""


def word_after(text: str, end: int) -> str | None:
    """The word right after ``end`` with only spaces in between, else None."""
    match = _NEXT_WORD.match(text, end, min(len(text), end + _CONTEXT_WINDOW))
    return match.group(1) if match else None


@dataclass(frozen=True)
class Condition:
    """One item of a ``prev_is``/``next_not``... list."""

    kind: str  # "punct" | "comma" | "start" | "cap" | "suffix" | "class" | "word"
    value: str = ""
    words: frozenset[str] = frozenset()

    def holds(self, word: str | None, char: str = "") -> bool:
        """Does the neighbouring ``word`` (None: punctuation or text edge) satisfy
        this item? ``char`` is the nearest non-space character on that side."""
        if self.kind == "punct":
            return word is None
        if self.kind == "comma":
            return word is None and char in (",", ";", ":")
        if self.kind == "start":
            return word is None and char in ("", ".", "!", "?", "\n")
        if word is None:
            return False
        lowered = word.lower().replace("\u2019", "'")
        if self.kind == "cap":
            return word[:1].isupper()
        if self.kind == "suffix":
            return len(lowered) > len(self.value) and lowered.endswith(self.value)
        if self.kind == "class":
            return lowered in self.words
        return lowered == self.value


def parse_condition(item: Any, classes: dict[str, frozenset[str]], where: str) -> Condition:
    if not isinstance(item, str) or not item:
        raise ConfigError(f"{where}: condition items must be non-empty strings, got {item!r}")
    if item == "PUNCT":
        return Condition("punct")
    if item == "CAP":
        return Condition("cap")
    if item == "COMMA":
        return Condition("comma")
    if item == "START":
        return Condition("start")
    if item.startswith("*"):
        return Condition("suffix", item[1:].lower().replace("\u2019", "'"))
    if item in classes:
        return Condition("class", item, classes[item])
    return Condition("word", item.lower().replace("\u2019", "'"))


@dataclass(frozen=True)
class Rule:
    """One compiled lexicon entry."""

    id: str
    pattern: re.Pattern
    replace: str | None
    replace_map: dict[str, str] | None
    gated: bool
    prev_is: tuple[Condition, ...] = ()
    prev_not: tuple[Condition, ...] = ()
    next_is: tuple[Condition, ...] = ()
    next_not: tuple[Condition, ...] = ()
    unless_text_has: frozenset[str] = frozenset()
    spun: str = ""
    original: str = ""
    example: tuple[str, str] = ("", "")
    keep: tuple[str, ...] = ()

    def context_allows(self, text: str, start: int, end: int) -> bool:
        before, after = word_before(text, start), word_after(text, end)
        left = char_before(text, start) if before is None else ""
        right = text[end:end + _CONTEXT_WINDOW].lstrip()[:1] if after is None else ""
        if self.prev_is and not any(c.holds(before, left) for c in self.prev_is):
            return False
        if any(c.holds(before, left) for c in self.prev_not):
            return False
        if self.next_is and not any(c.holds(after, right) for c in self.next_is):
            return False
        return not any(c.holds(after, right) for c in self.next_not)

    def replacement(self, match: re.Match) -> str:
        if self.replace_map is not None:
            key = (match.group(1) or "").lower()
            return self.replace_map.get(key, match.group())
        return match.expand(self.replace or "")


@dataclass(frozen=True)
class Lexicon:
    version: str
    min_signatures: int
    min_gated_rules: int
    rules: tuple[Rule, ...]
    classes: dict[str, frozenset[str]] = field(default_factory=dict)
    sha256: str = ""
    path: str = ""


def _expand_classes(pattern: str, classes: dict[str, frozenset[str]], where: str) -> str:
    def expand(match: re.Match) -> str:
        name = match.group(1)
        if name not in classes:
            raise ConfigError(f"{where}: pattern uses unknown class {{{name}}}")
        words = sorted(classes[name], key=lambda w: (-len(w), w))
        return "(?:" + "|".join(re.escape(w) for w in words) + ")"

    return _CLASS_REF.sub(expand, pattern)


def _word_set(words: Any, where: str) -> frozenset[str]:
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ConfigError(f"{where}: a class must be a list of words")
    return frozenset(w.lower().replace("\u2019", "'") for w in words) | frozenset(w for w in words)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Load and compile a spin lexicon (the bundled one when ``path`` is None)."""
    file = Path(path) if path is not None else data_path("spin_lexicon.yaml")
    data, sha = read_data(file)
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise ConfigError(f"{file}: a spin lexicon is a mapping with an 'entries' list")
    classes_raw = data.get("classes") or {}
    if not isinstance(classes_raw, dict):
        raise ConfigError(f"{file}: 'classes' must map names to word lists")
    classes = {name: _word_set(words, f"{file}: class {name}") for name, words in classes_raw.items()}
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["entries"]):
        where = f"{file}: entry {index + 1}"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ConfigError(f"{where}: every entry needs an 'id'")
        rule_id = entry["id"]
        where = f"{file}: entry {rule_id!r}"
        if rule_id in seen:
            raise ConfigError(f"{where}: duplicate id")
        seen.add(rule_id)
        if not isinstance(entry.get("pattern"), str):
            raise ConfigError(f"{where}: needs a 'pattern'")
        if ("replace" in entry) == ("replace_map" in entry):
            raise ConfigError(f"{where}: needs exactly one of 'replace' and 'replace_map'")
        try:
            pattern = re.compile(_expand_classes(entry["pattern"], classes, where), re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"{where}: invalid pattern ({exc})") from None
        example = entry.get("example")
        if not isinstance(example, dict) or not {"spun", "original"} <= set(example):
            raise ConfigError(f"{where}: needs an example with 'spun' and 'original'")

        def conditions(key: str) -> tuple[Condition, ...]:
            items = entry.get(key) or []
            if not isinstance(items, list):
                raise ConfigError(f"{where}: '{key}' must be a list")
            return tuple(parse_condition(item, classes, f"{where} {key}") for item in items)

        unless = entry.get("unless_text_has")
        if unless is not None and unless not in classes:
            raise ConfigError(f"{where}: unless_text_has names unknown class {unless!r}")
        replace_map = entry.get("replace_map")
        if replace_map is not None:
            replace_map = {str(k).lower(): str(v) for k, v in replace_map.items()}
        rules.append(
            Rule(
                id=rule_id,
                pattern=pattern,
                replace=entry.get("replace"),
                replace_map=replace_map,
                gated=bool(entry.get("gated", False)),
                prev_is=conditions("prev_is"),
                prev_not=conditions("prev_not"),
                next_is=conditions("next_is"),
                next_not=conditions("next_not"),
                unless_text_has=classes[unless] if unless else frozenset(),
                spun=str(entry.get("spun", "")),
                original=str(entry.get("original", "")),
                example=(str(example["spun"]), str(example["original"])),
                keep=tuple(str(k) for k in entry.get("keep") or ()),
            )
        )
    return Lexicon(
        version=str(data.get("version", "0")),
        min_signatures=int(data.get("min_signatures", 1)),
        min_gated_rules=int(data.get("min_gated_rules", 2)),
        rules=tuple(rules),
        classes=classes,
        sha256=sha,
        path=str(file),
    )
