"""Citation styles (CSL, through pandoc's citeproc) and bibliographic data (CSL-JSON, BibTeX).

Golden files: tests/golden/<style>.txt hold the example brief's notes (or in-text citations) and
its list of sources as each shipped style prints them, italics marked *like this*. When a change
of style, data or processor is meant, regenerate them and review the diff:

    BRIEFGEN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_csl.py -k golden
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import OUTLINE, REPO, SOURCE_A, write_project

from briefgen.build import build, verify
from briefgen.cite import STYLES, csl_item, format_citations, plain_text, processor, resolve_style
from briefgen.errors import Diagnostics
from briefgen.project import Project
from briefgen.render import build_context
from briefgen.sources import Source, SourceMeta

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BRIEFGEN_UPDATE_GOLDEN") == "1"


def style(name: str):
    diags = Diagnostics()
    found = resolve_style(name, (1, 1), REPO / "content" / "brief.yaml", REPO, diags)
    assert found is not None, diags
    return found


def src(sid: str, **meta) -> Source:
    return Source(sid, None, SourceMeta(**meta), "", "")


LEE = src(
    "lee",
    title="Russia and Iraq: Resilience amid Instability",
    publisher="Example Center",
    authors=("Ann Lee", "Bo Ng"),
    date="2024-03-02",
    url="https://example.org/lee",
    type="report",
)
POST = src("post", title="Could Russia move?", publisher="Example Post", type="article-newspaper")
ROE = src("roe", title="Lavrov in Baghdad", authors=("Jane Roe",), date="2023-02-05")
ITEMS = {s.id: csl_item(s) for s in (LEE, POST, ROE)}


def texts(style_name: str, notes) -> list[str]:
    done = format_citations(style(style_name), ITEMS, notes, None)
    return [plain_text(n) for n in done.notes]


# --- golden output of every shipped style on the example brief -------------------------------


def golden_text(name: str) -> str:
    report = verify(Project(REPO))
    assert report.verified is not None
    citations = dataclasses.replace(report.verified.citations, style=style(name), _formatted=[])
    done = citations.formatted()
    lines = [f"# {name}: {citations.style.title}"]
    lines.append("## citations in the text" if done.in_text else "## notes")
    lines += [f"{i}. {plain_text(html)}" for i, html in enumerate(done.notes, 1)]
    lines.append("## sources")
    lines += [plain_text(done.entries[sid]) for sid in done.order]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", sorted(STYLES))
def test_golden_example_notes_and_sources(name):
    path = GOLDEN / f"{name}.txt"
    text = golden_text(name)
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), "regenerate with BRIEFGEN_UPDATE_GOLDEN=1"


def test_goldens_cover_every_shipped_style():
    assert sorted(p.stem for p in GOLDEN.glob("*.txt")) == sorted(STYLES)


# --- positions: full, short, ibid. -----------------------------------------------------------


def test_chicago_full_then_short_never_ibid():
    assert texts(
        "chicago", [[("lee", None)], [("lee", None)], [("post", None)], [("lee", "p. 9")]]
    ) == [
        "Ann Lee and Bo Ng, *Russia and Iraq: Resilience Amid Instability* (Example Center, 2024), "
        "https://example.org/lee.",
        "Lee and Ng, *Russia and Iraq*.",
        "\u201cCould Russia Move?\u201d *Example Post*, n.d.",
        "Lee and Ng, *Russia and Iraq*, 9.",
    ]


def test_chicago_ibid_where_the_style_asks_for_it():
    notes = [[("lee", "p. 9")], [("lee", "p. 12")], [("lee", "p. 12")], [("lee", None)]]
    notes += [[("roe", None)], [("lee", None)]]
    assert texts("chicago-ibid", notes) == [
        "Ann Lee and Bo Ng, *Russia and Iraq: Resilience Amid Instability* (Example Center, 2024), "
        "9, https://example.org/lee.",
        "Ibid., 12.",
        "Ibid.",
        # no locator after one with a locator: not 'ibid.' (CSL's position rules), the short form
        "Lee and Ng, *Russia and Iraq*.",
        "Jane Roe, \u201cLavrov in Baghdad,\u201d February 5, 2023.",
        "Lee and Ng, *Russia and Iraq*.",
    ]


# --- locators --------------------------------------------------------------------------------


def test_locators_take_the_styles_label():
    notes = [[("lee", "p. 9")], [("lee", "pp. 3-4")], [("lee", "chap. 2")], [("lee", "9")]]
    assert texts("apa", notes) == [
        "(Lee & Ng, 2024, p. 9)",
        "(Lee & Ng, 2024, pp. 3\u20134)",
        "(Lee & Ng, 2024, Chapter 2)",
        "(Lee & Ng, 2024, p. 9)",  # a bare number is a page
    ]
    chicago = texts("chicago", notes)
    assert chicago[1:] == [
        "Lee and Ng, *Russia and Iraq*, 3\u20134.",
        "Lee and Ng, *Russia and Iraq*, chap. 2.",
        "Lee and Ng, *Russia and Iraq*, 9.",
    ]


def test_locator_text_is_not_markdown():
    assert texts("harvard", [[("roe", "p. *9*")]]) == ["(Roe, 2023, p. *9*)"]


# --- several sources in one citation ---------------------------------------------------------


def test_multi_cite_in_a_note_and_in_the_text():
    notes = [[("lee", None), ("roe", "p. 2")]]
    assert texts("chicago", notes) == [
        "Ann Lee and Bo Ng, *Russia and Iraq: Resilience Amid Instability* (Example Center, 2024), "
        "https://example.org/lee; Jane Roe, \u201cLavrov in Baghdad,\u201d February 5, 2023, 2."
    ]
    assert texts("harvard", notes) == ["(Roe, 2023, p. 2; Lee and Ng, 2024)"]
    assert texts("chicago-author-date", notes) == ["(Lee and Ng 2024; Roe 2023, 2)"]
    done = format_citations(style("apa"), ITEMS, notes, None)
    links = BeautifulSoup(done.notes[0], "html.parser").select("a.src-link")
    assert [a["href"] for a in links] == ["#src-lee", "#src-roe"]


def test_bibliography_in_the_styles_order_with_links():
    done = format_citations(
        style("apa"), ITEMS, [[("roe", None)], [("post", None), ("lee", None)]], None
    )
    assert done.order == ("post", "lee", "roe")
    assert [plain_text(done.entries[k]) for k in done.order] == [
        "Could Russia move? (n.d.). *Example Post*.",
        "Lee, A., & Ng, B. (2024). *Russia and Iraq: Resilience amid Instability*. Example Center. "
        "https://example.org/lee",
        "Roe, J. (2023, February 5). *Lavrov in Baghdad*.",
    ]
    assert '<a href="https://example.org/lee">' in done.entries["lee"]


# --- the brief: notes or in-text citations, always linked to the source list ----------------


def test_author_date_cites_in_the_text_and_links_the_source_list(tmp_path):
    root = write_project(tmp_path / "brief", OUTLINE + "citation_style: chicago-author-date\n")
    verified = verify(Project(root)).verified
    for medium in ("print", "screen"):
        context = build_context(verified, medium)
        assert context["notes"] == []
        call = context["sections"][1]["blocks"][0]["html"]
        assert call == (
            '<p>Three projects stand out <span class="cite" id="cite-5">(<a href="#src-energy" '
            'class="src-link">Example Review, n.d.</a>; <a href="#src-lavrov" '
            'class="src-link">Roe 2023</a>)</span>.</p>'
        )
        ids = {s["id"] for s in context["sources"]}
        assert ids == {"energy", "lavrov"}
    build(root)
    html = (root / "output" / "brief.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select("#notes") == [] and soup.select("sup.note-call") == []
    for link in soup.select("span.cite a.src-link"):
        assert soup.select_one(link["href"]) is not None
    print_html = (root / "output" / ".briefgen" / "print.html").read_text(encoding="utf-8")
    assert 'class="fn"' not in print_html


def test_notes_style_links_each_source_in_a_note(project):
    context = build_context(verify(Project(project)).verified, "print")
    call = context["sections"][1]["blocks"][0]["html"]
    soup = BeautifulSoup(call, "html.parser")
    assert [a["href"] for a in soup.select("span.fn a.src-link")] == ["#src-energy", "#src-lavrov"]


def test_a_csl_file_in_the_project(tmp_path):
    root = write_project(tmp_path / "brief", OUTLINE + "citation_style: styles/house.csl\n")
    (root / "content" / "styles").mkdir()
    harvard = (REPO / "briefgen" / "styles" / "harvard-cite-them-right.csl").read_text()
    (root / "content" / "styles" / "house.csl").write_text(harvard)
    context = build_context(verify(Project(root)).verified, "screen")
    assert plain_text(context["summary"][0]) == "Lavrov went to Iraq (Roe, 2023)."


def test_language_other_than_english_uses_its_locale(tmp_path):
    root = write_project(tmp_path / "brief", OUTLINE + "language: de\n")
    context = build_context(verify(Project(root)).verified, "print")
    assert [plain_text(s["html"]) for s in context["sources"]] == [
        "Example Review. \u201eEnergy ties\u201c.",
        "Roe, Jane. \u201eLavrov in Baghdad\u201c. Example Post, 5. Februar 2023. "
        "https://example.org/lavrov.",
    ]


# --- pandoc on pipes: no temp file for a killed build to leave behind ------------------------

#: A title with CSL-JSON's own markup (<i>), Markdown's, and characters that need care.
ODD = src(
    "odd",
    title="On <i>Pravda</i>, *stars*, _lines_ and “quotes” — ünïcødé $1 @x",
    publisher="Ex & Co",
)
ODD_NOTES = [[("odd", None)], [("lee", "p. 9")]]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """An empty temp folder of the test's own (for pandoc too), and no cached formatting."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    monkeypatch.setattr(processor, "_CACHE", {})
    return folder


