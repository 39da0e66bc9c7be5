"""Turn a photo or drawing of one digit into a 28x28 MNIST-style image, the way MNIST itself was made.

MNIST digits are white ink on black, cropped to the ink, scaled to fit a 20x20 box (aspect ratio kept,
anti-aliased) and placed in a 28x28 field so that their centre of mass sits at the centre (LeCun et al.).
A model trained on MNIST only understands images made the same way, so `predict` runs every image
through `prepare_digit` first.
"""

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from numpynn.data.photo import find_ink
from numpynn.errors import DataError
from numpynn.io.atomic import atomic_write_bytes

MAX_PIXELS = 50_000_000           # a 48-megapixel phone photo fits; a decompression bomb does not
MAX_FILE_BYTES = 100 * 1024**2
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
FIELD, BOX = 28, 20               # MNIST: a 20x20 box inside a 28x28 field
CENTRE = 14.0                     # MNIST's mean centre of mass, in pixel-index coordinates (measured: 14.00, 14.01)
WORK = 80                         # working resolution for stroke-width checks (4x the 20-pixel box)
STROKE = 0.136                    # MNIST's median stroke width as a fraction of the box (measured: 2.7 of 20 px)


def load_image(source: str | os.PathLike | bytes, max_pixels: int | None = None) -> Image.Image:
    """Open an image file (or the bytes of an upload) after checking its size and, from the header alone,
    its pixel count (at most `max_pixels`, default MAX_PIXELS)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, size, opened = "The upload", len(source), io.BytesIO(source)
    else:
        path = Path(source)
        if path.is_dir():
            raise DataError(f"{path} is a folder; pass image files (e.g. {path}/*.png).")
        if not path.is_file():
            raise FileNotFoundError(f"Image {path} does not exist; pass the path of a PNG or JPEG file.")
        name, size, opened = f"Image {path}", path.stat().st_size, path
    if size > MAX_FILE_BYTES:
        raise DataError(f"{name} is {size} bytes, over the {MAX_FILE_BYTES}-byte cap; "
                        "pass a smaller picture of one digit.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(opened, formats=FORMATS)  # lazy: reads the header, decodes nothing yet
        # Every decoder error is bad input: besides UnidentifiedImageError, a truncated JPEG header raises
        # OSError, a PNG with a 64 MB zTXt or iCCP chunk ValueError, and plugins raise SyntaxError, EOFError,
        # struct.error and more (issue 26, item 5).
        except Exception:  # noqa: BLE001
            raise DataError(f"{name.removeprefix('Image ')} is not a readable image ({', '.join(FORMATS)}) of a "
                            "sane size; pass a PNG or JPEG of one digit.") from None
    width, height = image.size
    cap = MAX_PIXELS if max_pixels is None else max_pixels
    if width * height > cap or min(width, height) < 1:
        image.close()
        raise DataError(f"{name} is {width}x{height} pixels, over the {cap:,}-pixel cap; "
                        "shrink it or crop it to the digit.")
    try:
        image.load()
        return ImageOps.exif_transpose(image)  # phone photos store rotation in EXIF, not in the pixels
    except Exception as exc:  # noqa: BLE001 (as above: whatever the decoder refuses is a damaged file)
        reason = str(exc).split("\n")[0][:120] or type(exc).__name__
        raise DataError(f"{name} is corrupt or truncated ({reason}); re-save it as PNG or JPEG.") from None


def is_image(path: str | os.PathLike) -> bool:
    """Whether `path` is a file Pillow recognises as one of FORMATS (from its header; nothing is decoded)."""
    try:
        with Image.open(path, formats=FORMATS):
            return True
    except Exception:  # noqa: BLE001 (any decoder error: not an image we can read)
        return False


def ink_map(image: Image.Image) -> np.ndarray:
    """(h, w) float32 ink in [0, 1] on a zero background, whatever the colours, polarity, light and noise of
    `image`, cropped to the digit (a transparent canvas: its opaque pixels)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
        if alpha.min() < 128:  # drawn on a transparent canvas: whatever is opaque is ink
            return alpha.astype(np.float32) / 255
    return find_ink(_gray(image))  # background, noise, Otsu's threshold and the crop: see data/photo.py


