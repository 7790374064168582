"""Errors the CLI reports as one line on stderr with a non-zero exit code.

Anything raised as a ``HarnessError`` is a problem with the user's input or
environment, not a bug: the CLI prints ``error: <message>`` and exits with
``exit_code`` (2 for bad input, the convention click uses for usage errors).

The exit codes of every command (see the README's "Exit codes"):

* 0 -- done (``regress``: nothing regressed);
* 1 -- ``regress``: something regressed; ``clean``: a cleaner failed on a passage;
* 2 -- bad input, config, baseline or output folder (``error: ...``);
* 3 -- an internal error, a bug in the harness (``internal error: ...``);
* 130 -- interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

#: exit code of a passing command; of ``regress`` when something regressed
#: (and ``clean`` when a cleaner failed on a passage); of bad input; of a bug
EXIT_OK, EXIT_REGRESSED, EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR = 0, 1, 2, 3
EXIT_INTERRUPTED = 130


class HarnessError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str):
        # One line: the CLI promises a single clear line, never a paragraph.
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)


class InputError(HarnessError):
    """A transcript or reference file that cannot be used as it is."""


class ConfigError(HarnessError):
    """A run config with unknown keys, wrong types or impossible values."""


class ModelError(HarnessError):
    """A translation or embedding model that is missing, incomplete or unusable."""


class BackendUnavailable(ModelError):
    """An engine that is not installed on this machine (says how to install it)."""


class OutputError(HarnessError):
    """An output location that cannot be written (exists, read-only, disk full)."""


class PassageError(Exception):
    """A failure confined to one passage (a user cleaner that raised, timed out,
    or returned a non-string). The run records it in that passage's report and
    goes on with the others."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail
