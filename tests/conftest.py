"""Layered fixtures: a tiny project written in tmp_path, and the example brief built once."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SOURCE_A = """\
---
title: "Lavrov in Baghdad"
publisher: "Example Post"
authors: ["Jane Roe"]
date: 2023-02-05
url: https://example.org/lavrov
---
Russia's Foreign Minister is in Iraq after an important trip.
The US does continue to partner with Iraq against ISIS.

Energy is the heart of the relationship, officials said.
"""

SOURCE_B = """\
---
title: "Energy ties"
publisher: "Example Review"
---
Three key projects are most important – Lukoil's investment in West Qurna-2.
"""

OUTLINE = """\
title: "Russia and Iraq"
subtitle: "A test brief"
series: Policy brief No. 9
date: 2026-11-22
authors:
  - name: Ann Editor
    affiliation: Example Forum
organization: Example Forum
distribution: Public
summary:
  - Lavrov went to Iraq [@lavrov].
sections:
  - id: history
    title: History
    content:
      - |
        The US partners with Iraq [@lavrov, p. 2].
      - excerpt:
          source: lavrov
          quote: >-
            The US does continue to partner with Iraq
            against ISIS.
      - key: Ties matter [@energy].
  - id: energy
    title: Energy
    content:
      - Three projects stand out [@energy; @lavrov].
      - excerpt:
          source: energy
          quote: Three key projects are most important - Lukoil's investment in West Qurna-2.
          note: The dash is typographic in the source.
"""


def write_project(
    root: Path, outline: str = OUTLINE, sources: dict[str, str] | None = None
) -> Path:
    """A project folder with the given outline text and {file name: text} sources."""
    (root / "content" / "sources").mkdir(parents=True, exist_ok=True)
    (root / "content" / "brief.yaml").write_text(textwrap.dedent(outline), encoding="utf-8")
    for name, text in (sources or {"lavrov.txt": SOURCE_A, "energy.txt": SOURCE_B}).items():
        (root / "content" / "sources" / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "brief")


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A private copy of the example brief shipped in content/."""
    root = tmp_path / "example"
    shutil.copytree(REPO / "content", root / "content")
    return root


@pytest.fixture(scope="session")
def built_example(tmp_path_factory) -> Path:
    """The example brief built once (HTML and PDF) for the output tests to read."""
    from briefgen.build import build

    root = tmp_path_factory.mktemp("built") / "example"
    shutil.copytree(REPO / "content", root / "content")
    build(root)
    return root
