"""Find the ink of one digit in a photograph: the paper's uneven light, the sensor's noise, Otsu's threshold, a crop.

A fixed threshold fails on a photo: a lighting gradient makes one side of the paper darker than the ink on
the other, and sensor noise of 6-12 grey levels passes it everywhere, so the crop spans the whole picture.
Here the background (the paper under its light) is estimated per region, from the pixels that are not ink,
and divided out (light multiplies: the ink's contrast is its share of the paper's brightness); the noise is
measured from neighbouring pixels' differences; Otsu's method splits ink from paper, never below four noise
levels; specks are dropped by keeping the large connected blobs, and the ink is cropped to them. An image too
small, too faint or too noisy to hold a readable digit is refused in one sentence instead of guessed at.
"""

import numpy as np
from PIL import Image

from numpynn.errors import DataError

MIN_SIDE = 8          # pixels: below this no digit is legible (MNIST's are 28x28 with a 20x20 box)
WORK_SIDE = 320       # photos are analysed at most this large: area-averaging also lowers their noise
GRID_FROM = 64        # images at least this large get a per-region background (smaller: one for all)
MIN_CONTRAST = 0.08   # the ink must darken the paper by 8 % (or brighten a dark background by 8 grey levels)
MIN_SNR = 3.0         # the ink's contrast over the noise: below it a "digit" is as likely to be noise
LABEL_SIDE = 64       # blobs are labelled on a copy this small
NOISE_LEVELS = 4.0    # the threshold stays 4 noise levels above the paper: a noise pixel then passes 1 in 30,000


def find_ink(gray: np.ndarray) -> np.ndarray:
    """(H, W) brightness in [0, 1] -> (h, w) ink in [0, 1] on a zero background, cropped to the digit."""
    h, w = gray.shape
    if min(h, w) < MIN_SIDE:
        raise DataError(f"The image is {w}x{h} pixels, too small to hold a digit; use one at least {MIN_SIDE} "
                        "pixels on each side (a 28x28 or larger picture of the digit).")
    gray = _shrink(gray, WORK_SIDE)
    dark_ink = _dark_ink(gray)
    bright = 1 - gray if dark_ink else gray                      # the ink is bright from here on
    background = _background(bright, np.zeros(bright.shape, bool))
    scale = np.maximum(1 - background, 0.05) if dark_ink else 1  # the paper's brightness: ink is a share of it
    ink = np.clip((bright - background) / scale, 0, None)
    noise = _noise(bright) / float(np.median(scale))
    mask = ink > max(_otsu(ink), NOISE_LEVELS * noise, MIN_CONTRAST / 2)
    background = _background(bright, _grow(mask, 2))            # again, from the paper alone
    ink = np.clip((bright - background) / scale, 0, None)
    level = max(_otsu(ink), NOISE_LEVELS * noise, MIN_CONTRAST / 2)
    mask = _keep_large_blobs(ink > level)
    contrast = float(np.median(ink[mask])) if mask.any() else 0.0
    if contrast < MIN_CONTRAST or np.count_nonzero(mask) < 6:
        raise DataError("No digit found: the image is blank, or its ink is too faint against the paper; "
                        "photograph a darker digit, filling most of the picture.")
    if contrast < MIN_SNR * noise:
        raise DataError(f"The image is too noisy to read a digit in (noise of {noise:.0%} against the ink's "
                        f"{contrast:.0%} contrast); photograph it in better light, or scan it.")
    peak = float(np.percentile(ink[mask], 99))                  # not the max: one noisy pixel would dim the rest
    ink = np.where(_grow(mask, 2), ink, 0) / peak               # the strokes and their anti-aliased edges only
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return np.clip(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 0, 1).astype(np.float32)


def _shrink(gray, side):
    h, w = gray.shape
    if max(h, w) <= side:
        return gray
    size = (max(1, round(w * side / max(h, w))), max(1, round(h * side / max(h, w))))
    return np.asarray(Image.fromarray(gray.astype(np.float32)).resize(size, Image.Resampling.BOX), np.float32)


