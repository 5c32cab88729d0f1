"""The PDF, checked by its content (as WeasyPrint's own tests do): text, notes, pages, metadata.

Every test reads the example brief built once by the session fixture `built_example`, except the
source-list URL test, which builds a tiny project whose sources have URLs. Text is compared with
all white space removed and WeasyPrint's hyphenation undone, so line breaks, justification and
`hyphens: auto` never make a test fail; what they check is which text is on which page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import SOURCE_A, write_project
from pypdf import PdfReader

from briefgen.build import build, check
from briefgen.render import long_date

pytestmark = pytest.mark.pdf

A4 = (595.28, 841.89)  # points

# A line broken by hyphenation: WeasyPrint adds U+2010 HYPHEN (its default hyphenate-character)
# at the end of the line; a soft hyphen may survive in the text layer too.
_HYPHEN_BREAK = re.compile("[\u2010\u00ad][ \t]*\r?\n")
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Text with hyphenation undone and every white space (NBSP included) removed."""
    return _SPACE.sub("", _HYPHEN_BREAK.sub("", text).replace("\u00ad", ""))


@dataclass
class Pdf:
    path: Path

    @cached_property
    def reader(self) -> PdfReader:
        return PdfReader(self.path)

    @cached_property
    def texts(self) -> list[str]:
        return [page.extract_text() for page in self.reader.pages]

    @cached_property
    def squashed(self) -> list[str]:
        return [squash(t) for t in self.texts]

    def pages_with(self, text: str) -> list[int]:
        """1-based numbers of the pages whose text contains `text` (white space ignored)."""
        needle = squash(text)
        return [i for i, page in enumerate(self.squashed, 1) if needle in page]


@pytest.fixture(scope="module")
def pdf(built_example: Path) -> Pdf:
    return Pdf(built_example / "output" / "brief.pdf")


@pytest.fixture(scope="module")
def report(built_example: Path):
    result = check(built_example)
    assert result.verified is not None, "the example brief does not verify"
    return result


@pytest.fixture(scope="module")
def outline(report):
    return report.verified.outline


@pytest.fixture(scope="module")
def print_html(built_example: Path) -> str:
    return (built_example / "output" / ".briefgen" / "print.html").read_text(encoding="utf-8")


# --- text ------------------------------------------------------------------------------------


def test_every_excerpt_is_printed(pdf: Pdf, report):
    assert len(report.excerpts) >= 20
    for excerpt in report.excerpts:
        pages = pdf.pages_with(excerpt.anchor.text)
        assert pages, (
            f"excerpt {excerpt.section}[{excerpt.index}] from {excerpt.source} is not in the PDF: "
            f"{excerpt.anchor.text[:80]!r}"
        )


def test_excerpts_print_the_sources_characters_not_the_outlines(tiny_pdf: Pdf):
    """The tiny outline types a hyphen where its source has an en dash: the PDF has the dash."""
    assert tiny_pdf.pages_with("most important \u2013 Lukoil's investment in West Qurna-2.")
    assert not tiny_pdf.pages_with("most important - Lukoil's")


# --- page-foot notes -------------------------------------------------------------------------

CONTEXT = 30  # characters of text before a note call used to find the call on a page
_BLOCKS = ("p", "li", "figcaption", "h1", "h2", "h3", "td", "th")


@dataclass(frozen=True)
class ExpectedNote:
    number: int
    text: str  # squashed text of the note
    context: str  # squashed text just before its call (other calls replaced by their numbers)


