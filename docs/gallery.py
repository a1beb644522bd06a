"""Sphinx extension: the catalogue pages of the manual with pictures drawn while it is built.

The pages themselves are ``docs/models/NAME.md``, written by :func:`build.page` and
:func:`build.kinetic_page` (``docs/build.py``)
and kept in the repository with a picture on the catalogue's grid. While the site is built, this
extension

- checks that each page is what ``docs/build.py`` writes now (a stale page is a warning, so an
  error under ``make docs``: regenerate with ``python docs/build.py NAME --no-figures``);
- runs each model of the configuration value ``crossdiff_gallery`` on a small grid
  (:func:`build.draw` with ``small=True``) into ``_generated/figures/`` of the source folder and shows that picture
  on its page instead of the repository's, with a caption saying how it was drawn.
"""

from __future__ import annotations

import time
from pathlib import Path

import build
from sphinx.application import Sphinx
from sphinx.util import logging

import crossdiff as cd

logger = logging.getLogger(__name__)
#: Where the pictures drawn during the build go, under the source folder (ignored by git).
GENERATED = Path("_generated") / "figures"


def gallery_names(value: str) -> list[str]:
    """The models named by ``crossdiff_gallery``: ``all``, ``none`` or names separated by commas."""
    value = value.strip()
    if value == "all":
        return build.all_names()
    if value in ("", "none"):
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = sorted(set(names) - set(build.all_names()))
    if unknown:
        raise ValueError(f"crossdiff_gallery names unknown catalogue models: {', '.join(unknown)}")
    return names


def draw_gallery(app: Sphinx) -> None:
    """Draw the pictures of ``crossdiff_gallery`` (``builder-inited``)."""
    folder = Path(app.srcdir) / GENERATED
    folder.mkdir(parents=True, exist_ok=True)
    app.env.crossdiff_drawn = {}  # type: ignore[attr-defined]
    for name in gallery_names(app.config.crossdiff_gallery):
        t0 = time.perf_counter()
        summary = build.draw(name, folder / f"{name}.png", small=True)
        logger.info(f"gallery: {summary} ({time.perf_counter() - t0:.1f} s)")
        app.env.crossdiff_drawn[name] = summary  # type: ignore[attr-defined]


def model_page(app: Sphinx, docname: str, source: list[str]) -> None:
    """Check a catalogue page against :func:`build.page` and show the picture drawn now (``source-read``)."""
    folder, _, name = docname.rpartition("/")
    if folder != "models" or name not in build.all_names():
        return
    written = build.kinetic_page(name) if name in cd.catalogue.names("kinetic") else build.page(name)
    if source[0] != written:
        logger.warning(
            f"docs/models/{name}.md is not what docs/build.py writes now: "
            f"run `python docs/build.py {name} --no-figures`",
            location=docname,
        )
    drawn = getattr(app.env, "crossdiff_drawn", {}).get(name)
    if drawn is None:
        return
    status, _, rest = drawn.partition(": ")[2].partition(" on ")
    grid, _, rest = rest.partition(" t=")
    why = build.SMALL_T_END.get(name, (None, ""))[1]
    caption = (
        f"Drawn by the code while this manual was built (`docs/build.py`, small grid): {grid}, "
        f"t = {rest.split()[0]}, {status}" + (f" (a shorter run: {why})" if why else "") + "."
    )
    source[0] = source[0].replace(
        f"![{name}](../figures/{name}.png)", f"![{name}](/_generated/figures/{name}.png)\n\n{caption}"
    )


def setup(app: Sphinx) -> dict[str, object]:
    app.add_config_value("crossdiff_gallery", "all", "env", types=[str])
    app.connect("builder-inited", draw_gallery)
    app.connect("source-read", model_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
