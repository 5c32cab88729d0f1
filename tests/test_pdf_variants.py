"""Archival (PDF/A-3b) and accessible (PDF/UA-1) PDFs: what can be checked without veraPDF.

WeasyPrint writes these variants but says they are not guaranteed valid, and no validator is
installable here (veraPDF is on neither PyPI nor Debian), so these tests check, with pypdf and
fontTools, the requirements a validator would start with. The example brief is built once per
variant.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import OUTLINE, REPO, write_project
from pdfinspect import Inspector, xmp_properties
from pypdf import PdfReader
from pypdf.generic import ContentStream

from briefgen.build import build
from briefgen.cli import main
from briefgen.errors import BriefgenError

pytestmark = pytest.mark.pdf


def _build_example(tmp_path_factory, variant: str) -> Path:
    root = tmp_path_factory.mktemp(variant.replace("/", "-")) / "example"
    shutil.copytree(REPO / "content", root / "content")
    build(root, pdf_variant=variant)
    return root / "output" / "brief.pdf"


@pytest.fixture(scope="module")
def archival(tmp_path_factory) -> Inspector:
    return Inspector(_build_example(tmp_path_factory, "pdf/a-3b"))


@pytest.fixture(scope="module")
def accessible(tmp_path_factory) -> Inspector:
    return Inspector(_build_example(tmp_path_factory, "pdf/ua-1"))


def catalog(inspector: Inspector):
    return inspector.reader.trailer["/Root"]


def w3c_to_pdf_date(value: str) -> str:
    """'2026-11-22T00:00:00Z' -> 'D:20261122000000Z' (the forms WeasyPrint writes)."""
    match = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z", value)
    assert match, value
    return "D:" + "".join(match.groups()) + "Z"


# --- both -----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["archival", "accessible"])
def test_every_font_is_embedded_and_every_glyph_is_real(variant, request):
    inspector: Inspector = request.getfixturevalue(variant)
    fonts = inspector.all_fonts()
    assert fonts
    assert [f.name for f in fonts if not f.embedded] == []
    assert inspector.bad_glyphs() == []


@pytest.mark.parametrize("variant", ["archival", "accessible"])
def test_document_info_and_xmp_agree(variant, request):
    """ISO 19005 6.6.3 / 14289 7.1: each Info entry has an equivalent XMP property."""
    inspector: Inspector = request.getfixturevalue(variant)
    info = inspector.reader.metadata
    xmp = xmp_properties(inspector.reader)
    assert xmp["dc:title"] == [info["/Title"]]
    assert xmp["dc:creator"] == [info["/Author"]]  # one entry, equal to /Author
    assert xmp["dc:description"] == [info["/Subject"]]
    assert xmp["pdf:Keywords"] == info["/Keywords"]
    assert xmp["xmp:CreatorTool"] == info["/Creator"]
    assert xmp["pdf:Producer"] == info["/Producer"]
    assert w3c_to_pdf_date(xmp["xmp:CreateDate"]) == info["/CreationDate"]
    assert w3c_to_pdf_date(xmp["xmp:ModifyDate"]) == info["/ModDate"]
    metadata = catalog(inspector)["/Metadata"].get_object()
    assert (metadata["/Type"], metadata["/Subtype"]) == ("/Metadata", "/XML")
    header = metadata.get_data().split(b"?>", 1)[0]
    assert b"bytes=" not in header and b"encoding=" not in header


@pytest.mark.parametrize("variant", ["archival", "accessible"])
def test_file_identifier_and_no_encryption(variant, request):
    inspector: Inspector = request.getfixturevalue(variant)
    trailer = inspector.reader.trailer
    assert "/Encrypt" not in trailer
    first, second = trailer["/ID"]
    assert first == second and re.fullmatch("[0-9a-f]{32}", first)


def test_variants_are_opt_in(built_example: Path):
    """The default PDF is neither tagged nor identified as PDF/A or PDF/UA."""
    root = PdfReader(built_example / "output" / "brief.pdf").trailer["/Root"]
    assert "/StructTreeRoot" not in root and "/OutputIntents" not in root
    assert "/Metadata" not in root


# --- PDF/A-3b -------------------------------------------------------------------------------


def test_pdfa_identification(archival: Inspector):
    xmp = xmp_properties(archival.reader)
    assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "B")
    assert archival.reader.pdf_header == "%PDF-1.7"  # PDF/A-3 is based on PDF 1.7


def test_pdfa_file_header_marks_the_file_binary(archival: Inspector):
    archival.reader.stream.seek(0)
    second_line = archival.reader.stream.read(64).split(b"\n")[1]
    assert second_line.startswith(b"%") and sum(b > 127 for b in second_line[1:5]) == 4


def test_pdfa_output_intent_is_srgb(archival: Inspector):
    [intent] = [i.get_object() for i in catalog(archival)["/OutputIntents"]]
    assert intent["/Type"] == "/OutputIntent" and intent["/S"] == "/GTS_PDFA1"
    assert "sRGB" in intent["/OutputConditionIdentifier"]
    profile = intent["/DestOutputProfile"].get_object()
    icc = profile.get_data()
    assert profile["/N"] == 3
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "  # an ICC profile, RGB space


def test_pdfa_annotations_print_and_need_no_appearance(archival: Inspector):
    annotations = [
        a.get_object() for page in archival.reader.pages for a in page.get("/Annots") or []
    ]
    assert annotations  # the brief's links
    for annotation in annotations:
        flags = int(annotation.get("/F", 0))
        assert flags & 4 and not flags & 2, annotation  # Print set, Hidden not
        assert annotation["/Subtype"] == "/Link"  # links need no appearance stream


def test_pdfa_forbidden_things_are_absent(archival: Inspector):
    root = catalog(archival)
    assert "/AA" not in root and "/OpenAction" not in root
    names = root.get("/Names") or {}
    assert "/JavaScript" not in names
    assert "/EmbeddedFiles" not in names  # none, so no /AF associations are needed
    colour_operators = set()
    for page in archival.reader.pages:
        for _, operator in ContentStream(page.get_contents(), archival.reader).operations:
            if operator in (b"k", b"K", b"cs", b"CS", b"sh", b"BI"):
                colour_operators.add(operator)
    # Device RGB (and grey) only, which the sRGB output intent covers; no inline images.
    assert colour_operators == set()


# --- PDF/UA-1 -------------------------------------------------------------------------------

#: PDF 1.7 standard structure types (ISO 32000-1, 14.8.4); others would need a RoleMap.
STANDARD_TYPES = set(
    " ".join(
        (
            "Document Part Art Sect Div BlockQuote Caption TOC TOCI Index NonStruct Private",
            "P H H1 H2 H3 H4 H5 H6 L LI Lbl LBody Table TR TH TD THead TBody TFoot",
            "Span Quote Note Reference BibEntry Code Link Annot Ruby RB RT RP Warichu WT WP",
            "Figure Formula Form",
        )
    ).split()
)


def structure(inspector: Inspector) -> list:
    """Every structure element reachable from the structure tree's root, depth first."""
    found = []

    def walk(element):
        element = element.get_object()
        found.append(element)
        kids = element.get("/K")
        kids = kids if isinstance(kids, list) else [kids] if kids is not None else []
        for kid in kids:
            if hasattr(kid, "get_object"):
                kid = kid.get_object()
                if hasattr(kid, "get") and "/S" in kid:
                    walk(kid)

    tree = catalog(inspector)["/StructTreeRoot"].get_object()
    for kid in tree["/K"] if isinstance(tree["/K"], list) else [tree["/K"]]:
        walk(kid)
    return found


