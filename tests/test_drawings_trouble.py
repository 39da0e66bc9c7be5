"""drawings.npz when things go wrong: a damaged file, a folder in its place, an unwritable folder, a full disk,
the cap. Each is one sentence with a 4xx/5xx status, the server keeps serving, and the old file is untouched."""

import errno

import httpx
import numpy as np
import pytest
from test_serve import drawn, live_server

from numpynn.app.runs.folder import open_model
from numpynn.app.serve import app as server
from numpynn.app.serve import drawings as drawings_module
from numpynn.app.serve.drawings import Drawings, DrawingsUnavailable
from numpynn.data.userdata import load_npz


def digit(k):
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 10 + k % 8] = 255
    return pixels


@pytest.fixture(scope="module")
def trained(digit_run):
    return open_model(digit_run)


def serve_with(trained, path):
    return live_server(server.create_app(trained, Drawings(path, len(trained.class_names))))


def test_a_damaged_file_is_reported_by_the_model_page_and_refused_on_save(trained, tmp_path):
    path = tmp_path / "drawings.npz"
    path.write_bytes(b"PK\x03\x04 torn in half")
    with serve_with(trained, path) as base, httpx.Client(base_url=base, timeout=30) as http:
        info = http.get("/api/model")
        assert info.status_code == 200  # 0.2.0: 500 with a traceback
        assert info.json()["drawings"]["count"] is None
        assert "cannot be read" in info.json()["drawings"]["error"]
        saved = http.post("/api/drawings?label=1", content=drawn("1"), headers={"content-type": "image/png"})
        assert saved.status_code == 409 and "move it away" in saved.json()["error"]
        assert http.get("/healthz").json() == {"status": "ok"}  # still serving
        assert http.post("/api/predict", content=drawn("1"), headers={"content-type": "image/png"}).status_code == 200
    assert path.read_bytes() == b"PK\x03\x04 torn in half"  # never damaged further


def test_a_folder_in_place_of_the_file_is_a_sentence(trained, tmp_path):
    path = tmp_path / "drawings.npz"
    path.mkdir()
    with serve_with(trained, path) as base, httpx.Client(base_url=base, timeout=30) as http:
        assert "not a file" in http.get("/api/model").json()["drawings"]["error"]
        saved = http.post("/api/drawings?label=1", content=drawn("1"), headers={"content-type": "image/png"})
        assert saved.status_code == 409 and "not a file" in saved.json()["error"]
    assert path.is_dir() and not any(path.iterdir())


@pytest.mark.parametrize("code, status, words", [(errno.ENOSPC, 507, "disk"), (errno.EROFS, 500, "cannot write"),
                                                 (errno.EACCES, 500, "cannot write")])
def test_a_write_failure_keeps_the_old_file_and_the_server(trained, tmp_path, monkeypatch, code, status, words):
    path = tmp_path / "drawings.npz"
    Drawings(path).append(digit(3), 3)
    before = path.read_bytes()

    def failing(target, data):
        raise OSError(code, "simulated", str(target))
    monkeypatch.setattr(drawings_module, "atomic_write_bytes", failing)
    with serve_with(trained, path) as base, httpx.Client(base_url=base, timeout=30) as http:
        saved = http.post("/api/drawings?label=1", content=drawn("1"), headers={"content-type": "image/png"})
        assert saved.status_code == status and words in saved.json()["error"]
        assert "kept" in saved.json()["error"] and "Traceback" not in saved.text
        assert http.get("/api/model").json()["drawings"]["count"] == 1
    assert path.read_bytes() == before


def test_the_file_is_capped(tmp_path):
    drawings = Drawings(tmp_path / "drawings.npz", max_drawings=3)
    for k in range(3):
        drawings.append(digit(k), k)
    with pytest.raises(DrawingsUnavailable, match="already holds 3 digits, its cap") as caught:
        drawings.append(digit(4), 4)
    assert caught.value.status == 507
    assert load_npz(drawings.path)[1].tolist() == [0, 1, 2]
    assert drawings_module.MAX_DRAWINGS == 10_000  # the server's default: ~8 MB on disk at most


def test_appends_do_not_reread_the_file_unless_another_process_changed_it(tmp_path, monkeypatch):
    reads = []
    real = drawings_module.load_npz
    monkeypatch.setattr(drawings_module, "load_npz", lambda *a, **k: reads.append(1) or real(*a, **k))
    path = tmp_path / "drawings.npz"
    drawings = Drawings(path)
    for k in range(5):
        drawings.append(digit(k), k)
    assert drawings.count() == 5 and reads == []  # 0.2.0 re-read and re-validated the file on every append
    other = Drawings(path)  # a second server on the same run folder appends
    other.append(digit(7), 7)
    assert drawings.append(digit(8), 8) == 7  # ... and the first one sees that digit, reading the file once
    assert len(reads) == 2  # `other` read it once, `drawings` once after the change
    assert load_npz(path)[1].tolist() == [0, 1, 2, 3, 4, 7, 8]
