"""The documentation site in a real headless Chromium: maths rendered, gallery images, search, notebooks, offline.

The site is the one `make docs` built into docs/_build/html (.ci/run builds it before the tests); where it is
missing, this module builds it first (tools/build_docs.py), so the checks never skip for want of a site.
Pages are served from 127.0.0.1 and every other host is unresolvable in the browser, so a page that needs
the internet fails here as it would offline; the browser's network log must name no other host.
Needs Debian's chromium and chromium-driver (.ci/run installs them): skips without them, fails on CI.
"""

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from chromium import chromium

WAIT = 30  # seconds; a shared 2-core machine can be slow to start a browser
ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "docs" / "_build" / "html"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.md") if p.name != "README.md")
GALLERY = sorted(p.stem for p in (ROOT / "docs" / "gallery").glob("plot_*.py"))


@pytest.fixture(scope="module")
def site():
    """docs/_build/html, built now when absent."""
    if not (HTML / "index.html").exists():
        try:
            import jupytext  # noqa: F401
            import sphinx  # noqa: F401
        except ImportError as error:
            message = f"{error.name} is missing; install the docs extra: pip install -e '.[docs]'"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        build = subprocess.run([sys.executable, str(ROOT / "tools" / "build_docs.py")], capture_output=True,
                               text=True, timeout=1200)
        assert build.returncode == 0, f"the docs build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    return HTML


@pytest.fixture(scope="module")
def base_url(site):
    """The built site served over HTTP on 127.0.0.1 (as a reader's local server would), for the module's tests."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request lines in the test output
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    # Offline, as the site must work: every host but the local server fails to resolve.
    with chromium(tmp_path_factory.mktemp("chromium-profile"), size=(1200, 900), performance_log=True,
                  flags=("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",)) as driver:
        yield driver


def visit(driver, url: str) -> None:
    """Open url, wait until the page has loaded, and clear the network log of earlier pages."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("performance")
    driver.get(url)
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


def requested_urls(driver) -> list[str]:
    """Every URL the browser asked for since the last call (Chromium's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def assert_nothing_from_outside(driver, base_url: str) -> None:
    urls = requested_urls(driver)
    assert any(u.startswith(base_url) for u in urls), f"the network log recorded no request at all: {urls}"
    outside = [u for u in urls if not u.startswith((base_url, "data:", "blob:", "about:"))]
    assert not outside, f"the page fetched from outside the site: {outside}"


def test_the_maths_renders_offline(browser, base_url):
    visit(browser, base_url + "backprop.html")
    rendered = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const count = () => done({
            math: document.querySelectorAll('.math').length,
            unrendered: Array.from(document.querySelectorAll('.math'))
                .filter(e => !e.querySelector('mjx-container svg')).length,
            svg: document.querySelectorAll('mjx-container svg').length,
            errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length});
        const wait = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
            ? MathJax.startup.promise.then(count) : setTimeout(wait, 100);
        wait();
    """)
    assert rendered["math"] > 30, f"the page has too few formulas to be the backprop page: {rendered}"
    assert rendered["unrendered"] == 0 and rendered["errors"] == 0, f"MathJax left formulas unrendered: {rendered}"
    assert_nothing_from_outside(browser, base_url)


def test_the_backprop_page_shows_numpynns_code_beside_each_equation(browser, base_url):
    from selenium.webdriver.common.by import By

    visit(browser, base_url + "backprop.html")
    pairs = browser.find_elements(By.CSS_SELECTOR, ".beside")
    code = "\n".join(p.text for p in pairs)
    assert len(pairs) >= 10
    text = browser.find_element(By.TAG_NAME, "body").text
    for line in ("def linear_backward", "def backward(self, grad_out", "grad_out * self.mask"):
        assert line in code, f"{line!r} is not beside an equation"
    assert "def col2im" in text, "col2im's source is not on the page"
    assert "why the transpose" in browser.page_source.lower()


def test_the_gallery_shows_every_example_with_its_figures(browser, base_url):
    from selenium.webdriver.common.by import By

    assert GALLERY, "docs/gallery has no plot_*.py example"
    visit(browser, base_url + "auto_gallery/index.html")
    thumbs = browser.find_elements(By.CSS_SELECTOR, ".sphx-glr-thumbcontainer img")
    assert len(thumbs) == len(GALLERY)
    for name in GALLERY:
        visit(browser, base_url + f"auto_gallery/{name}.html")
        images = browser.find_elements(By.CSS_SELECTOR, "img.sphx-glr-single-img, img.sphx-glr-multi-img")
        assert images, f"{name}: the example drew no figure"
        widths = [browser.execute_script("return arguments[0].naturalWidth", img) for img in images]
        assert all(w > 100 for w in widths), f"{name}: a figure did not load ({widths})"
        assert_nothing_from_outside(browser, base_url)


def test_search_finds_linear(browser, base_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    visit(browser, base_url + "search.html?q=Linear")
    WebDriverWait(browser, WAIT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#search-results li")) > 0, "search found nothing for Linear")
    results = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#search-results li")]
    assert any("Linear" in r for r in results), results[:5]
    assert_nothing_from_outside(browser, base_url)


def test_every_notebook_is_rendered_with_its_outputs(browser, base_url):
    from selenium.webdriver.common.by import By

    assert len(NOTEBOOKS) >= 8
    for name in NOTEBOOKS:
        visit(browser, base_url + f"notebooks/{name}.html")
        outputs = browser.find_elements(By.CSS_SELECTOR, ".cell_output")
        figures = browser.find_elements(By.CSS_SELECTOR, ".cell_output img")
        assert outputs, f"{name}: rendered without outputs (was it executed?)"
        assert figures, f"{name}: no figure inline"
        assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text, f"{name}: a cell failed"
        assert_nothing_from_outside(browser, base_url)


def test_the_reference_pages_document_the_public_names(site):
    api = (site / "api" / "numpynn.html").read_text()
    for anchor in ("numpynn.Linear.forward", "numpynn.Linear.backward", "numpynn.Conv2d.backward", "numpynn.fit",
                   "numpynn.save_model", "numpynn.CrossEntropyLoss.backward"):
        assert f'id="{anchor}"' in api, f"{anchor} is not documented"
    assert 'id="numpynn.optim.SGD.update"' in (site / "api" / "optim.html").read_text()
    assert 'id="neural_network.backward_mlp"' in (site / "api" / "neural_network.html").read_text()
    cli = (site / "cli.html").read_text()
    for command in ("train", "evaluate", "predict", "serve"):
        assert f'id="numpynn-{command}"' in cli, f"numpynn {command} has no section in the CLI reference"


def test_no_page_loads_a_resource_from_another_host(site):
    """Static check of every built page: scripts, stylesheets, images and frames come from the site itself."""
    resource = re.compile(r"<(?:script|img|iframe|source)[^>]*\bsrc=\"([^\"]+)\"|<link[^>]*\bhref=\"([^\"]+)\"")
    outside = {}
    for page in site.rglob("*.html"):
        for match in resource.finditer(page.read_text(errors="replace")):
            url = match.group(1) or match.group(2)
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                outside.setdefault(str(page.relative_to(site)), []).append(url)
    assert not outside, f"pages load resources from other hosts: {outside}"
