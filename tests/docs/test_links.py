"""The documentation's links lead somewhere, and it cites nothing outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#") or not re.search(r"[./]", target):
            continue  # a web address, an anchor on the same page, or mathematics such as 𝒯[f](M_i)
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.exists(), f"{page.relative_to(ROOT)} links to {target}, which does not exist"


def test_index_and_readme_link_the_file_formats():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("model-files.md", "kinetic-files.md", "derivations.md", "numerics.md"):
        assert f"]({page})" in index, page
        assert f"docs/{page}" in readme, page


def test_no_reference_to_a_specification_outside_the_repository():
    """Code and pages cite docs/theory.md and docs/references.md, not a document a reader cannot open."""
    allowed = {ROOT / "docs" / "theory.md", ROOT / "docs" / "references.md"}
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "crossdiff").rglob("*.py")]
    for path in files:
        if path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bSPEC\b|SPEC\.md|specification\.md", text), path.relative_to(ROOT)
