"""Model-by-door matrix, the serve door: `numpynn serve` of every kind, its JSON API and its page in Chromium.

One `numpynn serve` process per kind (started together), one headless Chromium for all of them. The API's
answer must be the model's own on the 28x28 it says it saw; on the page a drawn stroke must show an answer
among the kind's classes, and the page must describe the model as what it is.
"""

import base64
import io
import json
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
from matrix_kinds import BY_NAME, NAMES, cells, reference_proba
from PIL import Image


@pytest.fixture(scope="module")
def servers(matrix, tmp_path_factory):
    """{kind: base URL} of one `numpynn serve --port 0` per kind, all started before any is waited for."""
    logs, procs = tmp_path_factory.mktemp("serve-logs"), {}
    try:
        for name in NAMES:
            log = open(logs / f"{name}.log", "w")
            procs[name] = subprocess.Popen([sys.executable, "-m", "numpynn", "serve", str(matrix.run(name)), "--port",
                                            "0"], stdout=subprocess.PIPE, stderr=log, text=True)
            log.close()
        urls = {}
        for name, proc in procs.items():
            line = proc.stdout.readline()
            urls[name] = line.split(" at ")[1].split()[0] if " at http://" in line else \
                f"refused: {(logs / f'{name}.log').read_text()[-400:]}"
        yield urls
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(30)
            proc.stdout.close()


def ask(url: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url + path.lstrip("/"), data=body,
                                     headers={"Content-Type": "image/png"} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("name", NAMES)
def test_serve_api(matrix, servers, name, tmp_path):
    kind, run = BY_NAME[name], matrix.run(name)
    url = servers[name]
    assert url.startswith("http://"), f"numpynn serve did not start for {name}: {url}"
    png, _ = matrix.photo(kind, tmp_path)
    status, answer = ask(url, "/api/predict", png.read_bytes())
    assert status == 200, answer
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["preprocessed"].split(",", 1)[1]))))
    expected = reference_proba(run, seen[None])[0]
    assert answer["label"] == int(np.argmax(expected))
    assert [p["probability"] for p in answer["probabilities"]] == pytest.approx(expected.tolist(), abs=1e-5)
    assert [p["class_name"] for p in answer["probabilities"]] == matrix.classes(kind)
    status, model = ask(url, "/api/model")
    assert status == 200 and model["classes"] == matrix.classes(kind) and model["dtype"] == kind.dtype
    assert model["preprocessing"] == kind.scale
    assert model["model"] == "model.safetensors" and model["drawings"]["path"] == "drawings.npz"  # not host paths


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from chromium import chromium

    with chromium(tmp_path_factory.mktemp("chromium-matrix")) as driver:
        yield driver


@pytest.mark.parametrize("name", cells("serve-page"))
def test_serve_page(matrix, servers, browser, name):
    """A stroke drawn on the page gets an answer among the kind's classes; the page says what the model is."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from test_serve_browser import WAIT, draw

    kind = BY_NAME[name]
    browser.get(servers[name])
    WebDriverWait(browser, WAIT).until(lambda d: "parameters" in d.find_element(By.ID, "model-info").text)
    described = browser.find_element(By.ID, "model-info").text
    network = "CNN" if "Conv2d" in kind.layers else "LSTM" if "LSTM" in kind.layers else \
        "ViT" if "TransformerEncoderLayer" in kind.layers else "MLP"
    assert described.startswith(f"Model {name} · {network} ")
    draw(browser, [(0, y) for y in range(-110, 111, 20)])

    def answered(driver):
        error = driver.find_element(By.ID, "error")
        assert not error.is_displayed(), f"the page shows an error for {name}: {error.text}"
        return driver.find_element(By.ID, "label").text not in ("", "?")

    WebDriverWait(browser, WAIT).until(answered, f"the page never answered for {name}")
    assert browser.find_element(By.ID, "label").text in matrix.classes(kind)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#bars li")) == len(matrix.classes(kind))
