"""Hostile and mistaken input to the API: each case is one clear ValueError (a DataError) naming the problem."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.errors import CheckpointError, DataError


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    model = nn.mlp([4, 8, 3], seed=0)
    return model, x, y


def _fit(model, x, y, **kw):
    return nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=1, batch_size=8, verbose=0, **kw)


def _nan(x):
    x = x.copy()
    x[3, 2] = np.nan
    return x


def _inf(x):
    x = x.copy()
    x[0, 0] = -np.inf
    return x


X_CASES = {  # bad X -> a phrase the message must contain
    "NaN": (_nan, "NaN or infinity"),
    "inf": (_inf, "NaN or infinity"),
    "too few features": (lambda x: x[:, :3], "has 3 features but the model expects 4"),
    "too many features": (lambda x: np.hstack([x, x]), "has 8 features but the model expects 4"),
    "empty": (lambda x: x[:0], "empty"),
    "1-D": (lambda x: x[0], "2-D"),
    "strings": (lambda x: x.astype(str), "numeric"),
    "ragged": (lambda x: [[1.0, 2.0, 3.0, 4.0], [1.0]], "rectangular"),
}


@pytest.mark.parametrize("case", list(X_CASES))
@pytest.mark.parametrize("api", ["fit", "predict", "predict_proba", "evaluate"])
def test_bad_features_are_one_clear_value_error(setup, case, api):
    model, x, y = setup
    make, phrase = X_CASES[case]
    bad = make(x)
    call = {"fit": lambda: _fit(model, bad, y[:len(bad)]),
            "predict": lambda: model.predict(bad),
            "predict_proba": lambda: model.predict_proba(bad),
            "evaluate": lambda: nn.evaluate(model, nn.CrossEntropyLoss(), bad, y[:len(bad)])}[api]
    with pytest.raises(ValueError, match=phrase) as info:
        call()
    assert isinstance(info.value, nn.NumpynnError) and "\n" not in str(info.value)


Y_CASES = {
    "label above the classes": (lambda y: np.where(np.arange(len(y)) == 5, 7, y),
                                r"Labels 7 are outside the model's 3 classes"),
    "negative label": (lambda y: np.where(np.arange(len(y)) < 2, -1, y), r"Labels -1 are outside"),
    "many bad labels listed briefly": (lambda y: np.arange(len(y)) + 3, r"Labels 3, 4, 5, 6, 7, \.\.\. are outside"),
    "fewer targets than rows": (lambda y: y[:-1], "40 input rows but 39 targets"),
    "more targets than rows": (lambda y: np.concatenate([y, y]), "40 input rows but 80 targets"),
    "NaN target": (lambda y: np.where(np.arange(len(y)) == 0, np.nan, y.astype(float)), "NaN or infinity"),
    "fractional labels": (lambda y: y + 0.5, "whole numbers"),
    "float labels": (lambda y: y.astype(float), r"y.astype\(int\)"),
    "string labels": (lambda y: y.astype(str), "numeric"),
    "boolean labels": (lambda y: y > 0, "booleans"),
    "one-hot of the wrong width": (lambda y: np.eye(4)[y % 4], r"outputs 3 values per row"),
    "scalar target": (lambda y: np.float64(1.0), "one target per row"),
}


@pytest.mark.parametrize("case", list(Y_CASES))
def test_bad_targets_are_one_clear_value_error(setup, case):
    model, x, y = setup
    make, phrase = Y_CASES[case]
    before = [p.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=phrase) as info:
        _fit(model, x, make(y))
    assert isinstance(info.value, DataError)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.parameters())), "refused input must not train"


def test_bad_targets_in_validation_data_are_refused_before_training(setup):
    model, x, y = setup
    with pytest.raises(ValueError, match="Labels 9 are outside"):
        _fit(model, x, y, validation_data=(x[:5], np.array([0, 1, 9, 2, 1])))
    with pytest.raises(ValueError, match="has 2 features but the model expects 4"):
        _fit(model, x, y, validation_data=(x[:5, :2], y[:5]))


def test_evaluate_checks_labels_against_the_classes(setup):
    model, x, y = setup
    with pytest.raises(ValueError, match="Labels 3 are outside"):
        nn.evaluate(model, nn.CrossEntropyLoss(), x, np.full(len(x), 3))


@pytest.mark.parametrize("loss", [nn.MSELoss, nn.BCEWithLogitsLoss])
def test_vector_targets_must_match_the_output_width(loss):
    model = nn.mlp([4, 1], seed=0)
    x = np.ones((10, 4), np.float32)
    with pytest.raises(ValueError, match=r"y.reshape\(-1, 1\)"):
        nn.fit(model, loss(), nn.SGD(model, lr=0.1), x, np.ones(10, np.float32), verbose=0)
    nn.fit(model, loss(), nn.SGD(model, lr=0.1), x, np.ones((10, 1), np.float32), verbose=0)  # the fix works


def test_valid_input_passes_and_images_reach_a_flatten_model():
    rng = np.random.default_rng(0)
    images, labels = rng.random((20, 3, 3)), rng.integers(0, 2, 20)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 2, rng=0))
    nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), images, labels, verbose=0)
    assert model.predict(images).shape == (20,)
    with pytest.raises(ValueError, match="has 6 features but the model expects 9"):
        model.predict(images[:, :2, :4])


def test_predicting_before_training_means_a_model_that_does_not_exist(tmp_path):
    """A built model predicts (chance level, like torch.nn); a model file that is not there is refused clearly."""
    model = nn.mlp([4, 3], seed=0)
    assert model.predict(np.zeros((2, 4))).shape == (2,)
    with pytest.raises(ValueError, match="does not exist; train a model first") as info:
        nn.load_model(tmp_path / "runs" / "never-trained" / "model.safetensors")
    assert isinstance(info.value, CheckpointError)


def test_a_model_without_parameters_cannot_be_trained():
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(ValueError, match="no parameters"):
        nn.SGD(model, lr=0.1)


def test_nonpositive_epochs_and_batch_size(setup):
    model, x, y = setup
    for kw in ({"epochs": 0}, {"batch_size": 0}):
        with pytest.raises(ValueError, match="must be >= 1"):
            nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, verbose=0, **kw)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_predict_and_evaluate_refuse_a_batch_size_that_is_not_a_count(setup, batch_size):
    """Issue 17 item 34: batch_size=0 gave "range() arg 3 must not be zero" from inside predict and evaluate."""
    model, x, y = setup
    for call in (lambda: model.predict(x, batch_size=batch_size), lambda: model.predict_proba(x, batch_size),
                 lambda: nn.evaluate(model, nn.CrossEntropyLoss(), x, y, batch_size=batch_size)):
        with pytest.raises(ValueError, match=r"batch_size must be a whole number >= 1, got"):
            call()
    assert model.predict(x, batch_size=1).shape == (len(x),)
