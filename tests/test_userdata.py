"""User data: CSV (`label, pixels`) and NPZ (x, y) load when well formed and are refused clearly when not."""

import numpy as np
import pytest

from numpynn.data.userdata import check_images, load_csv, load_npz
from numpynn.errors import DataError

rng = np.random.default_rng(0)
X = rng.integers(0, 256, size=(5, 784), dtype=np.uint8)
Y = np.array([0, 9, 3, 3, 7], dtype=np.uint8)


def write_csv(path, rows, header=None):
    lines = [header] if header else []
    lines += [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def mnist_rows():
    return [[int(label), *pixels.tolist()] for label, pixels in zip(Y, X)]


@pytest.mark.parametrize("header", [None, "label," + ",".join(f"pixel{i}" for i in range(784)),
                                    "y," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))])
def test_csv_with_or_without_header(tmp_path, header):
    x, y = load_csv(write_csv(tmp_path / "digits.csv", mnist_rows(), header))
    assert x.dtype == np.uint8 and x.shape == (5, 784)
    assert y.dtype == np.uint8
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)


def test_csv_with_float_pixels_gives_float32(tmp_path):
    rows = [[1, 0.5, 0.25], [2, -1.0, 3.75]]
    x, y = load_csv(write_csv(tmp_path / "f.csv", rows), num_features=2)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, [[0.5, 0.25], [-1.0, 3.75]])
    assert y.tolist() == [1, 2]


def test_csv_declared_classes_and_width(tmp_path):
    x, y = load_csv(write_csv(tmp_path / "c.csv", [[25, 1, 2, 3], [0, 4, 5, 6]]), num_features=None, num_classes=26)
    assert x.shape == (2, 3) and y.tolist() == [25, 0]


def bad_csv_cases():
    good = mnist_rows()
    short = [row[:] for row in good]
    short[2] = short[2][:-1]
    nan = [row[:] for row in good]
    nan[1][5] = "nan"
    inf = [row[:] for row in good]
    inf[3][9] = "inf"
    empty_field = [row[:] for row in good]
    empty_field[0][4] = ""
    word = [row[:] for row in good]
    word[4][100] = "dark"
    return [
        ("short-row", short, "line 3 has 784 fields but line 1 has 785"),
        ("nan-pixel", nan, "line 2 holds NaN or infinity"),
        ("inf-pixel", inf, "line 4 holds NaN or infinity"),
        ("empty-field", empty_field, "line 1, field 5 is '', not a number"),
        ("word-in-body", word, "line 5, field 101 is 'dark', not a number"),
        ("label-10", [[10, *good[0][1:]], *good[1:]], "line 1 has label 10, outside 0..9"),
        ("label-negative", [*good[:2], [-1, *good[2][1:]]], "line 3 has label -1"),
        ("label-fraction", [[2.5, *good[0][1:]]], "label 2.5, not an integer"),
        ("pixel-256", [[1, 256, *good[0][2:]]], "pixel 1 is 256, outside 0..255"),
        ("pixel-negative", [[1, 0, -3, *good[0][3:]]], "pixel 2 is -3"),
        ("783-pixels", [row[:-1] for row in good], "783 pixels after the label, expected 784"),
        ("label-only", [[1], [2]], "1 field"),
    ]


@pytest.mark.parametrize("rows, message", [case[1:] for case in bad_csv_cases()],
                         ids=[case[0] for case in bad_csv_cases()])
def test_bad_csv_is_refused(tmp_path, rows, message):
    with pytest.raises(DataError, match=message):
        load_csv(write_csv(tmp_path / "bad.csv", rows))


HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def test_csv_line_numbers_count_the_header(tmp_path):
    rows = mnist_rows()
    rows[1][1] = "nan"
    with pytest.raises(DataError, match="line 3 holds NaN"):
        load_csv(write_csv(tmp_path / "h.csv", rows, header=HEADER))


def test_csv_header_must_be_as_wide_as_the_rows(tmp_path):
    with pytest.raises(DataError, match="header has 2 fields but rows have 785"):
        load_csv(write_csv(tmp_path / "h.csv", mnist_rows(), header="label,pixels"))


def test_csv_header_can_be_forced(tmp_path):
    path = write_csv(tmp_path / "h.csv", mnist_rows(), header=HEADER)
    with pytest.raises(DataError, match="line 1, field 1 is 'label', not a number"):
        load_csv(path, header=False)
    x, _ = load_csv(write_csv(tmp_path / "n.csv", mnist_rows(), header="0," + HEADER[6:]), header=True)
    assert len(x) == 5


