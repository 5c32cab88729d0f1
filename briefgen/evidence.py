"""The evidence appendix: which sources each section draws on, and when the sources appeared.

Two figures, made here as inline SVG so that both outputs carry them (WeasyPrint draws inline
`<svg>`, browsers too) and nothing is fetched:

- the **evidence map**, a matrix: one row per section, one column per cited source (numbered as
  in the list of sources), each cell the number of times the section's notes refer to the source,
  shaded by that number; a last row gives each source's total and share of all notes;
- the **timeline** of the sources' publication dates (`date:` in a source's front matter) on a
  time axis, and the sources without a date listed apart as "undated".

How a section's count for a source is defined: one for each excerpt quoted from the source, plus
one for each reference to it in a citation of the section's prose, key points and excerpt
comments (`[@a; @b]` counts once for `a` and once for `b`). These are exactly the notes the
section prints, reference by reference. The summary is not counted: it restates the sections.

Every text put into the SVG (section titles, source titles and publishers are content, hence
untrusted) is XML-escaped here; the result is marked safe for the templates.

Sizes are in SVG user units, roughly CSS pixels: the figures are `WIDTH` wide and scale to the
width of their container (`viewBox`, no fixed size), i.e. the A4 text column in print (165 mm)
and the screen's column on phones. Colours are fixed attributes (WeasyPrint does not apply the
document's CSS to inline SVG); each element also has a class so that screen CSS can restyle it
with the theme's custom properties (`templates/evidence.css`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr

from markupsafe import Markup

from .citations import Citations
from .outline import Outline
from .sources import Source

WIDTH = 560
FONT = ("Noto Sans", "DejaVu Sans", "Arial", "sans-serif")


@dataclass(frozen=True)
class Palette:
    """The figures' colours and type: base.css's defaults, or the outline's `style:`."""

    ink: str = "#1d2330"
    muted: str = "#5a6272"
    accent: str = "#8a1c2b"
    rule: str = "#d8dbe2"
    paper: str = "#ffffff"
    fonts: tuple[str, ...] = FONT

    @property
    def zebra(self) -> str:
        return _mix(self.rule, self.paper, 0.25)

    @property
    def font_family(self) -> str:
        generic = {"serif", "sans-serif", "monospace"}
        return ", ".join(f if f in generic else f"'{f}'" for f in self.fonts)


def palette_of(outline: Outline) -> Palette:
    """The house style's colours and heading font (`style:` in the outline), where it has them.

    The theme module validates them: colours are '#rgb' or '#rrggbb', fonts plain family names.
    """
    style = getattr(outline, "style", None)
    colors = dict(getattr(style, "colors", None) or {})
    fonts = tuple(dict(getattr(style, "fonts", None) or {}).get("headings", ()))
    known = {k: _hex6(v) for k, v in colors.items() if k in Palette.__dataclass_fields__}
    known = {k: v for k, v in known.items() if v}
    return Palette(**known, **({"fonts": fonts + FONT} if fonts else {}))


def _hex6(colour: str) -> str | None:
    match = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", str(colour).strip())
    if not match:
        return None
    digits = match.group(1)
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits)).lower()


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


def _mix(colour: str, base: str, amount: float) -> str:
    """`colour` laid at opacity `amount` over `base`."""
    mixed = (a * amount + b * (1 - amount) for a, b in zip(_rgb(colour), _rgb(base), strict=True))
    return "#" + "".join(f"{round(c * 255):02x}" for c in mixed)


def _contrast(one: str, two: str) -> float:
    """WCAG contrast ratio of two colours."""

    def luminance(colour: str) -> float:
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _rgb(colour)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


READABLE = 4.5  # WCAG AA contrast for the counts printed on a shaded cell


def _best_contrast(level: float, pal: Palette) -> float:
    """The better of paper-coloured and ink-coloured text on the accent at `level`."""
    shade = _mix(pal.accent, pal.paper, level)
    return max(_contrast(pal.paper, shade), _contrast(pal.ink, shade))


