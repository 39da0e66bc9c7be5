"""`numpynn train` on small own data: what a run reports, keeps and refuses (issue 17's CLI items)."""


import numpy as np

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
