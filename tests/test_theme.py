"""Themes and house style: the `report` look checked by content, the `style:` settings (logo,
colours, fonts) in both outputs, overrides by file name, and the exact error lines.

The PDF checks build the example brief once with `theme: report`, a report number, a PNG logo,
an accent colour, a headings font and two sub-headings, then read it as tests/test_pdf.py does.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import OUTLINE, REPO, write_project
from test_pdf import Pdf, _fonts, expected_notes, misplaced_notes, note_pages, squash

from briefgen.build import build, check
from briefgen.errors import BriefgenError
from briefgen.project import builtin_templates
from briefgen.theme import (
    THEMES,
    Style,
    contrast,
    css_family,
    image_type,
    mix,
    style_css,
)

ACCENT = "#0e5a6e"
NUMBER = "TPF-2026-01"
REPORT_SETTINGS = f"""\
theme: report
report_number: "{NUMBER}"
style:
  logo: content/logo.png
  colors:
    accent: "{ACCENT}"
  fonts:
    headings: DejaVu Sans
"""
HEADINGS = {"history": "Roots of the relationship", "energy": "Oil and gas"}


def write_png(path: Path, size=(240, 80)) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "#ffffff")
    ImageDraw.Draw(image).rectangle((8, 8, 72, 72), fill=ACCENT)
    image.save(path)
    return path


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
    '<rect width="40" height="40" fill="#0e5a6e"/></svg>\n'
)


def add_headings(outline: str) -> str:
    """The example outline with a `heading:` block opening its first two sections."""
    for section_id, title in HEADINGS.items():
        outline, count = re.subn(
            rf"(  - id: {section_id}\n    title: [^\n]*\n    content:\n)",
            rf'\g<1>      - heading: "{title}"\n',
            outline,
        )
        assert count == 1, section_id
    return outline


def example_with(root: Path, settings: str, headings: bool = True) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    path = root / "content" / "brief.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('distribution: "Public"\n', 'distribution: "Public"\n' + settings, 1)
    path.write_text(add_headings(text) if headings else text, encoding="utf-8")
    write_png(root / "content" / "logo.png")
    return root


@pytest.fixture(scope="module")
def report_root(tmp_path_factory) -> Path:
    root = example_with(tmp_path_factory.mktemp("report") / "example", REPORT_SETTINGS)
    build(root)
    return root


@pytest.fixture(scope="module")
def rpdf(report_root: Path) -> Pdf:
    return Pdf(report_root / "output" / "brief.pdf")


@pytest.fixture(scope="module")
def rprint(report_root: Path) -> str:
    return (report_root / "output" / ".briefgen" / "print.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rscreen(report_root: Path) -> str:
    return (report_root / "output" / "brief.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def routline(report_root: Path):
    result = check(report_root)
    assert result.verified is not None
    return result.verified.outline


def calls_as_numbers(soup: BeautifulSoup) -> BeautifulSoup:
    """The print HTML as the PDF's text has it: each page-foot note replaced by its number."""
    for number, span in enumerate(soup.select("span.fn"), 1):
        span.replace_with(str(number))
    return soup


# --- the report look, page by page -----------------------------------------------------------

pdf_mark = pytest.mark.pdf


@pdf_mark
def test_first_page_is_masthead_title_and_boxed_summary_not_a_cover(rpdf, rprint, routline):
    first = rpdf.squashed[0]
    assert NUMBER in first
    assert squash(routline.title) in first
    assert squash(routline.organization) in first
    assert "22November2026" in first
    soup = calls_as_numbers(BeautifulSoup(rprint, "html.parser"))
    box = soup.select_one("section.summary.summary-box")
    assert box is not None and box.find("h2").get_text() == "Summary"
    points = box.select("li")
    assert len(points) == len(routline.summary) == 5
    for point in points:
        assert squash(point.get_text()) in first, point.get_text()[:60]
    assert soup.select(".cover") == []  # no separate cover page
    # The summary box comes straight after the title block, before the contents.
    order = [el.get("class", [""])[0] for el in soup.select(".title-block, .summary-box, .toc")]
    assert order == ["title-block", "summary", "toc"]


