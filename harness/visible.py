"""Characters that change how text *looks* without being seen, shown as marks.

Used by every report (Markdown, HTML, JUnit) and, through
:func:`harness.terminal.safe`, by everything printed to the terminal. Kept
in a module of its own that imports nothing, so the command line can use it
without loading the report writers.
"""

from __future__ import annotations

import re

# Bidi overrides and isolates, zero-width characters, other format (Cf) and
# control (Cc) characters; tab, line feed and carriage return are left as they are.
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)


def visible(text: str) -> str:
    """Replace invisible and direction-changing characters with ``⟨U+202E⟩``
    marks, so a report shows what is really in the text."""
    return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def has_invisible(text: str) -> bool:
    return bool(_INVISIBLE.search(text))
