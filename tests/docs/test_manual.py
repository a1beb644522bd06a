"""The manual (docs/manual.md): a few pages built with the real configuration, and the checks of
the built site (docs/check_site.py). ``make docs`` builds the whole site with warnings as errors;
``make docs-check`` opens it in headless Chromium (the slow test below)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))
from check_site import site_problems  # noqa: E402

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

#: The packages whose public names the API reference documents (docs/api/).
PACKAGES = ["grid", "model", "fv", "time", "kinetic", "derive", "analysis", "flow", "sweep", "solve", "io", "plot"]
PACKAGES += ["catalogue", "progress"]


def sphinx(src: Path, out: Path, *defines: str) -> subprocess.CompletedProcess:
    """``sphinx-build`` of ``src`` with docs/conf.py, warnings as errors, the plain theme (the
    ``test`` extra has no theme package)."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-E", "-c", str(DOCS)]
    command += ["-D", "html_theme=basic", *(a for d in defines for a in ("-D", d)), str(src), str(out)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


def small_source(tmp_path: Path) -> Path:
    """A source folder with an index, the model page of ``keller-segel`` and the API page of
    ``crossdiff.grid`` as they are in docs/."""
    src = tmp_path / "src"
    (src / "models").mkdir(parents=True)
    (src / "api").mkdir()
    shutil.copy(DOCS / "models" / "keller-segel.md", src / "models")
    shutil.copy(DOCS / "api" / "grid.md", src / "api")
    (src / "index.md").write_text(
        "# crossdiff\n\n[The model](models/keller-segel.md), [the grids](api/grid.md).\n\n"
        "```{toctree}\n:hidden:\n\nmodels/keller-segel\napi/grid\n```\n"
    )
    return src


def test_a_few_pages_build_with_the_picture_drawn_and_the_docstrings(tmp_path):
    src = small_source(tmp_path)
    out = tmp_path / "html"
    done = sphinx(src, out, "crossdiff_gallery=keller-segel")
    assert done.returncode == 0, done.stderr
    page = (out / "models" / "keller-segel.html").read_text()
    # the picture is the one drawn during this build (its caption names the small grid), not docs/figures'
    assert "Drawn by the code while this manual was built" in page
    assert "48x48" in page
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert len(images) == 1 and "_images/keller-segel.png" in images[0]
    assert (out / "_images" / "keller-segel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the equations (MathJax source) and the parameter table of build.page
    assert r"\partial_t u" in page and "<table" in page
    api = (out / "api" / "grid.html").read_text()
    # autodoc + napoleon: a public function with its NumPy-style parameters as a field list
    assert 'id="crossdiff.grid.default_grid"' in api and "Parameters" in api
    assert site_problems(out) == []


def test_a_stale_model_page_is_reported(caplog):
    """docs/gallery.py warns (an error under ``make docs``) when a page is not what docs/build.py writes."""
    import gallery

    class App:
        env = None

    text = (DOCS / "models" / "keller-segel.md").read_text()
    with caplog.at_level("WARNING"):
        gallery.model_page(App(), "models/keller-segel", [text])
        assert not caplog.records
        gallery.model_page(App(), "models/keller-segel", [text.replace("| `chi` |", "| `chi_old` |")])
    assert "is not what docs/build.py writes now" in caplog.text


def test_site_check_finds_a_broken_link_anchor_and_image(tmp_path):
    (tmp_path / "a.html").write_text(
        '<p id="here"><a href="b.html#there">b</a> <a href="a.html#here">self</a> '
        '<a href="missing.html">gone</a> <img src="pic.png"> <img src="fake.png"> '
        '<a href="https://example.org/">elsewhere</a></p>'
    )
    (tmp_path / "b.html").write_text('<p id="elsewhere">b</p>')
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    (tmp_path / "fake.png").write_text("not a picture")
    problems = site_problems(tmp_path)
    assert problems == [
        "a.html: link b.html#there: no anchor #there on b.html",
        "a.html: link missing.html leads to no file",
        "a.html: image fake.png is not a picture",
    ]


def test_every_guide_package_and_model_is_in_the_manual():
    index = (DOCS / "index.md").read_text()
    toctrees = "\n".join(re.findall(r"```\{toctree\}\n(.*?)```", index, re.S))
    entries = {line.strip() for line in toctrees.splitlines() if line.strip() and not line.startswith(":")}
    guides = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    assert guides <= entries, f"guides in no toctree of docs/index.md: {sorted(guides - entries)}"
    assert "models/*" in entries
    api = (DOCS / "api" / "index.md").read_text()
    for name in PACKAGES:
        assert f".. automodule:: crossdiff.{name}\n" in (DOCS / "api" / f"{name}.md").read_text()
        assert f"]({name}.md)" in api


@pytest.mark.slow
def test_built_site_in_headless_chromium(tmp_path):
    """``make docs-check`` on a few pages: every image displayed, every link loads."""
    if not Path("/usr/bin/chromium").exists() or not Path("/usr/bin/chromedriver").exists():
        pytest.skip("needs Debian's chromium and chromium-driver")
    pytest.importorskip("selenium")
    from check_site import browser_problems

    out = tmp_path / "html"
    assert sphinx(small_source(tmp_path), out, "crossdiff_gallery=keller-segel").returncode == 0
    assert browser_problems(out) == []
