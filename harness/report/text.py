"""Showing untrusted text safely: visible control characters, escaped markup, word diffs."""

from __future__ import annotations

import difflib
import html
import math
import re
import unicodedata
from typing import Any

from ..visible import has_invisible, visible  # noqa: F401  (the reports' and the terminal's marks)


def md_text(text: str) -> str:
    """Untrusted text for a Markdown file, inline: visible, HTML-escaped
    (Markdown renderers pass raw HTML through), Markdown punctuation
    neutralised, and line breaks made spaces (a blank line would end the
    block the text is in: a table row, a list item, a quote). For a text
    whose lines matter, :func:`md_quote`."""
    escaped = html.escape(visible(_LINE_BREAKS.sub(" ", text)), quote=False)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", escaped)


_LINE_BREAKS = re.compile(r"\r\n|[\r\n]")
# what may open a block at a line's start: a list item ("-", "+", "1." or
# "1)"), a setext underline or thematic break ("===", "---"), a fence ("~~~");
# "#", "*", "_", "`", "|", ">" and "<" are escaped by md_text already
_BLOCK_START = re.compile(r"^([-+=~])|^(\d{1,9})([.)])")


def md_quote(text: str) -> list[str]:
    """Untrusted text as the lines of a Markdown blockquote, its line breaks
    kept: every line, a blank one too (as ``>``), stays inside the quote, and
    no line can open a heading, list, fence, table or code block, so the text
    cannot forge the report's structure (issue 17)."""
    lines = []
    for line in _LINE_BREAKS.split(text):
        body = _BLOCK_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}",
                                md_text(line.strip()))
        lines.append(f"> {body}" if body else ">")
    return lines


def md_code(text: str, *, table: bool = False) -> str:
    """Untrusted text for inside a Markdown code span: code spans show
    entities and backslashes literally, so escape only what would end the
    span, and, in a table cell (``table``), the cell: a ``|`` there is
    written ``\\|``, which GitHub's tables read as ``|``. Outside a table the
    backslash would be shown as it is (``nrefs:1\\|case:mixed``)."""
    text = " ".join(visible(text).split()).replace("`", "ˋ")
    return text.replace("|", "\\|") if table else text


def one_line(text: str | None, limit: int | None = None) -> str:
    """Untrusted text on one line, control characters shown, cut at ``limit``."""
    shown = " ".join(visible(text or "").split())
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown


def md_cell(text: str, limit: int | None = None) -> str:
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return md_text(text)


def word_diff(before: str, after: str) -> list[tuple[str, str, str]]:
    """Word-level opcodes ``(tag, before_words, after_words)``; tag is one of
    equal / replace / delete / insert (difflib's names)."""
    a, b = before.split(), after.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(tag, " ".join(a[i1:i2]), " ".join(b[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def md_diff(before: str, after: str) -> str:
    """A Markdown rendering of a word diff: ~~removed~~ and **added**."""
    parts = []
    for tag, old, new in word_diff(before, after):
        if tag == "equal":
            parts.append(md_text(old))
            continue
        if old:
            parts.append(f"~~{md_text(old)}~~")
        if new:
            parts.append(f"**{md_text(new)}**")
    return " ".join(parts)


def char_name(char: str) -> str:
    return unicodedata.name(char, f"U+{ord(char):04X}")


def fmt_number(value: Any, digits: int | None = None, *, signed: bool = False, missing: str = "–") -> str:
    """The one way reports write a number: ``missing`` for None, "n/a" for
    NaN or infinity; ``digits`` decimals when given, else an integer as it
    is and a float with 3 decimals on a 0..1 scale, 2 above; ``signed`` adds
    the sign (differences)."""
    if value is None:
        return missing
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    if digits is None:
        if isinstance(value, int):
            return f"{value:+d}" if signed else str(value)
        digits = 3 if abs(value) <= 1.0 and value != 0 else 2
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
