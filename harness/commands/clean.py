"""``harness clean FILE``: run cleaners on a text and show what they did.

FILE (or ``-`` for standard input) holds passages one per line, or one per
paragraph when blank lines separate paragraphs. The default chain runs
(:data:`harness.config.DEFAULT_CLEANERS`); each ``--cleaner`` (a built-in,
an entry point or ``package.module:function`` marked ``@harness.plugin``) is
added after it, in the order given, and with ``--cleaners-only`` the named
cleaners run alone.

Output: the cleaned text in the input's layout; with ``--explain`` every edit
(passage, cleaner, rule, before -> after, span in that cleaner's input), in
columns as wide as the longest cleaner and rule names; with ``--diff`` a word
diff of each changed passage (coloured on a terminal, ``[-old-]{+new+}``
otherwise). A passage on which a cleaner fails is reported on stderr, printed
unchanged, and the command exits with status 1 once every other passage is done.

Text from the input or from a cleaner never reaches a terminal raw: control
characters, bidi overrides and zero-width characters are printed as
``⟨U+001B⟩`` marks (:func:`harness.terminal.safe`). The cleaned text written
to a pipe or a file is the command's output data and is kept exact.
"""

from __future__ import annotations

import re
import sys

import click

from ..errors import PassageError


def split_passages(text: str) -> tuple[list[str], str]:
    """Passages and the separator that joins them back: one per paragraph when
    blank lines separate paragraphs, else one per non-empty line."""
    stripped = text.strip("\n")
    if re.search(r"\n[ \t]*\n", stripped):
        blocks = re.split(r"\n[ \t]*\n+", stripped)
        return [block.strip("\n") for block in blocks if block.strip()], "\n\n"
    return [line for line in stripped.split("\n") if line.strip()], "\n"


def _read_input(file: str) -> str:
    from ..loading import decode_text, read_text

    if file == "-":
        return decode_text(sys.stdin.buffer.read(), "standard input")
    return read_text(file, what="input")


def _render_diff(before: str, after: str, color: bool):
    """A rich Text of the word diff; every piece of text escaped (:func:`safe`)."""
    from rich.text import Text

    from ..cleaners.spans import diff_edits
    from ..terminal import safe

    out = Text()
    cursor = 0
    for edit in diff_edits(before, after, "diff"):
        out.append(safe(before[cursor:edit.start]))
        if color:
            if edit.before:
                out.append(safe(edit.before), style="bold red strike")
            if edit.after:
                out.append(safe(edit.after), style="bold green")
        else:
            if edit.before:
                out.append(f"[-{safe(edit.before)}-]")
            if edit.after:
                out.append(f"{{+{safe(edit.after)}+}}")
        cursor = edit.end
    out.append(safe(before[cursor:]))
    return out


def _explain_lines(explained: list[tuple[str, list[dict]]]) -> list[str]:
    """``--explain``: per passage its edits, in columns as wide as the longest
    cleaner and rule names (a plugin's ``mypkg.clean:fix_quotes`` included)."""
    edits = [edit for _, passage_edits in explained for edit in passage_edits]
    cleaner_width = max([10, *(len(str(e["cleaner"])) for e in edits)])
    rule_width = max([20, *(len(str(e["rule"])) for e in edits)])
    lines = []
    for pid, passage_edits in explained:
        lines.append(f"{pid}: {len(passage_edits)} edit{'s' if len(passage_edits) != 1 else ''}")
        for edit in passage_edits:
            lines.append(f"  {str(edit['cleaner']):<{cleaner_width}}  {str(edit['rule']):<{rule_width}}  "
                         f"{edit['before']!r} -> {edit['after']!r}  @{edit['start']}-{edit['end']}")
    return lines


@click.command("clean")
@click.argument("file", type=str)
@click.option("--cleaner", "cleaner_names", multiple=True, metavar="NAME",
              help="Add a cleaner after the default chain (repeatable, in order): built-in name, entry point "
                   "or package.module:function marked @harness.plugin.")
@click.option("--cleaners-only", is_flag=True, help="Run only the --cleaner cleaners, not the default chain.")
@click.option("--explain", is_flag=True, help="Print every edit instead of the cleaned text.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a word diff of each changed passage.")
def clean(file: str, cleaner_names: tuple[str, ...], cleaners_only: bool, explain: bool, show_diff: bool) -> None:
    """Clean FILE (or - for stdin) and print the result, the edits or a diff."""
    from rich.console import Console

    from ..cleaners import DEFAULT_CHAIN, build_cleaner, run_chain
    from ..terminal import echo, is_terminal, safe

    if explain and show_diff:
        raise click.UsageError("--explain and --diff are alternatives; give one of them")
    from . import check_cleaners_only

    check_cleaners_only(cleaner_names, cleaners_only)
    chain = list(dict.fromkeys(cleaner_names)) if cleaners_only else \
        [*DEFAULT_CHAIN, *(name for name in dict.fromkeys(cleaner_names) if name not in DEFAULT_CHAIN)]
    cleaners = [build_cleaner(name) for name in chain]
    passages, separator = split_passages(_read_input(file))
    width = max(2, len(str(len(passages))))
    console = Console(highlight=False, soft_wrap=True)
    outputs: list[str] = []
    explained: list[tuple[str, list[dict]]] = []
    failed = 0
    for number, passage in enumerate(passages, start=1):
        pid = f"p{number:0{width}d}"
        try:
            cleaned, edits = run_chain(cleaners, passage)
        except PassageError as exc:
            failed += 1
            echo(f"error: passage {pid}: {exc}", err=True)
            if exc.detail:
                echo(exc.detail.rstrip(), err=True)
            cleaned, edits = passage, []
        outputs.append(cleaned)
        if explain:
            explained.append((pid, edits))
        elif show_diff:
            if cleaned != passage:
                console.print(f"{pid}:", style="bold")
                console.print(_render_diff(passage, cleaned, color=console.is_terminal))
    if explain:
        for line in _explain_lines(explained):
            echo(line)
    elif not show_diff:
        cleaned_text = separator.join(outputs)
        # the command's data: exact into a pipe or a file (color=True: click
        # would strip what looks like colour codes), escaped on a terminal
        if is_terminal():
            click.echo(safe(cleaned_text))
        else:
            click.echo(cleaned_text, color=True)
    if failed:
        click.echo(f"{failed} of {len(passages)} passage{'s' if len(passages) != 1 else ''} failed", err=True)
        click.get_current_context().exit(1)
