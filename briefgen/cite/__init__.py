"""Citations the way researchers work: CSL styles, and bibliographic data from Zotero exports.

- `styles`: the shipped CSL styles and a project's own `.csl` file, validated;
- `bibdata`: CSL-JSON and BibTeX files, entry by entry, with positions for messages;
- `items`: sources as CSL items, and `ref:` in front matter resolved against the bibliography;
- `processor`: pandoc's citeproc formats the notes (or in-text citations) and the bibliography.

See docs/citations.md.
"""

from .items import csl_item, resolve_references, short_title
from .processor import Formatted, format_citations, plain_text
from .styles import STYLES, CitationStyle, default_style, resolve_style

__all__ = [
    "STYLES",
    "CitationStyle",
    "Formatted",
    "csl_item",
    "default_style",
    "format_citations",
    "plain_text",
    "resolve_references",
    "resolve_style",
    "short_title",
]
