"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright.

No browser is ever downloaded (never `playwright install`): the tests use the system Chromium
that `scripts/setup.sh --test` installs. Without it a local run skips the browser tests with a
reason; in CI (CI=true) a missing browser is a failure, so a broken set-up cannot pass as green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_chromium() -> None:
    """Skip (locally) or fail (in CI) when the browser or Playwright is missing."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (run `bash scripts/setup.sh --test` to install it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright is not installed (pip install -e '.[test]')"
    if problem:
        if in_ci():
            pytest.fail(f"browser tests cannot run in CI: {problem}", pytrace=False)
        pytest.skip(problem)


@contextmanager
def chromium() -> Iterator[object]:
    """A Playwright Browser running Debian's Chromium headless, closed afterwards."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