@pdf_mark
def test_headings_are_numbered_and_the_contents_give_their_pages(rpdf, routline):
    lines = [
        (page, squash(line))
        for page, text in enumerate(rpdf.texts, 1)
        for line in text.splitlines()
    ]
    for section in routline.sections:
        heading = squash(f"{section.number}. {section.title}")
        assert any(line == heading for _, line in lines), heading
    for number, title in (("1.1", HEADINGS["history"]), ("2.1", HEADINGS["energy"])):
        assert any(line == squash(f"{number} {title}") for _, line in lines), number
    # Contents: "1.1 Oil ... 4" lines whose page holds the heading.
    toc_page = next(
        i
        for i, t in enumerate(rpdf.texts)
        if any(ln.strip() == "Contents" for ln in t.splitlines())
    )
    entries = re.findall(r"^(.*?\S)\s*(?:\.\s*){3,}(\d+)\s*$", rpdf.texts[toc_page], re.M)
    titles = [squash(t) for t, _ in entries]
    assert squash(f"1.1 {HEADINGS['history']}") in titles
    assert titles[:2] == [
        squash("1. History and diplomacy"),
        squash("1.1 Roots of the relationship"),
    ]
    for title, page in entries:
        if not title[0].isdigit():
            continue  # Sources, Author information: headings whose words recur elsewhere
        found = [p for p, line in lines if line == squash(title)]  # a contents line has leaders
        assert found == [int(page)], f"contents say {title!r} is on page {page}, it is on {found}"


@pdf_mark
def test_each_note_is_at_the_foot_of_the_page_with_its_call(rpdf, rprint):
    notes = expected_notes(rprint)
    assert len(notes) >= 50
    assert misplaced_notes(rpdf.squashed, notes) == []
    assert len({note_pages(rpdf.squashed, n)[0] for n in notes}) >= 5


@pdf_mark
@pytest.mark.parametrize("settings", ["theme: report\n"])
def test_notes_stay_on_their_call_s_page_in_the_plain_report_too(tmp_path, settings):
    """The same check without the style and the sub-headings: another layout of the pages."""
    root = example_with(tmp_path / "example", settings, headings=False)
    build(root)
    html = (root / "output" / ".briefgen" / "print.html").read_text(encoding="utf-8")
    pdf = Pdf(root / "output" / "brief.pdf")
    assert misplaced_notes(pdf.squashed, expected_notes(html)) == []


@pdf_mark
def test_every_page_says_page_n_and_carries_the_report_number(rpdf):
    assert 6 <= len(rpdf.texts) <= 30
    for number, text in enumerate(rpdf.squashed, 1):
        assert re.search(rf"Page{number}(?!\d|of)", text), f"page {number} has no 'Page {number}'"
        assert NUMBER in text, f"page {number} has no report number"
        assert "PUBLIC" in text.upper()


