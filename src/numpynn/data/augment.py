"""Data augmentation in the batch loop: random pixel shifts of flattened images, seeded and vectorised."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def random_shift(xb: np.ndarray, rng: np.random.Generator, max_shift: int = 2,
                 image_shape: tuple[int, int] = (28, 28), fill: float | None = None) -> np.ndarray:
    """Shift each image of xb: (N, H*W) or (N, C, H, W) by its own random (dy, dx) in [-max_shift, max_shift].

    Same shape and dtype out; all channels of an image move together.

    Pixels shifted in from outside are `fill`; None uses the batch minimum, which is the background of
    MNIST-like images under any global scaling (0 after /255, -0.42 after MNIST's mean/std). Per-pixel
    z-scoring gives every pixel its own background, so shifting such data is not meaningful.
    """
    h, w = image_shape
    n = len(xb)
    flat = xb.ndim == 2
    if not (flat and xb.shape[1] == h * w) and not (xb.ndim == 4 and xb.shape[2:] == (h, w)):
        raise ValueError(f"random_shift expects flattened images (N, {h * w}) or (N, C, {h}, {w}) for image_shape "
                         f"{image_shape}, got {xb.shape}; pass the right image_shape.")
    s = check_shift(max_shift, image_shape)
    if s == 0 or n == 0:
        return xb
    c = 1 if flat else xb.shape[1]
    # One padded copy of the batch; every shifted image is then a window of it, gathered in one indexing op.
    padded = np.full((n, c, h + 2 * s, w + 2 * s), xb.min() if fill is None else fill, dtype=xb.dtype)
    padded[:, :, s:s + h, s:s + w] = xb.reshape(n, c, h, w)
    dy, dx = rng.integers(-s, s + 1, size=(2, n))
    windows = sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, 2s+1, 2s+1, H, W), a view: no copy
    # Window (s - dy, s - dx) shows the image moved down by dy and right by dx.
    shifted = windows[np.arange(n), :, s - dy, s - dx]          # (N, C, H, W): the advanced axes come first
    return shifted.reshape(n, h * w) if flat else shifted

def check_shift(max_shift: int, image_shape: tuple[int, int]) -> int:
    """max_shift as an int, refusing one that can move a whole image out of its frame (nothing left to learn)."""
    s, side = int(max_shift), min(image_shape)
    if s < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift}.")
    if s >= side:
        raise ValueError(f"A shift of up to {s} pixels can move a {image_shape[0]}x{image_shape[1]} image entirely "
                         f"out of view, leaving a blank image; use a shift below {side} (2 suits MNIST).")
    return s


class RandomShift:
    """fit(transform=RandomShift(2)): random_shift as a callable(xb, rng), with its settings in config()."""

    def __init__(self, max_shift: int = 2, image_shape: tuple[int, int] = (28, 28), fill: float | None = None):
        check_shift(max_shift, image_shape)
        self.max_shift, self.image_shape, self.fill = int(max_shift), tuple(image_shape), fill

    def __call__(self, xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """xb (N, H*W) or (N, C, H, W): each image shifted by its own (dy, dx) up to max_shift, drawn from rng."""
        return random_shift(xb, rng, self.max_shift, self.image_shape, self.fill)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, image_shape={self.image_shape})"
