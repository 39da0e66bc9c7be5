"""The command-line doors 0.2.0 left shut (issue 21.14): `numpynn plot` overwrote an earlier comparison.png
without a word, and a run stopped before its model.safetensors could not be predicted, evaluated or described."""

import json
import shutil

import numpy as np
import pytest
from matrix_kinds import BY_NAME, cli, reference_proba, stopped_in_second_epoch


def test_plot_never_overwrites_an_earlier_comparison_by_default(matrix, tmp_path):
    runs = []
    for name in ("mlp", "global"):
        (tmp_path / name).mkdir()
        shutil.copy(matrix.run(name) / "metrics.csv", tmp_path / name / "metrics.csv")
        runs.append(tmp_path / name)
    code, out, err = cli("plot", *runs)
    assert code == 0 and out == f"Wrote {tmp_path / 'comparison.png'}\n", err
    first = (tmp_path / "comparison.png").read_bytes()
    code, out, err = cli("plot", runs[0])
    assert code == 0 and out == f"Wrote {tmp_path / 'comparison-2.png'}\n", err
    assert (tmp_path / "comparison.png").read_bytes() == first  # the earlier comparison is kept
    code, out, err = cli("plot", runs[0], "-o", tmp_path / "comparison.png")  # asked for by name: replaced, said
    assert code == 0 and out == f"Replaced {tmp_path / 'comparison.png'}\n", err
    assert (tmp_path / "comparison.png").read_bytes() != first


@pytest.fixture(scope="module")
def stopped(matrix, tmp_path_factory):
    """{kind: RUN} stopped by Ctrl-C at the start of its second of two epochs: a checkpoint, no model file."""
    out, runs = tmp_path_factory.mktemp("stopped"), {}
    for name in ("mlp", "article", "cnn-bn"):
        matrix.run(name)  # trained before any Ctrl-C is armed
        with pytest.MonkeyPatch.context() as patch:
            stopped_in_second_epoch(patch, out / name)
            code, _, err = cli("train", *matrix.flags(BY_NAME[name]), "--epochs", "2", "--out", out, "--name", name,
                               "--quiet", "--no-plots")
            assert code == 130 and not (out / name / "model.safetensors").exists(), err
            runs[name] = out / name
    return runs


@pytest.mark.parametrize("name", ["mlp", "article", "cnn-bn"])
def test_a_stopped_run_is_read_from_its_last_checkpoint_and_says_so(matrix, stopped, name, tmp_path):
    run, kind = stopped[name], BY_NAME[name]
    note = f"numpynn: note: {run} has no model.safetensors"
    png, _ = matrix.photo(kind, tmp_path)
    code, out, err = cli("predict", run, png, "--json")
    assert code == 0 and note in err and "numpynn train --resume" in err, err
    answer = json.loads(out)
    assert answer["model"] == str(run / "checkpoint.safetensors")
    # Stopped before any step of epoch 2: the checkpoint holds the weights of the finished one-epoch run, and
    # its scaling (z-score statistics too) is rebuilt from the same training rows.
    images, _ = matrix.test_images(kind, 16)
    np.testing.assert_allclose(reference_proba(run, images), reference_proba(matrix.run(name), images), atol=1e-6)
    code, out, err = cli("evaluate", run, "--no-plots")
    assert code == 0 and note in err and " accuracy: " in out, err
    code, out, err = cli("info", run / "model.safetensors", "--json")  # the missing file named: the same
    assert code == 0 and note in err, err
    summary = json.loads(out)
    assert summary["preprocessing"] == kind.scale and summary["metrics"]["epoch"] == 1