def test_pdfua_identification_title_and_language(accessible: Inspector):
    xmp = xmp_properties(accessible.reader)
    assert xmp["pdfuaid:part"] == "1"
    assert xmp["dc:title"] == ["Russia and Iraq: Partnership, Hedging and Its Limits"]
    root = catalog(accessible)
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert root["/Lang"] == "en"  # the outline's language (en by default)


def test_pdfua_is_tagged_with_standard_structure(accessible: Inspector):
    root = catalog(accessible)
    assert root["/MarkInfo"]["/Marked"].value is True
    elements = structure(accessible)
    types = [str(e["/S"]).lstrip("/") for e in elements]
    assert types[0] == "Document"
    assert set(types) <= STANDARD_TYPES, set(types) - STANDARD_TYPES
    for wanted in ("H1", "H2", "P", "L", "LI", "BlockQuote", "Link"):
        assert wanted in types
    headings = [int(t[1]) for t in types if re.fullmatch("H[1-6]", t)]
    assert headings[0] == 1
    steps = zip(headings, headings[1:], strict=False)
    assert all(b <= a + 1 for a, b in steps), headings  # no heading level skipped
    for element in elements:
        if element["/S"] == "/Figure":
            assert element.get("/Alt"), "a figure without alternative text"


def test_pdfua_all_text_is_marked_content_in_the_structure(accessible: Inspector):
    """Every text run is marked content. Body text is reachable from the structure root; the
    only text that is not is in the page margins (running head, marking, page number).

    Known WeasyPrint 70 limitation: margin boxes get marked-content ids that the ParentTree maps
    to elements outside the tree, instead of being /Artifact (which WeasyPrint keeps for PDF 2).
    """
    assert [run.text for run in accessible.runs if not run.marks] == []
    tree = catalog(accessible)["/StructTreeRoot"].get_object()
    nums = tree["/ParentTree"].get_object()["/Nums"]
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    reachable = {id(e) for e in structure(accessible)}
    pages = accessible.reader.pages
    height = float(pages[0].mediabox.height) / 0.75  # content units: CSS px from the top
    in_tree, outside = [], []
    for run in accessible.runs:
        if run.mcid is None:
            assert "Artifact" in run.marks, run.text
            continue
        page = pages[run.page - 1]
        element = parents[int(page["/StructParents"])].get_object()[run.mcid].get_object()
        (in_tree if id(element) in reachable else outside).append(run)
    assert len(in_tree) > 10 * len(outside)
    for run in outside:
        assert not 0.1 * height < run.y < 0.9 * height, f"body text outside the tree: {run.text!r}"


