"""Sphinx configuration of the crossdiff manual (``make docs``; docs/manual.md says why Sphinx).

The manual is the Markdown guides of this folder read by MyST, an API reference generated from the
NumPy-style docstrings (autodoc + napoleon), the catalogue pages of ``docs/models/`` with pictures
drawn by the code while the site is built (:mod:`gallery`), the benchmark notes and the changelog.

Options (``sphinx-build -D NAME=VALUE``):

- ``crossdiff_gallery``: the catalogue models whose pictures are drawn, comma-separated, ``all``
  (the default) or ``none`` (pages without pictures: the tests build a few pages this way).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # docs/build.py and docs/gallery.py
sys.path.insert(0, str(HERE.parent))  # this checkout's crossdiff, not an installed one

from crossdiff.version import __version__  # noqa: E402

project = "crossdiff"
author = "the crossdiff authors"
copyright = "the crossdiff authors, MIT licence"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "gallery",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated/**/*.md", "notebooks", "README.md", "**/.ipynb_checkpoints"]

# Markdown: $...$ and $$...$$ mathematics, ::: fences, heading anchors for links to sections
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference from the docstrings: NumPy style (the project's style, docs/architecture.md)
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}
autosummary_generate = False

html_theme = "pydata_sphinx_theme"
html_title = f"crossdiff {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_last_updated_fmt = None

# Mathematics is typeset in the browser by MathJax. The site carries its own copy (MathJax 2, from
# the package jupyter-server-mathjax of the ``docs`` extra, copied into _static/mathjax by
# _copy_mathjax), so that a page read offline shows its equations; without the package, MathJax 3
# from a content-delivery network.
try:
    import jupyter_server_mathjax

    MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"
    mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
    mathjax2_config = {
        "tex2jax": {
            "inlineMath": [["\\(", "\\)"]],
            "displayMath": [["\\[", "\\]"]],
            "processEscapes": True,
            "processClass": "math",
            "ignoreClass": "document",
        },
        "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "preferredFont": None, "imageFont": None},
    }
except ImportError:
    MATHJAX = None
    mathjax_path = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"


def _copy_mathjax(app, exception) -> None:
    """MathJax into ``_static/mathjax`` of the built site (``build-finished``)."""
    import shutil

    if exception is None and MATHJAX is not None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        if not (target / "MathJax.js").exists():
            shutil.copytree(MATHJAX, target, dirs_exist_ok=True)


# Attributes sections as fields of the class (one description per attribute, not two)
napoleon_use_ivar = True


def _plain_text_markup(app, what, name, obj, options, lines: list[str]) -> None:
    """Docstrings are written as text and mathematics, not reStructuredText: ``|x|`` is an
    absolute value (not a substitution) and ``*space`` in a shape an unpacking (not emphasis).
    Escapes both outside literals, and ends a field list with a blank line where a paragraph
    follows it (``autodoc-process-docstring``, after napoleon)."""
    import re

    for i, line in enumerate(lines):
        parts = line.split("``")
        for k in range(0, len(parts), 2):  # outside ``literals``
            if not re.search(r":(math|func|class|meth|data|attr|mod|obj|exc):`", parts[k]):
                parts[k] = re.sub(r"(?<![\\|])\|(?![|_])", r"\\|", parts[k])
            parts[k] = re.sub(r"(?<=[(, ])\*(?=[A-Za-z_])", r"\\*", parts[k])
        lines[i] = "``".join(parts)
    in_fields = False
    out: list[str] = []
    for line in lines:
        starts_field = bool(re.match(r":\w[^:]*:", line))
        if in_fields and line and not line.startswith((" ", ":")) and not starts_field:
            out.append("")
            in_fields = False
        if starts_field:
            in_fields = True
        elif not line:
            in_fields = False
        out.append(line)
    lines[:] = out


def _prose_after_parameters(app, what, name, obj, options, lines: list[str]) -> None:
    """A paragraph of prose after the entries of a Parameters (or Attributes) section is a note,
    not a parameter named by its first line: give it a ``Notes`` heading (before napoleon)."""
    import re

    out: list[str] = []
    section = None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()) and line.strip():
            section = line.strip()
        elif (
            section in ("Parameters", "Attributes", "Other Parameters")
            and line
            and not line.startswith(" ")
            and i > 0
            and not lines[i - 1].strip()
            and not re.fullmatch(r"[\w*]+(\s*,\s*[\w*]+)*(\s*:.*)?", line)
        ):
            out += ["Notes", "-----"]
            section = "Notes"
        out.append(line)
    lines[:] = out


def _mathematics_not_links(app, docname, source: list[str]) -> None:
    """``𝒯[f](M_i)`` in the guides is mathematics, not a link (as in ``tests/docs/test_links.py``):
    outside fenced blocks, ``[...](TARGET)`` whose target has no ``.``, ``/``, ``#`` or ``:`` is
    escaped (``source-read``)."""
    import re

    out, fence = [], None
    for line in source[0].split("\n"):
        stripped = line.lstrip()
        if fence is None and (stripped.startswith("```") or stripped.startswith("$$")):
            fence = stripped[:3]
            if stripped.startswith("$$") and stripped.count("$$") >= 2:
                fence = None
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None:
            line = re.sub(r"\]\(([^)\s./#:]+)\)", r"]\\(\1)", line)
        out.append(line)
    source[0] = "\n".join(out)


def _theme_options(app, config) -> None:
    """The options above are the PyData theme's: none for another theme (``-D html_theme=basic``,
    as the tests build without the theme package)."""
    if config.html_theme != "pydata_sphinx_theme":
        config.html_theme_options = {}


def setup(app):
    app.connect("config-inited", _theme_options)
    app.connect("build-finished", _copy_mathjax)
    app.connect("autodoc-process-docstring", _prose_after_parameters, priority=400)
    app.connect("autodoc-process-docstring", _plain_text_markup, priority=600)
    app.connect("source-read", _mathematics_not_links)


# an attribute named alike in two classes (``wavelength``) is an ambiguous target only for the
# index of attributes, never for the reader
suppress_warnings = ["ref.python"]
