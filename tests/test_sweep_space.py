"""The sweep file and --grid: what is searched, how choices travel through Optuna, and every mistake in one sentence."""

import sys

import pytest

from numpynn.app.commands import parser as cli
from numpynn.app.runs.train_config import TrainConfig
from numpynn.app.sweep.space import Param, SweepSpec, grid_spec, read_sweep_file

GOOD = """
subset = 300
val_split = 0.2
[optim]
epochs = 2
[sweep]
trials = 7
sampler = "random"
pruner = "hyperband"
[search]
lr = {low = 1e-3, high = 1.0, log = true}
hidden = [[16], [32, 16], []]
batch_size = {low = 16, high = 64, step = 16}
optimizer = ["sgd", "adam"]
dropout = [0.0, 0.2]
"""


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_sweep_file_gives_fixed_options_ranges_and_choices(tmp_path):
    spec = read_sweep_file(write(tmp_path, GOOD), {"epochs": 3})
    assert spec.base == TrainConfig(subset=300, val_split=0.2, epochs=3)  # the flag wins over the file
    assert (spec.trials, spec.sampler, spec.pruner) == (7, "random", "hyperband")
    kinds = {p.name: p.kind for p in spec.params}
    assert kinds == {"lr": "float", "hidden": "choice", "batch_size": "int", "optimizer": "choice",
                     "dropout": "choice"}
    hidden = next(p for p in spec.params if p.name == "hidden")
    assert hidden.labels() == ["16", "32,16", "none"]  # Optuna stores strings, not lists
    assert [hidden.decode(label) for label in hidden.labels()] == [(16,), (32, 16), ()]
    config = spec.config_for({"lr": 0.05, "hidden": "32,16", "batch_size": 48, "optimizer": "adam", "dropout": 0.2})
    assert (config.lr, config.hidden, config.batch_size, config.optimizer, config.dropout) == (0.05, (32, 16), 48,
                                                                                              "adam", 0.2)


def test_the_bundled_sweep_recipe_reads_by_name():
    spec = read_sweep_file("sweep", {})
    assert spec.base.subset == 10000 and spec.base.val_split == 0.1 and spec.trials == 20
    assert {p.name for p in spec.params} == {"lr", "hidden", "weight_decay", "dropout", "batch_size"}


def test_the_spec_survives_its_json_form(tmp_path):
    spec = read_sweep_file(write(tmp_path, GOOD), {})
    again = SweepSpec.from_dict({**spec.to_dict(), "seed": spec.seed, "heartbeat": spec.heartbeat}, spec.base)
    assert again.params == spec.params and again.to_dict() == spec.to_dict()


def test_a_plain_grid_is_every_combination_once():
    spec = grid_spec(["lr=0.1,1.0", "hidden=256/512,256"], {"val_split": 0.2})
    assert spec.sampler == "grid"
    assert spec.grid() == [{"lr": 0.1, "hidden": "256"}, {"lr": 0.1, "hidden": "512,256"},
                           {"lr": 1.0, "hidden": "256"}, {"lr": 1.0, "hidden": "512,256"}]
    assert spec.config_for(spec.grid()[1]).hidden == (512, 256)


def test_a_grid_over_conv_blocks_uses_conv_s_own_parser():
    spec = grid_spec(["conv=8/8,16"], {"val_split": 0.2})
    assert [spec.config_for(point).conv for point in spec.grid()] == [(8,), (8, 16)]


def test_an_int_range_suggests_integers():
    class Trial:  # the one method an int range calls
        def suggest_int(self, name, low, high, log=False, step=1):
            return (name, low, high, step)
    assert Param("batch_size", "int", 16, 64, step=16).suggest(Trial()) == ("batch_size", 16, 64, 16)


@pytest.mark.parametrize("text, message", [
    ("val_split = 0.2\n[search]\nlr = {low = 1.0, high = 0.1}", "low (1.0) must be less than high (0.1)"),
    ("val_split = 0.2\n[search]\nlr = {low = 0, high = 1, log = true}", "a log range needs low > 0"),
    ("val_split = 0.2\n[search]\nactivation = {low = 0, high = 1}", "list the choices instead"),
    ("val_split = 0.2\n[search]\nbatch_size = {low = 16.5, high = 64}", "give integer low, high and step"),
    ("val_split = 0.2\n[search]\nlr = {low = 0.1, hi = 1}", "takes low, high and optionally log and step"),
    ("val_split = 0.2\n[search]\nbatch_size = {low = 16, high = 64, step = 16, log = true}", "takes no step"),
    ("val_split = 0.2\n[search]\nbatchsize = [16]", "not a train option (did you mean 'batch_size'?)"),
    ("val_split = 0.2\n[search]\nseed = [1, 2]", "[search] cannot vary 'seed'"),
    ("val_split = 0.2\n[search]\nhidden = [[16], [16]]", "lists a value twice"),
    ("val_split = 0.2\n[search]\nactivation = ['relu', 'swish']", "Unknown activation 'swish'"),
    ("val_split = 0.2\n[search]\ndropout = [0.0, 1.5]", "--dropout must be in [0, 1)"),
    ("val_split = 0.2\n[search]\nhidden = [[16], 'wide']", "comma-separated layer sizes"),
    ("[search]\nlr = [0.1, 1.0]", "never the test set; set val_split"),
    ("val_split = 0.2\n[sweep]\nsampler = 'cmaes'\n[search]\nlr = [0.1]", "Unknown sampler 'cmaes'"),
    ("val_split = 0.2\n[sweep]\ntrails = 5\n[search]\nlr = [0.1]", "did you mean 'trials'?"),
    ("val_split = 0.2\n[sweep]\ntrials = 'ten'\n[search]\nlr = [0.1]", "[sweep] trials"),
    ("val_split = 0.2\n[sweep]\nsampler = 'grid'\n[search]\nlr = {low = 0.1, high = 1}", "needs a list of values"),
    ("val_split = 0.2\nname = 'x'\n[search]\nlr = [0.1]", "names its trial folders itself"),
    ("val_split = 0.2\nepoch = 3\n[search]\nlr = [0.1]", "Unknown setting 'epoch'"),
    ("val_split = 0.2", "searches nothing"),
    ("val_split = 0.2\n[search\nlr = [0.1]", "is not valid TOML"),
    ("val_split = 0.2\nsearch = 3", "must be a [search] table"),
])
def test_mistakes_in_a_sweep_file_are_one_sentence_and_exit_2(tmp_path, capsys, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=None) as exc_info:
        read_sweep_file(path, {})
    assert message in str(exc_info.value)
    assert cli.main(["sweep", "--config", str(path), "--out", str(tmp_path / "sw")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn: error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "sw").exists()  # refused before a sweep folder was made


@pytest.mark.parametrize("entries, message", [
    (["lr"], "--grid takes KEY=V1,V2"),
    (["lr=fast"], "'fast' is not a valid lr value"),
    (["lrr=0.1"], "did you mean 'lr'?"),
    (["lr=0.1", "lr=1.0"], "names an option twice"),
])
def test_mistakes_in_a_grid_are_refused(entries, message):
    with pytest.raises(ValueError) as exc_info:
        grid_spec(entries, {"val_split": 0.2})
    assert message in str(exc_info.value)


def test_without_optuna_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` now raises ImportError
    assert cli.main(["sweep", "--config", str(write(tmp_path, GOOD))]) == 2
    err = capsys.readouterr().err
    assert "pip install 'numpynn[sweep]'" in err and err.count("\n") == 1


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        cli.main(["sweep", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "--storage postgresql://" in out and "--worker" not in out
