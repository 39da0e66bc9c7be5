"""numpynn.sklearn: scikit-learn's MLP interface over numpynn's training, in scikit-learn's own tools."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn import neural_network as sk
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import numpynn as nn
from numpynn.errors import CheckpointError
from numpynn.interop.sklearn_network import generator
from numpynn.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's bundled 8x8 digits (1797 rows, 64 features), scaled to [0, 1], split 3:1."""
    x, y = load_digits(return_X_y=True)
    return train_test_split(x / 16, y, random_state=0)


def small_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    return x, rng.integers(0, 3, n), x @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("numpynn_cls, sklearn_cls", [(MLPClassifier, sk.MLPClassifier),
                                                      (MLPRegressor, sk.MLPRegressor)])
def test_same_weights_same_training_as_scikit_learns_own_mlp(numpynn_cls, sklearn_cls, solver):
    """From the same weights, numpynn's training follows scikit-learn's: loss (alpha's L2 term included),
    gradient, SGD step and Adam step, epoch by epoch (float64; Adam's eps sits where torch puts it: ~1e-5)."""
    x, labels, values = small_data()
    y = labels if numpynn_cls is MLPClassifier else values
    kw = dict(hidden_layer_sizes=(5,), solver=solver, momentum=0.0, alpha=0.3, batch_size=16, shuffle=False,
              max_iter=1, learning_rate_init=0.05, random_state=0)
    ours = numpynn_cls(dtype="float64", **kw).fit(x, y)
    theirs = sklearn_cls(**kw).fit(x, y)
    theirs.coefs_ = [w.copy() for w in ours.coefs_]
    theirs.intercepts_ = [b.copy() for b in ours.intercepts_]
    for est in (ours, theirs):
        est.set_params(warm_start=True, max_iter=3).fit(x, y)
    tol = 1e-12 if solver == "sgd" else 1e-4
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=tol)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, atol=tol)
    assert (ours.n_iter_, ours.t_) == (theirs.n_iter_, theirs.t_) == (3, 160)
    # negative control: without alpha the losses part ways at once
    other = numpynn_cls(dtype="float64", **{**kw, "alpha": 0.0}).fit(x, y)
    assert abs(other.loss_curve_[0] - ours.loss_curve_[0]) > 1e-3


def test_tol_and_n_iter_no_change_stop_as_scikit_learn_does():
    x, y, _ = small_data()
    kw = dict(hidden_layer_sizes=(5,), tol=10.0, n_iter_no_change=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it converged: no warning
        ours = MLPClassifier(**kw).fit(x, y)
    assert ours.n_iter_ == sk.MLPClassifier(**kw).fit(x, y).n_iter_ == 5
    assert ours.best_loss_ == min(ours.loss_curve_) and ours.validation_scores_ is None
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(x, y)


def test_early_stopping_keeps_the_best_validation_score(digits):
    x, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=2, max_iter=60,
                        learning_rate_init=0.05, random_state=0).fit(x, y)
    assert len(est.validation_scores_) == len(est.loss_curve_) == est.n_iter_ < 60
    assert est.best_validation_score_ == max(est.validation_scores_) > 0.85 and est.best_loss_ is None
    with pytest.raises(ValueError, match="early_stopping"):
        est.partial_fit(x, y)


def test_labels_of_any_kind_and_partial_fit(digits):
    x, x_test, y, y_test = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    est = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(x, names[y])
    for start in range(0, len(x), 300):  # mini-batches of rows, as a stream would deliver them
        est.partial_fit(x[start:start + 300], names[y[start:start + 300]], classes=names)
    assert list(est.classes_) == sorted(names) and est.n_iter_ == 1 and est.t_ == len(x)
    for _ in range(10):
        est.partial_fit(x, names[y])
    assert est.score(x_test, names[y_test]) > 0.85
    assert set(est.predict(x_test)) <= set(names)
    proba = est.predict_proba(x_test)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(x_test))
    with pytest.raises(ValueError, match="has classes not in `self.classes_`"):
        est.partial_fit(x[:5], ["ten"] * 5)


