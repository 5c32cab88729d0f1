"""Read what a PDF really draws: the glyphs of each text operator, their fonts, their tags.

Used by tests/test_scripts.py and tests/test_pdf_variants.py. pypdf gives the objects; fontTools
opens each embedded font program, so a test can say which font drew which character and whether
that glyph exists (no .notdef, no missing-glyph box, no blank), not only what text extraction
guesses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

_BF = re.compile(rb"beginbf(char|range)(.*?)endbf\1", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")
_SUBSET_TAG = re.compile(r"^/?[A-Z]{6}\+")


def to_unicode(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap as {glyph id: text} (bfchar and bfrange sections)."""
    found: dict[int, str] = {}
    for kind, body in _BF.findall(cmap):
        for line in body.splitlines():
            values = _HEX.findall(line)
            if kind == b"char" and len(values) == 2:
                found[int(values[0], 16)] = bytes.fromhex(values[1].decode()).decode("utf-16-be")
            elif kind == b"range" and len(values) == 3:
                low, high, start = (int(v, 16) for v in values)
                for offset, gid in enumerate(range(low, high + 1)):
                    found[gid] = chr(start + offset)
    return found


class Font:
    """One embedded Type 0 font: its program (fontTools), cmap and ToUnicode map."""

    def __init__(self, font):
        self.name = _SUBSET_TAG.sub("", str(font["/BaseFont"]))
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        key = next((k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor), None)
        self.embedded = key is not None
        self.program = TTFont(BytesIO(descriptor[key].get_object().get_data())) if key else None
        self.order = self.program.getGlyphOrder() if self.program else []
        self.cmap = (self.program.getBestCmap() or {}) if self.program else {}
        to_unicode_stream = font.get("/ToUnicode")
        self.unicode = (
            to_unicode(to_unicode_stream.get_object().get_data()) if to_unicode_stream else {}
        )
        self._inked: dict[int, bool] = {}
        self._glyph_set = None

    def is_plain_form(self, gid: int) -> bool:
        """True if `gid` is the glyph the font's cmap gives its character: no shaping happened.

        A joined Arabic letter (initial, medial or final form) or a ligature is another glyph.
        """
        text = self.unicode.get(gid, "")
        if len(text) != 1 or not 0 <= gid < len(self.order):
            return False
        return self.cmap.get(ord(text)) == self.order[gid]

    def inked(self, gid: int) -> bool:
        """True if glyph `gid` exists in the embedded program and draws something."""
        if gid not in self._inked:
            if not self.program or gid <= 0 or gid >= len(self.order):
                self._inked[gid] = False
            else:
                if self._glyph_set is None:
                    self._glyph_set = self.program.getGlyphSet()
                pen = BoundsPen(self._glyph_set)
                self._glyph_set[self.order[gid]].draw(pen)
                self._inked[gid] = pen.bounds is not None
        return self._inked[gid]


@dataclass
class Run:
    """The glyphs of one text-showing operator, in one font, on one page (1-based)."""

    page: int
    font: Font
    glyphs: list[int]
    x: float  # where the run starts: the text matrix's e (content units, comparable on a page)
    y: float  # and its f: WeasyPrint's content space runs downwards from the top of the page
    marks: tuple[str, ...]  # enclosing marked-content tags, outermost first: "Artifact", "P"...
    mcid: int | None = None  # the marked-content id of the innermost tagged sequence

    @property
    def text(self) -> str:
        """The glyphs' text in drawing order (left to right: right-to-left text comes reversed)."""
        return "".join(self.font.unicode.get(g, "") for g in self.glyphs)

    @property
    def text_rtl(self) -> str:
        """The glyphs' text read right to left: the logical order of right-to-left text."""
        return "".join(self.font.unicode.get(g, "") for g in reversed(self.glyphs))


def _string_bytes(item) -> bytes:
    """The raw bytes of a string operand (pypdf may have decoded it as text)."""
    if hasattr(item, "original_bytes"):
        return item.original_bytes
    return bytes(item)


