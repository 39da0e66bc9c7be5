"""Verified downloads against a local HTTP server: cache hits, mirror failover, and nothing unverified kept."""

import functools
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from numpynn.data.download import fetch_file, resolve_mirrors
from numpynn.data.mnist import (
    FASHION_MNIST_MIRRORS,
    MNIST_FILES,
    MNIST_MIRRORS,
    PARTS,
    load_fashion_mnist,
    load_mnist,
)
from numpynn.errors import DownloadError

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "mnist"
# The bundled .gz files were re-compressed: their own hashes (SHA256SUMS) stand in for the official ones.
BUNDLED_GZ = {line.split()[1]: line.split()[0] for line in (BUNDLED / "SHA256SUMS").read_text().splitlines()}
LOCAL_MNIST = {name: (BUNDLED_GZ[name], MNIST_FILES[name][1]) for name in PARTS}
LOCAL_FASHION = {name: (BUNDLED_GZ[name], None) for name in PARTS}  # as for Fashion-MNIST: .gz hash only
LABELS = "t10k-labels-idx1-ubyte.gz"


class Server:
    """A static file server on 127.0.0.1 that records the paths it was asked for."""

    def __init__(self, root):
        self.requests, self.sent = [], 0
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path.startswith("/endless/"):  # no Content-Length, and more bytes than any pinned file
                    return self.send_endless()
                super().do_GET()

            def send_endless(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.end_headers()
                try:
                    for _ in range(1024):  # 64 MiB, unless the client hangs up first
                        self.wfile.write(bytes(65_536))
                        server.sent += 65_536
                except OSError:
                    pass
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def mirror(self, folder):
        return f"{self.url}/{folder}/"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    for folder in ("good", "corrupt", "truncated"):
        (root / folder).mkdir()
    for name in PARTS:
        data = (BUNDLED / name).read_bytes()
        (root / "good" / name).write_bytes(data)
        damaged = bytearray(data)
        damaged[len(data) // 2] ^= 0x01  # one flipped bit, same length: only the hash can tell
        (root / "corrupt" / name).write_bytes(bytes(damaged))
        (root / "truncated" / name).write_bytes(data[: len(data) // 2])
    srv = Server(str(root))
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(autouse=True)
def offline(server, monkeypatch, tmp_path):
    """Fresh cache per test, no proxy between us and 127.0.0.1, no bundled files, an empty request log."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("NUMPYNN_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("NUMPYNN_BUNDLED_DATA", "")
    monkeypatch.delenv("NUMPYNN_MNIST_MIRRORS", raising=False)
    server.requests.clear()


def dead_mirror():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_download_then_cache_hit_without_a_request(server, tmp_path):
    path = fetch_file(LABELS, BUNDLED_GZ[LABELS], [server.mirror("good")], tmp_path / "dl")
    assert path == tmp_path / "dl" / LABELS and sha256(path) == BUNDLED_GZ[LABELS]
    assert server.requests == [f"/good/{LABELS}"]
    fetch_file(LABELS, BUNDLED_GZ[LABELS], [server.mirror("good")], tmp_path / "dl")
    assert server.requests == [f"/good/{LABELS}"]  # the second call was served from the cache


@pytest.mark.parametrize("bad", ["corrupt", "truncated", "missing", "dead"])
def test_a_bad_mirror_is_skipped_for_the_next(server, tmp_path, bad):
    first = dead_mirror() if bad == "dead" else server.mirror(bad)
    path = fetch_file(LABELS, BUNDLED_GZ[LABELS], [first, server.mirror("good")], tmp_path / "dl")
    assert sha256(path) == BUNDLED_GZ[LABELS]
    assert server.requests[-1] == f"/good/{LABELS}"
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [LABELS]  # no temp file left behind


def test_every_mirror_bad_is_one_clear_error_and_nothing_is_cached(server, tmp_path):
    mirrors = [server.mirror("corrupt"), server.mirror("truncated"), server.mirror("missing"), dead_mirror()]
    with pytest.raises(DownloadError) as info:
        fetch_file(LABELS, BUNDLED_GZ[LABELS], mirrors, tmp_path / "dl")
    message = str(info.value)
    assert LABELS in message and BUNDLED_GZ[LABELS] in message
    assert all(m + LABELS in message for m in mirrors)
    assert "does not match" in message and "HTTP 404" in message and "could not connect" in message
    assert "Caused by" not in message and "HTTPConnection" not in message  # a reason per mirror, not requests' repr
    assert not (tmp_path / "dl").exists() or not list((tmp_path / "dl").iterdir())


def test_a_tampered_cached_file_is_downloaded_again(server, tmp_path):
    path = fetch_file(LABELS, BUNDLED_GZ[LABELS], [server.mirror("good")], tmp_path / "dl")
    path.write_bytes(b"tampered")
    fetch_file(LABELS, BUNDLED_GZ[LABELS], [server.mirror("good")], tmp_path / "dl")
    assert sha256(path) == BUNDLED_GZ[LABELS] and len(server.requests) == 2


def test_load_mnist_downloads_from_the_env_mirrors_then_loads_from_the_cache(server, monkeypatch, tmp_path):
    monkeypatch.setenv("NUMPYNN_MNIST_MIRRORS", f"{server.mirror('corrupt')}, {server.mirror('good')}")
    (x_train, y_train), (x_test, y_test) = load_mnist(registry=LOCAL_MNIST)
    assert x_train.shape == (60000, 28, 28) and y_test[:3].tolist() == [7, 2, 1]
    assert sorted(server.requests) == sorted(f"/{m}/{n}" for m in ("corrupt", "good") for n in PARTS)
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(PARTS)
    server.requests.clear()
    (again, _), _ = load_mnist(registry=LOCAL_MNIST)
    assert server.requests == []
    assert np.array_equal(again, x_train)


def test_the_mirrors_argument_beats_the_env_var(server, monkeypatch):
    monkeypatch.setenv("NUMPYNN_MNIST_MIRRORS", dead_mirror())
    _, (_, y_test) = load_mnist(registry=LOCAL_MNIST, mirrors=[server.mirror("good")])
    assert len(y_test) == 10000


def test_load_mnist_with_every_mirror_bad_names_the_file_and_caches_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz"):
        load_mnist(registry=LOCAL_MNIST, mirrors=[server.mirror("corrupt"), dead_mirror()])
    cache = tmp_path / "cache"
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_load_fashion_mnist_goes_through_the_same_verified_path(server, tmp_path):
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(registry=LOCAL_FASHION,
                                                              mirrors=[server.mirror("good")])
    assert x_train.shape == (60000, 28, 28) and x_test.dtype == np.uint8 and len(y_train) == 60000
    assert sorted(p.name for p in (tmp_path / "cache" / "fashion-mnist").iterdir()) == sorted(PARTS)
    # Without a content hash, the verified cache is keyed by the .gz hash that was checked.
    assert (tmp_path / "cache" / "verified" / f"t10k-labels-idx1-ubyte-{BUNDLED_GZ[LABELS]}.npy").is_file()
    server.requests.clear()
    load_fashion_mnist(registry=LOCAL_FASHION, mirrors=[server.mirror("good")])
    assert server.requests == []


def test_load_fashion_mnist_refuses_files_that_fail_the_official_hashes(server, tmp_path):
    # The default registry pins the official Fashion-MNIST hashes; MNIST's files must not pass for them.
    with pytest.raises(DownloadError, match="does not match"):
        load_fashion_mnist(mirrors=[server.mirror("good")])
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_resolve_mirrors(monkeypatch):
    monkeypatch.setenv("NUMPYNN_TEST_MIRRORS", " http://a/ ,http://b/  http://c/")
    assert resolve_mirrors(None, "NUMPYNN_TEST_MIRRORS", ("d",)) == ("http://a/", "http://b/", "http://c/")
    monkeypatch.setenv("NUMPYNN_TEST_MIRRORS", "")
    assert resolve_mirrors(None, "NUMPYNN_TEST_MIRRORS", ("d",)) == ("d",)
    assert resolve_mirrors("http://x/", "NUMPYNN_TEST_MIRRORS", ("d",)) == ("http://x/",)
    with pytest.raises(DownloadError, match="No mirrors"):
        resolve_mirrors([], "NUMPYNN_TEST_MIRRORS", ("d",))


def _as_shipped():
    """A fresh copy of numpynn.data.mnist, outside sys.modules: its constants as the source pins them, whatever a
    session fixture (tests/matrix_kinds.py points Fashion-MNIST at a local mirror) has put in the loaded one."""
    import importlib.util

    spec = importlib.util.find_spec("numpynn.data.mnist")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_standard_mirrors_and_official_hashes_are_pinned():
    shipped = _as_shipped()
    assert MNIST_MIRRORS == ("https://storage.googleapis.com/cvdf-datasets/mnist/",
                             "https://ossci-datasets.s3.amazonaws.com/mnist/")
    assert FASHION_MNIST_MIRRORS == ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    assert shipped.MNIST_FILES["train-images-idx3-ubyte.gz"][0].startswith("440fcabf73cc546f")
    assert shipped.FASHION_MNIST_FILES["train-images-idx3-ubyte.gz"][0].startswith("3aede38d61863908")
    assert all(len(gz) == 64 and len(content) == 64 for gz, content in shipped.MNIST_FILES.values())
    # The bundled files were re-compressed, so the official .gz hashes must not be what they hash to.
    assert all(shipped.MNIST_FILES[name][0] != BUNDLED_GZ[name] for name in PARTS)


@pytest.mark.parametrize("folder", ["good", "endless"])
def test_a_download_past_the_pinned_size_is_stopped_while_it_streams(server, tmp_path, folder):
    """Issue 21.19: a mirror could fill the disk before the hash was checked. "good" announces its size
    (refused before a byte is written); "endless" streams without one (stopped once past the cap)."""
    server.sent = 0
    with pytest.raises(DownloadError, match="over the pinned|more than the pinned"):
        fetch_file(LABELS, BUNDLED_GZ[LABELS], [server.mirror(folder)], tmp_path / "dl", max_bytes=1000)
    assert server.sent < 32 * 2**20  # the client hung up long before the 64 MiB the server would send
    assert list((tmp_path / "dl").glob("*")) == []  # nothing kept, not even a partial file


def test_every_default_download_is_capped_near_its_pinned_size():
    from numpynn.data.mnist import FASHION_MNIST_GZ_BYTES, _max_download_bytes
    assert _max_download_bytes(LABELS, "fashion-mnist", None) == FASHION_MNIST_GZ_BYTES[LABELS] == 5_148
    assert 10_008 < _max_download_bytes(LABELS, "mnist", MNIST_FILES[LABELS][1]) < 11_200
    assert _max_download_bytes("train-images-idx3-ubyte.gz", "mnist", "x") < 47_040_016 * 1.001
