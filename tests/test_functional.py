"""Property tests for the pure math: softmax, log-softmax and cross-entropy stay finite and exact."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numpynn.nn import functional as F

logits = arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(2, 12)),
                elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False))


@settings(max_examples=200, deadline=None)
@given(logits)
def test_softmax_rows_sum_to_one_and_are_finite(z):
    p = F.softmax(z, axis=1)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(logits, st.floats(-1e4, 1e4))
def test_softmax_and_log_softmax_invariant_to_shift(z, c):
    np.testing.assert_allclose(F.softmax(z + c, axis=1), F.softmax(z, axis=1), atol=1e-9)
    np.testing.assert_allclose(F.log_softmax(z + c, axis=1), F.log_softmax(z, axis=1), atol=1e-6 * (1 + abs(c)))


@settings(max_examples=200, deadline=None)
@given(logits)
def test_log_softmax_is_log_of_softmax_and_finite(z):
    lp = F.log_softmax(z, axis=1)
    assert np.all(np.isfinite(lp)) and np.all(lp <= 1e-12)
    np.testing.assert_allclose(np.exp(lp), F.softmax(z, axis=1), atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(logits, st.data())
def test_cross_entropy_finite_nonnegative_and_matches_definition(z, data):
    labels = np.array(data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=len(z), max_size=len(z))))
    loss = F.cross_entropy(z, labels)
    assert np.isfinite(loss) and loss >= 0
    # Same value from one-hot targets, and from the textbook formula in exact (shifted) arithmetic.
    assert np.isclose(loss, F.cross_entropy(z, F.one_hot(labels, z.shape[1], np.float64)), rtol=1e-12)
    shifted = z - z.max(axis=1, keepdims=True)
    expected = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(z)), labels])
    assert np.isclose(loss, expected, rtol=1e-10, atol=1e-10)


def test_extreme_logits_give_exact_answers():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    np.testing.assert_allclose(F.softmax(z, axis=1), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    assert F.cross_entropy(z[:1], np.array([0])) == 0.0
    assert np.isclose(F.cross_entropy(z[:1], np.array([1])), 2e4)


def test_sigmoid_is_stable_and_keeps_dtype():
    x = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise"):
        s = F.sigmoid(x)
    assert s.dtype == np.float32
    np.testing.assert_allclose(s, [0.0, 2.0611537e-09, 0.5, 1.0, 1.0], rtol=1e-6)


def test_bce_with_logits_matches_naive_formula_where_that_is_finite():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(50) * 5, rng.integers(0, 2, 50).astype(float)
    p = 1 / (1 + np.exp(-x))
    naive = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert np.isclose(F.bce_with_logits(x, y), naive, rtol=1e-10)
    assert np.isfinite(F.bce_with_logits(np.array([1e4, -1e4]), np.array([0.0, 1.0])))


def test_one_hot():
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert F.one_hot(np.array([1]), 2).dtype == np.float32


# --- convolution and pooling ------------------------------------------------------------------------------

CONV_CASES = [  # (N, C, H, W, O, kh, kw, stride, padding)
    (2, 3, 7, 6, 4, 3, 2, (2, 1), (1, 0)),
    (1, 1, 5, 5, 2, 3, 3, 1, 0),
    (3, 2, 9, 8, 5, 2, 3, 3, 2),
    (2, 4, 6, 6, 3, 1, 1, 1, 0),
]


def test_conv2d_and_max_pool2d_equal_torch_in_float64():
    torch = __import__("pytest").importorskip("torch")
    rng = np.random.default_rng(0)
    for n, c, h, w, o, kh, kw, stride, padding in CONV_CASES:
        x, wt, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw)), rng.standard_normal(o)
        expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(wt), torch.tensor(b), stride, padding)
        np.testing.assert_allclose(F.conv2d(x, wt, b, stride, padding), expected.numpy(), atol=1e-12)
        pool_pad = (kh // 2, kw // 2)
        expected = torch.nn.functional.max_pool2d(torch.tensor(x), (kh, kw), stride, pool_pad)
        np.testing.assert_array_equal(F.max_pool2d(x, (kh, kw), stride, pool_pad), expected.numpy())
    expected = torch.nn.functional.max_pool2d(torch.tensor(x), 2)  # stride defaults to the kernel size
    np.testing.assert_array_equal(F.max_pool2d(x, 2), expected.numpy())


def test_conv2d_matches_the_definition_and_keeps_dtype():
    rng = np.random.default_rng(1)
    x, wt = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 2, 3))
    direct = np.zeros((2, 2, 4, 2))
    for y in range(4):
        for z in range(2):
            direct[:, :, y, z] = np.einsum("ncij,ocij->no", x[:, :, y:y + 2, z:z + 3], wt)
    np.testing.assert_allclose(F.conv2d(x, wt), direct, atol=1e-12)
    assert not np.allclose(F.conv2d(x, wt[:, :, ::-1, ::-1]), direct)  # a flipped kernel is a different map
    assert F.conv2d(x.astype(np.float32), wt.astype(np.float32)).dtype == np.float32
    assert F.max_pool2d(x.astype(np.float32), 2).dtype == np.float32


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> == <x, col2im(c)> for every x, c: col2im is exactly the transpose of the im2col map.
    rng = np.random.default_rng(2)
    for n, c, h, w, _, kh, kw, stride, padding in CONV_CASES:
        x = rng.standard_normal((n, c, h, w))
        cols = F.im2col(x, kh, kw, stride, padding)
        r = rng.standard_normal(cols.shape)
        back = F.col2im(r, x.shape, kh, kw, stride, padding)
        assert back.shape == x.shape
        np.testing.assert_allclose(np.sum(cols * r), np.sum(x * back), rtol=1e-12)
        kept = np.empty_like(cols)
        assert F.im2col(x, kh, kw, stride, padding, out=kept) is kept
