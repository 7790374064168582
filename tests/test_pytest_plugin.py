"""The pytest plugin, seen from a user's own test suite (run with pytester).

The plugin is found through the ``pytest11`` entry point of the installed
package, as in any project that depends on harness: nothing is configured
in the user's suite.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from harness.baseline import run_baseline, save_baseline
from harness.config import load_config

pytest_plugins = ["pytester"]

USER_CLEANERS = '''
import re

import harness

@harness.plugin
def forget_numbers(text):
    """The user's cleaner after a bad change: it now deletes digits."""
    return re.sub(r"\\s*[$]?\\d[\\d,.]*", "", text)

@harness.plugin
def tidy(text):
    """The user's cleaner after a harmless change."""
    return " ".join(text.split())
'''


# Translations and finished passages are cached in a folder of this module's own.
pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def baseline_path(tmp_path_factory):
    """A baseline of the built-in cleaners, made with the model-free metrics (fast)."""
    clean_only = load_config("clean-only")
    config = clean_only.model_copy(update={
        "name": "plugin-test",
        "metrics": clean_only.metrics.model_copy(update={"use": ("chrf", "bleu", "anchors", "meaning")}),
    })
    path = tmp_path_factory.mktemp("baselines") / "briefing.json"
    save_baseline(path, run_baseline(config, baseline_dir=path.parent))
    return path


@pytest.fixture
def user_suite(pytester, baseline_path):
    """A user's project: their cleaners module and the chain they test."""
    pytester.makepyfile(mycleaners=USER_CLEANERS)
    chain = [str(c) for c in load_config("clean-only").cleaners]
    pytester.makeconftest(f"BASELINE = {str(baseline_path)!r}\nCHAIN = {json.dumps(chain)}\n")
    return pytester


def run_user_tests(pytester, source: str):
    pytester.makepyfile(test_user=textwrap.dedent(source))
    return pytester.runpytest("-p", "no:cacheprovider")


def test_the_plugin_is_registered_through_the_entry_point(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["*@pytest.mark.harness_baseline(baseline, cleaners=None*"])
    fixtures = pytester.runpytest("--fixtures")
    fixtures.stdout.fnmatch_lines(["harness_regress*"])


def test_a_cleaner_that_does_not_regress_passes(user_suite):
    result = run_user_tests(user_suite, """
        from conftest import BASELINE, CHAIN

        def test_tidy_keeps_meaning(harness_regress):
            report = harness_regress(BASELINE, cleaners=CHAIN + ["mycleaners:tidy"])
            assert not report.regressed
    """)
    result.assert_outcomes(passed=1)


def test_the_cleaners_are_added_to_the_baselines_chain_unless_cleaners_only(user_suite):
    """Issue 16: ``cleaners=[mine]`` replaced the built-in chain, so a harmless
    cleaner "regressed" every passage the built-ins repair."""
    result = run_user_tests(user_suite, """
        from conftest import BASELINE, CHAIN

        def test_added(harness_regress):
            report = harness_regress(BASELINE, cleaners=["mycleaners:tidy"])
            assert not report.regressed
            assert [c["name"] for c in report.cleaners_after] == CHAIN + ["mycleaners:tidy"]

        def test_alone(harness_regress):
            report = harness_regress(BASELINE, cleaners=["mycleaners:tidy"], cleaners_only=True, fail=False)
            assert [c["name"] for c in report.cleaners_after] == ["mycleaners:tidy"]
            assert report.regressed
    """)
    result.assert_outcomes(passed=2)


def test_a_regressing_cleaner_fails_with_the_regressed_passages_listed(user_suite):
    result = run_user_tests(user_suite, """
        from conftest import BASELINE, CHAIN

        def test_forget_numbers_keeps_meaning(harness_regress):
            harness_regress(BASELINE, cleaners=CHAIN + ["mycleaners:forget_numbers"])
    """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*harness regress: * regression(s) against *briefing.json",
        "*passage p01 (cleaned): number $44 billion missing (not in the baseline)",
        "*regressed passages:",
        "*p01 [[]cleaned]",  # fnmatch: [[] is a literal "["
        "*before:*$44 billion*",
        "*changes:*[[]-$44-] billion*",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "def test_forget_numbers_keeps_meaning" not in result.stdout.str()  # pytrace=False: no source dump


def test_the_marker_supplies_the_arguments(user_suite):
    result = run_user_tests(user_suite, """
        import pytest
        from conftest import BASELINE, CHAIN

        @pytest.mark.harness_baseline(BASELINE, cleaners=CHAIN + ["mycleaners:tidy"])
        def test_with_marker(harness_regress):
            assert harness_regress().exit_code == 0

        @pytest.mark.harness_baseline(BASELINE, cleaners=CHAIN + ["mycleaners:forget_numbers"])
        def test_with_marker_regressing(harness_regress):
            harness_regress()
    """)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_with_marker_regressing*", "*number * missing (not in the baseline)*"])


def test_fail_false_returns_the_report_to_assert_on(user_suite):
    result = run_user_tests(user_suite, """
        from conftest import BASELINE, CHAIN

        def test_inspect(harness_regress):
            report = harness_regress(BASELINE, cleaners=CHAIN + ["mycleaners:forget_numbers"], fail=False)
            assert report.regressed and "p01" in report.regressed_passage_ids
    """)
    result.assert_outcomes(passed=1)


def test_a_missing_baseline_fails_with_one_line(user_suite):
    result = run_user_tests(user_suite, """
        def test_missing(harness_regress):
            harness_regress("baselines/does-not-exist.json")

        def test_no_baseline_at_all(harness_regress):
            harness_regress()
    """)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*harness regress: baseline *does-not-exist.json: no such file*",
                                 "*no baseline given*"])
