"""A release a user can install: build the wheel, install it into a fresh venv, run numpynn from it.

Slow (a build and a venv with numpy and matplotlib from pip's cache), but it is the only test that sees what a
user of `pip install numpynn` gets: no data/ folder, so MNIST comes from a mirror (here one on 127.0.0.1).
"""

import functools
import http.server
import os
import subprocess
import sys
import threading
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (path,) = out.glob("numpynn-*.whl")
    return path


def test_the_wheel_carries_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "neural_network.py" in names and "numpynn/__init__.py" in names and "numpynn/app/commands/parser.py" in names
    recipes = {Path(n).name for n in names if n.startswith("numpynn/recipes/")}
    assert {"article.toml", "mnist-99.toml"} <= recipes
    assert {p.name for p in (ROOT / "src" / "numpynn" / "recipes").glob("*.toml")} <= recipes
    static = ROOT / "src" / "numpynn" / "app" / "serve" / "static"
    for page_file in static.glob("*") if static.is_dir() else []:  # the page `numpynn serve` serves
        assert f"numpynn/app/serve/static/{page_file.name}" in names
    assert not any(n.startswith(("tests/", "data/")) or n.endswith(".pyc") for n in names)


def test_the_installed_wheel_trains_on_mnist_from_a_mirror(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # Nothing from this checkout may leak in: without PYTHONPATH, pip and numpynn see only the fresh venv.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMPYNN_"))}
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   capture_output=True, text=True, timeout=600, env=env)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ROOT / "data" / "mnist"))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env.update(NUMPYNN_MNIST_MIRRORS=f"http://127.0.0.1:{server.server_address[1]}/",
               NUMPYNN_DATA=str(tmp_path / "cache"), NO_PROXY="127.0.0.1", MPLBACKEND="Agg")
    numpynn = env_dir / "bin" / "numpynn"
    try:
        version = subprocess.run([str(numpynn), "--version"], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert version.returncode == 0 and version.stdout.startswith("numpynn 0.")
        done = subprocess.run([str(numpynn), "train", "--subset", "600", "--epochs", "1", "--no-plots", "--name", "w"],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        # A recipe by name, from inside the wheel (no recipes/ folder here).
        recipe = subprocess.run([str(numpynn), "train", "--config", "article", "--epochs", "1", "--no-plots",
                                 "--name", "r", "--quiet"], capture_output=True, text=True, env=env, cwd=tmp_path,
                                timeout=600)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs" / "w" / "model.safetensors").is_file()
    assert list((tmp_path / "cache").rglob("*")), "MNIST was not downloaded into the cache"
    assert str(ROOT) not in version.stdout + done.stdout  # nothing was imported from the source tree
    assert recipe.returncode == 0, recipe.stderr
