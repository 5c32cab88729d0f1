"""output/brief.html: self-contained, linked up, safe; and (marked `browser`) as Chromium shows it.

The static checks parse the HTML; the browser checks load it from file:// in Debian's headless
Chromium through Playwright (see tests/browser.py): no console errors, no request but the file,
working links, no sideways scrolling on a phone, and screenshots that are not blank.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import REPO, SOURCE_A, write_project

from briefgen.build import build
from briefgen.render import make_environment, render_html

# Attributes that make a browser fetch something (or run it).
_FETCHING = ("src", "srcset", "data", "poster", "background", "action", "formaction", "xlink:href")
_CSS_URL = re.compile(r"""url\(\s*['"]?\s*([^'")\s]*)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?['"]?\s*([^'")\s;]*)""", re.I)


def _built(root: Path):
    """Build the screen HTML only (no WeasyPrint): fast, and the same brief.html."""
    result = build(root, pdf=False)
    html = (root / "output" / "brief.html").read_text(encoding="utf-8")
    return result.report, html


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    import shutil

    root = tmp_path_factory.mktemp("html") / "example"
    shutil.copytree(REPO / "content", root / "content")
    report, html = _built(root)
    return root, report, html


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The conftest project, its second source given a URL (the example's sources have none)."""
    root = write_project(
        tmp_path_factory.mktemp("html") / "tiny",
        sources={"lavrov.txt": SOURCE_A, "energy.txt": SOURCE_B_WITH_URL},
    )
    report, html = _built(root)
    return root, report, html


SOURCE_B_WITH_URL = """\
---
title: "Energy ties"
publisher: "Example Review"
url: https://example.net/energy?id=7&lang=en
---
Three key projects are most important – Lukoil's investment in West Qurna-2.
"""


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _is_external(url: str) -> bool:
    """Anything a browser would fetch from outside the document itself."""
    url = url.strip()
    if not url or url.startswith("#"):
        return False
    scheme = urlsplit(url).scheme.lower()
    return scheme != "data"  # http(s), file, javascript:, //host and relative paths all count


def resource_urls(soup: BeautifulSoup) -> list[tuple[str, str]]:
    """(where, URL) for every URL the page would load: fetching attributes, <link>, CSS."""
    found = []
    for tag in soup.find_all(True):
        for attr in _FETCHING:
            if tag.has_attr(attr):
                found.append((f"<{tag.name} {attr}>", tag[attr]))
        if tag.name == "link" and tag.has_attr("href"):
            found.append(("<link href>", tag["href"]))
        css = tag.get("style", "") + ((tag.string or "") if tag.name == "style" else "")
        for pattern in (_CSS_URL, _CSS_IMPORT):
            found += [(f"css in <{tag.name}>", url) for url in pattern.findall(css)]
    return found


# --- static checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["example", "tiny"])
def test_no_external_resources(which, request):
    _, _, html = request.getfixturevalue(which)
    soup = soup_of(html)
    assert [(where, url) for where, url in resource_urls(soup) if _is_external(url)] == []
    assert soup.find("script") is None
    assert soup.find("link", rel=lambda r: r and "stylesheet" in r) is None


def test_external_links_are_only_the_sources_urls(tiny):
    _, report, html = tiny
    soup = soup_of(html)
    urls = {s.meta.url for s in report.verified.sources.values() if s.meta.url}
    assert urls == {"https://example.org/lavrov", "https://example.net/energy?id=7&lang=en"}
    external = [a["href"] for a in soup.find_all("a", href=True) if not a["href"].startswith("#")]
    assert set(external) == urls
    for url in urls:
        (anchor,) = soup.select(f'#sources a[href="{url}"]')
        assert anchor.get_text(strip=True) == url


def test_styles_are_inlined(example):
    _, _, html = example
    soup = soup_of(html)
    styles = soup.find_all("style")
    assert styles and sum(len(s.get_text()) for s in styles) > 1000
    css = "".join(s.get_text() for s in styles)
    assert ".cover" in css and ".note-call" in css
    assert "@import" not in css


@pytest.mark.parametrize("which", ["example", "tiny"])
def test_ids_are_unique_and_every_internal_link_resolves(which, request):
    _, _, html = request.getfixturevalue(which)
    soup = soup_of(html)
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    hrefs = [a["href"] for a in soup.find_all(href=True) if a["href"].startswith("#")]
    assert len(hrefs) > 10
    dangling = sorted({h for h in hrefs if h[1:] not in ids})
    assert dangling == []


def test_every_note_call_links_to_its_note_and_back(example):
    _, report, html = example
    soup = soup_of(html)
    count = len(report.verified.citations.notes)
    calls = soup.select("sup.note-call a")
    assert [a["href"] for a in calls] == [f"#note-{n}" for n in range(1, count + 1)]
    assert [a["id"] for a in calls] == [f"call-{n}" for n in range(1, count + 1)]
    assert [a.get_text() for a in calls] == [str(n) for n in range(1, count + 1)]
    notes = soup.select("#notes li")
    assert [li["id"] for li in notes] == [f"note-{n}" for n in range(1, count + 1)]
    for n, li in enumerate(notes, 1):
        assert li.select_one(f'a[href="#call-{n}"]'), f"note {n} has no link back to its call"


def test_every_note_links_to_the_source_list(example):
    _, report, html = example
    soup = soup_of(html)
    listed = {li["id"] for li in soup.select("#sources li[id]")}
    assert listed == {f"src-{i}" for i in report.verified.citations.order}
    for n, note in enumerate(report.verified.citations.notes, 1):
        li = soup.select_one(f"#note-{n}")
        targets = [a["href"][1:] for a in li.select('a[href^="#src-"]')]
        assert targets == [f"src-{r.source_id}" for r in note.references], f"note {n}"
        assert set(targets) <= listed


def test_every_excerpt_links_to_its_source(example):
    _, report, html = example
    soup = soup_of(html)
    figures = soup.select("figure.excerpt")
    assert len(figures) == len(report.excerpts)
    for figure, excerpt in zip(figures, report.excerpts, strict=True):
        quoted = re.sub(r"\s+", "", figure.blockquote.get_text())
        assert re.sub(r"\s+", "", excerpt.anchor.text) in quoted
        assert figure.select_one(f'figcaption a[href="#src-{excerpt.source}"]')


# --- hostile content -------------------------------------------------------------------------

HOSTILE_SOURCE = """\
---
title: "Leaked <script>alert('title')</script> memo"
publisher: "Example <b onmouseover=alert(1)>Wire</b>"
---
The memo says: "<script>alert(1)</script> must be escaped" and nothing else.
Another line follows.
"""

HOSTILE_OUTLINE = """\
title: "Safety <script>alert('t')</script> test"
subtitle: "<img src=x onerror=alert('sub')>"
date: 2026-11-22
authors:
  - name: "Ann <i onclick=alert(1)>Editor</i>"
distribution: Public
summary:
  - "Raw <script>alert('summary')</script> in a key point [@memo]."
sections:
  - id: one
    title: "One <script>alert('h')</script>"
    content:
      - |
        Raw <script>alert(2)</script> and <img src=x onerror=alert(3)> in prose.
        A [link](javascript:alert(4)) and <a href="javascript:alert(5)">another</a>
        and <iframe src="https://example.com/"></iframe> and
        <a href="https://example.org/" onclick="alert(6)">a fine link</a> [@memo].
      - excerpt:
          source: memo
          quote: >-
            "<script>alert(1)</script> must be escaped"
          note: "Check <script>alert('note')</script> this [@memo]."
      - key: "<svg onload=alert(7)>key</svg> point"
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = write_project(
        tmp_path_factory.mktemp("hostile") / "brief",
        outline=HOSTILE_OUTLINE,
        sources={"memo.txt": HOSTILE_SOURCE},
    )
    report, screen = _built(root)
    # The print HTML (what WeasyPrint gets) comes from the same templates: render it too.
    env = make_environment(report.project.templates)
    printed = render_html(env, report.verified, "print", report.diagnostics)
    assert printed is not None
    return report, {"screen": screen, "print": printed}


def _markup_problems(html: str) -> list[str]:
    soup = soup_of(html)
    problems = []
    # The appendix's own SVG figures (briefgen/evidence.py) are the only <svg> allowed.
    ours = {"evidence-map-svg", "evidence-timeline-svg"}
    for name in ("script", "img", "iframe", "svg", "object", "embed"):
        problems += [str(tag)[:80] for tag in soup.find_all(name) if tag.get("id") not in ours]
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            if attr.lower().startswith("on"):
                problems.append(f"<{tag.name} {attr}>")
            values = value if isinstance(value, list) else [value]
            if any("javascript:" in str(v).lower().replace(" ", "") for v in values):
                problems.append(f"<{tag.name} {attr}={value!r}>")
    return problems


@pytest.mark.parametrize("medium", ["screen", "print"])
def test_hostile_content_comes_out_inert(hostile, medium):
    report, outputs = hostile
    html = outputs[medium]
    assert _markup_problems(html) == []
    assert "<script" not in html.lower().replace("&lt;script", "")
    # The quoted passage is printed, escaped, with the source's own characters.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; must be escaped" in html
    assert report.excerpts[0].anchor.status == "verified"
    # A harmless link in the prose survives.
    assert 'href="https://example.org/"' in html


def test_hostile_content_keeps_its_text(hostile):
    """Escaping, not deleting: titles keep the characters the editor typed."""
    _, outputs = hostile
    soup = soup_of(outputs["screen"])
    assert soup.title.get_text() == "Safety <script>alert('t')</script> test"
    assert "One <script>alert('h')</script>" in soup.select_one("#one h2").get_text()


# --- in the browser --------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def browser():
    from browser import chromium

    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def example_url(example) -> str:
    root, _, _ = example
    return (root / "output" / "brief.html").resolve().as_uri()


def _open(browser, url: str, width: int, height: int = 900):
    """A fresh page at `width`, loaded, with every console message, error and request seen."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    seen = {"console": [], "errors": [], "requests": [], "failed": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page, seen


@pytest.mark.browser
def test_browser_loads_only_the_file_with_no_errors(browser, example_url):
    context, page, seen = _open(browser, example_url, 1280)
    try:
        assert page.title().startswith("Russia and Iraq")
        errors = [text for kind, text in seen["console"] if kind in {"error", "warning"}]
        assert errors == []
        assert seen["errors"] == []
        assert [u for u in seen["requests"] if not u.startswith("data:")] == [example_url]
        assert seen["failed"] == []
    finally:
        context.close()


@pytest.mark.browser
def test_browser_internal_links_resolve_and_navigate(browser, example_url):
    context, page, _ = _open(browser, example_url, 1280)
    try:
        missing = page.evaluate(
            """() => [...document.querySelectorAll('a[href^="#"]')]
                 .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
                 .filter(id => !document.getElementById(id))"""
        )
        assert missing == []
        # Follow a note call, then the note's link to its source, then back to the call.
        page.click("#call-3")
        assert page.evaluate("location.hash") == "#note-3"
        assert page.evaluate("document.querySelector(':target').id") == "note-3"
        page.click("#note-3 a.src-link")
        assert page.evaluate("document.querySelector(':target').id").startswith("src-")
        page.click("nav.toc a[href='#energy']")
        assert page.evaluate("location.hash") == "#energy"
        top = page.evaluate("document.getElementById('energy').getBoundingClientRect().top")
        assert -2 < top < 60, f"the section is {top}px from the top of the window"
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_browser_layout_and_screenshot(browser, example_url, width, tmp_path):
    context, page, _ = _open(browser, example_url, width)
    try:
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        assert scroll_width <= width, f"{scroll_width}px wide at a {width}px viewport"
        wide = page.evaluate(
            f"""() => [...document.body.querySelectorAll('*')]
                 .filter(e => e.getBoundingClientRect().right > {width} + 1)
                 .map(e => e.tagName + '.' + e.className).slice(0, 5)"""
        )
        assert wide == []
        shot = tmp_path / f"brief-{width}.png"
        data = page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size == len(data) > 20_000
        shot_width, shot_height = _png_size(data)
        assert shot_width == width and shot_height > 2000
    finally:
        context.close()