def test_pdfua_pages_and_links(accessible: Inspector):
    for page in accessible.reader.pages:
        assert "/StructParents" in page
        annotations = page.get("/Annots") or []
        if annotations:
            assert page["/Tabs"] == "/S"  # tab order follows the structure
        for annotation in annotations:
            annotation = annotation.get_object()
            assert "/StructParent" in annotation
            assert annotation.get("/Contents"), "a link without a description"


def test_pdfua_language_is_the_outlines(tmp_path):
    root = write_project(tmp_path / "brief", OUTLINE + "language: ru\n")
    build(root, pdf_variant="pdf/ua-1")
    assert PdfReader(root / "output" / "brief.pdf").trailer["/Root"]["/Lang"] == "ru"


# --- choosing a variant ---------------------------------------------------------------------


def test_cli_offers_the_variants_and_refuses_others(project):
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(project), "--pdf-variant", "pdf/x-4"])
    assert result.exit_code == 2 and "pdf/a-3b" in result.output
    with pytest.raises(BriefgenError, match="unknown PDF variant"):
        build(project, pdf_variant="pdf/x-4")
    assert not (project / "output" / "brief.pdf").exists()


def test_changing_the_variant_rebuilds_only_the_pdf(project):
    build(project)
    assert build(project).skipped
    result = build(project, pdf_variant="pdf/a-3b")
    assert [p.name for p in result.written if p.name.startswith("brief")] == ["brief.pdf"]
    assert build(project, pdf_variant="pdf/a-3b").skipped
    assert "/OutputIntents" in PdfReader(project / "output" / "brief.pdf").trailer["/Root"]