def test_fitted_attributes_in_scikit_learns_orientation(digits):
    x, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(20, 12), max_iter=3, random_state=0, dropout=0.1).fit(x, y)
    assert [w.shape for w in est.coefs_] == [(64, 20), (20, 12), (12, 10)]
    assert [b.shape for b in est.intercepts_] == [(20,), (12,), (10,)]
    assert est.coefs_[0] is not None and np.shares_memory(est.coefs_[0], est.model_[0].params["weight"])
    assert isinstance(est.model_, nn.Sequential) and any(isinstance(la, nn.Dropout) for la in est.model_.layers)
    assert est.n_features_in_ == 64 and est.n_layers_ == 4 and est.n_outputs_ == 10
    assert est.out_activation_ == "softmax" and len(est.loss_curve_) == est.n_iter_ == 3
    assert est.predict_proba(x).dtype == np.float64  # the input's float dtype, as scikit-learn keeps it
    x32 = x.astype(np.float32)
    assert MLPClassifier(max_iter=1).fit(x32, y).predict_proba(x32).dtype == np.float32  # never upcast
    assert MLPClassifier(max_iter=1, dtype="float32").fit(x, y).predict_proba(x).dtype == np.float32
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(x)


def test_regressor_single_and_multi_output():
    x, _, values = small_data(80)
    est = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300, random_state=0)
    assert est.fit(x, values).score(x, values) > 0.9 and est.predict(x).shape == (80,)
    two = np.stack([values, -values], axis=1)
    assert est.fit(x, two).predict(x).shape == (80, 2) and est.n_outputs_ == 2
    assert est.out_activation_ == "identity"


def test_warm_start_continues_from_the_fitted_weights(digits):
    x, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, warm_start=True, random_state=0).fit(x, y)
    first = list(est.loss_curve_)
    est.fit(x, y)
    assert len(est.loss_curve_) == 6 and est.loss_curve_[3] < first[0] and est.t_ == 6 * len(x)
    cold = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(x, y).fit(x, y)
    assert cold.loss_curve_ == first  # without warm_start a fit starts over, identically


def test_parameters_are_validated_at_fit_with_one_sentence():
    x, y, _ = small_data()
    for params, word in ((dict(solver="newton"), "solver"), (dict(learning_rate="cyclic"), "learning_rate"),
                         (dict(n_iter_no_change=0.5), "n_iter_no_change"), (dict(max_fun=0), "max_fun"),
                         (dict(power_t=-1.0), "power_t"), (dict(solver="lbfgs", dropout=0.5), "dropout"),
                         (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"), (dict(dtype="float16"), "dtype"),
                         (dict(activation="swish"), "activation"), (dict(conv=(0,)), "conv")):
        est = MLPClassifier(**params)  # scikit-learn's rule: __init__ accepts anything, fit validates
        with pytest.raises(ValueError, match=word):
            est.fit(x, y)
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor(loss="huber").fit(x, y)
    with pytest.raises(ValueError, match="square one-channel images"):
        MLPClassifier(conv=(4,)).fit(x[:, :3], y)  # 3 features are no square image


def test_identity_and_logistic_activations_are_scikit_learns():
    x, y, _ = small_data()
    layers = MLPClassifier(hidden_layer_sizes=(4, 4), activation="identity", max_iter=1).fit(x, y).model_.layers
    assert [type(la).__name__ for la in layers] == ["Linear"] * 3
    layers = MLPClassifier(hidden_layer_sizes=(4,), activation="logistic", max_iter=1).fit(x, y).model_.layers
    assert [type(la).__name__ for la in layers] == ["Linear", "Sigmoid", "Linear"]


def test_verbose_prints_scikit_learns_lines(capsys):
    x, y, _ = small_data()
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, verbose=True, random_state=0).fit(x, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Iteration 1, loss = ")


def test_conv_blocks_learn_images_given_as_rows(digits, tmp_path):
    x, x_test, y, y_test = digits
    est = MLPClassifier(conv=(6,), hidden_layer_sizes=(32,), max_iter=8, learning_rate_init=0.01,
                        random_state=0).fit(x, y)
    names = [type(la).__name__ for la in est.model_.layers]
    assert names[:4] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten"]
    assert est.score(x_test, y_test) > 0.9
    assert [w.shape for w in est.coefs_] == [(6 * 4 * 4, 32), (32, 10)]
    again = MLPClassifier.load(est.save(tmp_path / "cnn.safetensors"))
    np.testing.assert_array_equal(again.predict_proba(x_test), est.predict_proba(x_test))


def test_pickle_in_memory_round_trip_continues_identically(digits):
    """joblib's workers pickle estimators in memory; numpynn itself never writes a pickle file."""
    x, x_test, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0).fit(x, y)
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(x_test), est.predict_proba(x_test))
    est.partial_fit(x, y)
    copy.partial_fit(x, y)  # the optimizer's moments and the shuffling Generator travelled too
    np.testing.assert_array_equal(copy.predict_proba(x_test), est.predict_proba(x_test))
    assert copy.loss_curve_ == est.loss_curve_


