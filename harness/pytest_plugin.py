"""pytest plugin (entry point ``pytest11``): assert a cleaner does not regress.

Installed with the package, so any test suite in the same environment can
write::

    def test_my_cleaner_keeps_meaning(harness_regress):
        harness_regress("baselines/briefing.json", cleaners=["mypkg.clean:fix_text"])

or put the arguments on a marker and call the fixture with none::

    @pytest.mark.harness_baseline("baselines/briefing.json", cleaners=["mypkg.clean:fix_text"])
    def test_my_cleaner_keeps_meaning(harness_regress):
        harness_regress()

The cleaners are added after the chain of the baseline's config, as
``harness regress --cleaner`` does; ``cleaners_only=True`` runs them alone
(``--cleaners-only``). The fixture reruns the pipeline and fails
the test, without a traceback, with the list of regressed passages (before
and after text, and why). It returns the
:class:`~harness.regress.RegressReport` so a test can assert more.

Nothing from harness is imported until a test uses the fixture: the plugin
loads in every pytest session of the environment and must stay cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from .regress import RegressReport

MARKER = "harness_baseline"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(baseline, cleaners=None, config=None, cases=(), margins=None, cleaners_only=False): "
        "default arguments "
        "for the harness_regress fixture (assert the cleaners do not regress against the baseline)",
    )


def _resolve(path: str | Path, rootpath: Path) -> Path:
    """A relative baseline path is taken from the current folder, else from pytest's rootdir."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    return rootpath / path


@pytest.fixture
def harness_regress(request: pytest.FixtureRequest) -> Callable[..., "RegressReport"]:
    """A callable ``harness_regress(baseline=None, cleaners=None, config=None, *,
    cases=(), margins=None, cache_dir=None, cleaners_only=False, fail=True) -> RegressReport``.

    ``cleaners`` are added after the chain of the baseline's config (or of
    ``config``); with ``cleaners_only=True`` they replace it.

    Arguments left out come from a ``@pytest.mark.harness_baseline(...)``
    marker. With ``fail=True`` (default) a regression fails the test with a
    readable message; a missing or incompatible baseline always fails it.
    """
    marker = request.node.get_closest_marker(MARKER)
    defaults: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        defaults.setdefault("baseline", marker.args[0])

    def check(baseline: str | Path | None = None, cleaners: Sequence[str] | None = None, config: Any = None, *,
              cases: Sequence[str | Path] = (), margins: Mapping[str, float] | None = None,
              cache_dir: str | Path | None = None, cleaners_only: bool | None = None,
              fail: bool = True) -> "RegressReport":
        from .config import regress_cleaners
        from .errors import HarnessError
        from .regress import run_regress
        from .report.regress import failure_message

        baseline = baseline if baseline is not None else defaults.get("baseline")
        if baseline is None:
            pytest.fail("harness_regress: no baseline given (pass one, or use "
                        f"@pytest.mark.{MARKER}('path/to/baseline.json'))", pytrace=False)
        cleaners = cleaners if cleaners is not None else defaults.get("cleaners")
        config = config if config is not None else defaults.get("config")
        cases = cases or defaults.get("cases", ())
        margins = margins if margins is not None else defaults.get("margins")
        cache_dir = cache_dir if cache_dir is not None else defaults.get("cache_dir")
        cleaners_only = cleaners_only if cleaners_only is not None else bool(defaults.get("cleaners_only"))
        if isinstance(cleaners, str):
            cleaners = [cleaners]
        if isinstance(cases, (str, Path)):
            cases = [cases]
        rootpath = Path(request.config.rootpath)
        baseline_path = _resolve(baseline, rootpath)
        try:
            report = run_regress(
                baseline_path,
                config=config,
                cleaners=regress_cleaners(baseline_path, config, list(cleaners or ()), only=cleaners_only),
                case_files=[_resolve(c, rootpath) for c in cases],
                margins=margins,
                cache_dir=Path(cache_dir) if cache_dir is not None else None,
            )
        except HarnessError as exc:
            pytest.fail(f"harness regress: {exc}", pytrace=False)
        if fail and report.regressed:
            pytest.fail(failure_message(report), pytrace=False)
        return report

    return check
