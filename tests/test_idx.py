"""IDX reader/writer: round trips, a catalogue of malformed files, and fuzzing that only DataError escapes."""

import ast
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numpynn.data.idx import (
    IDX_DTYPES,
    check_pair,
    idx_bytes,
    idx_header,
    read_idx,
    read_images,
    read_labels,
    write_idx,
)
from numpynn.errors import DataError

REPO = Path(__file__).resolve().parents[1]
IMAGES = idx_bytes(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))
LABELS = idx_bytes(np.array([3, 9, 0], dtype=np.uint8))
GZ = gzip.compress(IMAGES, mtime=0)


def header(dims, code=0x08, magic=b"\x00\x00"):
    return magic + bytes([code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def patched(data, offset, new):
    return data[:offset] + new + data[offset + len(new):]


# (id, bytes, reader, extra kwargs, message the DataError must contain)
MALFORMED = [
    ("empty", b"", read_idx, {}, "ends inside the 4-byte magic"),
    ("short-magic", b"\x00\x00\x08", read_idx, {}, "ends inside the 4-byte magic"),
    ("bad-magic", patched(IMAGES, 0, b"\x01\x02"), read_idx, {}, "not an IDX file"),
    ("text-file", b"label,pixel0\n5,0\n", read_idx, {}, "not an IDX file"),
    ("type-0x07", patched(IMAGES, 2, b"\x07"), read_idx, {}, "unsupported IDX type byte 0x07"),
    ("type-0xFF", patched(IMAGES, 2, b"\xff"), read_idx, {}, "unsupported IDX type byte 0xFF"),
    ("zero-dims", b"\x00\x00\x08\x00", read_idx, {}, "declares 0 dimensions"),
    ("dims-cut", header((2, 3, 4))[:-2], read_idx, {}, "ends inside the 3 dimension sizes"),
    ("ndim-says-more", patched(IMAGES, 3, b"\x04"), read_idx, {}, "file ends after"),
    ("data-cut", IMAGES[:-1], read_idx, {}, "truncated"),
    ("header-only", IMAGES[:16], read_idx, {}, "ends after 0 of 24"),
    ("trailing-byte", IMAGES + b"\x00", read_idx, {}, "extra bytes"),
    ("claims-8-exabytes", header((2**31, 2**31, 2**31)), read_idx, {}, "over the"),
    ("claims-2**128", header((2**32 - 1,) * 4), read_idx, {}, "over the"),
    ("float64-over-cap", header((2**28,), code=0x0E), read_idx, {}, "over the"),
    ("cap-argument", IMAGES, read_idx, {"max_bytes": 23}, "over the 23-byte limit"),
    ("gz-truncated", GZ[:-10], read_idx, {}, "gzip data is damaged"),
    ("gz-bad-crc", patched(GZ, len(GZ) - 8, b"\x00\x00\x00\x00"), read_idx, {}, "gzip data is damaged"),
    ("gz-wrong-length", patched(GZ, len(GZ) - 4, b"\xff\x00\x00\x00"), read_idx, {}, "gzip data is damaged"),
    ("gz-bad-method", patched(GZ, 2, b"\x09"), read_idx, {}, "gzip data is damaged"),
    ("gz-magic-only", b"\x1f\x8b", read_idx, {}, "gzip data is damaged"),
    ("gz-trailing-garbage", GZ + b"garbage!", read_idx, {}, "gzip data is damaged"),
    ("gz-idx-truncated", gzip.compress(IMAGES[:-2]), read_idx, {}, "truncated"),
    ("gz-idx-trailing", gzip.compress(IMAGES + b"xx"), read_idx, {}, "extra bytes"),
    ("gz-bomb-header", gzip.compress(header((4096, 4096)) + bytes(4096 * 4096)), read_idx,
     {"max_bytes": 2**20}, "over the"),
    ("wrong-content-hash", IMAGES, read_idx, {"sha256": "0" * 64}, "content SHA-256"),
    ("labels-as-images", LABELS, read_images, {}, "expected uint8 images"),
    ("images-as-labels", IMAGES, read_labels, {}, "expected uint8 labels"),
    ("label-10", idx_bytes(np.array([1, 10, 2], dtype=np.uint8)), read_labels, {}, "label 10 at index 1"),
    ("label-255", idx_bytes(np.array([255], dtype=np.uint8)), read_labels, {}, "outside 0..9"),
    ("float-labels", idx_bytes(np.array([1.0, 2.0], dtype=np.float32)), read_labels, {}, "expected uint8 labels"),
    ("int32-images", idx_bytes(np.zeros((1, 2, 2), dtype=np.int32)), read_images, {}, "expected uint8 images"),
    ("2d-images", idx_bytes(np.zeros((2, 784), dtype=np.uint8)), read_images, {}, "expected uint8 images"),
]


@pytest.mark.parametrize("data, reader, kwargs, message", [case[1:] for case in MALFORMED],
                         ids=[case[0] for case in MALFORMED])
def test_malformed_bytes_are_refused_with_a_clear_error(data, reader, kwargs, message):
    with pytest.raises(DataError, match=message):
        reader(data, **kwargs)


def test_the_catalogue_is_large_and_distinct():
    assert len(MALFORMED) >= 20
    assert len({case[1] + repr(case[3]).encode() + case[2].__name__.encode() for case in MALFORMED}) == len(MALFORMED)


def test_errors_from_a_file_name_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(GZ[:-10])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        read_idx(path)
    path.write_bytes(gzip.compress(IMAGES[:-1]))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: file ends"):
        read_idx(path)


def test_a_gzip_bomb_is_not_decompressed_past_the_header_size():
    # 16 MB of zeros after a 4-byte payload: refused as extra bytes, reading only 1 byte beyond the claim.
    bomb = gzip.compress(header((4,)) + bytes(4 + 16 * 2**20), compresslevel=1)
    with pytest.raises(DataError, match="extra bytes"):
        read_idx(bomb)


def test_count_mismatch_between_images_and_labels():
    with pytest.raises(DataError, match="2 images but 3 labels"):
        check_pair(read_images(IMAGES), read_labels(LABELS), "pair")


def test_reads_the_real_bundled_labels_with_their_pinned_hash():
    labels = read_labels(REPO / "data/mnist/t10k-labels-idx1-ubyte.gz",
                         sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_write_then_read_a_file(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("plain-idx3-ubyte", "zipped-idx3-ubyte.gz"):
        write_idx(tmp_path / name, array)
        np.testing.assert_array_equal(read_idx(tmp_path / name), array)
    assert (tmp_path / "zipped-idx3-ubyte.gz").read_bytes()[:2] == b"\x1f\x8b"


@pytest.mark.parametrize("array, message", [
    (np.zeros(3, dtype=np.int64), "cannot store dtype int64"),
    (np.zeros(3, dtype=bool), "cannot store dtype bool"),
    (np.float32(1.0), "cannot store shape"),
])
def test_writer_refuses_what_idx_cannot_hold(array, message):
    with pytest.raises(DataError, match=message):
        idx_bytes(array)


def test_no_assert_statements_in_data_code():
    # Validation by `assert` would vanish under python -O.
    sources = [*(REPO / "src/numpynn/data").glob("*.py"), REPO / "src/numpynn/datasets.py"]
    for path in sources:
        tree = ast.parse(path.read_text())
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Assert)], path


# --- properties -------------------------------------------------------------------------------

idx_arrays = st.sampled_from(sorted(IDX_DTYPES)).flatmap(lambda code: hnp.arrays(
    dtype=IDX_DTYPES[code].newbyteorder("="),
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
))


@settings(max_examples=60, deadline=None)
@given(array=idx_arrays, compress=st.booleans())
def test_round_trip_write_read(array, compress):
    data = idx_bytes(array)
    if compress:
        data = gzip.compress(data, compresslevel=1)
    back = read_idx(data)
    assert back.shape == array.shape and back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)  # NaNs compare equal here, bit patterns survive


def _read_only_data_error(data):
    try:
        read_idx(data)
    except DataError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=80), st.binary(max_size=80).map(lambda b: b"\x1f\x8b" + b),
                 st.binary(max_size=40).map(lambda b: b"\x00\x00" + b)))