def test_save_and_load_use_numpynns_safetensors_files(digits, tmp_path):
    x, x_test, y, _ = digits
    labels = np.array([f"digit {d}" for d in range(10)])
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(x, labels[y])
    path = est.save(tmp_path / "digits.safetensors")
    header_size = int.from_bytes(path.read_bytes()[:8], "little")
    assert path.read_bytes()[8:9] == b"{" and header_size < path.stat().st_size  # safetensors, not a pickle
    again = MLPClassifier.load(path)
    np.testing.assert_array_equal(again.predict(x_test), est.predict(x_test))
    np.testing.assert_array_equal(again.classes_, est.classes_)
    assert again.get_params() == est.get_params() and again.loss_curve_ == est.loss_curve_
    assert again.n_features_in_ == 64 and again.n_iter_ == 3
    model, meta = nn.load_model(path)  # an ordinary numpynn model file, readable without the estimator
    assert meta["classes"] == list(labels) and meta["preprocessing"]["method"] == "none"
    reg = MLPRegressor(max_iter=2, random_state=0).fit(x, y.astype(float))
    reg_path = reg.save(tmp_path / "reg.safetensors")
    np.testing.assert_array_equal(MLPRegressor.load(reg_path).predict(x_test), reg.predict(x_test))
    with pytest.raises(CheckpointError, match="holds no numpynn MLPRegressor"):
        MLPRegressor.load(path)
    plain = nn.save_model(tmp_path / "plain.safetensors", nn.mlp([64, 10]))
    with pytest.raises(CheckpointError, match="holds no numpynn MLPClassifier"):
        MLPClassifier.load(plain)