def _dark_ink(gray) -> bool:
    """Dark ink on light paper when the darkest pixels lie further from the border's shade than the brightest."""
    ring = max(1, min(gray.shape) // 20)
    border = np.concatenate([gray[:ring].ravel(), gray[-ring:].ravel(), gray[:, :ring].ravel(),
                             gray[:, -ring:].ravel()])
    paper = float(np.median(border))
    low, high = np.percentile(gray, [0.5, 99.5])
    return paper - low > high - paper if abs((paper - low) - (high - paper)) > 0.02 else paper > 0.5


def _background(bright, ink_mask):
    """The paper's shade at every pixel: per region of a 4x4 grid, the median of the pixels that are not ink
    (before any is known, the 25th percentile: ink is bright and rarely covers most of a region), smoothed."""
    h, w = bright.shape
    paper = np.where(ink_mask, np.nan, bright)
    if min(h, w) < GRID_FROM:
        return np.full_like(bright, _level(paper.ravel(), ink_mask.any()))
    cells = np.array_split(np.arange(h), 4), np.array_split(np.arange(w), 4)
    grid = np.array([[_level(paper[r[0]:r[-1] + 1, c[0]:c[-1] + 1].ravel(), ink_mask.any()) for c in cells[1]]
                     for r in cells[0]], np.float32)
    missing = ~np.isfinite(grid)  # a region all ink: the other regions' median stands in
    grid[missing] = np.nanmedian(grid) if not missing.all() else 0
    return np.asarray(Image.fromarray(grid).resize((w, h), Image.Resampling.BILINEAR), np.float32)


def _level(values, masked):
    values = values[np.isfinite(values)]
    if len(values) < 8:
        return np.nan
    return float(np.median(values)) if masked else float(np.percentile(values, 25))


def _noise(bright):
    """The noise's standard deviation, from horizontal neighbours' differences (robust to edges and light)."""
    d = np.abs(np.diff(bright, axis=1)).ravel()
    return float(np.median(d)) * 1.4826 / np.sqrt(2)


def _otsu(ink) -> float:
    """Otsu's threshold on ink values in [0, 1]: the split that maximises the between-class variance."""
    hist, edges = np.histogram(np.clip(ink, 0, 1), bins=256, range=(0, 1))
    p = hist / max(hist.sum(), 1)
    omega, mu = np.cumsum(p), np.cumsum(p * (edges[:-1] + edges[1:]) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    between = np.nan_to_num(between[:-1], nan=-1.0, posinf=-1.0)  # an empty class: no split there
    return float(edges[int(np.argmax(between)) + 1])


def _grow(mask, k):
    """mask widened by k pixels in every direction (a square dilation, as two passes of shifted ORs)."""
    out = mask
    for axis in (0, 1):
        grown = out.copy()
        n = out.shape[axis]
        for shift in range(1, min(k, n - 1) + 1):
            lead = [slice(None)] * 2
            lead[axis] = slice(shift, None)
            trail = [slice(None)] * 2
            trail[axis] = slice(None, n - shift)
            grown[tuple(lead)] |= out[tuple(trail)]
            grown[tuple(trail)] |= out[tuple(lead)]
        out = grown
    return out


def _keep_large_blobs(mask):
    """mask without its specks: the 8-connected blobs of at least a fifth of the largest one's pixels, found on
    a copy at most LABEL_SIDE pixels wide (any ink in a cell inks it), so labelling takes few passes."""
    f = max(1, -(-max(mask.shape) // LABEL_SIDE))
    h, w = -(-mask.shape[0] // f), -(-mask.shape[1] // f)
    small = np.zeros((h * f, w * f), bool)
    small[:mask.shape[0], :mask.shape[1]] = mask
    small = small.reshape(h, f, w, f).any(axis=(1, 3))
    labels = np.where(small, np.arange(1, small.size + 1).reshape(small.shape), 0)
    padded = np.zeros((h + 2, w + 2), labels.dtype)
    while True:  # each cell takes the largest label in its 3x3 neighbourhood (two 1-D passes), if inked
        padded[1:-1, 1:-1] = labels
        rows = np.maximum(np.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
        spread = np.maximum(np.maximum(rows[:-2], rows[1:-1]), rows[2:])
        spread[~small] = 0
        if np.array_equal(spread, labels):
            break
        labels = spread
    ids, sizes = np.unique(labels[small], return_counts=True)
    if not len(ids):
        return mask
    keep = np.isin(labels, ids[sizes >= sizes.max() / 5])
    return mask & np.repeat(np.repeat(keep, f, axis=0), f, axis=1)[:mask.shape[0], :mask.shape[1]]