def test_fuzz_random_bytes_raise_only_data_error(data):
    _read_only_data_error(data)


SEEDS = [IMAGES, LABELS, GZ, gzip.compress(LABELS, mtime=0), idx_bytes(np.linspace(0, 1, 6, dtype=np.float32))]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 8))]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_fuzz_mutated_files_raise_only_data_error(data):
    _read_only_data_error(data)


def test_header_matches_the_mnist_layout():
    assert idx_header((60000, 28, 28), np.uint8) == bytes.fromhex("00000803") + struct.pack(">3I", 60000, 28, 28)
    assert idx_header((60000,), np.uint8) == bytes.fromhex("00000801") + struct.pack(">I", 60000)


def test_more_dimensions_than_numpy_has_is_a_data_error_naming_the_file(tmp_path):
    """Issue 17 item 34: a 65-dimension IDX file gave numpy's plain ValueError, without the file's name."""
    path = tmp_path / "deep.idx"
    path.write_bytes(b"\x00\x00\x08\x41" + struct.pack(">65I", *[1] * 65) + b"\x07")
    with pytest.raises(DataError, match=r"deep.idx: IDX header declares 65 dimensions; a valid file has 1 to 64"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x08\x40" + struct.pack(">64I", *[1] * 64) + b"\x07")
    assert read_idx(path).ndim == 64  # NumPy's limit itself is fine


@pytest.mark.parametrize("shape", [(0, 2**31, 2**31), (2**32 - 1, 0, 2**32 - 1, 2**32 - 1), (0, 2**20)])
def test_an_empty_shape_with_huge_other_dims_is_a_data_error(shape):
    """Issue 21, item 10: NumPy's own "array is too big" ValueError escaped for a 0 beside huge dims."""
    data = b"\x00\x00\x08" + bytes([len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    with pytest.raises(DataError, match="without its zeros"):
        read_idx(data, max_bytes=2**19)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from([0, 1, 28, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1), min_size=1, max_size=4),
       st.sampled_from([8, 9, 0x0D]))
def test_fuzz_headers_with_zero_and_huge_dims_raise_only_data_error(dims, code):
    """Headers alone: every dims tuple, zeros among huge ones included, reaches the parser's checks."""
    _read_only_data_error(b"\x00\x00" + bytes([code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims))
