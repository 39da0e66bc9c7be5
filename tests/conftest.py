"""Shared pytest fixtures."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _numpynn_data_in_tmp(tmp_path_factory):
    """Point NUMPYNN_DATA at a session temp folder: tests never write MNIST caches or downloads into ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NUMPYNN_DATA", str(tmp_path_factory.mktemp("numpynn-data")))
        yield


@pytest.fixture(scope="session")
def digit_run(tmp_path_factory):
    """A run folder with a small MLP trained in seconds on the bundled MNIST (3000 rows, 3 epochs, ~88% on
    the test set), which reads a clear drawn 1 and 0 reliably; for the server and browser tests."""
    from numpynn.app.commands import parser as cli

    out = tmp_path_factory.mktemp("digit-run")
    argv = ["train", "--subset", "3000", "--epochs", "3", "--out", str(out), "--name", "digits", "--quiet",
            "--no-plots"]
    assert cli.main(argv) == 0
    return out / "digits"
