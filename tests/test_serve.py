"""`numpynn serve` without a browser: the JSON API on a real uvicorn, bad input, concurrency, and the command."""

import base64
import contextlib
import io
import json
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
import uvicorn
from PIL import Image, ImageDraw

from numpynn.app.commands import parser as cli
from numpynn.app.runs.folder import open_model
from numpynn.app.serve import app as server
from numpynn.app.serve.drawings import Drawings
from numpynn.data.images import prepare_digit
from numpynn.data.userdata import load_npz


def drawn(digit: str, fmt: str = "PNG") -> bytes:
    """A digit as the page's canvas sends it: dark round strokes on a transparent 280x280 PNG (or a JPEG photo)."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if digit == "1":
        pen.line([(140, 50), (140, 230)], fill=(17, 17, 17, 255), width=23)
    elif digit == "0":
        pen.ellipse([85, 45, 195, 235], outline=(17, 17, 17, 255), width=23)
    buffer = io.BytesIO()
    if fmt == "JPEG":  # a photo: no alpha, dark ink on light paper
        paper = Image.new("RGB", image.size, (235, 232, 225))
        paper.paste(image, mask=image)
        paper.save(buffer, format="JPEG", quality=85)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(width, height):
    """A PNG whose header claims width x height but whose pixel data is a few bytes: a decompression bomb."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + chunk(b"IEND", b""))


