"""Editor's Markdown to safe HTML, with citations swapped for note calls after sanitising.

Content is untrusted: Markdown may carry raw HTML, so the HTML is cleaned with an allow-list
(nh3) before it is marked safe. No image, frame, object or style survives, and a link keeps its
address only when it is an http(s) or mailto: address or a '#' link within the brief: a relative
path or a `file:`/`javascript:` address is dropped (the link text stays). Citations are replaced
by inert tokens before Markdown runs and by briefgen's own note markup after cleaning, so the
sanitiser never sees (or strips) our markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import markdown
import nh3
from markupsafe import Markup, escape

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
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:")
_md = markdown.Markdown(extensions=["sane_lists"], output_format="html")


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    """An `href` stays only if absolute (nh3 then checks its scheme) or a '#' link."""
    if attribute == "href" and not (value.startswith("#") or _SCHEME.match(value)):
        return None
    return value


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
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
    try:
        html = sanitize(_md.convert("".join(pieces)))
    except RecursionError:  # lists nested hundreds deep: print the text as it is, escaped
        _md.reset()
        html = f"<p>{escape(''.join(pieces))}</p>"
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(_TOKEN.sub(lambda m: cite(int(m.group(1))), html))
