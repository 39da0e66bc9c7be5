"""open_model, which info, predict and evaluate share: a model file it cannot use is one clear error."""

import json

import pytest

import numpynn
from numpynn.app.commands import parser as cli


def error_of(capsys, argv):
    assert cli.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_info_on_a_model_without_a_linear_layer(tmp_path, capsys):
    """Issue 17 item 9: `numpynn info` on a saved nn.Sequential(nn.ReLU()) was a TypeError traceback."""
    path = numpynn.save_model(tmp_path / "relu.safetensors", numpynn.Sequential(numpynn.ReLU()),
                              metadata={"preprocessing": {"method": "255"}})
    for command in ("info", "evaluate", "predict"):
        argv = [command, path] + ([tmp_path / "x.png"] if command == "predict" else [])
        assert "relu.safetensors holds a model without a Linear layer" in error_of(capsys, argv)


@pytest.mark.parametrize("shape", [5, "28x28", [28, "28"], [27, 28], [], [28, 28, 0], {"a": 1}])
def test_info_on_a_malformed_input_shape(tmp_path, capsys, shape):
    """Issue 17 item 9: a malformed `input_shape` in the metadata was a TypeError traceback."""
    path = numpynn.save_model(tmp_path / "m.safetensors", numpynn.mlp([784, 10]),
                              metadata={"preprocessing": {"method": "255", "input_shape": shape}})
    err = error_of(capsys, ["info", path])
    assert "m.safetensors records input_shape" in err and "784 input features" in err


def test_info_on_a_good_input_shape(tmp_path, capsys):
    path = numpynn.save_model(tmp_path / "m.safetensors", numpynn.mlp([784, 10]),
                              metadata={"preprocessing": {"method": "255", "input_shape": [28, 28]}})
    assert cli.main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["input_shape"] == [28, 28]