@functools.lru_cache(maxsize=1024)
def _readable_level(level: float, pal: Palette) -> float:
    """`level`, or the nearest shading on which ink or paper text reaches READABLE contrast.

    Mid shades of the accent can leave neither dark nor light text readable; cells in that band
    move to its nearer edge, so the order of shading (more notes, stronger) is kept.
    """
    if _best_contrast(level, pal) >= READABLE:
        return level
    steps = [k / 200 for k in range(201)]
    readable = [s for s in steps if _best_contrast(s, pal) >= READABLE]
    if not readable:
        return level
    return min(readable, key=lambda s: (abs(s - level), s))


DEFAULT_PALETTE = Palette()
_PALETTE: ContextVar[Palette | None] = ContextVar("evidence_palette", default=None)


def _pal() -> Palette:
    return _PALETTE.get() or DEFAULT_PALETTE


@contextmanager
def _using(palette: Palette | None):
    token = _PALETTE.set(palette or _PALETTE.get())
    try:
        yield
    finally:
        _PALETTE.reset(token)


# Characters XML 1.0 does not allow (a title with one would make the SVG ill-formed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- the data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """What one section draws on one source: excerpts quoted and references in citations."""

    quotes: int = 0
    citations: int = 0

    @property
    def total(self) -> int:
        return self.quotes + self.citations


@dataclass(frozen=True)
class Column:
    """A cited source, numbered as in the list of sources."""

    id: str
    number: int
    label: str  # the outlet (publisher), else the authors, else the short title
    title: str
    date: str | None  # YYYY-MM-DD or None


@dataclass(frozen=True)
class Row:
    id: str
    number: int
    title: str
    cells: tuple[Cell, ...]  # one per column

    @property
    def total(self) -> int:
        return sum(c.total for c in self.cells)


@dataclass(frozen=True)
class EvidenceMap:
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]

    def counts(self) -> list[list[int]]:
        """The matrix of totals, rows = sections, columns = sources."""
        return [[c.total for c in row.cells] for row in self.rows]

    def quotes(self) -> list[list[int]]:
        return [[c.quotes for c in row.cells] for row in self.rows]

    @cached_property  # read once per column by the figure: computed once, not per read
    def column_totals(self) -> list[int]:
        return [sum(row.cells[j].total for row in self.rows) for j in range(len(self.columns))]

    @cached_property
    def total(self) -> int:
        return sum(self.column_totals)

    @property
    def largest(self) -> int:
        return max((c.total for row in self.rows for c in row.cells), default=0)


def evidence_map(outline: Outline, citations: Citations) -> EvidenceMap:
    """Count, per section and cited source, the excerpts and citation references."""
    columns = tuple(
        Column(sid, n, source_label(citations.sources[sid]), *_title_date(citations.sources[sid]))
        for n, sid in enumerate(citations.order, 1)
    )
    index = {c.id: j for j, c in enumerate(columns)}
    tally: dict[int, list[list[int]]] = {
        s.number: [[0, 0] for _ in columns] for s in outline.sections
    }
    for key, note in citations.by_place.items():
        if key[0] not in tally:  # the summary
            continue
        quoted = len(key) == 3 and key[2] == "quote"
        for ref in note.references:
            tally[key[0]][index[ref.source_id]][0 if quoted else 1] += 1
    rows = tuple(
        Row(s.id, s.number, s.title, tuple(Cell(q, c) for q, c in tally[s.number]))
        for s in outline.sections
    )
    return EvidenceMap(rows, columns)


def _title_date(source: Source) -> tuple[str, str | None]:
    return source.meta.title, source.meta.date


def source_label(source: Source) -> str:
    """How the figures name a source: its outlet, else its authors, else its short title."""
    meta = source.meta
    if meta.publisher:
        return meta.publisher
    surnames = [name.split()[-1] for name in meta.authors if name.split()]
    if len(surnames) > 2:
        return f"{surnames[0]} et al."
    if surnames:
        return " and ".join(surnames)
    # The short title of the notes (render.short_title): the main title, cut if very long.
    main = re.split(r":\s|\s[-–—]\s", meta.title, maxsplit=1)[0].strip() or meta.title
    words = main.split()
    return main if len(words) <= 9 else " ".join(words[:6])


