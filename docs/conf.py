"""Sphinx configuration of numpynn's documentation site: `make docs` builds it into docs/_build/html.

Everything is built offline: MathJax comes from the sphinx-mathjax-offline package (copied into _static),
the notebooks are executed by `make notebooks` into docs/notebooks/ before the build, and the gallery's
examples run at build time on tiny sizes.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("NUMPYNN_NOTEBOOK_SMALL", "1")  # the gallery's scripts read it too
os.environ.setdefault("MPLBACKEND", "Agg")

import numpynn  # noqa: E402

project = "numpynn"
author = "numpynn contributors"
copyright = "numpynn contributors"  # noqa: A001
release = version = numpynn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax: no CDN
    "cli_reference",
    "plain_docstrings",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "gallery", "**.ipynb_checkpoints", "auto_gallery/*.ipynb", "auto_gallery/*.py"]
templates_path = []
default_role = "literal"  # `x` in a docstring is code, as the project writes it

html_theme = "alabaster"
html_title = f"numpynn {release}"
html_static_path = ["_static"]
html_css_files = ["numpynn.css"]
html_theme_options = {"description": "Neural networks in NumPy, in PyTorch's vocabulary.", "fixed_sidebar": True,
                      "page_width": "1240px", "github_button": False, "github_banner": False}
html_show_sourcelink = False
html_show_sphinx = False  # its footer links out; the site names no other host

# --- API reference, from the docstrings and type hints
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_mock_imports = []
# A class re-exported under several names (numpynn.Sequential, numpynn.nn.Sequential) makes a bare `Sequential`
# in a signature match each: Sphinx links the first, and says so in a warning that -W would turn into an error.
suppress_warnings = ["ref.python"]

# --- Maths: the SVG output of the vendored MathJax (set again in setup(): the extension overrides it)
mathjax3_config = {"svg": {"fontCache": "global"}}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# --- Notebooks: executed beforehand by tools/run_notebooks.py (make notebooks), rendered here as they are
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "remove"  # tqdm's "IProgress not found" (no ipywidgets in the docs build), nothing else
nb_ipywidgets_js = {}  # no widget JavaScript from a CDN

# --- The gallery: every docs/gallery/plot_*.py runs at build time and its figures are kept
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_gallery",
    "filename_pattern": r"plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "min_reported_time": 3600,
    "write_computation_times": False,  # its page loads DataTables from a CDN
    "show_signature": False,  # a link out to sphinx-gallery's site under every example
}


def setup(app):
    # Runs after the extensions' setup: sphinx-mathjax-offline points at its CHTML build; SVG needs no web fonts.
    app.config.mathjax_path = "mathjax/tex-svg.js"
