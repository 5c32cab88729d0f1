"""Accessibility: axe-core run in headless Chromium on the HTML pages a build writes.

The pages are the example brief (given two sub-headings, and built again after one of its sources
was revised, so that it shows changed excerpts), the change report of that revision
(`output/report.html`: changed, moved and unchanged excerpts, word diffs) and the example in the
`report` theme (a logo, sub-headings, a house accent colour).
Each is checked in light and dark mode (the palettes must both keep their contrast), on a desktop
window and at a phone's 390 px, against WCAG 2.1 A and AA and axe's best practices. Any violation
fails the test, which names the rule, its impact, what it asks and the elements that break it.

axe cannot tell the background of text drawn in SVG (it leaves the evidence map's counts "to
review"), so the figures' text is measured here: its colour against the colour drawn behind it.

axe-core comes from the npm registry at the version package-lock.json pins (`bash
scripts/setup.sh --test` installs it into node_modules/). Without it a local run skips these
tests with a reason; in CI (CI=true) that is a failure, as a missing Chromium is (tests/browser.py).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from browser import chromium, in_ci
from conftest import REPO
from test_revisions import revise
from test_theme import REPORT_SETTINGS, add_headings, example_with

from briefgen.build import build
from briefgen.theme import contrast

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
ROGOZIN = "content/sources/rogozin-baghdad-delegation.txt"

#: (colour scheme, window width): dark mode has its own palette; 390 px is a phone.
VIEWS = [("light", 1280), ("dark", 1280), ("light", 390), ("dark", 390)]


def require_axe() -> None:
    """Skip (locally) or fail (in CI) when axe-core is not installed."""
    if AXE.is_file():
        return
    problem = "axe-core is not installed (run `bash scripts/setup.sh --test`: npm ci)"
    if in_ci():
        pytest.fail(f"accessibility tests cannot run in CI: {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """{name: HTML file}: the three kinds of page, built HTML only (no PDF is needed)."""
    root = tmp_path_factory.mktemp("a11y") / "example"
    shutil.copytree(REPO / "content", root / "content")
    outline = root / "content" / "brief.yaml"
    outline.write_text(add_headings(outline.read_text(encoding="utf-8")), encoding="utf-8")
    build(root, pdf=False)
    # A typo, a rewording and a moved paragraph: changed and moved excerpts, diffs in the report.
    moved = (
        "Russia is ready to sell civil airliners to Iraq and keep providing it with military "
        "aid to fight Islamic State, Deputy Prime Minister Dmitry Rogozin said on Thursday, "
        "accompanied on a trip to Baghdad by the biggest Russian delegation in years.\n\n"
    )
    revise(
        root,
        ROGOZIN,
        ("double bilateral trade", "double bilatreal trade"),
        (
            "Russia has invested millions of dollars in Iraq’s energy sector",
            "Russia has poured millions of dollars into the Iraqi energy sector",
        ),
        (moved, ""),
    )
    source = root / ROGOZIN
    source.write_text(source.read_text(encoding="utf-8") + "\n" + moved, encoding="utf-8")
    build(root, pdf=False)
    report_theme = example_with(tmp_path_factory.mktemp("a11y") / "report", REPORT_SETTINGS)
    build(report_theme, pdf=False)
    found = {
        "brief": root / "output" / "brief.html",
        "change-report": root / "output" / "report.html",
        "report-theme": report_theme / "output" / "brief.html",
    }
    changes = found["change-report"].read_text(encoding="utf-8")
    assert "change-changed" in changes and "change-moved" in changes and "<del>" in changes
    return found


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


def describe(violations: list[dict]) -> str:
    """One paragraph per violation: rule, impact, what it asks, and the elements (at most 10)."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}")
        for node in v["nodes"][:10]:
            # A target is a CSS selector, or a list of them for an element inside a frame.
            target = " >> ".join(t if isinstance(t, str) else json.dumps(t) for t in node["target"])
            why = (node.get("failureSummary") or "").splitlines()[1:2]
            lines.append(f"    {target}" + "".join(f"  -- {line.strip()}" for line in why))
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme, width", VIEWS, ids=[f"{s}-{w}" for s, w in VIEWS])
@pytest.mark.parametrize("name", ["brief", "change-report", "report-theme"])
def test_axe_finds_no_violation(browser, pages, name, scheme, width):
    require_axe()
    # The pages forbid scripts (Content-Security-Policy); the test's own axe is let in.
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, bypass_csp=True
    )
    try:
        page = context.new_page()
        page.goto(pages[name].resolve().as_uri(), wait_until="load")
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (
            scheme == "dark"
        )
        page.add_script_tag(path=str(AXE))
        results = page.evaluate(
            """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']})
                 .then(r => ({version: r.testEngine.version, violations: r.violations}))""",
            TAGS,
        )
        violations = results["violations"]
        assert violations == [], (
            f"axe-core {results['version']} on {name} ({scheme}, {width}px): "
            f"{len(violations)} rules violated\n{describe(violations)}"
        )
    finally:
        context.close()


def hex_colour(rgb) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb[:3])


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", ["brief", "report-theme"])
def test_the_figures_text_keeps_its_contrast(browser, pages, name, scheme):
    """Every text of the two SVG figures (labels, counts on shaded cells, dates) has 4.5:1 or more
    against what is drawn behind it: the page is drawn with the texts hidden, and the commonest
    colour in each text's box is its background."""
    from PIL import Image

    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(pages[name].resolve().as_uri(), wait_until="load")
        # Boxes in the appendix's own coordinates: only the appendix is drawn (a quicker shot).
        texts = page.evaluate(
            """() => {
                 const top = document.getElementById('evidence').getBoundingClientRect();
                 return [...document.querySelectorAll('svg.ev-svg text')].map(t => {
                   const box = t.getBoundingClientRect();
                   const fill = getComputedStyle(t).fill.match(/[\\d.]+/g).slice(0, 3);
                   return {text: t.textContent, fill: fill.map(Number), x: box.left - top.left,
                           y: box.top - top.top, w: box.width, h: box.height}; }); }"""
        )
        assert len(texts) > 50
        page.add_style_tag(content="svg.ev-svg text { visibility: hidden !important; }")
        shot = page.locator("#evidence").screenshot(animations="disabled")
        drawn = Image.open(io.BytesIO(shot)).convert("RGB")
    finally:
        context.close()
    low = []
    for t in texts:
        box = (round(t["x"]), round(t["y"]), round(t["x"] + t["w"]), round(t["y"] + t["h"]))
        _, behind = max(drawn.crop(box).getcolors(1 << 20))
        ratio = contrast(hex_colour(t["fill"]), hex_colour(behind))
        if ratio < 4.5:
            low.append(f"{t['text']!r}: {ratio:.2f} (rgb{tuple(t['fill'])} on rgb{behind})")
    assert low == [], f"{name} ({scheme}): text below 4.5:1 in the figures:\n  " + "\n  ".join(low)
