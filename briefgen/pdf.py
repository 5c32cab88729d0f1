"""The only place WeasyPrint is imported: HTML to PDF with a fetcher that stays in the project.

Importing WeasyPrint costs most of a second, so nothing imports this module unless a PDF must
actually be written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint  # noqa: E402  (kept below the cheap imports on purpose)
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from .errors import BriefgenError


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


def html_to_pdf(html: str, root: Path, metadata_date: str | None = None) -> bytes:
    """PDF bytes for `html`, resolving relative references against `root`."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    fetcher = ProjectFetcher(root)
    try:
        document = weasyprint.HTML(
            string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher
        ).render()
        return document.write_pdf()
    except FatalURLFetchingError as exc:
        cause = exc if isinstance(exc, RefusedResource) else (exc.__cause__ or exc)
        raise BriefgenError(f"PDF: {cause}") from None