@contextlib.contextmanager
def live_server(app):
    """Serve `app` with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    uv = uvicorn.Server(uvicorn.Config(app, log_level="critical", access_log=False))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        uv.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def trained(digit_run):
    return open_model(digit_run)


@pytest.fixture(scope="module")
def drawings(tmp_path_factory, trained):
    return Drawings(tmp_path_factory.mktemp("drawings") / "drawings.npz")


@pytest.fixture(scope="module")
def url(trained, drawings):
    with live_server(server.create_app(trained, drawings)) as base:
        yield base


@pytest.fixture
def client(url):
    with httpx.Client(base_url=url, timeout=30) as c:
        yield c


def post_image(client, body, path="/api/predict", kind="image/png", **kw):
    return client.post(path, content=body, headers={"Content-Type": kind}, **kw)


def assert_served_normally(client):
    answer = post_image(client, drawn("1"))
    assert answer.status_code == 200 and answer.json()["label"] == 1


@pytest.mark.parametrize("digit", ["1", "0"])
def test_predict_reads_a_drawn_digit(client, digit):
    answer = post_image(client, drawn(digit))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["label"] == int(digit) and body["class_name"] == digit
    probs = body["probabilities"]
    assert [p["class_name"] for p in probs] == [str(k) for k in range(10)] == [str(p["label"]) for p in probs]
    assert sum(p["probability"] for p in probs) == pytest.approx(1, abs=1e-5)
    assert max(probs, key=lambda p: p["probability"])["label"] == int(digit)
    # The 28x28 the model saw is exactly what prepare_digit (numpynn predict's preparation) makes.
    assert body["preprocessed"].startswith("data:image/png;base64,")
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["preprocessed"].split(",", 1)[1]))))
    assert seen.shape == (28, 28) and np.array_equal(seen, prepare_digit(drawn(digit)))


def test_predict_answers_as_numpynn_predict_does(client, digit_run, tmp_path, capsys):
    (tmp_path / "photo.jpg").write_bytes(drawn("0", "JPEG"))
    assert cli.main(["predict", str(digit_run), str(tmp_path / "photo.jpg"), "--json"]) == 0
    top3 = json.loads(capsys.readouterr().out)["predictions"][0]["top3"]
    answer = post_image(client, drawn("0", "JPEG"), kind="image/jpeg").json()
    assert answer["label"] == top3[0]["label"] == 0
    for t in top3:
        assert answer["probabilities"][t["label"]]["probability"] == pytest.approx(t["probability"], rel=1e-6)


BAD_REQUESTS = {
    "not an image": (400, "not a readable image", lambda c: post_image(c, b"hello, not a picture")),
    "empty body": (400, "empty", lambda c: post_image(c, b"")),
    "truncated image": (400, "corrupt or truncated", lambda c: post_image(c, drawn("1")[:300])),
    "decompression bomb": (400, "not a readable image", lambda c: post_image(c, png_claiming(30000, 30000))),
    "too many pixels": (400, "pixel cap", lambda c: post_image(c, png_claiming(6000, 6000))),
    "blank drawing": (422, "No digit found", lambda c: post_image(c, drawn("blank"))),
    "not an image type": (415, "Content-Type image/png", lambda c: post_image(c, drawn("1"), kind="text/plain")),
    "form post": (415, "Content-Type", lambda c: c.post("/api/predict", data={"x": "1"})),
    "declared over the cap": (413, "5 MB cap", lambda c: post_image(c, b"\0" * (server.MAX_BODY + 1))),
    "wrong method": (405, "use POST", lambda c: c.get("/api/predict")),
    "wrong method on the model": (405, "use GET", lambda c: c.delete("/api/model")),
    "wrong path": (404, "nothing at /api/nope", lambda c: c.get("/api/nope")),
    "missing static file": (404, "nothing at", lambda c: c.get("/static/nope.js")),
    "label not a digit": (400, "?label=N", lambda c: post_image(c, drawn("1"), path="/api/drawings?label=x")),
    "label out of range": (400, "0..9", lambda c: post_image(c, drawn("1"), path="/api/drawings?label=10")),
    "foreign Host header": (400, "not this server's address",
                            lambda c: c.get("/healthz", headers={"Host": "evil.test"})),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_input_gets_a_4xx_sentence_and_the_next_request_is_served(client, case):
    status, phrase, send = BAD_REQUESTS[case]
    answer = send(client)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert phrase in error and error.endswith(".") and "\n" not in error and "Traceback" not in error
    assert_served_normally(client)


def test_body_over_the_cap_is_refused_while_it_streams(url, client):
    # No Content-Length (chunked): the server must stop at 5 MB, not read 100 MB and then refuse it.
    sent = []

    def body():
        for _ in range(100):
            sent.append(1)
            yield b"\0" * 1024**2

    try:
        with httpx.Client(base_url=url, timeout=30) as fresh:
            answer = fresh.post("/api/predict", content=body(), headers={"Content-Type": "image/png"})
        assert answer.status_code == 413 and "5 MB cap" in answer.json()["error"]
    except httpx.TransportError:
        pass  # the server answered and closed while the client was still writing: also a refusal
    assert len(sent) < 40  # what loopback socket buffers hold beyond the cap, far from the 100 MB
    assert_served_normally(client)


def test_model_and_health(client, trained):
    assert client.get("/healthz").json() == {"status": "ok"}
    info = client.get("/api/model").json()
    assert info["parameters"] == trained.model.num_parameters() == 784 * 256 + 256 + 256 * 10 + 10
    assert [layer["type"] for layer in info["architecture"]] == ["Linear", "ReLU", "Linear"]
    assert info["classes"] == [str(k) for k in range(10)] and info["input_shape"] == [28, 28]
    assert 0.7 < info["metrics"]["test_acc"] <= 1 and info["metrics"]["epoch"] == 3


def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text and "default-src 'self'" in page.headers[
        "content-security-policy"]
    for name in ("app.js", "style.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["cache-control"] == "no-cache"
    assert "http://" not in page.text and "https://" not in page.text  # no CDN: it works offline


def test_concurrent_requests_are_each_answered_right(client):
    images = {"1": drawn("1"), "0": drawn("0")}
    jobs = ["1", "0"] * 16

    def ask(digit):
        return post_image(client, images[digit]).json()["label"]

    with ThreadPoolExecutor(8) as pool:
        labels = list(pool.map(ask, jobs))
    assert labels == [int(d) for d in jobs]


def test_correcting_a_digit_appends_it_to_the_drawings_file(client, drawings):
    before = drawings.count()
    for label in (7, 3):
        answer = post_image(client, drawn("1"), path=f"/api/drawings?label={label}")
        assert answer.status_code == 200, answer.text
    # Named, not the host's path (issue 21.1): this drawings file lies outside the run folder, so by its name.
    assert answer.json()["saved"] == before + 2 and answer.json()["path"] == "drawings.npz"
    x, y = load_npz(drawings.path)
    assert x.shape == (before + 2, 28, 28) and x.dtype == np.uint8 and list(y[-2:]) == [7, 3]
    assert np.array_equal(x[-1], prepare_digit(drawn("1")))
    assert client.get("/api/model").json()["drawings"]["count"] == before + 2


def test_serve_command_prints_its_url_and_serves(digit_run):
    proc = subprocess.Popen([sys.executable, "-m", "numpynn", "serve", str(digit_run), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving ") and "http://127.0.0.1:" in line, (line, proc.poll())
        base = line.split(" at ")[1].split()[0]
        assert httpx.get(base + "healthz", timeout=30).json() == {"status": "ok"}
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_help_says_what_binding_everywhere_exposes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0.0.0.0 exposes" in text and "default: 127.0.0.1" in text


def test_busy_port_is_one_sentence_and_exit_2(digit_run, capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert cli.main(["serve", str(digit_run), "--port", str(port)]) == 2
    assert f"Port {port} is already in use" in capsys.readouterr().err


def test_without_the_serve_extra_it_says_how_to_install_it(digit_run, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # `import uvicorn` now raises ImportError
    assert cli.main(["serve", str(digit_run)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'numpynn[serve]'" in err and err.count("\n") == 1


def test_the_served_socket_sends_without_waiting_for_acks():
    # Without TCP_NODELAY every response waits ~40 ms on the client's delayed ACK (benchmarks/serve_load.py).
    from numpynn.app.commands.serve import _bind

    with _bind("127.0.0.1", 0) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert sock.getsockname()[0] == "127.0.0.1"


def test_the_wheel_carries_every_page_file():
    # pyproject's package-data decides what a wheel holds; a page file it misses would 404 once installed.
    import fnmatch
    from pathlib import Path

    try:
        import tomllib
    except ImportError:  # Python 3.10: numpynn depends on tomli there
        import tomli as tomllib

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["numpynn"]
    package = server.STATIC.parents[2]  # src/numpynn: the patterns are relative to the package
    files = [p.relative_to(package).as_posix() for p in server.STATIC.rglob("*") if p.is_file()]
    assert {"app/serve/static/index.html", "app/serve/static/app.js", "app/serve/static/style.css"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)] == []


def test_a_failing_handler_is_a_json_500_and_the_server_keeps_serving(trained, tmp_path):
    app = server.create_app(trained, Drawings(tmp_path / "drawings.npz"))

    def broken(image):
        raise RuntimeError("a bug")

    app.state.service.predict = broken
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(10):  # one keep-alive connection: a 500 must not close it under the next request
            answer = post_image(http, drawn("1"))
            assert answer.status_code == 500 and "RuntimeError" in answer.json()["error"]
            assert "a bug" not in answer.text  # no internals leak to the client
            assert http.get("/healthz").json() == {"status": "ok"}