@pytest.mark.parametrize("text, message", [
    ("", "no data rows"),
    ("label,pixel0\n", "no data rows"),
    ("\xff\xfe binary", "is not UTF-8 or UTF-16 text"),
    ("\xe9t\xe9,1\n", "is not UTF-8 or UTF-16 text"),
])
def test_empty_or_foreign_csv(tmp_path, text, message):
    path = tmp_path / "e.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataError, match=message):
        load_csv(path)


def test_npz_round_trip(tmp_path):
    np.savez(tmp_path / "d.npz", x=X.reshape(5, 28, 28), y=Y)
    x, y = load_npz(tmp_path / "d.npz")
    assert x.shape == (5, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, Y)


def test_npz_integer_pixels_become_uint8_and_floats_stay(tmp_path):
    np.savez(tmp_path / "i.npz", x=X.astype(np.int64), y=Y)
    assert load_npz(tmp_path / "i.npz")[0].dtype == np.uint8
    np.savez(tmp_path / "f.npz", x=X / 255, y=Y)
    assert load_npz(tmp_path / "f.npz")[0].dtype == np.float64


def test_npz_object_array_is_refused(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([X[0], "evil"], dtype=object), y=Y[:2])
    with pytest.raises(DataError, match="object array"):
        load_npz(tmp_path / "o.npz")


def bad_npz_cases():
    return [
        ("missing-y", {"x": X}, "no array named 'y'"),
        ("length-mismatch", {"x": X, "y": Y[:4]}, "5 samples in 'x' but 4 labels"),
        ("float-labels", {"x": X, "y": Y.astype(np.float32)}, "must be integers"),
        ("label-out-of-range", {"x": X, "y": Y + 5}, "outside 0..9"),
        ("2d-labels", {"x": X, "y": np.eye(5, dtype=int)}, "must be 1-D"),
        ("1d-pixels", {"x": X[0], "y": Y}, "non-empty batch"),
        ("empty", {"x": X[:0], "y": Y[:0]}, "non-empty batch"),
        ("nan-pixels", {"x": np.full((5, 4), np.nan), "y": Y}, "NaN or infinity"),
        ("pixels-over-255", {"x": X.astype(np.int32) + 1, "y": Y}, "outside 0..255"),
        ("string-pixels", {"x": np.full((5, 2), "a"), "y": Y}, "must be numbers"),
    ]


@pytest.mark.parametrize("arrays, message", [case[1:] for case in bad_npz_cases()],
                         ids=[case[0] for case in bad_npz_cases()])
def test_bad_npz_is_refused(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=message):
        load_npz(tmp_path / "bad.npz")


def test_npz_that_is_not_an_archive(tmp_path):
    np.save(tmp_path / "single.npy", X)
    with pytest.raises(DataError, match="single array"):
        load_npz(tmp_path / "single.npy")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_npz(tmp_path / "text.npz")
    good = tmp_path / "good.npz"
    np.savez(good, x=X, y=Y)
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:-200])
    with pytest.raises(DataError):
        load_npz(tmp_path / "cut.npz")


def test_npz_declared_shape_and_keys(tmp_path):
    np.savez(tmp_path / "k.npz", x_train=X, y_train=Y)
    x, _ = load_npz(tmp_path / "k.npz", x_key="x_train", y_key="y_train", sample_shape=(784,))
    assert x.shape == (5, 784)
    with pytest.raises(DataError, match=r"expected \(28, 28\)"):
        load_npz(tmp_path / "k.npz", x_key="x_train", y_key="y_train", sample_shape=(28, 28))


def test_check_images_keeps_floats_as_stored():
    assert check_images(np.zeros((2, 3), dtype=np.float16)).dtype == np.float16


# --- issue 17: a byte-order mark, numpy's words, line numbers, npz that is not one, npz size caps ----------

@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_csv_with_a_byte_order_mark_keeps_its_first_row(tmp_path, encoding):
    """Item 4: Excel's UTF-8 byte-order mark glued to the first label made row 1 look like a header."""
    path = tmp_path / "excel.csv"
    path.write_text("\n".join(",".join(map(str, row)) for row in mnist_rows()) + "\n", encoding=encoding)
    x, y = load_csv(path)
    assert len(x) == 5 and np.array_equal(x, X) and np.array_equal(y, Y)
    path.write_text(HEADER + "\n" + "\n".join(",".join(map(str, r)) for r in mnist_rows()), encoding=encoding)
    assert len(load_csv(path)[0]) == 5  # a real header is still skipped


