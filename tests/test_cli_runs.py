"""`numpynn train` on small own data: what a run reports, keeps and refuses (issue 17's CLI items)."""


import numpy as np
import pytest

from numpynn.cli import main
from numpynn.cli.run_folder import open_model


def make_npz(path, n=240, classes=2, features=16, seed=0, noise=False):
    """n rows of `features` floats; labels 0..classes-1 learnable from the first feature (or random if noise)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n) if noise else np.digitize(x[:, 0], np.linspace(-1, 1, classes - 1))
    np.savez(path, x=x, y=y.astype(np.uint8))
    return path


def train(tmp_path, *flags, name="r"):
    return main(["train", "--out", str(tmp_path / "runs"), "--name", name, "--no-plots", *map(str, flags)])


def test_early_stopped_model_reports_the_metrics_of_the_weights_it_keeps(tmp_path, capsys):
    # Random labels: the validation loss is best early and then rises as the net memorises the noise.
    data = make_npz(tmp_path / "noise.npz", n=200, noise=True)
    assert train(tmp_path, "--dataset", data, "--val-split", "0.3", "--hidden", "64", "--lr", "0.5",
                 "--epochs", "30", "--early-stopping", "2", "--batch-size", "16") == 0
    rows = [r for r in (tmp_path / "runs/r/metrics.csv").read_text().splitlines()[1:]]
    trained = open_model(tmp_path / "runs/r")
    best = min(range(len(rows)), key=lambda i: float(rows[i].split(",")[3])) + 1
    assert len(rows) == best + 2  # stopped at the 2nd epoch without improvement (patience 2), not the 3rd
    assert trained.metadata["metrics"]["epoch"] == best < len(rows)
    capsys.readouterr()
    assert main(["info", str(tmp_path / "runs/r")]) == 0
    assert f"Final metrics: epoch {best}," in capsys.readouterr().out


@pytest.mark.parametrize("flags", [["--hidden", "100000000"], ["--hidden", "64,1000000000000"]])
def test_a_model_too_big_for_memory_is_refused_before_allocating(flags, tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    assert train(tmp_path, "--dataset", data, "--val-split", "0.2", *flags) == 2
    err = capsys.readouterr().err
    assert "parameters" in err and "more than this machine's" in err and "--hidden" in err
    assert not (tmp_path / "runs").exists()  # refused before the run got a folder


def test_a_toml_hidden_size_of_a_trillion_is_refused(tmp_path, capsys):
    data = make_npz(tmp_path / "d.npz")
    (tmp_path / "big.toml").write_text(f'[data]\ndataset = "{data}"\nval_split = 0.2\n'
                                       '[model]\nhidden = [1000000000000]\n')
    assert main(["train", "--config", str(tmp_path / "big.toml"), "--out", str(tmp_path / "runs")]) == 2
    assert "more than this machine's" in capsys.readouterr().err


def test_the_memory_estimate_counts_parameters_optimizer_state_and_batch():
    from numpynn.cli.build import check_fits_in_memory
    from numpynn.cli.train_config import TrainConfig
    config = TrainConfig(optimizer="adam", batch_size=10)
    need = 4 * (1000 * (3 + 2) + 3 * 10 * 100)  # float32: 5 parameter copies with Adam's two moments, 3 batch copies
    check_fits_in_memory(config, 1000, 100, memory=need)  # exactly fits
    with pytest.raises(ValueError, match="more than this machine's"):
        check_fits_in_memory(config, 1000, 100, memory=need - 1)


@pytest.mark.parametrize("shift", [28, 40, 1000000])
def test_a_shift_that_moves_the_whole_image_out_is_refused(shift, tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "img.npz", x=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), y=np.arange(60) % 3)
    assert train(tmp_path, "--dataset", tmp_path / "img.npz", "--val-split", "0.2", "--augment-shift", shift) == 2
    assert "blank image" in capsys.readouterr().err


def test_random_shift_refuses_shifts_that_leave_no_image_in_the_library_too():
    from numpynn.data.augment import RandomShift, random_shift
    with pytest.raises(ValueError, match="blank image"):
        RandomShift(40, image_shape=(28, 28))
    with pytest.raises(ValueError, match="blank image"):
        random_shift(np.zeros((2, 16), np.float32), np.random.default_rng(0), 4, image_shape=(4, 4))
    assert RandomShift(27).max_shift == 27