@dataclass(frozen=True)
class Timeline:
    dated: tuple[Column, ...]  # by date, then by number
    undated: tuple[Column, ...]  # by number


def timeline(columns: tuple[Column, ...]) -> Timeline:
    dated = sorted((c for c in columns if c.date), key=lambda c: (c.date, c.number))
    return Timeline(tuple(dated), tuple(c for c in columns if not c.date))


# --- text and SVG helpers --------------------------------------------------------------------


def _clean(text: str) -> str:
    return _NOT_XML.sub("", " ".join(str(text).split()))


def esc(text) -> str:
    """Text for an SVG element's content."""
    return _xml_escape(_clean(text))


def _attrs(attrs: dict) -> str:
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float):  # digits, '.' and '-' only: nothing to clean or escape
            value = f"{value:.2f}".rstrip("0").rstrip(".")
            parts.append(f' {_attribute_name(name)}="{value}"')
        else:
            parts.append(f" {_attribute_name(name)}={_quoted(str(value))}")
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _quoted(value: str) -> str:
    """An attribute's value, cleaned and quoted (class names and colours repeat a lot)."""
    return quoteattr(_clean(value))


@functools.cache
def _attribute_name(name: str) -> str:
    """`class_` -> `class`, `font_size` -> `font-size`."""
    return name.rstrip("_").replace("_", "-")


def tag(name: str, content: str | None = None, **attrs) -> str:
    """An SVG element; `content` must already be escaped (use `esc`)."""
    if content is None:
        return f"<{name}{_attrs(attrs)}/>"
    return f"<{name}{_attrs(attrs)}>{content}</{name}>"


def text(x: float, y: float, content: str, size: float = 10, cls: str = "ev-ink", **attrs) -> str:
    pal = _pal()
    fill = {"ev-muted": pal.muted, "ev-accent": pal.accent, "ev-paper": pal.paper}.get(cls, pal.ink)
    return tag(
        "text",
        esc(content),
        x=float(x),
        y=float(y),
        font_size=float(size),
        fill=fill,
        class_=cls,
        **attrs,
    )


# Advance widths of Noto Sans Regular and Bold in hundredths of an em, for the characters
# " " to "~" then ’‘“”–—…· (from the fonts' hmtx tables), to wrap labels without a font engine.
_CHARS = "".join(map(chr, range(32, 127))) + "\u2019\u2018\u201c\u201d\u2013\u2014\u2026\u00b7"
_REGULAR = (
    "26 27 41 65 57 83 73 22 30 30 55 57 27 32 27 37 57 57 57 57 57 57 57 57 57 57 27 27 57 57 "
    "57 43 90 64 65 63 73 56 52 73 74 34 27 62 52 91 76 78 60 78 62 55 56 73 60 93 59 57 57 33 "
    "37 33 57 44 28 56 62 48 62 56 34 62 62 26 26 53 26 94 62 60 62 62 41 48 36 62 51 79 53 51 "
    "47 38 55 38 57 18 18 36 36 50 100 79 27"
)
_BOLD = (
    "26 29 47 65 57 90 75 27 34 34 54 57 28 32 28 41 57 57 57 57 57 57 57 57 57 57 28 28 57 57 "
    "57 48 90 69 67 64 74 56 55 72 76 39 33 66 56 94 81 80 63 80 66 55 58 76 65 97 67 62 58 33 "
    "41 33 57 41 36 60 63 51 63 59 39 63 66 30 30 62 30 98 66 62 63 63 45 50 43 66 57 86 58 57 "
    "49 39 55 39 57 22 22 44 44 50 100 86 28"
)
_WIDTHS = {
    weight: dict(zip(_CHARS, (int(w) / 100 for w in table.split()), strict=True))
    for weight, table in (("regular", _REGULAR), ("bold", _BOLD))
}


def text_width(content: str, size: float, bold: bool = False) -> float:
    """The width of `content` set in Noto Sans at `size` (other characters count 0.62 em)."""
    widths = _WIDTHS["bold" if bold else "regular"]
    return sum(widths.get(ch, 0.62) for ch in content) * size


def wrap(content: str, width: float, size: float, max_lines: int, bold: bool = False) -> list[str]:
    """Greedy word wrap to `width`; the last line ends in an ellipsis if text is left over."""
    words = _clean(content).split()
    lines: list[str] = []
    line = ""
    for i, word in enumerate(words):
        candidate = f"{line} {word}".strip()
        if text_width(candidate, size, bold) <= width or not line:
            line = candidate
            continue
        lines.append(line)
        line = word
        if len(lines) == max_lines:
            line = " ".join(words[i:])
            break
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += " …"
    # Any line still too wide (one long word, or the cut last line): shorten it.
    fitted = []
    for ln in lines:
        if text_width(ln, size, bold) > width:
            while ln and text_width(ln + "…", size, bold) > width:
                ln = ln[:-1]
            ln = ln.rstrip(" ,;:") + "…"
        elif ln.endswith(" …"):
            ln = ln[:-2].rstrip(" ,;:") + "…"
        fitted.append(ln)
    return fitted


def _svg(name: str, height: float, title: str, desc: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ev-svg" id="{name}-svg" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="{name}-svg-title" aria-describedby="{name}-svg-desc" '
        f"font-family={quoteattr(_pal().font_family)}>"
        f'<title id="{name}-svg-title">{esc(title)}</title>'
        f'<desc id="{name}-svg-desc">{esc(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _badge(cx: float, cy: float, number: int, r: float = 8.5) -> str:
    return tag(
        "circle", cx=float(cx), cy=float(cy), r=r, fill=_pal().accent, class_="ev-badge"
    ) + text(cx, cy + 3.4, str(number), 9.5, "ev-paper", font_weight="700", text_anchor="middle")


def _share(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# --- figure 1: the evidence map --------------------------------------------------------------

LABEL_W = 156  # row labels
TOTAL_W = 52  # the last column, each section's total
ROW_H = 40
HEAD_SIZE = 9.5
HEAD_LINE = 11.5


def map_svg(emap: EvidenceMap, palette: Palette | None = None) -> Markup:
    with _using(palette):
        return _map_svg(emap)


def _map_svg(emap: EvidenceMap) -> Markup:
    cols = emap.columns
    n = max(len(cols), 1)
    col_w = (WIDTH - LABEL_W - TOTAL_W) / n
    named = col_w >= 40  # narrow columns show only the source's number
    heads = [wrap(c.label, col_w - 6, HEAD_SIZE, 5) if named else [] for c in cols]
    head_lines = max((len(h) for h in heads), default=0)
    top = 30 + head_lines * HEAD_LINE + 8  # where the first row starts
    body: list[str] = []

    # Column heads: the source's number (as in the list of sources) and its label.
    for j, col in enumerate(cols):
        cx = LABEL_W + (j + 0.5) * col_w
        body.append(f'<g class="ev-col"><title>{esc(f"{col.number}. {col.title}")}</title>')
        body.append(_badge(cx, 12, col.number))
        for k, line in enumerate(heads[j]):
            body.append(
                text(cx, 36 + k * HEAD_LINE, line, HEAD_SIZE, "ev-ink", text_anchor="middle")
            )
        body.append("</g>")
    total_x = WIDTH - TOTAL_W / 2
    body.append(
        text(
            total_x,
            top - 10,
            "Total",
            HEAD_SIZE,
            "ev-muted",
            font_weight="700",
            text_anchor="middle",
        )
    )
    body.append(text(8, top - 10, "Section", HEAD_SIZE, "ev-muted", font_weight="700"))
    body.append(_hline(0, WIDTH, top, 1.0, _pal().ink, "ev-rule-strong"))

    # One row per section.
    largest = emap.largest or 1
    y = top
    for i, row in enumerate(emap.rows):
        if i % 2:
            body.append(
                tag(
                    "rect",
                    x=0.0,
                    y=float(y),
                    width=float(WIDTH),
                    height=float(ROW_H),
                    fill=_pal().zebra,
                    class_="ev-zebra",
                )
            )
        body.append(f'<g class="ev-row"><title>{esc(f"{row.number}. {row.title}")}</title>')
        lines = wrap(row.title, LABEL_W - 30, 10.5, 2)
        first = y + ROW_H / 2 + 3.8 - (len(lines) - 1) * 6.5
        body.append(text(8, first, f"{row.number}", 10.5, "ev-accent", font_weight="700"))
        for k, line in enumerate(lines):
            body.append(text(24, first + k * 13, line, 10.5, "ev-ink"))
        body.append("</g>")
        for j, cell in enumerate(row.cells):
            body.append(_cell(LABEL_W + j * col_w, y, col_w, cell, largest, row, cols[j]))
        body.append(
            text(
                total_x,
                y + ROW_H / 2 + 4.5,
                str(row.total),
                12,
                "ev-ink",
                font_weight="700",
                text_anchor="middle",
            )
        )
        y += ROW_H
        body.append(_hline(0, WIDTH, y, 0.6, _pal().rule, "ev-rule"))

    # Totals: each source's count over all sections, and its share of all of them.
    body.append(_hline(0, WIDTH, y, 1.0, _pal().ink, "ev-rule-strong"))
    body.append(text(8, y + 17, "All sections", 10.5, "ev-ink", font_weight="700"))
    body.append(text(8, y + 31, "share of all notes", 9, "ev-muted"))
    whole = emap.total
    for j, count in enumerate(emap.column_totals):
        x = LABEL_W + j * col_w
        cx = x + col_w / 2
        share = _share(count, whole)
        body.append(
            text(cx, y + 17, str(count), 12, "ev-ink", font_weight="700", text_anchor="middle")
        )
        body.append(text(cx, y + 31, f"{share}%", 9, "ev-muted", text_anchor="middle"))
        bar_w = col_w - 12
        body.append(
            tag(
                "rect",
                x=x + 6,
                y=y + 37,
                width=bar_w,
                height=3.5,
                fill=_pal().rule,
                class_="ev-track",
            )
        )
        if count:
            body.append(
                tag(
                    "rect",
                    x=x + 6,
                    y=y + 37,
                    width=max(bar_w * count / whole, 1.5),
                    height=3.5,
                    fill=_pal().accent,
                    class_="ev-bar",
                )
            )
    body.append(
        text(total_x, y + 17, str(whole), 12, "ev-ink", font_weight="700", text_anchor="middle")
    )
    body.append(
        text(total_x, y + 31, "100%" if whole else "–", 9, "ev-muted", text_anchor="middle")
    )
    height = y + 46

    title = "Evidence map: the sources each section draws on"
    return _svg("evidence-map", height, title, map_description(emap), body)


def _hline(x1: float, x2: float, y: float, width: float, colour: str, cls: str) -> str:
    return tag(
        "line",
        x1=float(x1),
        x2=float(x2),
        y1=float(y),
        y2=float(y),
        stroke=colour,
        stroke_width=width,
        class_=cls,
    )


def _cell(x: float, y: float, w: float, cell: Cell, largest: int, row: Row, col: Column) -> str:
    cx, cy = x + w / 2, y + ROW_H / 2
    what = (
        f"{row.number}. {row.title} / {col.number}. {col.label}: "
        f"{_plural(cell.total, 'note')} ({_plural(cell.quotes, 'excerpt')}, "
        f"{_plural(cell.citations, 'citation')})"
    )
    parts = [f'<g class="ev-cell"><title>{esc(what)}</title>']
    if not cell.total:
        parts.append(text(cx, cy + 4, "–", 11, "ev-muted", text_anchor="middle"))
        return "".join(parts) + "</g>"
    pal = _pal()
    level = _readable_level(0.14 + 0.86 * cell.total / largest, pal)
    parts.append(
        tag(
            "rect",
            x=x + 2.5,
            y=y + 3,
            width=w - 5,
            height=ROW_H - 6,
            rx=2.5,
            fill=_pal().accent,
            fill_opacity=level,
            class_="ev-heat",
        )
    )
    shade = _mix(pal.accent, pal.paper, level)
    ink = "ev-paper" if _contrast(pal.paper, shade) > _contrast(pal.ink, shade) else "ev-ink"
    quoted = f"{cell.quotes} quoted"
    if cell.quotes and text_width(quoted, 8) <= w - 8:  # narrow columns show the count only
        parts.append(
            text(cx, cy + 1.5, str(cell.total), 13, ink, font_weight="700", text_anchor="middle")
        )
        parts.append(text(cx, cy + 12.5, quoted, 8, ink, text_anchor="middle"))
    else:
        parts.append(
            text(cx, cy + 4.5, str(cell.total), 13, ink, font_weight="700", text_anchor="middle")
        )
    return "".join(parts) + "</g>"


def map_description(emap: EvidenceMap) -> str:
    """The figure in words, for screen readers (the SVG's <desc>)."""
    parts = [
        f"A table of {_plural(len(emap.rows), 'section')} by {_plural(len(emap.columns), 'source')}"
        f" with {_plural(emap.total, 'note')} in all."
    ]
    for row in emap.rows:
        used = [
            f"{col.label} {cell.total}" + (f" ({cell.quotes} quoted)" if cell.quotes else "")
            for col, cell in zip(emap.columns, row.cells, strict=True)
            if cell.total
        ]
        parts.append(f"{row.number}. {row.title}: " + (", ".join(used) or "no sources") + ".")
    totals = [
        f"{col.label} {count} ({_share(count, emap.total)}%)"
        for col, count in zip(emap.columns, emap.column_totals, strict=True)
    ]
    if totals:
        parts.append("All sections: " + ", ".join(totals) + ".")
    return " ".join(parts)


# --- figure 2: the timeline ------------------------------------------------------------------

GUTTER = 78  # row labels ("Published", "Undated")
LANE_H = 22


def _year_fraction(day: dt.date) -> float:
    start = dt.date(day.year, 1, 1)
    length = (dt.date(day.year + 1, 1, 1) - start).days
    return day.year + (day - start).days / length


def short_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def timeline_svg(line: Timeline, palette: Palette | None = None) -> Markup:
    """Dated sources as numbered dots on a time axis (stacked where they crowd), listed below in
    order of publication; undated sources listed in their own row."""
    with _using(palette):
        return _timeline_svg(line)


def _timeline_svg(line: Timeline) -> Markup:
    body: list[str] = []
    left, right = GUTTER + 10, WIDTH - 10
    if line.dated:
        days = [dt.date.fromisoformat(c.date) for c in line.dated]
        first, last = days[0].year, days[-1].year + 1
        step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (last - first) / s <= 10)
        first -= first % step
        last += -last % step
        span = last - first

        def at(day: dt.date) -> float:
            return left + (right - left) * (_year_fraction(day) - first) / span

        # Each dot on the lowest level where it does not touch a dot already placed.
        levels: list[list[float]] = []
        placed = []
        for col, day in zip(line.dated, days, strict=True):
            x = at(day)
            level = next(
                (k for k, xs in enumerate(levels) if all(abs(x - o) >= 19 for o in xs)),
                len(levels),
            )
            if level == len(levels):
                levels.append([])
            levels[level].append(x)
            placed.append((col, x, level))
        axis = 4 + len(levels) * 19 + 6
        body.append(text(0, axis + 4, "Published", 10, "ev-muted", font_weight="700"))
        body.append(
            tag(
                "line",
                x1=float(left),
                x2=float(right),
                y1=float(axis),
                y2=float(axis),
                stroke=_pal().ink,
                stroke_width=1.0,
                class_="ev-rule-strong",
            )
        )
        for year in range(first, last + 1, step):
            x = at(dt.date(year, 1, 1))
            body.append(_vline(x, axis, axis + 4, _pal().ink, "ev-tick"))
            body.append(text(x, axis + 15, str(year), 9, "ev-muted", text_anchor="middle"))
        for col, x, level in placed:
            cy = axis - 12 - level * 19
            what = f"{col.number}. {col.title}, {short_date(col.date)}"
            body.append(f'<g class="ev-event"><title>{esc(what)}</title>')
            body.append(_vline(x, cy, axis, _pal().accent, "ev-leader"))
            body.append(
                tag("circle", cx=x, cy=float(axis), r=2.4, fill=_pal().accent, class_="ev-dot")
            )
            body.append(_badge(x, cy, col.number))
            body.append("</g>")
        y = axis + 28
        entries = [(c, f"{c.label}, {short_date(c.date)}") for c in line.dated]
        y = _chips(body, entries, left, right, y)
    else:
        body.append(text(0, 14, "Published", 10, "ev-muted", font_weight="700"))
        body.append(
            text(
                left - 8,
                14,
                "None of the sources gives a publication date.",
                10,
                "ev-muted",
                font_style="italic",
            )
        )
        y = 32
    if line.undated:
        body.append(_hline(0, WIDTH, y - 6, 0.6, _pal().rule, "ev-rule"))
        body.append(text(0, y + 12, "Undated", 10, "ev-muted", font_weight="700"))
        y = _chips(body, [(c, c.label) for c in line.undated], left, right, y)
    title = "Timeline: when the sources were published"
    return _svg("evidence-timeline", y - 6, title, timeline_description(line), body)


def _chips(body: list[str], entries, left: float, right: float, y: float) -> float:
    """Numbered labels flowing from left to right, wrapping at `right`; returns the next y."""
    x = left - 8
    for col, label in entries:
        label = wrap(label, right - left - 24, 9.5, 1)[0]
        width = 22 + text_width(label, 9.5) + 16
        if x > left and x + width > right + 16:
            x, y = left - 8, y + LANE_H
        body.append(f'<g class="ev-source"><title>{esc(f"{col.number}. {col.title}")}</title>')
        body.append(_badge(x + 8.5, y + 8.5, col.number))
        body.append(text(x + 22, y + 11.9, label, 9.5, "ev-ink"))
        body.append("</g>")
        x += width
    return y + LANE_H + 8


def _vline(x: float, y1: float, y2: float, colour: str, cls: str) -> str:
    return tag(
        "line",
        x1=float(x),
        x2=float(x),
        y1=float(y1),
        y2=float(y2),
        stroke=colour,
        stroke_width=0.75,
        class_=cls,
    )


def timeline_description(line: Timeline) -> str:
    parts = []
    if line.dated:
        parts.append(
            "Published, in order: "
            + "; ".join(f"{c.label}, {short_date(c.date)}" for c in line.dated)
            + "."
        )
    else:
        parts.append("None of the sources gives a publication date.")
    if line.undated:
        parts.append("Undated: " + "; ".join(c.label for c in line.undated) + ".")
    return " ".join(parts)


# --- the template context --------------------------------------------------------------------


def evidence_context(outline: Outline, citations: Citations) -> dict:
    """The `evidence` variable of the templates (documented in the README)."""
    emap = evidence_map(outline, citations)
    line = timeline(emap.columns)
    palette = palette_of(outline)
    whole = emap.total

    def entry(col: Column, count: int | None = None) -> dict:
        return {
            "id": col.id,
            "number": col.number,
            "label": col.label,
            "title": col.title,
            "date": col.date,
            **({} if count is None else {"count": count, "share": _share(count, whole)}),
        }

    outlets: dict[str, int] = {}
    for col, count in zip(emap.columns, emap.column_totals, strict=True):
        outlets[col.label] = outlets.get(col.label, 0) + count
    top = max(outlets.items(), key=lambda kv: kv[1], default=None)
    return {
        "map": map_svg(emap, palette),
        "timeline": timeline_svg(line, palette),
        "sources": [entry(c, n) for c, n in zip(emap.columns, emap.column_totals, strict=True)],
        "rows": [
            {
                "id": r.id,
                "number": r.number,
                "title": r.title,
                "total": r.total,
                "cells": [
                    {"quotes": c.quotes, "citations": c.citations, "total": c.total}
                    for c in r.cells
                ],
            }
            for r in emap.rows
        ],
        "total": whole,
        "leading": {"label": top[0], "count": top[1], "share": _share(top[1], whole)}
        if top and whole
        else None,
        "dated": [entry(c) for c in line.dated],
        "undated": [entry(c) for c in line.undated],
    }
