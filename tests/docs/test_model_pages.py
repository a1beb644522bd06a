"""``docs/models/*.md`` are what ``docs/build.py`` writes from the catalogue today (equations in
LaTeX as ``crossdiff show --latex`` prints them, parameters, defaults), one page per model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from crossdiff import catalogue

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _build():
    spec = importlib.util.spec_from_file_location("crossdiff_docs_build", DOCS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", catalogue.names())
def test_model_page_is_current(name):
    page = (DOCS / "models" / f"{name}.md").read_text(encoding="utf-8")
    assert page == _build().page(name), f"docs/models/{name}.md is stale: run docs/build.py {name} --no-figures"
    assert (DOCS / "figures" / f"{name}.png").is_file()


@pytest.mark.parametrize("name", catalogue.names("kinetic"))
def test_kinetic_model_page_is_current(name):
    page = (DOCS / "models" / f"{name}.md").read_text(encoding="utf-8")
    assert page == _build().kinetic_page(name), f"docs/models/{name}.md is stale: run docs/build.py {name} --no-figures"
    first = catalogue.load_kinetic(name).species_names[0]
    symbol = first if len(first) == 1 else f"{first[0]}_{{{first[1:]}}}"  # u, or u1 as LaTeX u_{1}
    assert "## Derived limit" in page and rf"\partial_t {symbol} &=" in page
    assert (DOCS / "figures" / f"{name}.png").is_file()


def test_every_catalogue_model_has_a_page_in_the_index():
    everything = sorted(catalogue.names() + catalogue.names("kinetic"))
    assert sorted(p.stem for p in (DOCS / "models").glob("*.md")) == everything
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for name in everything:
        assert f"(models/{name}.md)" in index
