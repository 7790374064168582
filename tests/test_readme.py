"""The README's examples run as written (issue 16, point 2).

The commands and code are read from README.md's code blocks, so this test
breaks when the README drifts from what the harness does:

* the plugin module of "Your own plugins" (the block starting ``# mypkg/clean.py``);
* the two commands of "Regression-testing a cleaner in CI", run by the
  installed ``harness`` script in a fresh project folder;
* the pytest example of the same section, run by pytest in that folder
  (through the installed plugin).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def section(title: str) -> str:
    """The text of README section ``## title`` (up to the next ``## ``)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def code_blocks(title: str, language: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(section(title)) if lang == language]


def commands(block: str) -> list[list[str]]:
    """Each line of a shell block as argv (comments dropped; ``a && b`` is two commands)."""
    argvs = []
    for line in block.splitlines():
        for part in line.split("&&"):
            argv = shlex.split(part, comments=True)
            if argv:
                argvs.append(argv)
    return argvs


def test_the_readme_blocks_this_test_runs_are_there():
    plugin = [b for b in code_blocks("Your own plugins", "python") if b.startswith("# mypkg/clean.py")]
    assert len(plugin) == 1
    ci = code_blocks("Regression-testing a cleaner in CI", "sh")
    assert [argv[:2] for argv in commands(ci[0])] == [["harness", "baseline"], ["harness", "regress"]]
    assert "harness_regress(" in code_blocks("Regression-testing a cleaner in CI", "python")[0]


@pytest.mark.slow
def test_the_readme_ci_and_pytest_examples_run_as_written(tmp_path):
    script = Path(sys.executable).parent / "harness"
    if not script.exists():
        pytest.skip("the harness console script is not installed next to this Python")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    project = tmp_path / "project"
    (project / "mypkg").mkdir(parents=True)
    (project / "mypkg" / "__init__.py").write_text("", encoding="utf-8")
    plugin = next(b for b in code_blocks("Your own plugins", "python") if b.startswith("# mypkg/clean.py"))
    (project / "mypkg" / "clean.py").write_text(plugin, encoding="utf-8")

    for argv in commands(code_blocks("Regression-testing a cleaner in CI", "sh")[0]):
        assert argv[0] == "harness"
        done = subprocess.run([str(script), *argv[1:]], cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{shlex.join(argv)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        if argv[1] == "regress":
            assert "PASSED" in done.stdout and "mypkg.clean:fix" in done.stdout, done.stdout
    assert (project / "junit.xml").exists()

    (project / "test_readme_example.py").write_text(code_blocks("Regression-testing a cleaner in CI", "python")[0],
                                                   encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_readme_example.py"],
                          cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