def test_pandoc_reads_the_data_from_its_standard_input_and_leaves_no_file(private_tmp, monkeypatch):
    commands = []
    real_run = subprocess.run

    def run(command, **kwargs):
        commands.append((command, kwargs.get("input")))
        return real_run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    done = format_citations(style("chicago"), {**ITEMS, "odd": csl_item(ODD)}, ODD_NOTES, None)
    # CSL-JSON's markup is read as in a .json file: <i> is italics, Markdown's is plain text.
    assert [plain_text(n) for n in done.notes] == [
        "“On *Pravda*, *Stars*, _Lines_ and ‘Quotes’ — Ünïcødé $1 @x,” Ex & Co.",
        "Ann Lee and Bo Ng, *Russia and Iraq: Resilience Amid Instability* (Example Center, 2024), "
        "9, https://example.org/lee.",
    ]
    [(command, stdin)] = commands
    assert command[1:3] == ["--data-dir", str(processor.PANDOC_DATA_DIR)]
    assert not [arg for arg in command if arg.startswith("--bibliography")]
    assert stdin.startswith("---\nbibliography: 'data:application/json;base64,")
    assert list(private_tmp.iterdir()) == []


def test_pandocs_data_folder_holds_nothing_pandoc_reads():
    """Else pandoc would take a template, a translation or a style from it."""
    names = {p.name for p in processor.PANDOC_DATA_DIR.iterdir()}
    pandocs = {"templates", "translations", "csl", "defaults", "filters", "init.lua"}
    assert processor.PANDOC_DATA_DIR.is_dir() and not names & pandocs


