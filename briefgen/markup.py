"""Editor's Markdown to safe HTML, with citations swapped for note calls after sanitising.

Content is untrusted: Markdown may carry raw HTML, so the HTML is cleaned with an allow-list
(nh3) before it is marked safe. Citations are replaced by inert tokens before Markdown runs and
by briefgen's own note markup after cleaning, so the sanitiser never sees (or strips) our markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import markdown
import nh3
from markupsafe import Markup

from .citations import find_citations

ALLOWED_TAGS = {
    "p",
    "em",
    "strong",
    "b",
    "i",
    "a",
    "ul",
    "ol",
    "li",
    "code",
    "br",
    "sup",
    "sub",
    "blockquote",
    "span",
    "abbr",
    "q",
    "cite",
    "small",
    "s",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "span": {"lang", "dir"},
    "q": {"lang", "dir"},
    "p": {"lang", "dir"},
}
_TOKEN = re.compile("\ue000(\\d+)\ue001")
_md = markdown.Markdown(extensions=["sane_lists"], output_format="html")


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def render_markdown(text: str, cite: Callable[[int], str], inline: bool = False) -> Markup:
    """Safe HTML for `text`; `cite(k)` gives the HTML for its k-th citation (0-based)."""
    matches = find_citations(text)
    pieces, last = [], 0
    for index, (match, _refs) in enumerate(matches):
        pieces.append(text[last : match.start()].rstrip())
        pieces.append(f"\ue000{index}\ue001")
        last = match.end()
    pieces.append(text[last:])
    _md.reset()
    html = sanitize(_md.convert("".join(pieces)))
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(_TOKEN.sub(lambda m: cite(int(m.group(1))), html))
