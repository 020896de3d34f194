"""Sphinx configuration of the kit's book (`make book`; the sources are staged by tools/build_book.py).

Why Sphinx + MyST-NB rather than Jupyter Book: Jupyter Book 1 is a thin layer over exactly these
(Sphinx, MyST-NB, sphinx-book-theme) and is in maintenance mode, while Jupyter Book 2 (what
`pip install jupyter-book` gives now) is a different, Node-based engine whose build fetches its theme
from the web; using Sphinx directly means fewer pinned packages and direct control of the two
things an offline book needs: where MathJax comes from and that no widget JavaScript is loaded.

Offline: math is typeset in the browser by MathJax 3.2.2 copied into the book's _static/mathjax by
the `sphinx-mathjax-offline` extension (a PyPI package bundling MathJax and its fonts), no CDN; the
theme's fonts and icons are bundled with the theme; widget outputs are made static before the
build (tools/build_book.py) and `nb_ipywidgets_js` is empty, so no require.js or widget manager
is fetched. tests/browser/test_book.py checks it with the network blocked.
"""

project = "Knowledge distillation ≈ label smoothing? A notebook teaching kit"
author = "the kit's authors"
copyright = "the kit's authors"

extensions = ["myst_nb", "sphinx.ext.mathjax", "sphinx-mathjax-offline"]

# the notebooks were executed by `make reproduce`: render their saved outputs, never run them
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # static book: no widget manager (and so no CDN script)
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
myst_dmath_double_inline = True  # `$$…$$` inside a paragraph (as JupyterLab renders it) is display math

exclude_patterns = [".doctrees", "**/.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "sphinx_book_theme"
html_title = "KD ≈ LS? — the notebooks"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_css_files: list[str] = []
html_static_path: list[str] = []
html_context = {"default_mode": "light"}
