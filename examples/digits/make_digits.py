"""Make the digit images README's examples use, from MNIST test digits: drawn-N.png and photo-N.jpg.

    python examples/digits/make_digits.py          # rewrites the images beside this script

A "drawn" digit is dark ink on a white 280x280 canvas, as the serve page's pad draws one. A "photographed"
digit is rendered onto synthetic paper the way a phone sees it: grey paper with a left-to-right lighting
gradient and a fibre texture, the digit slightly rotated and out of focus, sensor noise of 6-12 grey levels,
then JPEG compression. The tests photograph many more digits with `photograph` to check that `predict` reads
them (tests/test_photos.py).
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

HERE = Path(__file__).resolve().parent
# Which MNIST test image each file shows (typical ones: the test set's first 5, index 8, reads as a 6).
DRAWN, PHOTOGRAPHED = {3: 30, 7: 0}, {2: 1, 5: 15}


def drawn(digit: np.ndarray) -> bytes:
    """PNG bytes: the (28, 28) uint8 MNIST digit as dark ink on a white 280x280 canvas."""
    ink = Image.fromarray(digit).resize((200, 200), Image.Resampling.BICUBIC)
    canvas = Image.new("L", (280, 280), 0)
    canvas.paste(ink, (40, 40))
    buffer = io.BytesIO()
    Image.fromarray(255 - np.asarray(canvas)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def photograph(digit: np.ndarray, rng: np.random.Generator, noise: float | None = None,
               size: tuple[int, int] = (240, 200), quality: int | None = None) -> bytes:
    """JPEG bytes: the (28, 28) uint8 MNIST digit photographed on paper (uneven light, texture, rotation,
    blur, sensor noise of `noise` grey levels, default 6-12, and JPEG compression)."""
    w, h = size
    side = int(rng.integers(int(0.55 * h), int(0.75 * h)))
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    ink = ink.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BICUBIC, expand=True)
    layer = np.zeros((h, w), np.float32)
    top = int(rng.integers(0, max(1, h - ink.height)))
    left = int(rng.integers(max(0, w // 2 - ink.width), max(1, min(w - ink.width, w // 2))))
    layer[top:top + ink.height, left:left + ink.width] = np.asarray(ink, np.float32)[:h - top, :w - left] / 255
    paper = float(rng.uniform(0.62, 0.85))
    light = np.linspace(float(rng.uniform(0.5, 0.7)), 1.0, w, dtype=np.float32)[None, :]
    if rng.random() < 0.5:
        light = light[:, ::-1]
    fibres = np.asarray(Image.fromarray(rng.normal(0, 1, (h // 8, w // 8)).astype(np.float32)).resize(
        (w, h), Image.Resampling.BICUBIC), np.float32)
    texture = 1 + 0.03 * fibres + 0.01 * rng.normal(0, 1, (h, w)).astype(np.float32)
    reflectance = 1 - float(rng.uniform(0.6, 0.8)) * layer
    image = 255 * paper * light * texture * reflectance
    image = np.asarray(Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(float(rng.uniform(0.6, 1.4)))), np.float32)
    image += rng.normal(0, rng.uniform(6, 12) if noise is None else noise, image.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
        buffer, format="JPEG", quality=int(rng.integers(55, 80)) if quality is None else quality)
    return buffer.getvalue()


def main() -> None:
    from numpynn import datasets

    _, (x_test, y_test) = datasets.load_mnist()
    rng = np.random.default_rng(2026)
    for d, i in DRAWN.items():
        assert y_test[i] == d
        (HERE / f"drawn-{d}.png").write_bytes(drawn(x_test[i]))
    for d, i in PHOTOGRAPHED.items():
        assert y_test[i] == d
        (HERE / f"photo-{d}.jpg").write_bytes(photograph(x_test[i], rng))
    print("Wrote", ", ".join(sorted(p.name for p in HERE.glob("*.*") if p.suffix in (".png", ".jpg"))))


if __name__ == "__main__":
    main()