def test_a_pandoc_too_old_for_a_data_url_gets_a_temp_file_removed_after(private_tmp, monkeypatch):
    items = {**ITEMS, "odd": csl_item(ODD)}
    wanted = format_citations(style("chicago"), items, ODD_NOTES, None)
    monkeypatch.setattr(processor, "_CACHE", {})
    real = processor.run_pandoc
    files = []

    def old_pandoc(args, stdin):
        if "bibliography: 'data:" in stdin:
            message = "Could not determine bibliography format for data:application/json\n"
            return subprocess.CompletedProcess(args, 64, "", message)
        [path] = [Path(a.split("=", 1)[1]) for a in args if a.startswith("--bibliography=")]
        assert path.is_file() and path.is_relative_to(private_tmp)
        files.append(path)
        return real(args, stdin)

    monkeypatch.setattr(processor, "run_pandoc", old_pandoc)
    assert format_citations(style("chicago"), items, ODD_NOTES, None) == wanted
    assert len(files) == 1
    assert list(private_tmp.iterdir()) == []


# --- bibliographic data: ref: to a BibTeX or CSL-JSON entry ----------------------------------

BIBTEX = """\
% Exported by Zotero
@report{mamedov2024,
  title = {Russia and {Iraq}: Resilience amid Regional Instability},
  author = {Mamedov, Ruslan and Lukyanov, Grigory},
  institution = {Evgeniy Primakov Center for International Cooperation},
  date = {2024-03-01},
  url = {https://example.org/primakov},
}

@misc{untitled,
  author = {Roe, Jane},
  year = {2020},
}
"""

