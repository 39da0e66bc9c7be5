"""MNIST-style digit preprocessing: crop, fit to 20x20, centre of mass at the centre, any size or polarity."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from numpynn.data import images as imageprep
from numpynn.data.images import ink_map, load_image, mnist_style, prepare_digit, save_png
from numpynn.data.mnist import load_mnist
from numpynn.errors import DataError


@pytest.fixture(scope="module")
def digits():
    (_, _), (x_test, y_test) = load_mnist()
    return x_test[:200], y_test[:200]


def centre_of_mass(img):
    img = img.astype(np.float64)
    rows, cols = np.arange(img.shape[0]), np.arange(img.shape[1])
    return (img.sum(axis=1) @ rows) / img.sum(), (img.sum(axis=0) @ cols) / img.sum()


def box(img):
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_an_mnist_digit_comes_back_nearly_unchanged(digits):
    x, _ = digits
    out = np.stack([mnist_style(img / 255.0) for img in x])
    assert out.dtype == np.uint8 and out.shape == (200, 28, 28)
    diff = np.abs(out.astype(int) - x.astype(int)).mean(axis=(1, 2))
    assert np.median(diff) < 8  # of 255: the same digit, resampled once
    # A wrong placement (say, off by 3 pixels) would differ by far more than that:
    shifted = np.abs(np.roll(x, 3, axis=2).astype(int) - x.astype(int)).mean(axis=(1, 2))
    assert np.median(shifted) > 3 * np.median(diff)


def test_output_follows_mnist_geometry(digits):
    for img in digits[0][:50]:
        out = mnist_style(img / 255.0)
        h, w = box(out)
        assert max(h, w) <= 20 and max(h, w) >= 19  # fit to the 20x20 box (+1 for anti-aliasing edges)
        cy, cx = centre_of_mass(out)
        assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75
        assert out.max() == 255


def render(img, kind):
    """Re-render an MNIST digit as a user might photograph or draw it."""
    if kind == "big-dark-on-light":
        return Image.fromarray(255 - img).resize((280, 280), Image.Resampling.BICUBIC)
    if kind == "off-centre":
        canvas = Image.new("L", (200, 150), 0)
        canvas.paste(Image.fromarray(img).resize((84, 84), Image.Resampling.BILINEAR), (10, 50))
        return canvas
    if kind == "gray-paper":
        paper = (255 - img.astype(np.float64)) * 0.6 + 90
        return Image.fromarray(paper.astype(np.uint8)).resize((450, 450), Image.Resampling.BILINEAR)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["big-dark-on-light", "off-centre", "gray-paper"])
def test_size_polarity_and_position_do_not_matter(digits, kind, tmp_path):
    x, _ = digits
    diffs = []
    for i, img in enumerate(x[:30]):
        path = tmp_path / f"{i}.png"
        render(img, kind).save(path)
        diffs.append(np.abs(prepare_digit(path).astype(int) - mnist_style(img / 255.0).astype(int)).mean())
    assert np.median(diffs) < 12


def test_aspect_ratio_is_kept():
    tall = np.zeros((300, 100), np.float32)
    tall[20:280, 40:60] = 1  # a bar 260 high, 20 wide
    out = mnist_style(tall)
    h, w = box(out > 64)
    assert h == 20 and 1 <= w <= 4


def test_thin_pen_strokes_are_thickened_to_mnist_width(monkeypatch):
    image = Image.new("L", (1000, 800), 255)
    ImageDraw.Draw(image).line([(300, 200), (700, 200), (450, 700)], fill=0, width=3)  # a 7, fine pen
    out = mnist_style(ink_map(image))
    monkeypatch.setattr(imageprep, "STROKE", 0.0)  # control: the same image without thickening
    hairline = mnist_style(ink_map(image))
    # MNIST strokes are 2-3 px wide in the 28x28 field; an unthickened 3 px pen on a 1000 px canvas is not.
    assert (out > 128).sum() >= 40 and (out > 128).sum() > 2 * (hairline > 128).sum()
    assert out.sum() > 2 * hairline.sum()


def test_transparent_canvas_uses_alpha_as_ink(digits, tmp_path):
    img = digits[0][0]
    rgba = np.zeros((56, 56, 4), np.uint8)
    rgba[..., :3] = 0  # black strokes ...
    rgba[..., 3] = np.asarray(Image.fromarray(img).resize((56, 56)))  # ... on a transparent canvas
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "t.png")
    out = prepare_digit(tmp_path / "t.png")
    assert np.abs(out.astype(int) - mnist_style(img / 255.0).astype(int)).mean() < 10


def test_exif_rotation_is_applied(digits, tmp_path):
    img = Image.fromarray(255 - digits[0][1]).resize((112, 112))
    img.save(tmp_path / "upright.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": the camera stored it turned
    img.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    upright, turned = prepare_digit(tmp_path / "upright.png"), prepare_digit(tmp_path / "turned.jpg")
    assert np.abs(upright.astype(int) - turned.astype(int)).mean() < 6


def test_blank_image_is_refused(tmp_path):
    Image.new("L", (50, 50), 255).save(tmp_path / "blank.png")
    with pytest.raises(DataError, match="No digit found"):
        prepare_digit(tmp_path / "blank.png")


def test_missing_and_non_image_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(DataError, match="is a folder"):
        load_image(tmp_path)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(DataError, match="not a readable image"):
        load_image(tmp_path / "notes.png")


def test_truncated_image_is_refused(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="corrupt or truncated"):
        prepare_digit(tmp_path / "cut.png")


def png_claiming(width, height):
    """A PNG whose header claims width x height but whose pixel data is a few junk bytes."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    junk = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", junk) + chunk(b"IEND", b"")