def test_csv_errors_are_ours_and_count_lines_as_an_editor_does(tmp_path):
    """Item 29: numpy's "use `usecols` to select a subset" leaked out, and its row numbers skipped blank lines."""
    rows = [",".join(map(str, row)) for row in mnist_rows()]
    path = tmp_path / "gaps.csv"
    path.write_text(HEADER + "\n\n" + rows[0] + "\n\n\n" + rows[1][:-4] + "\n" + "\n".join(rows[2:]) + "\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert "line 6 has 784 fields but line 3 has 785" in message  # lines 1 (header), 3 and 6 hold text
    assert "usecols" not in message
    lines = [HEADER, "", rows[0], "", rows[1].replace(",0,", ",x,", 1), *rows[2:]]
    path.write_text("\n".join(lines))
    with pytest.raises(DataError, match=r"line 5, field \d+ is 'x', not a number"):
        load_csv(path)
    lines[4] = rows[1]
    lines[6] = "12" + lines[6][1:]
    path.write_text("\n".join(lines))
    with pytest.raises(DataError, match="line 7 has label 12"):  # the checks after parsing count lines too
        load_csv(path)


def test_a_csv_over_the_size_cap_is_refused_before_reading(tmp_path):
    path = write_csv(tmp_path / "big.csv", mnist_rows())
    with pytest.raises(DataError, match="over the 100-byte limit for a CSV file"):
        load_csv(path, max_bytes=100)


def _npz_bytes(**arrays):
    import io
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize("case, message", [
    ("truncated", "not a readable .npz archive"),
    ("npy renamed", "holds a single array"),
    ("zip of text", "zip archive without NumPy arrays"),
    ("bad crc", "is damaged"),
    ("npy header lies", "bytes than its header's shape"),
])
def test_npz_that_is_not_one_is_one_data_error(tmp_path, case, message):
    """Item 6: a truncated .npz, a zip that is not an npz, a .npy renamed .npz gave BadZipFile/TypeError."""
    import zipfile
    path = tmp_path / "d.npz"
    good = _npz_bytes(x=X, y=Y)
    if case == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif case == "npy renamed":
        np.save(tmp_path / "x.npy", X)
        (tmp_path / "x.npy").rename(path)
    elif case == "zip of text":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "hi")
    elif case == "bad crc":
        with zipfile.ZipFile(path, "w") as z:  # stored, so a flipped data byte reaches the CRC check
            z.writestr("x.npy", _npy(X))
            z.writestr("y.npy", _npy(Y))
        data = bytearray(path.read_bytes())
        data[data.index(b"NUMPY") + 200] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("x.npy", _npy(X)[:-10])
            z.writestr("y.npy", _npy(Y))
    with pytest.raises(DataError, match=message):
        load_npz(path)


def _npy(array, shape=None):
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(array.dtype),
                                                  "fortran_order": False, "shape": shape or array.shape})
    return buffer.getvalue() + array.tobytes()


def test_npz_arrays_are_capped_before_they_are_decompressed(tmp_path, monkeypatch):
    """Item 7: a header claiming 1e12 elements was a MemoryError; a 2 MB deflate bomb loaded 2.1 GB."""
    import zipfile
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:  # a few bytes that claim a 10^12-byte array
        z.writestr("x.npy", _npy(np.zeros(1, np.uint8), shape=(10**6, 10**6)))
        z.writestr("y.npy", _npy(Y))
    with pytest.raises(DataError, match=r"array 'x' claims shape \(1000000, 1000000\) \(1,000,000,000,000 bytes\)"):
        load_npz(path)
    bomb = tmp_path / "bomb.npz"  # 8 MB of zeros deflate to a few KB; with the cap at 1 MB it must not load
    bomb.write_bytes(_npz_bytes(x=np.zeros((8, 1024, 1024), np.uint8), y=np.zeros(8, np.uint8)))
    assert bomb.stat().st_size < 100_000
    read = []
    real_readinto = zipfile.ZipExtFile.readinto
    monkeypatch.setattr(zipfile.ZipExtFile, "readinto", lambda self, b: read.append(len(b)) or real_readinto(self, b))
    with pytest.raises(DataError, match="over the 1,048,576-byte limit"):
        load_npz(bomb, max_bytes=2**20)
    assert read == []  # refused from the header: not one byte of the array was decompressed
    x, _ = load_npz(bomb)  # under the default cap it is a legal (if dull) dataset
    assert x.shape == (8, 1024, 1024)
