"""``whitespace``: spaces, line breaks, doubled punctuation, spacing around punctuation.

Rules (the rule name is in each edit):

``line-endings``   CR LF, CR, NEL, LS and PS become ``\\n``;
``trim``           whitespace at the start and end of the text, and at line ends;
``spaces``         runs of spaces and tabs inside a line become one space
                   (indentation at the start of a line is kept);
``blank-lines``    three or more line breaks become one blank line;
``space-before``   no space before ``, ; : . ! ? )`` and ``]`` after a word
                   (``word ,`` -> ``word,``), nor after ``(`` and ``[``;
``space-after``    a space after ``,`` and ``;`` squeezed between two letters
                   (``word,word`` -> ``word, word``), and after a sentence end
                   glued to the next sentence (``end.Next`` -> ``end. Next``:
                   only a lowercase word of 3+ letters before and a
                   capitalised word after, so ``e.g.``, ``U.S.``, ``3.5`` and
                   ``example.com`` are not touched);
``doubled-punct``  ``,,`` ``;;`` and ``..`` (exactly two, never an ellipsis)
                   become one.

Left alone on purpose: ``!!`` and ``??`` (emphasis, not damage), ``::`` (code),
spaced ellipses ``. . .``, emoticons such as ``:)``, and anything inside a URL.
"""

from __future__ import annotations

import re
from typing import Callable

from .base import CleanResult, apply_replacements
from .protect import SpanSet, address_with_domain, protected_spans
from .spans import fixpoint

_RULES: list[tuple[str, re.Pattern, str | Callable[[re.Match], str]]] = [
    ("line-endings", re.compile("\r\n|[\r\x85\u2028\u2029]"), "\n"),
    ("trim", re.compile(r"\A\s+|\s+\Z"), ""),
    ("trim", re.compile(r"[ \t]+(?=\n)"), ""),
    ("spaces", re.compile(r"(?<=\S)(?: {2,}|[ \t]*\t[ \t]*)(?=\S)"), " "),
    ("blank-lines", re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+"), "\n\n"),
    # "word ," -> "word,"; the punctuation must end its word (no ":)" emoticons,
    # no ". . ." ellipses, no ".5" decimals).
    ("space-before", re.compile(r"(?<=[^\W_]) +(?=[,;:!?](?:\s|$))"), ""),
    ("space-before", re.compile(r"(?<=[^\W_]) +(?=\.(?:\s|$)(?! ?\.))"), ""),
    ("space-before", re.compile(r"(?<=[^\W_.]) +(?=[)\]])"), ""),
    ("space-before", re.compile(r"(?<=[(\[]) +(?=[^\W_])"), ""),
    ("space-after", re.compile(r"(?<=[^\W\d_][,;])(?=[^\W\d_])"), " "),
    ("space-after", re.compile(r"(?<![\w.@/:-])[a-z]{3,}\.(?=[A-Z][a-z]{2,}\b)"), lambda m: m.group() + " "),
    ("doubled-punct", re.compile(r"(?<=[^\W_]),(?: ?,)+"), ","),
    ("doubled-punct", re.compile(r"(?<=[^\W_]);(?: ?;)+"), ";"),
    ("doubled-punct", re.compile(r"(?<=[^\W_.])\.\.(?!\.)"), "."),
]

#: URLs and e-mail addresses, whose spacing and punctuation are left alone: the
#: matches of ``(?:https?://|www\.)\S+|\S+@\S+\.\w+``, found in linear time
#: (the regex itself backtracks quadratically on a long run without spaces).
_URL_START = re.compile(r"(?P<before>(?:https?://|www\.)\S+)")


def url_spans(text: str) -> list[tuple[int, int]]:
    return protected_spans(text, _URL_START, address_with_domain)


def _step(text: str) -> CleanResult:
    protected = SpanSet(url_spans(text))
    replacements: list[tuple[int, int, str, str]] = []
    for rule, pattern, replacement in _RULES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if protected.holds(start, end):
                continue
            new = replacement(match) if callable(replacement) else replacement
            replacements.append((start, end, new, rule))
    return apply_replacements(text, replacements)


class WhitespaceCleaner:
    """Normalise spacing, line breaks and doubled punctuation."""

    name = "whitespace"
    version = "1.0"

    def clean(self, text: str) -> CleanResult:
        return fixpoint(text, _step)
