"""`train` and `evaluate` on --dataset files that are not what their name says: one sentence, exit 2 (issue 17.6)."""

import shutil
import zipfile

import numpy as np
import pytest

import numpynn
from numpynn.app.commands import parser as cli


def error_of(capsys, argv):
    assert cli.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (20, 784), dtype=np.uint8), np.arange(20) % 10
    np.savez(tmp_path / "good.npz", x=x, y=y, x_test=x, y_test=y)
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    np.save(tmp_path / "single.npy", x)
    shutil.copy(tmp_path / "single.npy", tmp_path / "renamed.npz")
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as z:
        z.writestr("readme.txt", "not arrays")
    model = numpynn.save_model(tmp_path / "m.safetensors", numpynn.mlp([784, 10]),
                               metadata={"preprocessing": {"method": "255"}})
    return tmp_path, model


@pytest.mark.parametrize("name, message", [("truncated.npz", "not a readable .npz archive"),
                                           ("renamed.npz", "holds a single array (a .npy file)"),
                                           ("other.npz", "zip archive without NumPy arrays")])
def test_train_and_evaluate_refuse_a_file_that_is_not_an_npz(capsys, files, name, message):
    folder, model = files
    train = ["train", "--dataset", folder / name, "--out", folder / "runs", "--quiet", "--no-plots", "--epochs", "1"]
    assert message in error_of(capsys, train)
    assert message in error_of(capsys, ["evaluate", model, "--dataset", folder / name, "--no-plots"])
    assert not (folder / "runs").exists() or not any((folder / "runs").iterdir())  # no run folder was started