@pdf_mark
def test_sources_and_author_information_close_the_report(rpdf, routline):
    rest = "".join(rpdf.squashed[len(rpdf.squashed) // 2 :])
    assert "Sources" in rest and "Authorinformation" in rest
    for author in routline.authors:
        assert squash(author.name) in rest


def _images(resources, found: list) -> None:
    resources = resources.get_object() if resources is not None else {}
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Image":
            found.append((int(xobject["/Width"]), int(xobject["/Height"])))
        elif "/Resources" in xobject:
            _images(xobject["/Resources"], found)


@pdf_mark
def test_logo_is_an_image_on_the_first_page_of_the_pdf(rpdf):
    found: list = []
    _images(rpdf.reader.pages[0].get("/Resources"), found)
    assert (240, 80) in found


def test_logo_is_a_data_uri_in_the_html(report_root, rscreen):
    soup = BeautifulSoup(rscreen, "html.parser")
    logos = soup.select("img.logo")
    assert len(logos) == 1
    src = logos[0]["src"]
    assert src.startswith("data:image/png;base64,")
    data = base64.b64decode(src.split(",", 1)[1])
    assert data == (report_root / "content" / "logo.png").read_bytes()
    assert logos[0]["alt"]
    # Still self-contained: nothing but data: URLs in the page.
    urls = re.findall(r"""(?:src|href)=["']([^"'#][^"']*)""", rscreen)
    assert [u for u in urls if not u.startswith(("data:", "http://", "https://"))] == []
    assert [t["src"][:5] for t in soup.select("[src]")] == ["data:"]


@pdf_mark
def test_colour_and_font_reach_the_pdf(rpdf, rprint, rscreen):
    for html in (rprint, rscreen):
        assert f"--style-accent: {ACCENT};" in html
        assert '--style-font-headings: "DejaVu Sans";' in html
    # The masthead rule is drawn in the accent colour: r g b as fractions in the content stream.
    want = [int(ACCENT[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    stream = rpdf.reader.pages[0].get_contents().get_data().decode("latin-1")
    fills = [
        [float(x) for x in m] for m in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (?:rg|RG)", stream)
    ]
    assert any(all(abs(a - b) < 0.002 for a, b in zip(f, want, strict=True)) for f in fills)
    fonts: dict[str, bool] = {}
    for page in rpdf.reader.pages:
        _fonts(page.get("/Resources"), fonts)
    names = [re.sub(r"^/?[A-Z]{6}\+", "", n).replace("-", "").lower() for n in fonts]
    assert any(n.startswith("dejavusans") for n in names), names  # headings
    assert any(n.startswith("notoserif") for n in names), names  # body, the theme's own


# --- the brief theme with a style -------------------------------------------------------------


@pytest.fixture(scope="module")
def styled_brief(tmp_path_factory) -> Path:
    root = write_project(tmp_path_factory.mktemp("styled") / "brief", OUTLINE + BRIEF_STYLE)
    (root / "content" / "logo.svg").write_text(SVG, encoding="utf-8")
    return root


BRIEF_STYLE = """\
style:
  logo: content/logo.svg
  colors:
    accent: "#135"
    paper: "#fffdf8"
"""


def test_brief_theme_takes_the_style_in_html(styled_brief):
    build(styled_brief, pdf=False)
    html = (styled_brief / "output" / "brief.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("header.cover.has-logo img.logo")["src"].startswith(
        "data:image/svg+xml;base64,"
    )
    assert "--style-accent: #113355;" in html and "--style-paper: #fffdf8;" in html
    # The accent's tint for key points is derived, and the cover's text contrasts with it.
    assert f"--style-highlight: {mix('#113355', '#fffdf8', 0.09)};" in html
    assert "--style-on-accent: #ffffff;" in html


@pdf_mark
def test_brief_theme_pdf_draws_the_svg_logo_and_the_accent_cover(styled_brief):
    build(styled_brief)
    pdf = Pdf(styled_brief / "output" / "brief.pdf")
    stream = pdf.reader.pages[0].get_contents().get_data().decode("latin-1")
    # The cover is filled with the accent (#113355), the band behind the logo with the paper.
    assert re.search(r"0\.066667 0\.2 0\.333333 rg", stream), "no accent fill on the cover"
    # An SVG logo is drawn as vectors: its square is filled with #0e5a6e somewhere on page 1.
    found = []
    _forms_with_fill(pdf.reader.pages[0].get("/Resources"), "0.054902 0.352941 0.431373", found)
    assert found or "0.054902 0.352941 0.431373" in stream


def _forms_with_fill(resources, fill: str, found: list) -> None:
    resources = resources.get_object() if resources is not None else {}
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            if fill in xobject.get_data().decode("latin-1"):
                found.append(xobject)
            if "/Resources" in xobject:
                _forms_with_fill(xobject["/Resources"], fill, found)


# --- overrides by file name --------------------------------------------------------------------


def _builtin(name: str) -> str:
    return (builtin_templates() / name).read_text(encoding="utf-8")


def _print_html(root: Path) -> str:
    from briefgen.render import make_environment, render_html

    report = check(root)
    assert report.verified is not None, [d.format() for d in report.diagnostics]
    html = render_html(
        make_environment(root / "templates"), report.verified, "print", report.diagnostics
    )
    assert html is not None, [d.format() for d in report.diagnostics]
    return html


@pytest.mark.parametrize(
    ("theme", "mine", "ignored"),
    [("brief", "print.css", "report-print.css"), ("report", "report-print.css", "print.css")],
)
def test_a_project_stylesheet_overrides_the_theme_s_by_name(tmp_path, theme, mine, ignored):
    root = write_project(tmp_path / "brief", OUTLINE + f"theme: {theme}\n")
    (root / "templates").mkdir()
    (root / "templates" / mine).write_text(_builtin(mine) + "\n/* mine: overridden */\n")
    (root / "templates" / ignored).write_text("/* not for this theme */\n")
    html = _print_html(root)
    assert "/* mine: overridden */" in html
    assert "not for this theme" not in html
    # The theme's other stylesheets are still there, in their order; the footnote rule stays
    # the last rule of the print stylesheet.
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert css.index("--ink: var(--style-ink") < css.index("/* mine: overridden */")
    sheet = css.split("/* mine: overridden */")[0]
    assert sheet.rstrip().splitlines()[-1].startswith("@page { @footnote {")


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_project_macros_override_the_built_in_ones_in_every_theme(tmp_path, theme):
    root = write_project(tmp_path / "brief", OUTLINE + f"theme: {theme}\n")
    (root / "templates").mkdir()
    macros = _builtin("macros.html.j2").replace('aria-label="Key point"', 'aria-label="Takeaway"')
    (root / "templates" / "macros.html.j2").write_text(macros)
    build(root, pdf=False)
    html = (root / "output" / "brief.html").read_text(encoding="utf-8")
    assert 'aria-label="Takeaway"' in html and 'aria-label="Key point"' not in html


def test_a_project_template_overrides_the_report_theme(tmp_path):
    root = write_project(tmp_path / "brief", OUTLINE + "theme: report\n")
    (root / "templates").mkdir()
    (root / "templates" / "report-brief.html.j2").write_text(
        "<html><style>{{ style_css }}{{ css }}</style>"
        "<p>{{ theme }}: {{ brief.title }}</p></html>\n"
    )
    build(root, pdf=False)
    html = (root / "output" / "brief.html").read_text(encoding="utf-8")
    assert "<p>report: Russia and Iraq</p>" in html
    assert ".masthead" in html  # report-screen.css, through `css`


def test_theme_brief_is_the_default_and_can_be_named(tmp_path):
    plain = write_project(tmp_path / "plain")
    named = write_project(tmp_path / "named", OUTLINE + "theme: brief\n")
    assert _print_html(plain) == _print_html(named)


# --- errors ----------------------------------------------------------------------------------


def run_check(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "briefgen", "check", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def errors_for(tmp_path: Path, settings: str) -> tuple[int, list[str]]:
    """Exit code and stderr lines of `briefgen check` for the conftest outline + `settings`."""
    root = write_project(tmp_path / "brief", OUTLINE + settings)
    (root / "content" / "logo.png").write_bytes(write_png(tmp_path / "logo.png").read_bytes())
    result = run_check(root)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stderr.splitlines()


LINE = OUTLINE.count("\n")  # settings start on the line after the conftest outline


def at(line: int, col: int) -> str:
    return f"content/brief.yaml:{LINE + line}:{col}"


def test_bad_colour(tmp_path):
    code, lines = errors_for(
        tmp_path, 'style:\n  colors:\n    accent: blue\n    ink: "#12345"\n    paper: "#fff"\n'
    )
    assert code == 1
    assert lines == [
        f"{at(3, 13)}: error: colour 'accent' must be a CSS hex colour such as \"#1f3a5f\" or "
        "\"#135\", not 'blue'",
        f"{at(4, 10)}: error: colour 'ink' must be a CSS hex colour such as \"#1f3a5f\" or "
        "\"#135\", not '#12345'",
    ]


def test_unquoted_hex_colour_is_a_yaml_comment_and_says_so(tmp_path):
    code, lines = errors_for(tmp_path, "style:\n  colors:\n    accent: #0e5a6e\n")
    assert code == 1
    assert lines == [
        f"{at(3, 12)}: error: colour 'accent' is empty; write hex colours in quotes, since '#' "
        'starts a YAML comment: accent: "#1f3a5f"'
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Noto Serif; } body { background: url(http://x.example/a.png) }",
        "Evil\\22 ",
        '"Noto Serif"',
        "Noto Serif</style><script>",
    ],
)
def test_bad_font_name_is_refused_not_written_as_css(tmp_path, name):
    quoted = "'" + name.replace("'", "''") + "'"
    code, lines = errors_for(tmp_path, f"style:\n  fonts:\n    body: {quoted}\n")
    assert code == 1
    shown = " ".join(name.split())[:60]
    assert lines == [
        f"{at(3, 11)}: error: font 'body' must be a plain family name such as \"Noto Serif\" "
        f"(letters, digits, spaces, '-', '.'), not CSS: '{shown}'"
    ]


def test_font_list_in_one_text_asks_for_a_yaml_list(tmp_path):
    code, lines = errors_for(tmp_path, "style:\n  fonts:\n    headings: Inter, Noto Sans\n")
    assert code == 1
    assert lines == [
        f"{at(3, 15)}: error: font 'headings' lists several families in one text; write them "
        "as a YAML list: headings: [Inter, Noto Sans]"
    ]


def test_logo_outside_the_project(tmp_path):
    write_png(tmp_path / "outside.png")
    code, lines = errors_for(tmp_path, "style:\n  logo: ../outside.png\n")
    assert code == 1
    assert lines == [
        f"{at(2, 9)}: error: logo '../outside.png' is outside the project; put the image inside "
        "the project folder (e.g. content/logo.svg) and give its path from there"
    ]


def test_logo_through_a_symlink_out_of_the_project(tmp_path):
    write_png(tmp_path / "outside.png")
    root = write_project(tmp_path / "brief", OUTLINE + "style:\n  logo: content/logo.png\n")
    (root / "content" / "logo.png").symlink_to(tmp_path / "outside.png")
    result = run_check(root)
    assert result.returncode == 1
    assert "is outside the project" in result.stderr


def test_logo_not_found_suggests_the_content_folder(tmp_path):
    code, lines = errors_for(tmp_path, "style:\n  logo: logo.png\n")
    assert code == 1
    assert lines == [
        f"{at(2, 9)}: error: logo 'logo.png' not found (did you mean 'content/logo.png'?); "
        "the path is relative to the project folder, e.g. content/logo.svg"
    ]


def test_logo_that_is_not_an_image(tmp_path):
    code, lines = errors_for(tmp_path, "style:\n  logo: content/sources/lavrov.txt\n")
    assert code == 1
    assert lines == [
        f"{at(2, 9)}: error: logo 'content/sources/lavrov.txt' is not a PNG, JPEG, GIF, WebP or "
        "SVG image"
    ]


def test_unknown_theme_and_style_keys_get_suggestions(tmp_path):
    code, lines = errors_for(
        tmp_path,
        "theme: reprot\nstyle:\n  colours:\n    accent: '#000'\n  fonts:\n    heading: Inter\n"
        "  logos: content/logo.png\n",
    )
    assert code == 1
    assert lines == [
        f"{at(1, 8)}: error: unknown theme 'reprot' (did you mean 'report'?)",
        f"{at(3, 3)}: error: unknown key 'colours' in 'style' (did you mean 'colors'?)",
        f"{at(6, 5)}: error: unknown key 'heading' in 'fonts' of 'style' "
        "(did you mean 'headings'?)",
        f"{at(7, 3)}: error: unknown key 'logos' in 'style' (did you mean 'logo'?)",
    ]


def test_an_unknown_theme_far_from_any_lists_them(tmp_path):
    code, lines = errors_for(tmp_path, "theme: glossy\n")
    assert lines == [f"{at(1, 8)}: error: unknown theme 'glossy'; themes: brief, report"]


def test_low_contrast_and_missing_fonts_are_warnings_strict_makes_them_errors(tmp_path):
    settings = "style:\n  colors:\n    ink: '#aaaaaa'\n  fonts:\n    body: No Such Family Sans\n"
    root = write_project(tmp_path / "brief", OUTLINE + settings)
    result = run_check(root)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"{at(3, 10)}: warning: 'ink' #aaaaaa on 'paper' #ffffff has a contrast of 2.3:1; "
        "text need at least 4.5:1 to be readable"
    )
    if shutil.which("fc-list"):
        assert lines[1] == (
            f"{at(5, 11)}: warning: font 'No Such Family Sans' (body) is not installed on this "
            "machine, so the PDF uses the theme's own font instead; install it (fc-list lists "
            "the fonts installed)"
        )
    strict = run_check(root, "--strict")
    assert strict.returncode == 1
    assert ": error: 'ink' #aaaaaa" in strict.stderr


def test_bad_style_fails_the_build_and_keeps_the_last_good_output(tmp_path):
    root = write_project(tmp_path / "brief")
    build(root, pdf=False)
    before = (root / "output" / "brief.html").read_bytes()
    (root / "content" / "brief.yaml").write_text(
        OUTLINE + "style:\n  colors:\n    accent: red\n", encoding="utf-8"
    )
    with pytest.raises(BriefgenError):
        build(root, pdf=False)
    assert (root / "output" / "brief.html").read_bytes() == before


# --- theme.py ----------------------------------------------------------------------------------


def test_style_css_is_one_root_rule_of_validated_values():
    style = Style(
        colors={"accent": "#ffcc00", "ink": "#222222"},
        fonts={"body": ("Source Serif 4", "serif"), "headings": ("Noto Sans",)},
    )
    assert style_css(style) == (
        ":root { --style-on-accent: #111111; --style-accent: #ffcc00; "
        f"--style-highlight: {mix('#ffcc00', '#ffffff', 0.09)}; --style-ink: #222222; "
        '--style-font-body: "Source Serif 4", serif; --style-font-headings: "Noto Sans"; }\n'
    )
    assert style_css(Style()) == ""
    with pytest.raises(ValueError):
        css_family('x"; }')


def test_colour_helpers():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1)
    assert mix("#000000", "#ffffff", 0.5) == "#808080"


def test_image_type_reads_the_content_not_the_name():
    assert image_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert image_type(b"GIF89a") == "image/gif"
    assert image_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert image_type(b'<?xml version="1.0"?>\n<svg xmlns="...">') == "image/svg+xml"
    assert image_type(b"<html><svg></svg></html>") is None
    assert image_type(b"title: not an image") is None


def test_every_theme_file_exists_and_print_sheets_end_with_the_footnote_rule():
    folder = builtin_templates()
    for theme in THEMES.values():
        assert (folder / theme.template("brief.html.j2")).is_file()
        for medium in ("screen", "print"):
            for name in theme.stylesheets(("base.css", f"{medium}.css")):
                assert (folder / name).is_file(), name
        last = (folder / theme.stylesheets(("print.css",))[-1]).read_text().rstrip()
        assert last.splitlines()[-1].startswith("@page { @footnote {")
