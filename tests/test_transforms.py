"""flatten, scale, StandardScaler, one_hot, train_val_split, subset: values, dtypes, seeds, refusals."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numpynn.data.transforms import (
    MNIST_MEAN,
    MNIST_STD,
    Scaler,
    StandardScaler,
    check_labels,
    flatten,
    one_hot,
    scale,
    subset,
    train_val_split,
)
from numpynn.errors import DataError

rng = np.random.default_rng(0)
PIXELS = rng.integers(0, 256, size=(50, 4, 4), dtype=np.uint8)
PIXELS[:, 0, 0] = 0  # a constant border pixel, as in MNIST
PIXELS[:, 3, 3] = 7  # and a constant non-zero one
LABELS = rng.integers(0, 10, size=50).astype(np.uint8)


def test_flatten_keeps_the_batch_axis():
    assert flatten(PIXELS).shape == (50, 16)
    assert flatten(np.zeros((3, 784))).shape == (3, 784)
    with pytest.raises(DataError, match="batch"):
        flatten(np.zeros(784))


@pytest.mark.parametrize("method", ["none", "255", "global", "zscore"])
def test_scale_returns_float32_by_default_and_float64_on_request(method):
    assert scale(PIXELS, method).dtype == np.float32
    assert scale(PIXELS, method, dtype=np.float64).dtype == np.float64
    assert scale(PIXELS.astype(np.float64), method).dtype == np.float32  # no silent upcast from the input


def test_scale_values():
    x = PIXELS.astype(np.float64)
    np.testing.assert_array_equal(scale(PIXELS, "none"), x)
    np.testing.assert_allclose(scale(PIXELS, "255"), x / 255, rtol=1e-6)
    np.testing.assert_allclose(scale(PIXELS, "global"), (x / 255 - 0.1307) / 0.3081, rtol=1e-5, atol=1e-6)
    assert (MNIST_MEAN, MNIST_STD) == (0.1307, 0.3081)


def test_zscore_is_per_feature_and_leaves_constant_features_centred():
    z = scale(PIXELS, "zscore", dtype=np.float64)
    varying = np.ones((4, 4), dtype=bool)
    varying[0, 0] = varying[3, 3] = False
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0)[varying], 1, rtol=1e-12)
    assert (z[:, 0, 0] == 0).all() and (z[:, 3, 3] == 0).all()


def test_zscore_matches_scikit_learn():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    flat = flatten(PIXELS).astype(np.float64)
    expected = preprocessing.StandardScaler().fit_transform(flat)
    np.testing.assert_allclose(flatten(scale(PIXELS, "zscore", dtype=np.float64)), expected, atol=1e-12)


def test_constant_float_feature_with_round_off_is_not_blown_up():
    x = np.full((7, 2), 0.1)
    x[:, 1] = np.arange(7)
    z = StandardScaler(np.float64).fit_transform(x)
    assert (z[:, 0] == 0).all()


def test_standard_scaler_fits_on_train_and_applies_to_test():
    train, test = PIXELS[:40], PIXELS[40:]
    scaler = StandardScaler().fit(train)
    out = scaler.transform(test)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (test - train.mean(axis=0)) / np.where(train.std(axis=0) == 0, 1,
                               train.std(axis=0)), rtol=1e-5, atol=1e-5)
    with pytest.raises(DataError, match="fitted on features of shape"):
        scaler.transform(flatten(test))
    with pytest.raises(DataError, match="not fitted"):
        StandardScaler().transform(test)


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "minmax"}, "Unknown scaling method 'minmax'"),
    ({"method": "255", "dtype": np.int32}, "dtype must be a float type"),
])
def test_scale_refusals(kwargs, message):
    with pytest.raises(DataError, match=message):
        scale(PIXELS, **kwargs)


def test_scale_refuses_non_numeric_input():
    with pytest.raises(DataError, match="numeric pixels"):
        scale(np.array([["a"]]), "255")


def test_one_hot():
    out = one_hot(np.array([0, 3, 9]))
    assert out.shape == (3, 10) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(axis=1), [0, 3, 9])
    assert out.sum() == 3
    assert one_hot(np.array([1]), num_classes=3, dtype=np.float64).tolist() == [[0.0, 1.0, 0.0]]


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 10]), "outside 0..9"),
    (np.array([-1, 2]), "outside 0..9"),
    (np.array([1.0, 2.0]), "must be integers"),
    (np.array(["1", "2"]), "must be integers"),
    (np.eye(3, dtype=int), "must be 1-D"),
])
def test_label_refusals(labels, message):
    with pytest.raises(DataError, match=message):
        one_hot(labels)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=0, max_size=30))
def test_one_hot_inverts_by_argmax(labels):
    y = np.array(labels, dtype=np.int64)
    out = one_hot(y)
    assert out.shape == (len(y), 10)
    np.testing.assert_array_equal(out.argmax(axis=1) if len(y) else y, y)
    np.testing.assert_array_equal(out.sum(axis=1), np.ones(len(y)))


def test_train_val_split_is_a_seeded_partition():
    x = np.arange(100)[:, None] * np.ones((1, 3))
    y = np.arange(100)
    (xt, yt), (xv, yv) = train_val_split(x, y, val_fraction=0.2, seed=1)
    assert len(yv) == 20 and len(yt) == 80
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(100))
    np.testing.assert_array_equal(xt[:, 0], yt)  # rows stay paired with their labels
    (_, again), _ = train_val_split(x, y, val_fraction=0.2, seed=1)
    (_, other), _ = train_val_split(x, y, val_fraction=0.2, seed=2)
    np.testing.assert_array_equal(again, yt)
    assert not np.array_equal(other, yt)


def test_split_accepts_a_generator_and_never_touches_global_random_state():
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    train_val_split(np.zeros((10, 2)), np.arange(10), 0.3, seed=np.random.default_rng(5))
    subset(np.zeros((10, 2)), np.arange(10), 4, seed=7)
    np.testing.assert_array_equal(np.random.random(3), expected)


@pytest.mark.parametrize("seed", [None, 1.5, "0", np.random.RandomState(0), True])
def test_split_refuses_other_seeds(seed):
    with pytest.raises(TypeError, match="int or a numpy.random.Generator"):
        train_val_split(np.zeros((10, 2)), np.arange(10), 0.3, seed=seed)


@pytest.mark.parametrize("n, fraction, message", [
    (10, 0.0, "strictly between 0 and 1"),
    (10, 1.0, "strictly between 0 and 1"),
    (10, 0.01, "leaves a part empty"),
])
def test_split_refuses_empty_parts(n, fraction, message):
    with pytest.raises(DataError, match=message):
        train_val_split(np.zeros((n, 2)), np.arange(n), fraction)


def test_subset_first_n_or_seeded():
    x, y = np.arange(20)[:, None], np.arange(20)
    xs, ys = subset(x, y, 5)
    assert ys.tolist() == [0, 1, 2, 3, 4]
    _, a = subset(x, y, 5, seed=3)
    _, b = subset(x, y, 5, seed=3)
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 5 and a.tolist() != [0, 1, 2, 3, 4]


@pytest.mark.parametrize("x, y, n, message", [
    (np.zeros((5, 2)), np.arange(5), 6, "subset size must be 1..5"),
    (np.zeros((5, 2)), np.arange(5), 0, "subset size must be 1..5"),
    (np.zeros((5, 2)), np.arange(4), 2, "one sample each per row"),
])
def test_subset_refusals(x, y, n, message):
    with pytest.raises(DataError, match=message):
        subset(x, y, n)


def test_check_labels_passes_good_labels_through():
    assert check_labels(np.array([0, 9], dtype=np.uint8)).dtype == np.uint8


@pytest.mark.parametrize("method", ["none", "255", "global", "zscore"])
@pytest.mark.parametrize("source", [np.uint8, np.int64, np.float64, np.float32])
def test_scale_into_out_matches_scale(method, source):
    # fit's preprocess scales batch by batch into a reused buffer: it must give the whole array's values exactly.
    x = np.random.default_rng(0).integers(0, 256, (40, 9)).astype(source)
    for dtype in (np.float32, np.float64):
        want = scale(x, method, dtype)
        out = np.full(x.shape, np.nan, dtype)
        got = scale(x, method, out=out)
        assert got is out and got.dtype == dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["none", "255", "global", "zscore"])
def test_scaler_learns_on_train_and_scales_any_batch_like_scale(method):
    rng = np.random.default_rng(1)
    x_train, x_test = rng.integers(0, 256, (50, 12), dtype=np.uint8), rng.integers(0, 256, (7, 12), dtype=np.uint8)
    scaler = Scaler.fit(method, x_train)
    want = scale(x_train, method) if method != "zscore" else StandardScaler().fit(x_train).transform(x_test)
    got = scaler(x_train) if method != "zscore" else scaler(x_test)
    np.testing.assert_array_equal(got, want)
    out = np.empty((7, 12), np.float32)
    assert scaler(x_test, out=out) is out and out.dtype == np.float32


def test_scaler_refusals():
    with pytest.raises(DataError, match="Unknown scaling method 'minmax'"):
        Scaler("minmax")
    with pytest.raises(DataError, match=r"Scaler.fit\('zscore', x_train\)"):
        Scaler("zscore")
    with pytest.raises(DataError, match=r"fitted on features of shape \(12,\), got \(5,\)"):
        Scaler.fit("zscore", np.ones((4, 12)))(np.ones((2, 5)))
    with pytest.raises(DataError, match="float type"):
        Scaler("255", dtype=np.int32)