def test_oversized_image_is_refused_from_its_header(tmp_path):
    # 8000 x 8000 = 64 MP: over numpynn's cap, under Pillow's own bomb limit; decoding would fail
    # differently (the data is junk), so this message proves the header check came first.
    (tmp_path / "big.png").write_bytes(png_claiming(8000, 8000))
    with pytest.raises(DataError, match="pixel cap"):
        load_image(tmp_path / "big.png")
    # A decompression bomb far beyond that is refused by Pillow's own check, also before decoding.
    (tmp_path / "bomb.png").write_bytes(png_claiming(30000, 30000))
    with pytest.raises(DataError, match="sane size"):
        load_image(tmp_path / "bomb.png")


def test_cap_is_configurable(tmp_path, monkeypatch):
    Image.new("L", (40, 40), 0).save(tmp_path / "small.png")
    monkeypatch.setattr(imageprep, "MAX_PIXELS", 1000)
    with pytest.raises(DataError, match="40x40"):
        load_image(tmp_path / "small.png")


def test_save_png_round_trips(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)
    save_png(tmp_path / "d.png", pixels)
    with Image.open(tmp_path / "d.png") as im:
        assert im.mode == "L" and im.size == (28, 28)
        assert np.array_equal(np.asarray(im), pixels)


def _bar(dtype, ink, paper):
    canvas = np.full((60, 60), paper, dtype)
    canvas[10:50, 25:35] = ink
    return canvas


@pytest.mark.parametrize("dtype, ink, paper, suffix", [
    (np.uint16, 60000, 0, "png"),      # 16-bit light on dark: convert("L") made it all white
    (np.uint16, 1000, 40000, "png"),   # 16-bit dark on light: all white too, so "blank"
    (np.uint16, 300, 200, "png"),      # a faint 16-bit scan: all black under convert("L")
    (np.float32, 0.9, 0.0, "tif"),     # float TIFF in 0..1: all black, so "blank"
    (np.float32, -5.0, 20.0, "tif"),   # float TIFF in any range
])
def test_16_bit_and_float_images_are_scaled_by_their_own_range(tmp_path, dtype, ink, paper, suffix):
    """Issue 17 item 13: Pillow's convert("L") clips 16-bit and float images, which were then called blank."""
    Image.fromarray(_bar(dtype, ink, paper)).save(tmp_path / f"deep.{suffix}")
    light_on_dark = ink > paper
    reference = _bar(np.uint8, 255 if light_on_dark else 0, 0 if light_on_dark else 255)
    Image.fromarray(reference).save(tmp_path / "ref.png")
    assert np.array_equal(prepare_digit(tmp_path / f"deep.{suffix}"), prepare_digit(tmp_path / "ref.png"))


def test_a_constant_16_bit_image_is_still_blank(tmp_path):
    Image.fromarray(np.full((30, 30), 40000, np.uint16)).save(tmp_path / "flat.png")
    with pytest.raises(DataError, match="No digit found"):
        prepare_digit(tmp_path / "flat.png")


def _png_with_chunk(kind: bytes, body: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(buffer, format="PNG")
    png = buffer.getvalue()
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return png[:33] + chunk + png[33:]  # right after IHDR


def _jpeg_head(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()[:n]


BOMB = zlib.compress(b"\0" * 64 * 2**20, 9)  # 64 MB of text in a 63 KB chunk


@pytest.mark.parametrize("data", [_jpeg_head(100), _png_with_chunk(b"zTXt", b"k\0\0" + BOMB),
                                  _png_with_chunk(b"iCCP", b"p\0\0" + BOMB)],
                         ids=["truncated JPEG header", "PNG with a 64 MB zTXt chunk", "PNG with a 64 MB iCCP chunk"])
def test_every_decoder_error_is_one_sentence(data):
    """Issue 26, item 5: Pillow's OSError and ValueError escaped Image.open (a 500 with a traceback in serve)."""
    with pytest.raises(DataError) as caught:
        prepare_digit(data)
    message = str(caught.value)
    assert message.endswith(".") and "\n" not in message and ("not a readable image" in message
                                                               or "corrupt or truncated" in message)