def test_pipeline_gridsearch_in_two_processes_clone_and_cross_val_score(digits):
    x, x_test, y, y_test = digits
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(max_iter=15, learning_rate_init=0.01, random_state=0))])
    search = GridSearchCV(pipe, {"mlp__hidden_layer_sizes": [(4,), (32,)], "mlp__alpha": [1e-4]}, cv=2,
                          n_jobs=2)
    search.fit(x, y)
    assert search.best_params_["mlp__hidden_layer_sizes"] == (32,)
    assert search.score(x_test, y_test) > 0.9
    fresh = clone(search.best_estimator_)
    assert not hasattr(fresh.named_steps["mlp"], "model_")
    assert fresh.get_params()["mlp__alpha"] == search.best_params_["mlp__alpha"]
    scores = cross_val_score(MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, learning_rate_init=0.01,
                                           random_state=0), x, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_import_without_scikit_learn_says_how_to_install_it():
    code = ("import sys; sys.modules['sklearn'] = None\nimport numpynn\n"
            "try:\n    import numpynn.sklearn\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out.endswith("install it with `pip install numpynn[sklearn]`.") and out.count(". ") == 0


def test_a_file_whose_metadata_does_not_fit_its_network_is_refused(tmp_path):
    x, y, _ = small_data()
    path = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(x, y).save(tmp_path / "est.safetensors")
    model, meta = nn.load_model(path)
    meta["sklearn"]["fitted"]["classes_"] = [0, 1]  # two classes for a network with three outputs
    forged = nn.save_model(tmp_path / "forged.safetensors", model,
                           metadata={k: meta[k] for k in ("sklearn", "preprocessing", "classes")})
    with pytest.raises(CheckpointError, match="malformed scikit-learn metadata"):
        MLPClassifier.load(forged)


def test_same_random_state_same_start_and_lbfgs_result_as_scikit_learn():
    """An int random_state draws scikit-learn's init stream, so L-BFGS (deterministic) ends where scikit-learn's
    does; integer sample weights equal repeated rows; sparse X equals dense X."""
    assert np.array_equal(generator(7).uniform(size=9), np.random.RandomState(7).uniform(size=9))
    x, _, values = small_data(60)
    kw = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=3, activation="tanh")
    ours, theirs = MLPRegressor(**kw).fit(x, values), sk.MLPRegressor(**kw).fit(x, values)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-6, atol=1e-9)
    assert ours.n_iter_ == theirs.n_iter_ == 30 and ours.coefs_[0].dtype == np.float64
    weights = np.r_[np.full(20, 2.0), np.ones(40)]
    weighted = MLPRegressor(**kw).fit(x, values, sample_weight=weights)
    repeated = MLPRegressor(**kw).fit(np.r_[x[:20], x], np.r_[values[:20], values])
    np.testing.assert_allclose(weighted.predict(x), repeated.predict(x), rtol=1e-6, atol=1e-9)
    unweighted = MLPRegressor(**kw).fit(x, values, sample_weight=np.ones(60))
    assert not np.allclose(weighted.predict(x), unweighted.predict(x))  # the weights did something
    sparse = MLPRegressor(**kw).fit(scipy.sparse.csr_matrix(x), values)
    np.testing.assert_allclose(sparse.predict(scipy.sparse.csr_matrix(x)), ours.predict(x), rtol=1e-9)


def test_multilabel_poisson_and_learning_rate_schedules():
    x, labels, values = small_data(80)
    indicators = np.stack([labels == 0, labels == 1, x[:, 0] > 0], axis=1).astype(int)
    est = MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=300, random_state=0).fit(x, indicators)
    assert est.out_activation_ == "logistic" and est.predict(x).shape == (80, 3) and est.score(x, indicators) > 0.9
    assert not np.allclose(est.predict_proba(x).sum(axis=1), 1.0)  # independent sigmoids, not a softmax
    counts = np.random.default_rng(0).poisson(np.exp(0.3 * x[:, 0]))
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), solver="lbfgs", random_state=0).fit(x, counts)
    assert reg.out_activation_ == "exp" and (reg.predict(x) > 0).all()
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", max_iter=5, random_state=0, learning_rate_init=0.1)
    inv = MLPClassifier(learning_rate="invscaling", power_t=0.5, **kw).fit(x, labels)
    assert inv._optimizer.learning_rate == pytest.approx(0.1 / (5 * 80 + 1) ** 0.5)
    never = MLPClassifier(n_iter_no_change=np.inf, tol=1e9, **{**kw, "max_iter": 30}).fit(x, labels)
    assert never.n_iter_ == 30 and never._no_improvement_count == 29


def test_new_parameters_round_trip_through_files(tmp_path):
    x, labels, _ = small_data()
    est = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", learning_rate="adaptive", power_t=0.3, max_fun=99,
                        n_iter_no_change=np.inf, max_iter=3, random_state=0, dtype=np.float32).fit(x, labels)
    again = MLPClassifier.load(est.save(tmp_path / "est.safetensors"))
    assert again.get_params() == {**est.get_params(), "dtype": "float32"}
    assert again.n_iter_no_change == np.inf and again.predict_proba(x).dtype == np.float32
    np.testing.assert_array_equal(again.predict_proba(x), est.predict_proba(x))
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")  # as scikit-learn: stochastic solvers only
