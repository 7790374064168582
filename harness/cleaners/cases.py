"""Labelled cleaner cases, in the style of ftfy's test cases.

A case file is YAML: either a list of cases, or a mapping with an optional
``cleaner`` (the cleaner the cases are for; by default the file's stem, so
``tests/cases/spin.yaml`` is for ``spin``) and a ``cases`` list. Each case::

    - kind: fix            # fix | keep | known-failure
      input: "and you may to drive"
      expected: "and to drive"     # fix and known-failure only
      note: why this case exists

``fix``            the cleaner must turn ``input`` into ``expected`` exactly;
``keep``           clean text the cleaner must return unchanged;
``known-failure``  a documented limitation: ``expected`` is the right output,
                   which the cleaner does *not* produce today (a test runner
                   marks it as an expected failure, and notices when it starts
                   passing).

:func:`load_cases` reads a file, :func:`check_case` runs one case through a
cleaner (a built-in, a user's cleaner object, or a plain ``str -> str``
function). The regression gate uses both to run a user's own case files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Union

from ..errors import InputError
from ..yamlsafe import load_yaml
from .base import CleanResult

KINDS = ("fix", "keep", "known-failure")
CaseKind = Literal["fix", "keep", "known-failure"]


@dataclass(frozen=True)
class Case:
    """One labelled example."""

    kind: CaseKind
    input: str
    expected: str | None = None
    note: str = ""
    cleaner: str | None = None  # the cleaner the file is for, if known
    source: str = ""  # "path:index", for messages and test ids

    @property
    def wanted(self) -> str:
        """The output a correct cleaner gives: ``input`` itself for ``keep``."""
        return self.input if self.kind == "keep" else (self.expected or "")


@dataclass(frozen=True)
class CaseOutcome:
    """What the cleaner did: ``passed`` is ``actual == case.wanted``."""

    passed: bool
    actual: str


def _parse_case(entry: Any, index: int, cleaner: str | None, label: str) -> Case:
    where = f"{label}: case {index + 1}"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: a case is a mapping with kind, input and expected")
    unknown = set(entry) - {"kind", "input", "expected", "note"}
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)} (allowed: kind, input, expected, note)")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise InputError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    text = entry.get("input")
    if not isinstance(text, str):
        raise InputError(f"{where}: 'input' must be a string")
    expected = entry.get("expected")
    if kind == "keep":
        if expected is not None and expected != text:
            raise InputError(f"{where}: a keep case has no 'expected' other than its input")
        expected = None
    elif not isinstance(expected, str):
        raise InputError(f"{where}: a {kind} case needs 'expected' (a string)")
    elif kind == "fix" and expected == text:
        raise InputError(f"{where}: a fix case whose expected equals its input is a keep case")
    return Case(kind, text, expected, str(entry.get("note") or ""), cleaner, f"{label}:{index + 1}")


def load_cases(path: str | Path) -> list[Case]:
    """Read a case file; any problem is one :class:`~harness.errors.InputError` line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read case file {file}: {exc.strerror or exc}") from None
    data = load_yaml(text, str(file))
    cleaner: str | None = file.stem
    if isinstance(data, dict):
        cleaner = data.get("cleaner", cleaner)
        data = data.get("cases")
    if not isinstance(data, list):
        raise InputError(f"{file}: expected a list of cases (or a mapping with a 'cases' list)")
    return [_parse_case(entry, i, cleaner, str(file)) for i, entry in enumerate(data)]


CleanerLike = Union[Any, Callable[[str], str]]


def check_case(cleaner: CleanerLike, case: Case) -> CaseOutcome:
    """Run ``case.input`` through ``cleaner`` and compare with what the case wants.

    ``cleaner`` is anything with ``clean(text)`` returning a
    :class:`~harness.cleaners.base.CleanResult` or a str, or a plain function
    ``str -> str``. For a known-failure case ``passed`` is normally False.
    """
    if hasattr(cleaner, "clean"):
        result = cleaner.clean(case.input)
    else:
        result = cleaner(case.input)
    actual = result.text if isinstance(result, CleanResult) else result
    if not isinstance(actual, str):
        raise TypeError(f"cleaner returned {type(actual).__name__}, not str")
    return CaseOutcome(passed=actual == case.wanted, actual=actual)
