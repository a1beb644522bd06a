"""Check a built HTML site: every link and image of every page leads to something.

    python docs/check_site.py docs/_build/html            # HTML parser: files and anchors
    python docs/check_site.py docs/_build/html --browser  # also every page in headless Chromium

Without ``--browser`` (the fast check, :func:`site_problems`, used by ``tests/docs``) each page is
parsed with :mod:`html.parser`: every relative ``href`` and ``src`` (links, images, stylesheets,
scripts) must name a file of the site, every ``#anchor`` an ``id`` on the target page, and every
image file must be a picture (PNG, JPEG, GIF or SVG by its first bytes). Addresses on other hosts
are not followed (the machines that build the manual have no network).

``--browser`` (``make docs-check``) serves the site on 127.0.0.1 and opens every page in headless
Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by Selenium): an image the browser
did not display (``naturalWidth`` 0), a formula MathJax did not typeset and a same-site link the browser cannot load (HTTP status)
are reported. Exit status 1 when anything is broken, with one line per problem.
"""

from __future__ import annotations

import argparse
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: First bytes of the picture formats a page may show.
PICTURE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"<svg", b"<?xml")


class _Page(HTMLParser):
    """The ids and the outgoing references (tag, attribute, value) of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (kind, target): kind "link" or "image"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(str(a[key]))
        if tag == "a" and a.get("href"):
            self.refs.append(("link", str(a["href"])))
        elif tag == "img" and a.get("src"):
            self.refs.append(("image", str(a["src"])))
        elif tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.refs.append(("link", str(a["href"])))
        elif tag == "script" and a.get("src"):
            self.refs.append(("link", str(a["src"])))


def _pages(site: Path) -> list[Path]:
    """The site's pages (not the sources or the theme's templates under ``_sources``, ``_static``)."""
    return sorted(p for p in site.rglob("*.html") if not {"_sources", "_static"} & set(p.relative_to(site).parts))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def site_problems(site: str | Path) -> list[str]:
    """One line per broken link, anchor or image of the HTML pages under ``site``."""
    site = Path(site).resolve()
    pages = _pages(site)
    if not pages:
        return [f"{site}: no HTML pages"]
    parsed: dict[Path, _Page] = {}

    def parse(path: Path) -> _Page:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    problems = []
    for page in pages:
        where = page.relative_to(site)
        for kind, target in parse(page).refs:
            parts = urlsplit(target)
            if parts.scheme or target.startswith("//"):
                continue  # another host (mathjax, the theme's links) or mailto:
            path = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                problems.append(f"{where}: {kind} {target} leads to no file")
                continue
            if kind == "image" and not path.read_bytes()[:8].lstrip().startswith(PICTURE_MAGIC):
                problems.append(f"{where}: image {target} is not a picture")
            if parts.fragment and path.suffix == ".html" and unquote(parts.fragment) not in parse(path).ids:
                problems.append(f"{where}: link {target}: no anchor #{parts.fragment} on {path.name}")
    return problems


def browser_problems(site: str | Path, chromium: str = "/usr/bin/chromium") -> list[str]:
    """Open every page of ``site`` in headless Chromium; one line per image not displayed and
    per same-site link that does not load."""
    import functools
    import http.server
    import threading

    for program in (chromium, "/usr/bin/chromedriver"):
        if not Path(program).is_file():
            return [f"{program} not found: apt-get install chromium chromium-driver"]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    site = Path(site).resolve()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}/"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(30)
    problems: list[str] = []
    status: dict[str, int] = {}
    try:
        for page in _pages(site):
            where = page.relative_to(site).as_posix()
            driver.get(root + where)
            broken = driver.execute_script(
                "return Array.from(document.images)"
                ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))"
            )
            problems += [f"{where}: image {src} not displayed" for src in broken]
            raw = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "const count = () => Array.from(document.querySelectorAll('.math.notranslate'))"
                "  .filter(m => /\\\\[\\[(]/.test(m.textContent)).length;"
                "if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(() => done(count())); }"
                "else { done(count()); }"
            )
            if raw:
                problems.append(f"{where}: {raw} formulas not typeset by MathJax")
            links = driver.execute_script(
                "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
                ".filter(h => h.startsWith(location.origin)).map(h => h.split('#')[0])"
            )
            for url in sorted(set(links) - set(status)):
                status[url] = driver.execute_async_script(
                    "const done = arguments[arguments.length - 1];"
                    "fetch(arguments[0], {method: 'HEAD'}).then(r => done(r.status), () => done(0));",
                    url,
                )
            problems += [
                f"{where}: link {url[len(root) :]} answers {status[url]}" for url in set(links) if status[url] != 200
            ]
    finally:
        driver.quit()
        server.shutdown()
    return problems


class _QuietHandler:
    """A :class:`http.server.SimpleHTTPRequestHandler` that logs nothing (built lazily)."""

    def __new__(cls, *args, **kwargs):
        import http.server

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

        return Handler(*args, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", help="folder of the built HTML site (docs/_build/html)")
    parser.add_argument("--browser", action="store_true", help="also open every page in headless Chromium")
    args = parser.parse_args(argv)
    problems = site_problems(args.site)
    pages = len(_pages(Path(args.site).resolve()))
    if args.browser and not problems:
        problems = browser_problems(args.site)
    for line in problems:
        print(line)
    how = "parsed and opened in headless Chromium" if args.browser else "parsed"
    print(f"{pages} pages {how}: {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
