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
function). :func:`check_case_files` runs case files through the cleaners under test:
the regression gate's ``--cases``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Sequence, Union

from ..errors import ConfigError, InputError
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


# --------------------------------------------------------------------------
# Case files against the cleaners under test (the regression gate's --cases)
# --------------------------------------------------------------------------

@dataclass
class CaseCheck:
    """One labelled cleaner case (fix / keep / known-failure)."""

    file: str
    cleaner: str
    id: str
    kind: str
    status: str  # "passed", "regressed", "good-news" (a known failure now passes), "known-failure"
    message: str = ""

    @property
    def name(self) -> str:
        return f"{self.cleaner}:{self.id}"


def _case_cleaner(file: Path, file_cleaner: str | None, under_test: list[tuple[str, Any]]):
    """The cleaner a case file is for: one under test named like the file's
    ``cleaner`` (its spec or its name); else the only cleaner under test;
    else the file's cleaner built by name."""
    from . import build_cleaner

    for spec, cleaner in under_test:
        if file_cleaner is not None and file_cleaner in (spec, getattr(cleaner, "name", None)):
            return cleaner
    if len(under_test) == 1:
        return under_test[0][1]
    if file_cleaner is None:
        raise ConfigError(f"case file {file}: names no cleaner; add 'cleaner: package.module:name' to it")
    try:
        return build_cleaner(file_cleaner)
    except ConfigError as exc:
        raise ConfigError(
            f"case file {file} is for cleaner {file_cleaner!r}, which is not among the cleaners under test "
            f"({', '.join(spec for spec, _ in under_test) or 'none'}) and cannot be built ({exc}); "
            f"add 'cleaner: package.module:name' to the file or pass it with --cleaner"
        ) from None


def check_case_files(case_files: Sequence[Path | str], run_config) -> list[CaseCheck]:
    """Run labelled case files (:mod:`harness.cleaners.cases`, the format of the
    project's own cleaner tests) through the cleaners under test.

    A ``fix`` case that does not give its expected text, or a ``keep`` case
    whose text changes, is a regression; a ``known-failure`` that now gives
    its expected text is good news (relabel it ``fix``). A case file is
    matched to a cleaner by its ``cleaner`` field (default: the file's stem).
    """
    from ..report.text import one_line
    from . import build_cleaner

    def shorten(text: str) -> str:
        return one_line(text, 160)

    under_test = [(spec.name, build_cleaner(spec.name, spec.options or None)) for spec in run_config.cleaner_specs()]
    checks: list[CaseCheck] = []
    for file in case_files:
        file = Path(file)
        cases = load_cases(file)
        if not cases:
            continue
        cleaner = _case_cleaner(file, cases[0].cleaner, under_test)
        cleaner_name = str(getattr(cleaner, "name", cases[0].cleaner or file.stem))
        for index, case in enumerate(cases, start=1):
            case_id = f"{file.stem}:{index}"
            try:
                outcome = check_case(cleaner, case)
            except Exception as exc:  # a user's cleaner: report, do not crash the gate
                checks.append(CaseCheck(str(file), cleaner_name, case_id, case.kind, "regressed",
                                        f"cleaner raised {type(exc).__name__}: {exc}"))
                continue
            got = f"got {shorten(outcome.actual)!r}"
            if case.kind == "known-failure":
                status = "good-news" if outcome.passed else "known-failure"
                message = f"expected {shorten(case.wanted)!r}, {got}"
            elif outcome.passed:
                status, message = "passed", ""
            elif case.kind == "keep":
                status, message = "regressed", f"changed a text it must keep: {shorten(case.input)!r}, {got}"
            else:
                status, message = "regressed", f"expected {shorten(case.wanted)!r}, {got}"
            checks.append(CaseCheck(str(file), cleaner_name, case_id, case.kind, status, message))
    return checks
