"""Fixtures shared by several test modules."""

import pytest


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory):
    """Point HARNESS_CACHE_DIR at a folder of the using module's own, so cached
    translations and passages never leak between modules or from the user."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield
