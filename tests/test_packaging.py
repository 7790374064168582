"""How ``make`` installs the project (issue 16, points 9 and 10)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def make_install_commands(*variables: str) -> list[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", "-B", "install", "VENV=/nonexistent/venv", *variables], cwd=REPO,
                          capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if "pip install" in line]


def test_torch_is_installed_first_from_pytorchs_cpu_index():
    """constraints.txt pins torch's version only; on Linux PyPI's build is the CUDA one."""
    torch_step, package_step = make_install_commands()
    assert torch_step.endswith(" torch") and "--no-deps" in torch_step and "-c constraints.txt" in torch_step
    assert f"--extra-index-url {CPU_INDEX}" in torch_step and "--retries 0" in torch_step
    assert CPU_INDEX not in package_step and "-e '.[test,ctranslate2,ray]'" in package_step


def test_the_torch_index_and_the_extras_are_variables():
    gpu_torch, _ = make_install_commands("TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128")
    assert "--extra-index-url https://download.pytorch.org/whl/cu128" in gpu_torch and CPU_INDEX not in gpu_torch
    pypi_torch, package = make_install_commands("TORCH_INDEX_URL=", "EXTRAS=test")
    assert "--extra-index-url" not in pypi_torch and "-e '.[test]'" in package


def test_the_readme_says_what_make_installs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for fact in (CPU_INDEX, "TORCH_INDEX_URL", "2.13.0+cpu", "EXTRAS=test", "ctranslate2"):
        assert fact in readme, fact


@pytest.mark.slow
def test_the_ctranslate2_tests_skip_cleanly_without_it():
    """ctranslate2 is optional: without it its tests skip, nothing fails."""
    code = ("import sys; sys.modules['ctranslate2'] = None; import pytest; "
            "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-rs', '-k', 'ctranslate2 or ct2', "
            "'tests/test_translate_engines.py', 'tests/test_translate.py']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" in done.stdout and "failed" not in done.stdout and "error" not in done.stdout.lower()
