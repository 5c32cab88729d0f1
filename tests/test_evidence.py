"""The evidence appendix (briefgen/evidence.py): counts, the two SVG figures, both outputs.

The conftest project has two sections and two sources. Counted per section (the summary is not):

    history: "[@lavrov, p. 2]" + an excerpt of lavrov + a key point "[@energy]"
    energy:  "[@energy; @lavrov]" + an excerpt of energy (its comment cites nothing)

and the columns come in order of first citation (the summary cites lavrov first).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import OUTLINE, SOURCE_A, SOURCE_B, write_project
from pypdf import PdfReader

from briefgen.build import build, check
from briefgen.evidence import (
    Column,
    esc,
    evidence_context,
    evidence_map,
    map_svg,
    source_label,
    text_width,
    timeline,
    timeline_svg,
    wrap,
)

SVG = "{http://www.w3.org/2000/svg}"


def verified_of(root: Path):
    report = check(root)
    assert report.verified is not None, [d.message for d in report.diagnostics]
    return report.verified


def svg_text(svg: str) -> str:
    """The text of every <text> element, in document order, each followed by a newline."""
    root = ET.fromstring(svg)
    return "".join("".join(t.itertext()) + "\n" for t in root.iter(f"{SVG}text"))


def parse_svg(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    return root


# --- counts ----------------------------------------------------------------------------------


def test_counts_per_section_and_source(project):
    verified = verified_of(project)
    emap = evidence_map(verified.outline, verified.citations)
    assert [c.id for c in emap.columns] == ["lavrov", "energy"]
    assert [c.number for c in emap.columns] == [1, 2]
    assert [c.label for c in emap.columns] == ["Example Post", "Example Review"]
    assert [r.id for r in emap.rows] == ["history", "energy"]
    assert emap.counts() == [[2, 1], [1, 2]]
    assert emap.quotes() == [[1, 0], [0, 1]]
    assert [[c.citations for c in r.cells] for r in emap.rows] == [[1, 1], [1, 1]]
    assert [r.total for r in emap.rows] == [3, 3]
    assert emap.column_totals == [3, 3]
    assert emap.total == 6


def test_counts_every_reference_and_skip_the_summary(tmp_path):
    """Excerpt comments count, repeated references count each time, summary citations never."""
    outline = OUTLINE.replace(
        "      - key: Ties matter [@energy].",
        "      - key: Ties matter [@energy; @energy, p. 3] [@energy].",
    ).replace(
        "note: The dash is typographic in the source.",
        "note: The dash is typographic in the source [@lavrov].",
    )
    outline = outline.replace("  - Lavrov went to Iraq [@lavrov].", "  - Both [@lavrov; @energy].")
    verified = verified_of(write_project(tmp_path / "b", outline))
    emap = evidence_map(verified.outline, verified.citations)
    assert emap.counts() == [[2, 3], [2, 2]]
    assert emap.quotes() == [[1, 0], [0, 1]]


def test_a_source_cited_only_in_the_summary_has_an_empty_column(tmp_path):
    outline = OUTLINE.replace("  - Lavrov went to Iraq [@lavrov].", "  - See [@extra].")
    extra = '---\ntitle: "Extra"\npublisher: "Extra Wire"\n---\nText.\n'
    root = write_project(
        tmp_path / "b",
        outline,
        {"lavrov.txt": SOURCE_A, "energy.txt": SOURCE_B, "extra.txt": extra},
    )
    verified = verified_of(root)
    emap = evidence_map(verified.outline, verified.citations)
    assert [c.id for c in emap.columns] == ["extra", "lavrov", "energy"]
    assert emap.counts() == [[0, 2, 1], [0, 1, 2]]
    svg = map_svg(emap)
    parse_svg(svg)
    assert "–" in svg_text(svg)  # empty cells print a dash, not a blank


# --- the map's SVG ---------------------------------------------------------------------------


def test_map_svg_is_well_formed_accessible_and_labelled(project):
    verified = verified_of(project)
    emap = evidence_map(verified.outline, verified.citations)
    svg = map_svg(emap)
    root = parse_svg(svg)
    assert root.get("role") == "img"
    assert root.get("viewBox").startswith("0 0 ")
    assert root.get("width") is None and root.get("height") is None  # scales with its column
    title_id, desc_id = root.get("aria-labelledby"), root.get("aria-describedby")
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}desc").get("id") == desc_id
    desc = root.find(f"{SVG}desc").text
    assert "1. History: Example Post 2 (1 quoted), Example Review 1." in desc
    assert "All sections: Example Post 3 (50%), Example Review 3 (50%)." in desc
    shown = svg_text(svg)
    for label in ("History", "Energy", "Example Post", "Example Review", "All sections", "Total"):
        assert label in shown
    # Row by row: number, title, each cell (count, and how many quoted), then the row total.
    lines = shown.split("\n")
    start = lines.index("History")
    history = ["1", "History", "2", "1 quoted", "1", "3"]
    energy = ["2", "Energy", "1", "2", "1 quoted", "3", "All sections"]
    assert lines[start - 1 : start + 12] == history + energy


HOSTILE = """\
---
title: "Leaked <script>alert('title')</script> & memo"
---
Energy is the heart of the relationship, officials said.
"""


def test_hostile_titles_are_escaped(tmp_path):
    outline = OUTLINE.replace("[@energy; @lavrov]", "[@energy; @memo]")
    root = write_project(
        tmp_path / "b",
        outline,
        {
            "lavrov.txt": SOURCE_A,
            "energy.txt": SOURCE_B.replace("Example Review", "Review <b onclick=alert(1)>x</b>"),
            "memo.txt": HOSTILE,
        },
    )
    verified = verified_of(root)
    emap = evidence_map(verified.outline, verified.citations)
    assert emap.columns[2].label == "Leaked <script>alert('title')</script> & memo"
    for svg in (map_svg(emap), timeline_svg(timeline(emap.columns))):
        assert "<script" not in svg and "<b " not in svg
        assert "&lt;script&gt;" in svg and "&amp; memo" in svg
        root = parse_svg(svg)  # well-formed despite the markup in the titles
        assert not [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] in ("script", "b")]
        # Escaped, not deleted: the text keeps every character.
        everything = "".join(root.itertext())
        assert "<script>alert('title')</script> & memo" in everything
    # Characters XML does not allow are dropped, not passed through.
    assert esc("a\x01b\x0bc <d>") == "ab c &lt;d&gt;"


# --- the timeline ----------------------------------------------------------------------------


def _col(number: int, label: str, date: str | None) -> Column:
    return Column(f"s{number}", number, label, f"Title {number}", date)


def test_timeline_orders_dated_sources_and_lists_undated_ones():
    columns = (
        _col(1, "Post", "2023-02-05"),
        _col(2, "Review", None),
        _col(3, "Wire", "2019-11-30"),
        _col(4, "Daily", "2023-02-05"),
        _col(5, "Gazette", None),
        _col(6, "Herald", "2023-01-20"),
    )
    line = timeline(columns)
    assert [c.number for c in line.dated] == [3, 6, 1, 4]  # by date, ties by number
    assert [c.number for c in line.undated] == [2, 5]
    svg = timeline_svg(line)
    root = parse_svg(svg)
    assert root.get("role") == "img"
    shown = svg_text(svg)
    labels = [
        "Wire, 30 Nov 2019",
        "Herald, 20 Jan 2023",
        "Post, 5 Feb 2023",
        "Daily, 5 Feb 2023",
        "Undated",
        "Review",
        "Gazette",
    ]
    positions = [shown.index(label + "\n") for label in labels]
    assert positions == sorted(positions)
    for year in ("2019", "2020", "2023", "2024"):
        assert f"\n{year}\n" in shown
    desc = root.find(f"{SVG}desc").text
    assert desc == (
        "Published, in order: Wire, 30 Nov 2019; Herald, 20 Jan 2023; Post, 5 Feb 2023; "
        "Daily, 5 Feb 2023. Undated: Review; Gazette."
    )
    # The dots sit on the axis in date order, left to right.
    xs = [float(c.get("cx")) for c in root.iter(f"{SVG}circle") if c.get("class") == "ev-dot"]
    assert xs == sorted(xs) and len(xs) == 4


def test_timeline_without_any_date():
    line = timeline((_col(1, "Post", None), _col(2, "Review", None)))
    assert line.dated == ()
    svg = timeline_svg(line)
    shown = svg_text(parse_svg(svg) is not None and svg)
    assert "None of the sources gives a publication date." in shown
    assert shown.index("Undated") < shown.index("Post") < shown.index("Review")


def test_timeline_with_every_date_in_one_year_and_many_years():
    one = timeline((_col(1, "A", "2024-03-01"), _col(2, "B", "2024-03-02")))
    root = parse_svg(timeline_svg(one))
    assert "Undated" not in "".join(root.itertext())
    wide = timeline(tuple(_col(n, f"S{n}", f"{1950 + 7 * n}-06-01") for n in range(1, 11)))
    years = [t for t in svg_text(timeline_svg(wide)).split("\n") if re.fullmatch(r"\d{4}", t)]
    assert len(years) <= 11 and years == sorted(years)


# --- labels and wrapping ---------------------------------------------------------------------


def test_source_labels(tmp_path):
    from briefgen.sources import Source, SourceMeta

    def label(**meta) -> str:
        return source_label(Source("x", tmp_path, SourceMeta(**meta), "", ""))

    assert label(title="T", publisher="Wire", authors=("Ann Roe",)) == "Wire"
    assert label(title="T", authors=("Ann Roe", "Bo Li")) == "Roe and Li"
    assert label(title="T", authors=("A Roe", "B Li", "C Wu")) == "Roe et al."
    assert label(title="Main title: the subtitle") == "Main title"
    long = "One two three four five six seven eight nine ten"
    assert label(title=long) == "One two three four five six"


def test_wrap_fits_and_marks_what_it_cuts():
    lines = wrap("Evgeniy Primakov Center for International Cooperation", 66, 9.5, 5)
    assert lines == ["Evgeniy", "Primakov", "Center for", "International", "Cooperation"]
    cut = wrap("Evgeniy Primakov Center for International Cooperation", 66, 9.5, 2)
    assert cut[-1].endswith("…") and len(cut) == 2
    assert all(text_width(line, 9.5) <= 66 for line in cut)
    assert wrap("Supercalifragilisticexpialidocious", 40, 10, 2)[0].endswith("…")


# --- in the outputs --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = write_project(tmp_path_factory.mktemp("evidence") / "brief")
    build(root)
    return root


@pytest.mark.parametrize("name", ["brief.html", ".briefgen/print.html"])
def test_html_has_the_inline_svg_figures(built, name):
    html = (built / "output" / name).read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    appendix = soup.select_one("section#evidence")
    assert appendix is not None
    assert "Evidence map" in appendix.h2.get_text()
    for fid in ("evidence-map-svg", "evidence-timeline-svg"):
        svg = appendix.select_one(f"figure > svg#{fid}")
        assert svg is not None and svg["role"] == "img"
        assert svg.find("title", id=svg["aria-labelledby"])
        assert svg.figcaption is None and svg.find_parent("figure").figcaption
    # After the last section, before the notes and sources.
    ids = [t["id"] for t in soup.find_all(id=True)]
    assert ids.index("energy") < ids.index("evidence") < ids.index("sources")
    lead = appendix.select_one(".evidence-lead").get_text(" ", strip=True)
    assert "6 notes" in lead and "2 sources" in lead


def test_screen_html_has_the_data_table(built):
    html = (built / "output" / "brief.html").read_text(encoding="utf-8")
    table = BeautifulSoup(html, "html.parser").select_one("#evidence table.evidence-table")
    rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table("tr")]
    assert rows == [
        ["Section", "1", "2", "Total"],
        ["1. History", "2 (1)", "1", "3"],
        ["2. Energy", "1", "2 (1)", "3"],
        ["All sections", "3 50%", "3 50%", "6"],
    ]


def test_no_appendix_without_citations(tmp_path):
    outline = (
        'title: "Plain"\nsections:\n  - id: one\n    title: One\n    content:\n'
        "      - Nothing cited here.\n"
    )
    root = write_project(tmp_path / "b", outline)
    verified = verified_of(root)
    assert evidence_context(verified.outline, verified.citations)["sources"] == []
    build(root, pdf=False)
    html = (root / "output" / "brief.html").read_text(encoding="utf-8")
    assert 'id="evidence"' not in html


@pytest.mark.pdf
def test_pdf_prints_the_appendix_with_its_counts(built):
    texts = [p.extract_text() for p in PdfReader(built / "output" / "brief.pdf").pages]
    squashed = [re.sub(r"\s+", "", t) for t in texts]
    pages = [i for i, t in enumerate(squashed) if "Evidencemap" in t and "Allsections" in t]
    assert len(pages) == 1, "the appendix is not on exactly one page"
    page = squashed[pages[0]]
    # Before the list of sources, on its own page.
    assert "Sources" not in texts[pages[0]].splitlines()
    # The matrix row by row (count, how many quoted, ..., row total), then the totals.
    assert "1History21quoted13" in page
    assert "2Energy121quoted3" in page
    assert "Allsections" in page and "shareofallnotes" in page and "350%350%6100%" in page
    # The timeline: the dated source with its date, the undated one apart.
    assert "ExamplePost,5Feb2023" in page
    assert page.index("Undated") < page.index("ExampleReview", page.index("Undated"))


def test_house_style_colours_and_font(project):
    """The outline's `style:` colours and heading font reach the SVG (WeasyPrint sees no CSS)."""
    from types import SimpleNamespace

    from briefgen.evidence import DEFAULT_PALETTE, palette_of

    house = SimpleNamespace(
        colors={"accent": "#036", "ink": "#111111"}, fonts={"headings": ("Fira Sans",)}
    )
    palette = palette_of(SimpleNamespace(style=house))
    assert (palette.accent, palette.ink, palette.muted) == ("#003366", "#111111", "#5a6272")
    assert palette_of(SimpleNamespace()) == DEFAULT_PALETTE
    verified = verified_of(project)
    emap = evidence_map(verified.outline, verified.citations)
    root = parse_svg(map_svg(emap, palette))
    assert root.get("font-family").startswith("'Fira Sans', 'Noto Sans'")
    heat = [el for el in root.iter(f"{SVG}rect") if el.get("class") == "ev-heat"]
    assert heat and {el.get("fill") for el in heat} == {"#003366"}
    assert "#8a1c2b" not in map_svg(emap, palette)
    assert "#8a1c2b" in map_svg(emap)  # and the default is back afterwards