def expected_notes(print_html: str) -> list[ExpectedNote]:
    """The notes of the print HTML in order, each with the text that precedes its call."""
    soup = BeautifulSoup(print_html, "html.parser")
    spans = soup.select("span.fn")
    notes = []
    for number, span in enumerate(spans, 1):
        assert span.get("id") == f"note-{number}", f"note {number} has id {span.get('id')!r}"
        notes.append([number, squash(span.get_text())])
    for number, span in enumerate(spans, 1):
        span.replace_with(f"\x00{number}\x01")
    result = []
    for number, text in notes:
        marker = soup.find(string=re.compile(f"\x00{number}\x01"))
        block = marker.find_parent(_BLOCKS) or marker.parent
        before = block.get_text().split(f"\x00{number}\x01")[0]
        before = re.sub("\x00(\\d+)\x01", r"\1", before)
        result.append(ExpectedNote(number, text, squash(before)[-CONTEXT:]))
    return result


def note_pages(pages: list[str], note: ExpectedNote) -> list[int]:
    """Pages whose foot has note `note`: its number, a full stop, then its text."""
    pattern = re.compile(rf"(?<!\d){note.number}\.{re.escape(note.text)}")
    return [i for i, page in enumerate(pages, 1) if pattern.search(page)]


def call_pages(pages: list[str], note: ExpectedNote) -> list[int]:
    """Pages with the call of `note`: the text before it immediately followed by its number.

    The whole context first; if a page break splits it (the call opens a page), its longest
    tail that is followed by the number on exactly one page.
    """
    for keep in range(len(note.context), 5, -1):
        pattern = re.compile(rf"{re.escape(note.context[-keep:])}{note.number}(?!\d)")
        found = [i for i, page in enumerate(pages, 1) if pattern.search(page)]
        if found:
            return found
    return []


def misplaced_notes(pages: list[str], notes: list[ExpectedNote]) -> list[str]:
    """Every note not printed exactly once, at the foot of the page that has its call."""
    problems = []
    for note in notes:
        at_foot = note_pages(pages, note)
        called = call_pages(pages, note)
        if len(called) != 1:
            problems.append(f"note {note.number}: call found on pages {called}")
        elif at_foot != called:
            problems.append(
                f"note {note.number}: called on page {called[0]}, printed on pages {at_foot}"
            )
    return problems


def test_notes_are_numbered_one_to_n(pdf: Pdf, print_html: str, report):
    notes = expected_notes(print_html)
    assert len(notes) == len(report.verified.citations.notes) >= 50
    body = "\n".join(pdf.squashed)
    for note in notes:
        assert re.search(rf"(?<!\d){note.number}\.{re.escape(note.text)}", body), (
            f"note {note.number} is missing from the PDF: {note.text[:60]}"
        )


def test_each_note_is_at_the_foot_of_the_page_with_its_call(pdf: Pdf, print_html: str):
    """Catches notes that drift to a later page (a WeasyPrint 70 trap) or vanish."""
    notes = expected_notes(print_html)
    assert misplaced_notes(pdf.squashed, notes) == []
    # Notes really are spread over pages (a single endnote list would put them all on one).
    pages = {note_pages(pdf.squashed, n)[0] for n in notes}
    assert len(pages) >= 5


def test_the_note_checker_catches_drift():
    """The checker above on made-up pages: it must see a note moved to the next page."""
    notes = [
        ExpectedNote(1, "Roe,“Lavrov.”", "TheUSpartnerswithIraq"),
        ExpectedNote(2, "Roe,“Energy.”", "threeprojectsstandout"),
        ExpectedNote(12, "Roe,“Energy.”", "energyagain"),
    ]
    good = [
        "TheUSpartnerswithIraq1.Andthree" + "projectsstandout2.1.Roe,“Lavrov.”2.Roe,“Energy.”",
        "energyagain12.12.Roe,“Energy.”Page2of2",
    ]
    assert misplaced_notes(good, notes) == []
    drifted = [
        "TheUSpartnerswithIraq1.Andthree" + "projectsstandout2.1.Roe,“Lavrov.”",
        "energyagain12.2.Roe,“Energy.”12.Roe,“Energy.”Page2of2",
    ]
    assert misplaced_notes(drifted, notes) == ["note 2: called on page 1, printed on pages [2]"]
    vanished = [good[0], "energyagain12.Page2of2"]
    assert misplaced_notes(vanished, notes) == ["note 12: called on page 2, printed on pages []"]
    # A call that opens a page: only the tail of its context is on that page.
    split = ["TheUSpartnerswithIraq1.Andthreeprojects1.Roe,“Lavrov.”", "standout2.2.Roe,“Energy.”"]
    assert misplaced_notes(split, notes[:2]) == []


