"""The only place WeasyPrint is imported: HTML to PDF with a fetcher that stays in the project.

Importing WeasyPrint costs most of a second, so nothing imports this module unless a PDF must
actually be written.

The PDF is reproducible: the same HTML gives the same bytes. Its dates come from the brief's
`date` (or from `SOURCE_DATE_EPOCH` when that is set), never from the clock, and its file
identifier is a digest of its content. Text direction: WeasyPrint 70 ignores `dir="auto"` and
`unicode-bidi`, so `dir="auto"` is resolved here, before layout, as a browser would (the first
strong character decides), and a page-foot note keeps the document's direction wherever its call
stands.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint  # noqa: E402  (kept below the cheap imports on purpose)
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from .errors import BriefgenError

#: The PDF variants a build can ask for (`briefgen build --pdf-variant`), and what each is for.
VARIANTS = {
    "pdf/a-3b": "archival (PDF/A-3b): fonts embedded, sRGB output intent, XMP identification",
    "pdf/ua-1": "accessible (PDF/UA-1): tagged structure, document language, title shown",
}


class RefusedResource(FatalURLFetchingError):
    """A resource outside the project, or on the network: the build stops and says which."""


class ProjectFetcher(URLFetcher):
    """Serves `data:` URLs and files inside `root`; refuses everything else, loudly."""

    def __init__(self, root: Path):
        super().__init__(
            allowed_protocols={"file", "data"}, allow_redirects=False, fail_on_errors=True
        )
        self.root = root.resolve()

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedResource(
                f"refused to fetch '{url}': a build never uses the network; "
                "put the file inside the project and refer to it by path"
            )
        path = Path(unquote(urlsplit(url).path))
        try:
            resolved = path.resolve(strict=True)
            resolved.relative_to(self.root)
        except (OSError, ValueError, RuntimeError):
            raise RefusedResource(
                f"refused to read '{path}': only files inside the project can be used"
            ) from None
        if not resolved.is_file():
            raise RefusedResource(f"refused to read '{path}': not a regular file")
        return super().fetch(resolved.as_uri(), headers)


def pdf_date(brief_date: str | None, environ=os.environ) -> str | None:
    """The PDF's creation and modification date, as a W3C date-time in UTC, or None.

    `SOURCE_DATE_EPOCH` (seconds since 1970, https://reproducible-builds.org/specs/
    source-date-epoch/) wins when set; otherwise the brief's `date` at 00:00 UTC; otherwise the
    PDF has no dates at all. Never the clock, so that a rebuild gives the same bytes.
    """
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip():
        try:
            moment = datetime.fromtimestamp(int(epoch.strip()), UTC)
        except (ValueError, OverflowError, OSError):
            raise BriefgenError(
                f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not {epoch!r}"
            ) from None
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if brief_date:
        return f"{brief_date}T00:00:00Z"
    return None


def html_to_pdf(
    html: str, root: Path, *, date: str | None = None, variant: str | None = None
) -> bytes:
    """PDF bytes for `html`, resolving relative references against `root`.

    `date` is the brief's date (YYYY-MM-DD); `variant` one of `VARIANTS` or None (a plain PDF).
    """
    if variant is not None and variant not in VARIANTS:
        raise BriefgenError(f"unknown PDF variant '{variant}'; choose one of {', '.join(VARIANTS)}")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    when = pdf_date(date)
    fetcher = ProjectFetcher(root)
    try:
        page = weasyprint.HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher)
        resolve_directions(page.etree_element)
        document = page.render()
        metadata = document.metadata
        # The HTML's <meta name="dcterms.created"> gives a date only; both dates, to the second.
        metadata.created = metadata.modified = when
        if variant is not None and len(metadata.authors) > 1:
            # PDF/A: the Info dictionary's /Author must equal the one entry of XMP dc:creator.
            metadata.authors = [", ".join(metadata.authors)]
        return document.write_pdf(pdf_variant=variant, pdf_identifier=True)
    except FatalURLFetchingError as exc:
        cause = exc if isinstance(exc, RefusedResource) else (exc.__cause__ or exc)
        raise BriefgenError(f"PDF: {cause}") from None
    except MemoryError:
        raise  # reported by the caller's limits (limits.py)
    except Exception as exc:
        # A crash inside WeasyPrint: a message, not a traceback (which stays chained for
        # programs that call this); the build writes nothing, as for any other error.
        raise BriefgenError(f"PDF: WeasyPrint failed: {type(exc).__name__}: {exc}") from exc


# --- text direction ---------------------------------------------------------------------------

_SKIP = {"script", "style", "textarea", "bdi"}
_STRONG = {"L": "ltr", "R": "rtl", "AL": "rtl"}


def _first_strong(element, top: bool = True) -> str | None:
    """'ltr' or 'rtl' from the first strong character of `element`'s text, as HTML's dir=auto.

    Descendants with a `dir` of their own, and bdi/script/style/textarea, do not count.
    """
    if not top and (element.get("dir") or str(element.tag).lower() in _SKIP):
        return None
    for char in element.text or "":
        if (direction := _STRONG.get(unicodedata.bidirectional(char))) is not None:
            return direction
    for child in element:
        if isinstance(child.tag, str) and (direction := _first_strong(child, False)) is not None:
            return direction
        for char in child.tail or "":
            if (direction := _STRONG.get(unicodedata.bidirectional(char))) is not None:
                return direction
    return None


def resolve_directions(html_root) -> None:
    """Turn every `dir="auto"` into `ltr` or `rtl`, and keep page-foot notes in the page's.

    A note (`span.fn`) is moved to the foot of the page, so it takes the document's direction,
    not that of the paragraph that calls it.
    """
    page_direction = (html_root.get("dir") or "ltr").lower()
    if page_direction not in ("ltr", "rtl"):
        page_direction = _first_strong(html_root) or "ltr"

    def walk(element, inherited: str) -> None:
        own = (element.get("dir") or "").lower()
        if own == "auto":
            own = _first_strong(element) or "ltr"
            element.set("dir", own)
        elif own not in ("ltr", "rtl"):
            own = inherited
        if "fn" in (element.get("class") or "").split() and own != page_direction:
            element.set("dir", page_direction)
            own = page_direction
        for child in element:
            if isinstance(child.tag, str):
                walk(child, own)

    walk(html_root, page_direction)
