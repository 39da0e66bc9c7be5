"""random_shift moves each image by its own seeded offset, fills with the background, and plugs into fit()."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.data.augment import RandomShift, random_shift


def _reference_shift(img, dy, dx, fill):
    """The shift done the slow, obvious way: one image, explicit slices."""
    h, w = img.shape
    out = np.full_like(img, fill)
    src = img[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


@pytest.mark.parametrize("max_shift", [1, 2, 3])
def test_each_image_moves_by_its_own_offset(max_shift):
    x = np.random.default_rng(0).random((40, 28 * 28)).astype(np.float32)
    out = random_shift(x, np.random.default_rng(5), max_shift, fill=-1.0)
    dy, dx = np.random.default_rng(5).integers(-max_shift, max_shift + 1, size=(2, 40))  # the same draws
    assert out.shape == x.shape and out.dtype == np.float32
    assert len(set(zip(dy, dx))) > 3  # offsets really vary per image
    for k in range(40):
        want = _reference_shift(x[k].reshape(28, 28), dy[k], dx[k], -1.0)
        np.testing.assert_array_equal(out[k].reshape(28, 28), want)


def test_a_right_shift_moves_a_pixel_right_and_fills_with_the_background():
    x = np.full((1, 4 * 5), -0.5, np.float64)
    x[0, 1 * 5 + 2] = 3.0  # pixel at row 1, col 2

    class Fixed:  # a Generator stand-in that draws dy = 1, dx = 2
        def integers(self, low, high, size):
            return np.array([[1], [2]])

    out = random_shift(x, Fixed(), 2, image_shape=(4, 5)).reshape(4, 5)
    assert out[2, 4] == 3.0 and out.dtype == np.float64
    assert np.all(np.delete(out.ravel(), 2 * 5 + 4) == -0.5)  # background filled with the batch minimum


def test_seeded_and_zero_shift_is_identity():
    x = np.random.default_rng(0).random((8, 784)).astype(np.float32)
    np.testing.assert_array_equal(random_shift(x, np.random.default_rng(1)), random_shift(x, np.random.default_rng(1)))
    assert random_shift(x, np.random.default_rng(1), max_shift=0) is x
    with pytest.raises(ValueError, match="image_shape"):
        random_shift(x[:, :700], np.random.default_rng(1))


def test_works_as_fit_transform_and_leaves_global_random_alone():
    rng = np.random.default_rng(0)
    x = rng.random((64, 784)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    state = np.random.get_state()[1].copy()
    runs = []
    for _ in range(2):
        model = nn.mlp([784, 8, 3], seed=0)
        h = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model, lr=0.1), x, y, epochs=2, batch_size=16, verbose=0,
                   seed=3, transform=RandomShift(2))
        runs.append(h["train_loss"])
    assert runs[0] == runs[1]  # seeded: the same shifts every run
    np.testing.assert_array_equal(np.random.get_state()[1], state)