CSL_JSON = """\
[
  {
    "id": "mamedov2024",
    "type": "report",
    "title": "Russia and Iraq: Resilience amid Regional Instability",
    "author": [{"family": "Mamedov", "given": "Ruslan"},
               {"family": "Lukyanov", "given": "Grigory"}],
    "publisher": "Evgeniy Primakov Center for International Cooperation",
    "issued": {"date-parts": [[2024, 3, 1]]},
    "URL": "https://example.org/primakov"
  },
  {
    "id": "untitled",
    "type": "document",
    "author": [{"family": "Roe", "given": "Jane"}]
  }
]
"""

ENERGY_REF = """\
---
ref: mamedov2024
accessed: 2026-11-20
---
Three key projects are most important – Lukoil's investment in West Qurna-2.
"""


def bib_project(
    tmp_path: Path, name: str, energy: str = ENERGY_REF, outline_extra: str = ""
) -> Path:
    data = BIBTEX if name.endswith(".bib") else CSL_JSON
    root = write_project(
        tmp_path / "brief",
        OUTLINE + f"bibliography: {name}\n" + outline_extra,
        sources={"lavrov.txt": SOURCE_A, "energy.txt": energy},
    )
    (root / "content" / name).write_text(data, encoding="utf-8")
    return root


def messages(root: Path) -> list[str]:
    return [d.format(root) for d in verify(Project(root)).diagnostics]