def _gray(image: Image.Image) -> np.ndarray:
    """(H, W) float32 brightness in [0, 1]. 8-bit images keep their scale; 16-bit and 32-bit integer and float
    images (16-bit PNG, float TIFF) are scaled by their own range, since convert("L") clips them to 0..255."""
    if image.mode not in ("F", "I") and not image.mode.startswith("I;16"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255
    values = np.asarray(image, dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataError("The image holds NaN or infinite pixel values; save it with finite values (or as 8-bit PNG).")
    low, high = float(values.min()), float(values.max())
    return ((values - low) / (high - low) if high > low else np.zeros_like(values)).astype(np.float32)


def mnist_style(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink in [0, 1] -> (28, 28) uint8 digit: cropped, fit to 20x20, centred by centre of mass."""
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2 or ink.size == 0 or not np.isfinite(ink).all():
        raise DataError(f"A digit image must be a finite 2-D array, got shape {ink.shape}.")
    peak = float(ink.max())
    if peak < 0.05:
        raise DataError("No digit found: the image is blank or has almost no contrast; photograph a darker digit.")
    ink = ink / peak
    ink[ink < 0.1] = 0  # paper grain and JPEG noise would otherwise widen the crop
    ink = _crop(ink)
    # At a fixed working size, thicken pen strokes that are thin next to MNIST's: a fine pen on a big
    # canvas would otherwise shrink to a faint hairline in the 20x20 box.
    ink = _resize_to_fit(ink, WORK)
    ink /= ink.max()
    width = _stroke_width(ink)
    target = STROKE * max(ink.shape)
    if width < 0.66 * target:
        k = int(round(target - width)) | 1  # MaxFilter wants an odd size; it widens strokes by k - 1
        padded = np.pad(ink, k)
        ink = _crop(np.array(Image.fromarray(padded).filter(ImageFilter.MaxFilter(k))))
    # The 20x20 box, then MNIST's placement: centre of mass at the field's centre, kept inside it.
    ink = _resize_to_fit(ink, BOX)
    ink = np.clip(ink / ink.max(), 0, 1)
    h, w = ink.shape
    total = ink.sum()
    cy = (ink.sum(axis=1) @ np.arange(h)) / total
    cx = (ink.sum(axis=0) @ np.arange(w)) / total
    top = int(np.clip(round(CENTRE - cy), 0, FIELD - h))
    left = int(np.clip(round(CENTRE - cx), 0, FIELD - w))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top:top + h, left:left + w] = ink
    return np.round(field * 255).astype(np.uint8)


def prepare_digit(source: str | os.PathLike | bytes, max_pixels: int | None = None) -> np.ndarray:
    """The (28, 28) uint8 MNIST-style digit for an image file or upload (white ink on black, as in MNIST)."""
    image = load_image(source, max_pixels)
    try:
        return mnist_style(ink_map(image))
    finally:
        image.close()


def save_png(path: str | os.PathLike, pixels: np.ndarray) -> Path:
    """Write a uint8 (H, W) array as a grayscale PNG, atomically."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, format="PNG")
    return atomic_write_bytes(path, buffer.getvalue())


def _crop(ink):
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _resize_to_fit(ink, side):
    """Scale so the longer side is `side`, keeping the aspect ratio; area-averaging when shrinking."""
    h, w = ink.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.array(Image.fromarray(ink.astype(np.float32)).resize(size, resample), dtype=np.float32)


def _stroke_width(ink):
    """Mean stroke width in pixels: 2 * area / perimeter of the inked region (a stroke has two edges)."""
    mask = ink > 0.3
    inner = mask.copy()
    inner[1:-1, 1:-1] = (mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:])
    inner[[0, -1], :] = False
    inner[:, [0, -1]] = False
    edge = np.count_nonzero(mask & ~inner)
    return 2 * np.count_nonzero(mask) / max(edge, 1)
