"""What a sweep reports: --quiet, --retrain-best on the whole training set, and a top_curves.png that stays
readable with long labels and draws a diverged trial up to where it blew up (issue 21.12, 21.15)."""

import json

import pytest

from numpynn.app.commands import parser as cli
from numpynn.app.sweep.curves import curves_figure
from numpynn.app.sweep.report import top_curves


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """A learning-rate grid with one rate that diverges, quiet, then the best retrained."""
    import contextlib
    import io
    out = tmp_path_factory.mktemp("grid") / "g"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(["sweep", "--grid", "lr=0.3,1e8", "--preset", "article", "--subset", "300", "--epochs", "2",
                         "--out", str(out), "--quiet", "--retrain-best"])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


def test_quiet_prints_no_progress_no_trial_lines_and_no_table(grid_run):
    _, out, err = grid_run
    assert "Trials:" not in err and "trial  state" not in out and "trial   0" not in out  # 0.2.0 refused --quiet
    assert out.startswith("Best: trial 0") and "top_curves.png" in out


def test_retrain_best_really_uses_the_whole_training_set(grid_run):
    folder, out, _ = grid_run
    config = json.loads((folder / "best" / "config.json").read_text())
    assert config["subset"] is None and config["val_split"] == 0.0  # 0.2.0 kept the sweep's subset of 300
    assert "subset" not in (folder / "best.toml").read_text().split("\n\n")[-1]  # nor does best.toml carry it
    assert "--subset 300   repeats the trial's own run" in (folder / "best.toml").read_text()


def test_the_grid_figure_draws_the_diverged_trial_marked(grid_run):
    import optuna

    from numpynn.app.sweep.study import _journal_backend
    folder = grid_run[0]
    storage = optuna.storages.JournalStorage(_journal_backend(optuna, str(folder / "study.journal")))
    trials = optuna.load_study(study_name="g", storage=storage).get_trials()
    diverged = [t for t in trials if "diverged" in t.user_attrs]
    assert len(diverged) == 1 and diverged[0].user_attrs["diverged_epoch"] == 1
    figure = top_curves(trials, folder, 10, with_diverged=True)
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert any("lr=1e+08" in label and "diverged at epoch 1" in label for label in labels)  # 0.2.0 left it out
    marks = [line for ax in figure.axes for line in ax.get_lines() if line.get_marker() == "X"]
    assert len(marks) == 2  # on the loss and on the accuracy plot


def test_long_labels_never_squash_the_plots():
    rows = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "train_acc": 0.5, "val_acc": 0.4} for e in (1, 2)]
    label = "hidden=512,256,128 lr=0.0123 optimizer=adam dropout=0.25 weight_decay=0.0001 batch_size=128"
    figure = curves_figure([(f"trial {i}: {label}", rows, None) for i in range(10)])
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(figure).draw()
    for ax in figure.axes:
        box = ax.get_position()
        assert box.width > 0.35 and box.height > 0.45  # 0.2.0: a legend inside each plot squeezed it to a strip