@pytest.mark.parametrize("name", ["refs.bib", "refs.json"])
def test_ref_takes_the_entrys_metadata(tmp_path, name):
    root = bib_project(tmp_path, name)
    report = verify(Project(root))
    assert report.diagnostics == []
    meta = report.verified.sources["energy"].meta
    assert (
        meta.title.casefold() == "Russia and Iraq: Resilience amid Regional Instability".casefold()
    )
    assert meta.authors == ("Ruslan Mamedov", "Grigory Lukyanov")
    assert (meta.date, meta.url, meta.accessed) == (
        "2024-03-01",
        "https://example.org/primakov",
        "2026-11-20",
    )
    context = build_context(report.verified, "print")
    entries = {s["id"]: plain_text(s["html"]) for s in context["sources"]}
    assert entries["energy"] == (
        "Mamedov, Ruslan, and Grigory Lukyanov. *Russia and Iraq: Resilience Amid Regional "
        "Instability*. Evgeniy Primakov Center for International Cooperation, 2024. "
        "https://example.org/primakov."
    )
    build(root, pdf=False)
    assert "Mamedov and Lukyanov" in (root / "output" / "brief.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["refs.bib", "refs.json"])
def test_front_matter_that_agrees_with_the_entry_is_fine(tmp_path, name):
    energy = ENERGY_REF.replace(
        "ref: mamedov2024\n",
        'ref: mamedov2024\ntitle: "Russia and Iraq: resilience amid regional  instability"\n'
        'authors: ["Ruslan Mamedov", "Grigory Lukyanov"]\ndate: 2024-03-01\n',
    )
    assert messages(bib_project(tmp_path, name, energy)) == []


@pytest.mark.parametrize(
    ("name", "line"), [("refs.bib", "content/refs.bib:3:3"), ("refs.json", "content/refs.json:5:5")]
)
def test_contradicting_title_names_both_places(tmp_path, name, line):
    energy = ENERGY_REF.replace(
        "ref: mamedov2024\n", 'ref: mamedov2024\ntitle: "Russia and Iran"\n'
    )
    entry_title = (
        "Russia and Iraq: Resilience amid regional instability"  # pandoc's sentence case
        if name.endswith(".bib")
        else "Russia and Iraq: Resilience amid Regional Instability"
    )
    assert messages(bib_project(tmp_path, name, energy)) == [
        f"content/sources/energy.txt:3:8: error: title 'Russia and Iran' differs from the "
        f"bibliography entry 'mamedov2024' ({line}): '{entry_title}'; remove it here to use the "
        "entry's, or correct one of them"
    ]


def test_contradicting_authors_and_date(tmp_path):
    energy = ENERGY_REF.replace(
        "ref: mamedov2024\n", 'ref: mamedov2024\nauthors: ["Ruslan Mamedov"]\ndate: 2023-03-01\n'
    )
    assert messages(bib_project(tmp_path, "refs.bib", energy)) == [
        "content/sources/energy.txt:3:10: error: authors 'Ruslan Mamedov' differ from the "
        "bibliography entry 'mamedov2024' (content/refs.bib:4:3): 'Ruslan Mamedov, Grigory "
        "Lukyanov'; remove it here to use the entry's, or correct one of them",
        "content/sources/energy.txt:4:7: error: date '2023-03-01' differs from the bibliography "
        "entry 'mamedov2024' (content/refs.bib:6:3): '2024-03-01'; remove it here to use the "
        "entry's, or correct one of them",
    ]


@pytest.mark.parametrize("name", ["refs.bib", "refs.json"])
def test_unknown_ref_suggests_close_keys(tmp_path, name):
    energy = ENERGY_REF.replace("mamedov2024", "mamedov2025")
    assert messages(bib_project(tmp_path, name, energy)) == [
        f"content/sources/energy.txt:2:6: error: no entry 'mamedov2025' in content/{name} "
        "(did you mean 'mamedov2024'?)"
    ]


@pytest.mark.parametrize(
    ("name", "line"),
    [("refs.bib", "content/refs.bib:10:1"), ("refs.json", "content/refs.json:12:3")],
)
def test_entry_without_a_title(tmp_path, name, line):
    energy = ENERGY_REF.replace("mamedov2024", "untitled")
    assert messages(bib_project(tmp_path, name, energy)) == [
        f"{line}: error: bibliography entry 'untitled' has no title (used by source 'energy'); "
        "add one to the entry or 'title:' to the source's front matter"
    ]
    # The source's own title is enough.
    titled = energy.replace("ref: untitled\n", 'ref: untitled\ntitle: "Notes on Iraq"\n')
    assert messages(bib_project(tmp_path, name, titled)) == []


def test_ref_without_a_bibliography(tmp_path):
    root = write_project(
        tmp_path / "brief", sources={"lavrov.txt": SOURCE_A, "energy.txt": ENERGY_REF}
    )
    assert messages(root) == [
        "content/sources/energy.txt:2:6: error: 'ref: mamedov2024' needs a bibliography: name the "
        "file in the outline (bibliography: refs.bib, or a CSL-JSON refs.json)"
    ]


def test_without_ref_the_title_is_still_required(tmp_path):
    root = write_project(
        tmp_path / "brief",
        sources={"lavrov.txt": SOURCE_A, "energy.txt": "---\npublisher: X\n---\nThree key.\n"},
    )
    assert (
        "content/sources/energy.txt:2:1: error: the source's front matter is missing the "
        "required key 'title'" in messages(root)
    )


def test_broken_bibliography_files(tmp_path):
    root = bib_project(tmp_path, "refs.bib")
    bib = root / "content" / "refs.bib"
    bib.write_text("@report{a,\n  title = {Unclosed,\n  year = 2024,\n}\n")
    assert messages(root) == ["content/refs.bib:5:1: error: BibTeX: unexpected end of input"]
    bib.write_text(BIBTEX + "\n@misc{mamedov2024, title = {Again}}\n")
    assert messages(root) == [
        "content/refs.bib:15:1: error: duplicate entry key 'mamedov2024' (first on line 2); "
        "keys must be unique"
    ]
    root = bib_project(tmp_path / "j", "refs.json")
    data = root / "content" / "refs.json"
    data.write_text('[\n  {"id": "a", "title": "A"}\n  {"id": "b"}\n]\n')
    assert messages(root) == [
        "content/refs.json:3:3: error: not valid JSON: Expecting ',' delimiter"
    ]
    data.write_text('[\n  {"id": "a", "title": "A"},\n  {"title": "B"}\n]\n')
    assert 'content/refs.json:3:3: error: this CSL-JSON entry has no "id" (its citation key)' in (
        messages(root)
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "nothere.bib",
            "bibliography file 'nothere.bib' not found (paths are relative to content/)",
        ),
        (
            "../../refs.bib",
            "bibliography '../../refs.bib' is outside the project; copy it into content/",
        ),
        (
            "refs.txt",
            "bibliography 'refs.txt' must be CSL-JSON (.json) or BibTeX (.bib), as Zotero exports",
        ),
    ],
)
def test_bibliography_paths(tmp_path, value, message):
    root = write_project(tmp_path / "brief", OUTLINE + f"bibliography: {value}\n")
    line = OUTLINE.count("\n") + 1
    assert messages(root) == [f"content/brief.yaml:{line}:15: error: {message}"]


