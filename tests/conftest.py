"""Layered fixtures: a tiny project written in tmp_path, and the example brief built once.

Also the run's rules: no network (every test fails on an attempt to reach a non-loopback address,
in this process or in a Python subprocess: see tests/netguard/), and `slow` tests only when
selected (`-m slow`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NETGUARD = Path(__file__).resolve().parent / "netguard"
sys.path.insert(0, str(NETGUARD))
import briefgen_netguard  # noqa: E402

# -- no network ------------------------------------------------------------------------------------


def pytest_configure(config) -> None:
    """Block the network here and, through PYTHONPATH's sitecustomize, in Python subprocesses."""
    briefgen_netguard.install()
    folder = tempfile.mkdtemp(prefix="briefgen-netguard-")
    config._netguard_folder = folder
    os.environ[briefgen_netguard.LOG_VARIABLE] = os.path.join(folder, "attempts.log")
    path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(NETGUARD), path) if p)


def pytest_unconfigure(config) -> None:
    folder = getattr(config, "_netguard_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


class NetworkAttempts:
    """The attempts to reach the network made since a test began, here and in subprocesses."""

    def __init__(self) -> None:
        self.expected = False
        self._log = self._log_size()

    @staticmethod
    def _log_path() -> Path:
        return Path(os.environ[briefgen_netguard.LOG_VARIABLE])

    def _log_size(self) -> int:
        try:
            return self._log_path().stat().st_size
        except OSError:
            return 0

    def __call__(self) -> list[str]:
        """One line per attempt, `pid<TAB>what` (every process logs to the same file)."""
        try:
            with self._log_path().open("rb") as log:
                log.seek(self._log)
                return log.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []


@pytest.fixture(autouse=True)
def _no_network(request):
    """Fail the test if it (or a subprocess) tried to reach the network, even if that error was
    caught; a test that provokes attempts on purpose asks for `network_attempts`."""
    attempts = NetworkAttempts()
    request.node._network_attempts = attempts
    yield
    if not attempts.expected and (found := attempts()):
        pytest.fail("network access attempted:\n  " + "\n  ".join(found), pytrace=False)


@pytest.fixture
def network_attempts(request, _no_network) -> NetworkAttempts:
    """Call it for the attempts so far; the test itself judges them."""
    attempts = request.node._network_attempts
    attempts.expected = True
    return attempts


# -- slow tests ------------------------------------------------------------------------------------


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked slow run only when the -m expression names them (`-m slow`)."""
    if "slow" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="slow: select it with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


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
