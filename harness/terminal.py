"""Printing text that comes from data: the one escaping function.

Passage texts, ids, cleaner and metric names, config names, run-folder
names, file paths, exception messages, cache labels: anything the harness
prints that it did not write itself may hold an escape sequence (``\\e[2J``,
an OSC window title or hyperlink, ``\\ec``), a C1 control, a carriage return
or a bidi override. :func:`safe` shows each such character as a
``⟨U+001B⟩`` mark (the marks the reports use, :func:`harness.visible.visible`),
so none reaches the terminal raw; with ``rich=True`` it also escapes square
brackets, so ``[bold red]`` in a name is printed, not read as rich markup.

Every command prints through :func:`echo` (plain lines, escaped as a whole:
nothing the harness writes itself needs a control character) or passes each
piece of data through :func:`safe` before giving it to a rich console. The
one exception is ``harness clean``'s cleaned text written to a pipe or a
file: that is the command's data product, kept exact; on a terminal it is
escaped like everything else (:func:`is_terminal`).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from .visible import visible

# visible() keeps tab, line feed and carriage return (reports keep line
# structure); on a terminal a carriage return rewrites the line, so it is
# marked too. Line feed and tab are layout and stay.
_CARRIAGE_RETURN = re.compile("\r")


def safe(value: Any, *, rich: bool = False) -> str:
    """``value`` as text for the terminal: control characters (C0 but tab and
    line feed, DEL, C1), carriage returns, bidi overrides and zero-width
    characters shown as ``⟨U+XXXX⟩`` marks; with ``rich``, rich markup escaped."""
    text = _CARRIAGE_RETURN.sub("⟨U+000D⟩", visible(str(value)))
    if rich:
        from rich.markup import escape

        text = escape(text)
    return text


def echo(message: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of a line built from data, escaped as a whole."""
    click.echo(safe(message), err=err, nl=nl)


def is_terminal(stream=None) -> bool:
    """Whether ``stream`` (standard output) is a terminal."""
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