def test_unknown_source_type_suggests(tmp_path):
    energy = "---\ntitle: Energy\ntype: reprot\n---\nThree key.\n"
    root = write_project(tmp_path / "brief", sources={"lavrov.txt": SOURCE_A, "energy.txt": energy})
    assert messages(root)[0] == (
        "content/sources/energy.txt:3:7: error: unknown source type 'reprot' "
        "(did you mean 'report' or 'post'?)"
    )


# --- citation_style: errors ------------------------------------------------------------------

DEPENDENT = (
    '<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0"><info>'
    '<title>Dep</title><link href="http://www.zotero.org/styles/apa" rel="independent-parent"/>'
    "</info></style>"
)


@pytest.mark.parametrize(
    ("value", "file", "expected"),
    [
        (
            "chicagoo",
            None,
            "content/brief.yaml:{line}:17: error: unknown citation style 'chicagoo' (did you mean "
            "'chicago' or 'chicago-ibid'?); or give the path of a .csl file in the project, e.g. "
            "'styles/house.csl'",
        ),
        (
            "styles/none.csl",
            None,
            "content/brief.yaml:{line}:17: error: citation style file 'styles/none.csl' not found "
            "(paths are relative to content/)",
        ),
        (
            "../../x.csl",
            None,
            "content/brief.yaml:{line}:17: error: citation style '../../x.csl' is outside the "
            "project; copy the .csl file into it",
        ),
        (
            "styles/bad.csl",
            '<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl">\n<info>\n</style>\n',
            "content/styles/bad.csl:4:3: error: not a CSL style: the XML is malformed "
            "(mismatched tag)",
        ),
        (
            "styles/bad.csl",
            "<html/>",
            "content/styles/bad.csl:1:1: error: not a CSL style: the root element must be <style "
            'xmlns="http://purl.org/net/xbiblio/csl">',
        ),
        (
            "styles/bad.csl",
            DEPENDENT,
            "content/styles/bad.csl:1:1: error: 'Dep' is a dependent CSL style: it only points to "
            "its parent style (http://www.zotero.org/styles/apa); use the parent's .csl file "
            "instead",
        ),
        (
            "styles/bad.csl",
            '<style xmlns="http://purl.org/net/xbiblio/csl" class="note"><citation/></style>',
            "content/styles/bad.csl:1:1: error: CSL style 'bad' has no <bibliography> element; "
            "briefgen needs one (notes or in-text citations, and the list of sources)",
        ),
    ],
)
def test_citation_style_errors(tmp_path, value, file, expected):
    root = write_project(tmp_path / "brief", OUTLINE + f"citation_style: {value}\n")
    if file is not None:
        (root / "content" / "styles").mkdir()
        (root / "content" / "styles" / "bad.csl").write_text(file)
    line = OUTLINE.count("\n") + 1
    assert messages(root) == [expected.format(line=line)]


def test_cli_exit_code_and_error_line(tmp_path):
    root = bib_project(tmp_path, "refs.bib", ENERGY_REF.replace("mamedov2024", "mamedov"))
    result = subprocess.run(
        [sys.executable, "-m", "briefgen", "check"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "content/sources/energy.txt:2:6: error: no entry 'mamedov' in content/refs.bib "
        "(did you mean 'mamedov2024'?)"
    ]