def test_many_sources_show_numbers_only():
    """Narrow columns keep their number and counts; labels and 'quoted' would not fit."""
    from briefgen.evidence import Cell, EvidenceMap, Row

    columns = tuple(_col(n, f"Outlet number {n}", None) for n in range(1, 15))
    row = Row("r", 1, "Energy", tuple(Cell(1, n % 3) for n in range(14)))
    svg = map_svg(EvidenceMap((row,), columns))
    shown = svg_text(svg).split("\n")
    assert "Outlet number 1" not in shown and "1 quoted" not in shown
    assert [str(n) for n in range(1, 15)] == shown[:14]  # the column numbers
    assert "Outlet number 14" in svg  # still named, in the column's tooltip


@pytest.mark.parametrize(
    "colors",
    [{}, {"accent": "#036"}, {"accent": "#c0392b"}, {"accent": "#2e86de", "ink": "#222222"}],
    ids=["default", "navy", "red", "light-blue"],
)
def test_every_count_on_a_shaded_cell_is_readable(colors):
    """Counts on the map's shaded cells reach WCAG AA contrast (4.5:1) at every shading, in any
    house colour: a mid shade on which neither ink nor paper text is readable is never used."""
    from briefgen.evidence import Cell, Column, EvidenceMap, Palette, Row, _contrast, _hex6, _mix

    palette = Palette(**{k: _hex6(v) for k, v in colors.items()})
    largest = 60
    columns = tuple(Column(f"s{k}", k, f"S{k}", f"Source {k}", None) for k in (1, 2))
    rows = tuple(
        Row(f"r{n}", n, f"Row {n}", (Cell(quotes=1, citations=n - 1), Cell(quotes=largest)))
        for n in range(1, largest + 1)
    )
    root = parse_svg(map_svg(EvidenceMap(rows, columns), palette))
    cells = [g for g in root.iter(f"{SVG}g") if g.get("class") == "ev-cell"]
    assert len(cells) == 2 * largest
    for cell in cells:
        heat = cell.find(f"{SVG}rect")
        shade = _mix(heat.get("fill"), palette.paper, float(heat.get("fill-opacity")))
        for label in cell.findall(f"{SVG}text"):
            ratio = _contrast(label.get("fill"), shade)
            assert ratio >= 4.5, (label.text, heat.get("fill-opacity"), round(ratio, 2))
