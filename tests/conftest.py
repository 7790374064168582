"""Fixtures shared by several test modules, and the property tests' settings."""

import os

import pytest
from hypothesis import settings

# Property tests draw the same examples on every machine, so a red CI can be
# reproduced and a green one means the same thing everywhere. To hunt for new
# counterexamples: HYPOTHESIS_PROFILE=explore python -m pytest tests/test_*_properties.py
settings.register_profile("reproducible", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory):
    """Point HARNESS_CACHE_DIR at a folder of the using module's own, so cached
    translations and passages never leak between modules or from the user."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield
