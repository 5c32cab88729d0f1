"""Citation styles: the CSL files briefgen ships, and a project's own `.csl` file, validated.

The outline's `citation_style:` is a name from `STYLES` (or the file stem of a shipped style) or
the path of a `.csl` file inside the project, relative to `content/`. Default: Chicago notes and
bibliography. A style is checked before any formatting: well-formed XML, a CSL `<style>` root
with `class="note"` or `"in-text"`, a `<citation>` and a `<bibliography>`, and not a dependent
style (those only name a parent style and format nothing themselves).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostics
from ..schema import suggest

STYLE_DIR = Path(__file__).resolve().parent.parent / "styles"
CSL_NS = "{http://purl.org/net/xbiblio/csl}"

#: Names an outline may give, and the shipped file each one means.
STYLES = {
    "chicago": "chicago-notes-bibliography",
    "chicago-ibid": "chicago-notes-bibliography-subsequent-ibid",
    "chicago-author-date": "chicago-author-date",
    "apa": "apa",
    "harvard": "harvard-cite-them-right",
}
DEFAULT_STYLE = "chicago"


@dataclass(frozen=True)
class CitationStyle:
    """A validated CSL style."""

    name: str  # as the outline gives it ('chicago', 'styles/house.csl')
    path: Path
    title: str
    in_text: bool  # class="in-text": citations print in the text, not as notes
    digest: str  # sha256 of the file, for caching formatted output
    default_locale: str | None = None
    punctuation_in_quote: dict = field(default_factory=dict, compare=False, hash=False)

    def puts_punctuation_in_quotes(self, lang: str | None) -> bool:
        """Whether a period or comma after a closing quotation mark moves inside it (US usage)."""
        lang = lang or self.default_locale or "en-US"
        for key in (lang, lang.split("-")[0], ""):
            if key in self.punctuation_in_quote:
                return self.punctuation_in_quote[key]
        return lang in ("en", "en-US")


def shipped_styles() -> dict[str, Path]:
    """Every name `citation_style:` accepts for a shipped style -> its file."""
    found = {path.stem: path for path in sorted(STYLE_DIR.glob("*.csl"))}
    found.update({name: STYLE_DIR / f"{stem}.csl" for name, stem in STYLES.items()})
    return found


def default_style() -> CitationStyle:
    style = load_style(STYLE_DIR / f"{STYLES[DEFAULT_STYLE]}.csl", DEFAULT_STYLE)
    assert isinstance(style, CitationStyle), style
    return style


def resolve_style(
    value: str | None,
    at: tuple[int, int],
    outline_path: Path,
    root: Path,
    diags: Diagnostics,
) -> CitationStyle | None:
    """The style the outline names (None, with an error at `at`, if it is unusable)."""
    if not value:
        return default_style()
    if not value.lower().endswith(".csl") and "/" not in value and "\\" not in value:
        known = shipped_styles()
        if value in known:
            style = load_style(known[value], value)
            assert isinstance(style, CitationStyle), style
            return style
        diags.error(
            outline_path,
            *at,
            f"unknown citation style '{value}'{suggest(value, STYLES, 'shipped styles')}; "
            "or give the path of a .csl file in the project, e.g. 'styles/house.csl'",
        )
        return None
    path = (outline_path.parent / value).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        diags.error(
            outline_path,
            *at,
            f"citation style '{value}' is outside the project; copy the .csl file into it",
        )
        return None
    if not path.is_file():
        diags.error(
            outline_path,
            *at,
            f"citation style file '{value}' not found (paths are relative to content/)",
        )
        return None
    style = load_style(path, value)
    if isinstance(style, CitationStyle):
        return style
    line, col, message = style
    diags.error(path, line, col, message)
    return None


def load_style(path: Path, name: str) -> CitationStyle | tuple[int, int, str]:
    """The style in `path`, or (line, col, message) saying why it is not a usable CSL style."""
    data = path.read_bytes()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, col = exc.position
        return line, col + 1, f"not a CSL style: the XML is malformed ({_xml_reason(exc)})"
    if root.tag != f"{CSL_NS}style":
        return (
            1,
            1,
            (
                "not a CSL style: the root element must be <style "
                'xmlns="http://purl.org/net/xbiblio/csl">'
            ),
        )
    title = (root.findtext(f"{CSL_NS}info/{CSL_NS}title") or path.stem).strip()
    for link in root.iter(f"{CSL_NS}link"):
        if link.get("rel") == "independent-parent":
            return (
                1,
                1,
                (
                    f"'{title}' is a dependent CSL style: it only points to its parent style "
                    f"({link.get('href')}); use the parent's .csl file instead"
                ),
            )
    kind = root.get("class")
    if kind not in ("note", "in-text"):
        return 1, 1, f"not a usable CSL style: class must be 'note' or 'in-text', not {kind!r}"
    for part in ("citation", "bibliography"):
        if root.find(f"{CSL_NS}{part}") is None:
            return (
                1,
                1,
                (
                    f"CSL style '{title}' has no <{part}> element; briefgen needs one "
                    "(notes or in-text citations, and the list of sources)"
                ),
            )
    in_quote = {}
    for locale in root.findall(f"{CSL_NS}locale"):
        options = locale.find(f"{CSL_NS}style-options")
        if options is not None and options.get("punctuation-in-quote") is not None:
            lang = locale.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
            in_quote[lang] = options.get("punctuation-in-quote") == "true"
    return CitationStyle(
        name,
        path,
        title,
        kind == "in-text",
        hashlib.sha256(data).hexdigest(),
        root.get("default-locale"),
        in_quote,
    )


def _xml_reason(exc: ET.ParseError) -> str:
    return str(exc).split(":", 1)[0]