# --- contents, pages, metadata, bookmarks, fonts ---------------------------------------------

_TOC_LINE = re.compile(r"^(?P<title>.*?\S)\s*(?:\.\s*){3,}(?P<page>\d+)\s*$")


def test_contents_page_numbers_are_where_the_headings_are(pdf: Pdf, outline):
    toc_page = next(i for i, t in enumerate(pdf.texts) if t.lstrip().startswith("Contents"))
    entries = []
    for line in pdf.texts[toc_page].splitlines():
        match = _TOC_LINE.match(line.strip())
        if match:
            entries.append((match["title"], int(match["page"])))
    titles = [squash(title) for title, _ in entries]
    expected = ["Summary"] + [f"{s.number}. {s.title}" for s in outline.sections] + ["Sources"]
    assert titles == [squash(title) for title in expected]
    for title, page in entries:
        heading = squash(title)
        found = [
            i
            for i, text in enumerate(pdf.texts, 1)
            if i != toc_page + 1 and any(squash(line) == heading for line in text.splitlines())
        ]
        assert found == [page], f"contents says {title!r} is on page {page}, it is on {found}"
    assert [page for _, page in entries] == sorted(page for _, page in entries)


def test_page_size_and_count(pdf: Pdf):
    pages = pdf.reader.pages
    assert 6 <= len(pages) <= 40
    for page in pages:
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)


def test_metadata(pdf: Pdf, outline):
    meta = pdf.reader.metadata
    assert meta.title == outline.title
    for author in outline.authors:
        assert author.name in meta.author
    keywords = meta.get("/Keywords", "")
    assert keywords.strip()
    for keyword in outline.keywords or [s.title for s in outline.sections]:
        assert keyword in keywords
    assert str(meta.get("/CreationDate", "")).startswith("D:" + outline.date.replace("-", ""))
    assert "briefgen" in (meta.creator or "")


def test_bookmarks_have_every_section(pdf: Pdf, outline):
    reader = pdf.reader
    marks = {item.title: reader.get_destination_page_number(item) + 1 for item in reader.outline}
    for section in outline.sections:
        titled = [t for t in marks if t.endswith(section.title)]
        assert titled, f"no bookmark for section {section.title!r}: {list(marks)}"
        assert pdf.pages_with(section.title)[0] <= marks[titled[0]]
    assert "Sources" in marks and "Summary" in marks


def _fonts(resources, seen: dict) -> None:
    resources = resources.get_object() if resources is not None else {}
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        if "/DescendantFonts" in font:
            descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        else:
            descriptor = font.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        seen[str(font["/BaseFont"])] = any(
            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
        )
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if "/Resources" in xobject:
            _fonts(xobject["/Resources"], seen)


def test_fonts_are_embedded_noto_or_dejavu(pdf: Pdf):
    fonts: dict[str, bool] = {}
    for page in pdf.reader.pages:
        _fonts(page.get("/Resources"), fonts)
    assert fonts
    assert [name for name, embedded in fonts.items() if not embedded] == []
    # Subset names look like /ABCDEF+Noto-Serif-Italic.
    names = [re.sub(r"^/?[A-Z]{6}\+", "", name).replace("-", "").lower() for name in fonts]
    assert any(n.startswith(("notoserif", "dejavuserif")) for n in names), names
    assert any(n.startswith(("notosans", "dejavusans")) for n in names), names


# --- running heads, cover, sources -----------------------------------------------------------


