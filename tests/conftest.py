"""Shared pytest fixtures."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _numpynn_data_in_tmp(tmp_path_factory):
    """Point NUMPYNN_DATA at a session temp folder: tests never write MNIST caches or downloads into ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NUMPYNN_DATA", str(tmp_path_factory.mktemp("numpynn-data")))
        yield
