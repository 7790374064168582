"""The ``harness`` command line.

Subcommands live in ``harness.commands.*`` and are imported only when they
run, so ``harness --help`` never pays for torch or sacrebleu. Every user
error (``HarnessError``) becomes one ``error: ...`` line and its exit code.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import click

from . import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, HarnessError

# name -> (import path, one-line help shown by `harness --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("harness.commands.run:run", "Evaluate a transcript: clean, retranslate, score, report."),
    "clean": ("harness.commands.clean:clean", "Clean text with the built-in or your own cleaners."),
    "compare": ("harness.commands.compare:compare",
                "Compare configs, saved runs or system output files (-i) with significance tests."),
    "baseline": ("harness.commands.regress:baseline", "Save a baseline for the regression gate."),
    "regress": ("harness.commands.regress:regress", "Fail when meaning drops against a baseline."),
    "distort": ("harness.commands.distort:distort", "Generate spun copies of clean text with known damage."),
    "cache": ("harness.commands.cache:cache", "Inspect or clear the translation cache."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on use (see click's docs on lazy loading)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, _, attr = COMMANDS[name][0].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            unavailable = click.ClickException(f"command {name!r} is unavailable: {exc}")
            unavailable.exit_code = EXIT_BAD_INPUT  # an installation problem, not a regression (1)
            raise unavailable from None
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's ``main``, with what click itself prints escaped: a usage
        error quotes what was typed (``No such option: --\\e]0;x``), and that
        must not reach the terminal raw either."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            returned = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            exc.message = _one_printable_line(exc.message)
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(returned if isinstance(returned, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            click.echo(f"error: {_one_printable_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: finished passages are saved; rerun the same command to resume", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: one line unless asked for the traceback
            if os.environ.get("HARNESS_DEBUG"):
                raise
            # its own exit code: a CI must never read a bug as "regressed" (1) or "bad input" (2)
            click.echo(f"internal error: {type(exc).__name__}: {_one_printable_line(exc)} "
                       f"(set HARNESS_DEBUG=1 for the traceback; exit code {EXIT_INTERNAL_ERROR})", err=True)
            ctx.exit(EXIT_INTERNAL_ERROR)


def _one_printable_line(exc: BaseException | str) -> str:
    """An error message as one line with control characters shown as marks:
    messages can quote untrusted text, and an escape sequence in it must not
    reach the terminal (:func:`harness.terminal.safe`)."""
    from .terminal import safe

    return safe(" ".join(str(exc).split()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
def cli() -> None:
    """Measure how much meaning survived in distorted English text, passage by passage.

    \b
    harness run                       the bundled briefing with configs/default.yaml
    harness run -c configs/raw.yaml   another pipeline
    harness compare configs/default.yaml configs/clean-only.yaml

    \b
    Exit codes: 0 done; 1 regress: something regressed (clean: a passage
    failed); 2 bad input, config, baseline or output folder; 3 internal error
    (a bug in the harness); 130 interrupted.
    """


def _terminate_as_interrupt(signum, frame):
    # SIGTERM ends a run the same way Ctrl-C does: files closed, nothing torn.
    raise KeyboardInterrupt


def main() -> None:
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    cli.main(prog_name="harness")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