def test_footer_numbers_every_page_but_the_cover(pdf: Pdf):
    total = len(pdf.texts)
    assert "Page1of" not in pdf.squashed[0]
    for number, text in enumerate(pdf.squashed[1:], 2):
        assert f"Page{number}of{total}" in text, f"page {number} has no 'Page {number} of {total}'"


def test_running_head_has_the_title_on_every_page_but_the_cover(pdf: Pdf, outline):
    title = squash(outline.title)
    for number, text in enumerate(pdf.squashed[1:], 2):
        assert title in text, f"page {number} has no running head"


def test_running_head_has_the_distribution_marking(pdf: Pdf, outline):
    marking = squash(outline.distribution).upper()
    for number, text in enumerate(pdf.squashed[1:], 2):
        assert marking in text.upper().replace(squash(outline.title).upper(), ""), (
            f"page {number} has no marking {outline.distribution!r} in its head"
        )


def test_cover_page(pdf: Pdf, outline):
    # Case-blind: the cover may set its lines in capitals (text-transform).
    cover = pdf.squashed[0].casefold()

    def fold(text: str) -> str:
        return squash(text).casefold()

    for what in (outline.title, outline.subtitle, outline.series, outline.organization):
        assert fold(what) in cover, what
    for author in outline.authors:
        assert fold(author.name) in cover
    affiliations = [a.affiliation for a in outline.authors if a.affiliation]
    for affiliation in set(affiliations):
        expected = affiliations.count(affiliation) + (affiliation == outline.organization)
        assert cover.count(fold(affiliation)) >= expected, f"affiliation {affiliation!r}"
    assert fold(long_date(outline.date)) in cover
    assert fold(outline.distribution) in cover
    # The cover is only the cover: the contents start on the next page.
    assert "Contents" not in pdf.texts[0]


def _source_list(pdf: Pdf) -> str:
    """The squashed text from the 'Sources' heading to the end."""
    start = max(
        i for i, t in enumerate(pdf.texts) if any(ln.strip() == "Sources" for ln in t.splitlines())
    )
    return "".join(pdf.squashed[start:]).split("Sources", 1)[1]


def test_source_list_has_every_source_in_the_styles_order(pdf: Pdf, report):
    """The list follows the citation style (Chicago: alphabetical), which also sets titles in
    headline-style capitals and inverts the first author's name, so compare titles case-blind
    and authors by surname. (It used to be in order of first citation, titles as written.)"""
    citations = report.verified.citations
    sources = report.verified.sources
    assert len(citations.order) == len(sources) == 5
    listed = _source_list(pdf)
    positions = []
    for source_id in citations.bibliography_order:
        meta = sources[source_id].meta
        title = squash(meta.title).casefold()
        assert title in listed.casefold(), f"source {source_id} is not in the source list"
        positions.append(listed.casefold().index(title))
        if meta.url:
            assert squash(meta.url) in listed
        for author in meta.authors:
            assert squash(author.split()[-1]) in listed
    assert positions == sorted(positions)


TINY_SOURCE = """\
---
title: "Energy ties"
publisher: "Example Review"
url: https://example.net/reviews/energy-ties?id=7
---
Three key projects are most important – Lukoil's investment in West Qurna-2.
"""


@pytest.fixture(scope="module")
def tiny_pdf(tmp_path_factory) -> Pdf:
    root = write_project(
        tmp_path_factory.mktemp("tiny") / "brief",
        sources={"lavrov.txt": SOURCE_A, "energy.txt": TINY_SOURCE},
    )
    build(root)
    return Pdf(root / "output" / "brief.pdf")


def test_source_list_prints_urls_and_links_them(tiny_pdf: Pdf):
    listed = _source_list(tiny_pdf)
    for url in ("https://example.org/lavrov", "https://example.net/reviews/energy-ties?id=7"):
        assert squash(url) in listed
    links = set()
    for page in tiny_pdf.reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action is not None and "/URI" in action:
                links.add(str(action["/URI"]))
    assert "https://example.org/lavrov" in links
    assert "https://example.net/reviews/energy-ties?id=7" in links