class Inspector:
    """Every text run of a PDF, with the fonts it uses (each font parsed once)."""

    def __init__(self, path: Path | str | BytesIO):
        self.reader = PdfReader(path)
        self._fonts: dict[object, Font] = {}
        self.runs: list[Run] = []
        for number, page in enumerate(self.reader.pages, 1):
            resources = page["/Resources"].get_object()
            self.runs.extend(self._walk(number, page.get_contents(), resources, ()))

    def _font(self, reference) -> Font:
        key = getattr(reference, "idnum", None) or id(reference)
        if key not in self._fonts:
            self._fonts[key] = Font(reference.get_object())
        return self._fonts[key]

    def _walk(self, number: int, content, resources, marks: tuple) -> Iterator[Run]:
        fonts = resources.get("/Font") or {}
        xobjects = resources.get("/XObject") or {}
        current = None
        x = y = 0.0
        stack = list(marks)
        for operands, operator in ContentStream(content, self.reader).operations:
            if operator == b"Tf":
                current = self._font(fonts[operands[0]])
            elif operator == b"Tm":
                x, y = float(operands[4]), float(operands[5])
            elif operator in (b"Td", b"TD"):
                x, y = x + float(operands[0]), y + float(operands[1])
            elif operator in (b"TJ", b"Tj", b"'", b'"'):
                items = operands[0] if operator == b"TJ" else [operands[-1]]
                data = b"".join(_string_bytes(i) for i in items if isinstance(i, (bytes, str)))
                glyphs = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
                ids = [mcid for _, mcid in stack if mcid is not None]
                tags = tuple(tag for tag, _ in stack)
                yield Run(number, current, glyphs, x, y, tags, ids[-1] if ids else None)
            elif operator in (b"BDC", b"BMC"):
                properties = operands[1] if operator == b"BDC" else None
                mcid = properties.get("/MCID") if hasattr(properties, "get") else None
                stack.append((str(operands[0]).lstrip("/"), mcid))
            elif operator == b"EMC" and stack:
                stack.pop()
            elif operator == b"Do":
                xobject = xobjects[operands[0]].get_object()
                if xobject.get("/Subtype") == "/Form":
                    inner = xobject.get("/Resources")
                    inner = inner.get_object() if inner is not None else resources
                    yield from self._walk(number, xobject, inner, tuple(stack))

    @property
    def fonts(self) -> list[Font]:
        return list(self._fonts.values())

    def all_fonts(self) -> list[Font]:
        """Every font in the pages' resources, drawn or not (recursing into form XObjects)."""
        seen: dict[object, Font] = {}

        def visit(resources):
            resources = resources.get_object() if resources is not None else {}
            for reference in (resources.get("/Font") or {}).values():
                seen.setdefault(getattr(reference, "idnum", id(reference)), self._font(reference))
            for xobject in (resources.get("/XObject") or {}).values():
                xobject = xobject.get_object()
                if "/Resources" in xobject:
                    visit(xobject["/Resources"])

        for page in self.reader.pages:
            visit(page.get("/Resources"))
        return list(seen.values())

    def drawn_characters(self) -> dict[str, set[str]]:
        """{character: names of the fonts that drew it with a real glyph}."""
        found: dict[str, set[str]] = {}
        for run in self.runs:
            for gid in run.glyphs:
                if run.font.inked(gid):
                    for char in run.font.unicode.get(gid, ""):
                        found.setdefault(char, set()).add(run.font.name)
        return found

    def bad_glyphs(self) -> list[str]:
        """Glyphs drawn for visible text that are .notdef, outside the font, or blank."""
        problems = []
        for run in self.runs:
            for gid in run.glyphs:
                text = run.font.unicode.get(gid, "")
                if text.strip() and not run.font.inked(gid):
                    problems.append(
                        f"page {run.page}: {text!r} drawn as glyph {gid} of {run.font.name}"
                    )
        return problems


# --- XMP -----------------------------------------------------------------------------------

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
}


def xmp_properties(reader: PdfReader) -> dict[str, object]:
    """The XMP packet's properties as {"prefix:name": text or list of texts}.

    Simple properties may be written as attributes of rdf:Description or as elements; an
    rdf:Alt/Seq/Bag gives the list of its rdf:li.
    """
    packet = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    start, end = packet.index(b"<x:xmpmeta"), packet.rindex(b"</x:xmpmeta>")
    root = ET.fromstring(packet[start : end + len(b"</x:xmpmeta>")])
    prefixes = {uri: prefix for prefix, uri in NS.items()}

    def name(tag: str) -> str:
        uri, _, local = tag[1:].partition("}")
        return f"{prefixes.get(uri, uri)}:{local}"

    found: dict[str, object] = {}
    for description in root.iter(f"{{{NS['rdf']}}}Description"):
        for key, value in description.attrib.items():
            if key != f"{{{NS['rdf']}}}about":
                found[name(key)] = value
        for child in description:
            items = child.findall(".//rdf:li", NS)
            found[name(child.tag)] = [li.text or "" for li in items] if items else child.text or ""
    return found
