"""`briefgen add`: saved web pages and PDFs become faithful sources that quotes verify against."""

from __future__ import annotations

import datetime as dt
import os
import socket
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_project

from briefgen.build import check
from briefgen.cli import main
from briefgen.errors import BriefgenError, Diagnostics, UsageError
from briefgen.importer import (
    _looks_like_code,
    _split_authors,
    add_source,
    derive_id,
    import_file,
    parse_date,
)
from briefgen.sources import read_source

FIXTURES = Path(__file__).parent / "fixtures" / "add"
REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 20)

BRIEF = """\
title: "Imported sources"
sections:
  - id: imported
    title: Imported
    content:
      - Placeholder prose.
"""


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Importing reads the local file only: any attempt to reach the network fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"briefgen add tried to use the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def brief(tmp_path: Path) -> Path:
    """An empty project: an outline, and a sources folder with nothing in it."""
    root = write_project(tmp_path / "brief", outline=BRIEF)
    for path in (root / "content" / "sources").iterdir():
        path.unlink()
    return root


def split(text: str) -> tuple[str, list[str]]:
    """(front matter with its --- lines, body paragraphs)."""
    assert text.startswith("---\n")
    end = text.index("\n---\n", 4) + len("\n---\n")
    return text[:end], text[end:].rstrip("\n").split("\n\n")


def outline_with(excerpts: list[tuple[str, str]]) -> str:
    blocks = "".join(
        f"      - excerpt:\n          source: {source}\n          quote: >-\n"
        + textwrap.indent(textwrap.fill(quote, 70), " " * 12)
        + "\n"
        for source, quote in excerpts
    )
    return BRIEF.replace("      - Placeholder prose.\n", blocks)


def statuses(root: Path, excerpts: list[tuple[str, str]]) -> list[str]:
    (root / "content" / "brief.yaml").write_text(outline_with(excerpts), encoding="utf-8")
    report = check(root)
    assert not report.diagnostics.errors, [d.format() for d in report.diagnostics]
    return [e.anchor.status for e in report.excerpts]


# --- a saved news article ----------------------------------------------------------------------

NEWS_BOILERPLATE = [
    # navigation, header, breaking-news ticker, breadcrumbs, share buttons
    "Israel News",
    "Business & Innovation",
    "Subscribe to Premium",
    "Breaking News",
    "Knesset committee",
    "Share on Facebook",
    # cookie banner
    "cookies",
    "Accept all cookies",
    "Manage preferences",
    # in-article ad and related links
    "Advertisement",
    "Related Articles",
    "Iraq’s oil exports hit record high",
    # promos, newsletter, most read, footer
    "Jerusalem Post Store",
    "Stay updated",
    "Most Read",
    "Hezbollah chief",
    "All rights reserved",
    "Terms of Use",
    # script code and styles
    "googletag",
    "gtag",
    "dataLayer",
    "acceptCookies",
    "function",
    "{",
    "cookie-banner",
]


def test_news_article_front_matter_is_exact(brief):
    result = add_source(FIXTURES / "news-article.html", brief, today=TODAY)
    assert result.id == "jpost-2023-russia-lavrov-doing"
    assert result.path == brief / "content" / "sources" / "jpost-2023-russia-lavrov-doing.txt"
    front, _ = split(result.path.read_text(encoding="utf-8"))
    assert front == (
        "---\n"
        "title: What is Russia’s Lavrov doing in Iraq? - analysis\n"
        "publisher: The Jerusalem Post\n"
        "authors:\n"
        "- Seth J. Frantzman\n"
        "date: '2023-02-05'\n"
        "url: https://www.jpost.com/middle-east/article-730562\n"
        "accessed: '2026-11-20'\n"
        "---\n"
    )
    assert result.imported.found == {
        "title": "JSON-LD headline",
        "publisher": "JSON-LD publisher",
        "authors": "JSON-LD author",
        "date": "JSON-LD datePublished",
        "url": "<link rel=canonical>",
        "accessed": "today",
    }
    assert result.imported.notes == []
    source = read_source(result.path, Diagnostics())
    assert source is not None
    assert source.meta.title == "What is Russia’s Lavrov doing in Iraq? - analysis"
    assert source.meta.authors == ("Seth J. Frantzman",)
    assert (source.meta.date, source.meta.accessed) == ("2023-02-05", "2026-11-20")


def test_news_article_body_is_every_paragraph_verbatim_and_nothing_else(brief):
    result = add_source(FIXTURES / "news-article.html", brief, today=TODAY)
    _, paragraphs = split(result.path.read_text(encoding="utf-8"))
    expected = (FIXTURES / "news-article.paragraphs.txt").read_text(encoding="utf-8").splitlines()
    # the headline is the title; the article body (subheads included) is the text, one
    # paragraph per block, each exactly as on the page, separated by blank lines
    assert paragraphs == expected[2:]
    text = result.path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    for junk in NEWS_BOILERPLATE:
        assert junk not in text, junk


def test_the_stored_text_is_what_quotes_are_checked_against(brief):
    """A .txt body is read as written: no Markdown or HTML reduction changes a character."""
    result = add_source(FIXTURES / "news-article.html", brief, today=TODAY)
    source = read_source(result.path, Diagnostics())
    assert source is not None
    assert source.text == result.imported.text
    assert result.path.suffix == ".txt"
    mask = os.umask(0)
    os.umask(mask)
    assert result.path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in result.path.parent.iterdir()] == [result.path.name]  # no temp left


def test_a_file_that_appears_meanwhile_is_not_overwritten(brief, monkeypatch):
    """The id is checked first; the file is then linked into place, which fails if it exists."""
    target = brief / "content" / "sources" / "late.txt"
    real_link = os.link

    def link_after_someone_else(src, dst):
        Path(dst).write_text("---\ntitle: Someone else's\n---\nTheirs.\n", "utf-8")
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", link_after_someone_else)
    with pytest.raises(BriefgenError, match="appeared while importing"):
        add_source(FIXTURES / "bare-page.html", brief, source_id="late")
    assert target.read_text("utf-8") == "---\ntitle: Someone else's\n---\nTheirs.\n"
    assert [p.name for p in target.parent.iterdir()] == ["late.txt"]

    def no_hard_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    result = add_source(FIXTURES / "bare-page.html", brief, source_id="fallback")
    assert result.path.read_text("utf-8").startswith("---\ntitle: Notes on the Iraqi")
    assert sorted(p.name for p in target.parent.iterdir()) == ["fallback.txt", "late.txt"]


def test_quotes_from_an_imported_page_verify(brief):
    add_source(FIXTURES / "news-article.html", brief, today=TODAY)
    add_source(FIXTURES / "script-in-body.html", brief, today=TODAY)
    lavrov = "jpost-2023-russia-lavrov-doing"
    qurna = "gulf-energy-monitor-2024-iraq-lukoil-extend"
    excerpts = [
        # straight quotes in the outline, typographic ones in the source
        (
            lavrov,
            '"It is also planned to discuss ways to preserve the positive dynamics in '
            "bilateral trade, including through the implementation of the corresponding "
            "resolutions of the Russian-Iraqi commission on trade, economic and scientific "
            'cooperation, which held its ninth meeting in Moscow in August 2022," TASS says.',
        ),
        # mixed: the page itself has a straight opening and a typographic closing quote
        (
            lavrov,
            "Russia's state media further noted that \"the compromise is satisfactory for "
            "Israel and not violating Moscow's interests was found in relations with Russian "
            'President Vladimir Putin, Netanyahu said."',
        ),
        # across a paragraph break and a subhead
        (
            lavrov,
            "the invigoration of trade-and-economic, military-technical and "
            'cultural-and-humanitarian cooperation." What do Iraq and Russia want from each '
            "other?",
        ),
        # hyphens for the source's en dashes
        (qurna, "The deal extends the contract - first signed in 2009 - by another ten years"),
        (qurna, '"We expect production to reach 800,000 barrels a day within three years,"'),
    ]
    assert statuses(brief, excerpts) == ["verified"] * len(excerpts)


def test_the_command_reports_what_it_found(brief, monkeypatch):
    monkeypatch.chdir(brief)
    result = CliRunner().invoke(main, ["add", str(FIXTURES / "news-article.html")])
    assert result.exit_code == 0, result.output
    today = dt.date.today().isoformat()
    assert result.stdout.splitlines() == [
        "added source 'jpost-2023-russia-lavrov-doing': "
        "content/sources/jpost-2023-russia-lavrov-doing.txt (22 paragraphs, 825 words)",
        "  title:     What is Russia’s Lavrov doing in Iraq? - analysis  [JSON-LD headline]",
        "  publisher: The Jerusalem Post  [JSON-LD publisher]",
        "  authors:   Seth J. Frantzman  [JSON-LD author]",
        "  date:      2023-02-05  [JSON-LD datePublished]",
        "  url:       https://www.jpost.com/middle-east/article-730562  [<link rel=canonical>]",
        f"  accessed:  {today}  [today]",
    ]
    assert result.stderr == ""
    text = (brief / "content/sources/jpost-2023-russia-lavrov-doing.txt").read_text("utf-8")
    assert f"accessed: '{today}'\n" in text


# --- scripts, styles and leaked code inside the article ------------------------------------------


def test_script_inside_the_article_body_does_not_leak(brief):
    result = add_source(FIXTURES / "script-in-body.html", brief, today=TODAY)
    _, paragraphs = split(result.path.read_text(encoding="utf-8"))
    assert paragraphs == [
        "Iraq and Lukoil extend West Qurna-2 deal",
        "Iraq and Lukoil signed a new agreement on West Qurna-2 on Monday, the oil ministry said "
        "in a statement, ending months of talks over the terms of the field’s development.",
        "The deal extends the contract – first signed in 2009 – by another ten years, and raises "
        "the field’s production target, officials said.",
        "“We expect production to reach 800,000 barrels a day within three years,” the "
        "company’s regional director told reporters in Basra.",
        "Analysts said the agreement showed that Russian firms remain active in Iraq despite "
        "Western sanctions, and that Baghdad values the investment more than the politics.",
        "West Qurna-2, in the south of the country, is one of the largest oil fields in the "
        "world; Lukoil holds a 75 per cent stake in the project, with Iraq’s state North Oil "
        "Company holding the rest.",
    ]
    text = "\n".join(paragraphs)
    for code in (
        "adUnit",
        "__ads",
        "__INITIAL_STATE__",
        "getElementById",
        "divWithLink",
        "trackClick",
        "Go premium",
        "pullquote",
        "font-weight",
        "enable JavaScript",
        "cookies",
        "Subscribe",
        "All rights reserved",
    ):
        assert code not in text, code
    # the script tail that leaked into the page's text (a stray </script>) is reported
    assert result.imported.notes == [
        "left out a paragraph that is script code: "
        "'`; document.getElementById(\"linkPremium\").innerHTML = cont;…'"
    ]
    front, _ = split(result.path.read_text(encoding="utf-8"))
    assert front == (
        "---\n"
        "title: Iraq and Lukoil extend West Qurna-2 deal\n"
        "publisher: Gulf Energy Monitor\n"
        "authors:\n"
        "- Layla Hassan\n"
        "- Daniel Brooks\n"
        "date: '2024-03-11'\n"
        "url: https://www.gulf-energy-monitor.example/oil/2024/03/iraq-lukoil-west-qurna-2\n"
        "accessed: '2026-11-20'\n"
        "---\n"
    )


def test_code_detector_keeps_prose_and_drops_the_seed_script_tail():
    # the last line of a captured Jerusalem Post page: script code after a stray </script>
    tail = (FIXTURES / "script-tail.txt").read_text("utf-8").rstrip("\n")
    assert tail.startswith("`; document.getElementById")
    assert _looks_like_code(tail)
    prose = []
    for path in sorted((REPO / "content" / "sources").glob("*.txt")):
        prose += [p for p in path.read_text("utf-8").split("\n") if p.strip() and p != tail]
    prose += (FIXTURES / "news-article.paragraphs.txt").read_text("utf-8").splitlines()
    prose += [
        "The index rose (again); analysts said: “it’s {mostly} noise” – see [1], [2] & [3].",
        "Revenue = $19bn (2023); costs => $4bn; margin: 79%.",
    ]
    assert len(prose) > 100
    assert [p for p in prose if _looks_like_code(p)] == []


# --- what the page does not say ------------------------------------------------------------------


def test_missing_metadata_is_reported(brief, monkeypatch):
    monkeypatch.chdir(brief)
    result = CliRunner().invoke(main, ["add", str(FIXTURES / "bare-page.html")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        "added source 'notes-iraqi-electricity': content/sources/notes-iraqi-electricity.txt "
        "(5 paragraphs, 121 words)",
        "  title:     Notes on the Iraqi electricity grid  [<title>]",
    ]
    where = "content/sources/notes-iraqi-electricity.txt:1:1: warning:"
    assert result.stderr.splitlines() == [
        f"{where} no publisher found; add `publisher:` by hand",
        f"{where} no author found; add `authors:` by hand if the source names any",
        f"{where} no date found; add `date:` (YYYY-MM-DD) by hand",
        f"{where} no URL found; add `url:` (where the source was found) by hand",
    ]
    front, paragraphs = split(
        (brief / "content/sources/notes-iraqi-electricity.txt").read_text("utf-8")
    )
    assert front == (
        "---\n"
        "title: Notes on the Iraqi electricity grid\n"
        f"accessed: '{dt.date.today().isoformat()}'\n"
        "---\n"
    )
    assert "Index" not in "\n".join(paragraphs) and "Powered by" not in "\n".join(paragraphs)


def test_saved_page_metadata_citation_tags_and_singlefile(brief):
    """Scholarly `citation_*` tags, surname-first names, and SingleFile's url and save date."""
    result = add_source(FIXTURES / "singlefile-report.html", brief, today=TODAY)
    assert result.id == "policy-institute-2021-russia-energy-diplomacy"
    front, paragraphs = split(result.path.read_text(encoding="utf-8"))
    assert front == (
        "---\n"
        "title: Russia’s Energy Diplomacy in Iraq\n"
        "publisher: Example Institute for Policy Studies\n"
        "authors:\n"
        "- Ruslan Mamedov\n"
        "- Grigory Lukyanov\n"
        "date: '2021-06-15'\n"
        "url: https://www.policy-institute.example/publications/russia-iraq-energy-2021\n"
        "accessed: '2021-06-22'\n"
        "---\n"
    )
    assert result.imported.found["accessed"] == "SingleFile's 'saved date:' comment"
    # a table row is one paragraph, its cells separated by tabs; list items are paragraphs
    assert "West Qurna-2\tLukoil\tBasra" in paragraphs[3].split("\n")
    assert paragraphs[-3:] == [
        "Oil production sharing in the south.",
        "Gas processing in the centre.",
        "Pipelines in the Kurdistan region.",
    ]
    assert "Donate" not in "\n".join(paragraphs) and "Privacy" not in "\n".join(paragraphs)
    assert statuses(
        brief,
        [
            (
                result.id,
                "Three key projects are most important - Lukoil's investment in West Qurna-2",
            ),
            (result.id, "Badr Gazprom Neft Wasit"),
        ],
    ) == ["verified", "verified"]


def test_front_matter_is_escaped_yaml(brief, tmp_path):
    page = tmp_path / "odd.html"
    title = "Iraq: “oil” & 'gas' — #1 [draft] {v2} @home *really* --- no: really"
    paragraph = "Body text long enough to be the main text of this page, " * 6
    page.write_text(
        f"<html><head><title>{title}</title>"
        '<meta name="author" content="O\'Brien, Seán">'
        '<meta name="date" content="Sun, 05 Feb 2023 23:30:00 -0500">'
        '<link rel="canonical" href="/news/odd?a=1&amp;b=2">'
        '<meta property="og:url" content="https://example.org/news/odd?a=1&amp;b=2">'
        f"</head><body><article><p>{paragraph}</p><p>{paragraph[::-1]}</p></article>"
        "</body></html>",
        encoding="utf-8",
    )
    result = add_source(page, brief, source_id="odd", today=TODAY)
    source = read_source(result.path, Diagnostics())
    assert source is not None
    assert source.meta.title == title
    assert source.meta.authors == ("Seán O'Brien",)
    assert source.meta.date == "2023-02-05"  # as written, not shifted to UTC
    assert source.meta.url == "https://example.org/news/odd?a=1&b=2"  # canonical, made absolute


# --- never overwrite; refuse what it cannot read -------------------------------------------------


def test_refuses_to_overwrite_a_source(brief, monkeypatch):
    monkeypatch.chdir(brief)
    runner = CliRunner()
    first = runner.invoke(main, ["add", str(FIXTURES / "bare-page.html")])
    assert first.exit_code == 0
    path = brief / "content/sources/notes-iraqi-electricity.txt"
    before = path.read_bytes()
    again = runner.invoke(main, ["add", str(FIXTURES / "bare-page.html")])
    assert again.exit_code == 1
    assert again.stdout == ""
    assert again.stderr == (
        "briefgen: error: a source with the id 'notes-iraqi-electricity' already exists "
        "(content/sources/notes-iraqi-electricity.txt); briefgen add never overwrites a source: "
        "if this is another source, give it an id with --id ID\n"
    )
    assert path.read_bytes() == before
    # an id taken by a source of another type is taken too
    (brief / "content/sources/grid.md").write_text("---\ntitle: Grid\n---\nText.\n", "utf-8")
    taken = runner.invoke(main, ["add", str(FIXTURES / "bare-page.html"), "--id", "grid"])
    assert taken.exit_code == 1
    assert "a source with the id 'grid' already exists (content/sources/grid.md)" in taken.stderr
    assert "choose another id with --id ID" in taken.stderr
    assert not (brief / "content/sources/grid.txt").exists()
    # --id picks the name; --project the folder
    monkeypatch.chdir(brief.parent)
    other = runner.invoke(
        main, ["add", str(FIXTURES / "bare-page.html"), "--project", "brief", "--id", "grid-2"]
    )
    assert other.exit_code == 0, other.output
    assert (
        (brief / "content/sources/grid-2.txt")
        .read_text("utf-8")
        .endswith(before.decode("utf-8").split("\n---\n", 1)[1])
    )
    assert sorted(p.name for p in (brief / "content/sources").iterdir()) == [
        "grid-2.txt",
        "grid.md",
        "notes-iraqi-electricity.txt",
    ]


@pytest.mark.parametrize(
    ("name", "data", "hint"),
    [
        ("report.docx", b"PK\x03\x04\x14\x00\x06\x00word/document.xml", ""),
        ("notes.txt", b"Plain notes.\n", "; a text or Markdown file is already a source"),
        ("page.mhtml", b"MIME-Version: 1.0\r\n", "; save the page as 'Webpage, HTML only'"),
        ("fake.pdf", b"<html><body>not a pdf</body></html>", ""),
    ],
)
def test_unsupported_file_types_are_usage_errors(brief, monkeypatch, name, data, hint):
    monkeypatch.chdir(brief)
    path = brief / name
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["add", name])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"briefgen: error: cannot import '{name}': briefgen add reads saved web pages "
        f"(.html, .htm) and PDF files (.pdf){hint}"
    )
    assert list((brief / "content/sources").iterdir()) == []


def test_usage_errors(brief, monkeypatch):
    monkeypatch.chdir(brief)
    runner = CliRunner()
    bad_id = runner.invoke(main, ["add", str(FIXTURES / "bare-page.html"), "--id", "../x"])
    assert bad_id.exit_code == 2
    assert "'../x' is not a usable source id" in bad_id.stderr
    missing = runner.invoke(main, ["add", "nowhere.html"])
    assert missing.exit_code == 2
    assert missing.stderr == "briefgen: error: 'nowhere.html' does not exist\n"
    no_project = runner.invoke(
        main, ["add", str(FIXTURES / "bare-page.html"), "--project", str(brief / "content")]
    )
    assert no_project.exit_code == 2
    assert "no outline at" in no_project.stderr
    assert list((brief / "content/sources").iterdir()) == []


def test_a_page_without_main_text(brief, tmp_path):
    page = tmp_path / "login.html"
    page.write_text(
        "<html><head><title>Log in</title></head><body><nav><a href='/'>Home</a></nav>"
        "<form><input name=user><button>Log in</button></form></body></html>",
        encoding="utf-8",
    )
    result = add_source(page, brief, today=TODAY)
    assert result.imported.notes[0] == (
        "only 3 words of main text found: check that this is the saved article "
        "(not a login, cookie or redirect page)"
    )
    empty = tmp_path / "empty.html"
    empty.write_text("<html><head><title>Nothing</title></head><body></body></html>", "utf-8")
    with pytest.raises(BriefgenError, match="found no main text in .*empty.html"):
        add_source(empty, brief)
    assert [p.name for p in (brief / "content/sources").iterdir()] == [f"{result.id}.txt"]


# --- PDF ---------------------------------------------------------------------------------------

PDF_PARAGRAPHS = [
    f"{n}. Russia’s energy companies – {firm} among them – have kept their Iraqi projects "
    f"going since {year}, and “the work continues as planned” in {place}, officials told us "
    "when we asked about the effect of sanctions on their plans."
    for n, (firm, year, place) in enumerate(
        [
            ("Lukoil", 2009, "Basra"),
            ("Gazprom Neft", 2010, "Wasit"),
            ("Rosneft", 2017, "Erbil"),
            ("Zarubezhneft", 2012, "Kirkuk"),
            ("Bashneft", 2011, "Najaf"),
            ("Tatneft", 2014, "Maysan"),
            ("Stroytransgaz", 2013, "Anbar"),
            ("Soyuzneftegaz", 2015, "Dhi Qar"),
            ("Inter RAO", 2016, "Baghdad"),
            ("Technopromexport", 2018, "Diyala"),
            ("Rosatom", 2019, "Babil"),
            ("Novatek", 2020, "Karbala"),
            ("Gazprom", 2021, "Muthanna"),
            ("Transneft", 2022, "Nineveh"),
        ],
        1,
    )
]


def make_pdf(path: Path, head: str, paragraphs: list[str] = PDF_PARAGRAPHS) -> Path:
    from weasyprint import HTML

    html = f"""<html lang="en"><head>{head}
    <style>
      @page {{ size: A5; margin: 2cm;
        @top-center {{ content: "Russia and Iraq – Policy Report No. 4"; font-size: 8pt }}
        @bottom-center {{ content: "Page " counter(page); font-size: 8pt }} }}
      body {{ font: 11pt/1.4 serif }} p {{ margin: 0 0 .8em }}
    </style></head><body><h1>Russia and Iraq</h1>
    {"".join(f"<p>{p}</p>" for p in paragraphs)}</body></html>"""
    HTML(string=html).write_pdf(path)
    return path


@pytest.mark.pdf
def test_pdf_import(brief, tmp_path):
    pdf = make_pdf(
        tmp_path / "report.pdf",
        "<title>Russia and Iraq: Resilience amid Regional Instability</title>"
        '<meta name="author" content="Ruslan Mamedov">'
        '<meta name="author" content="Grigory Lukyanov">'
        '<meta name="dcterms.created" content="2024-03-01">',
    )
    result = add_source(pdf, brief, today=TODAY)
    assert result.id == "2024-russia-iraq-resilience"
    front, paragraphs = split(result.path.read_text(encoding="utf-8"))
    assert front == (
        "---\n"
        "title: 'Russia and Iraq: Resilience amid Regional Instability'\n"
        "authors:\n"
        "- Ruslan Mamedov\n"
        "- Grigory Lukyanov\n"
        "date: '2024-03-01'\n"
        "accessed: '2026-11-20'\n"
        "---\n"
    )
    assert result.imported.found["title"] == "PDF info /Title"
    from pypdf import PdfReader

    pages = len(PdfReader(pdf).pages)
    assert pages >= 2
    assert [d.message for d in result.warnings()] == [
        "date 2024-03-01 is when the PDF file was made (PDF info /CreationDate); "
        "check it against the date printed in the document",
        f"left out {2 * pages} running heads and page numbers in the page margins",
        "no publisher found; add `publisher:` by hand",
        "no URL found; add `url:` (where the source was found) by hand",
    ]
    text = result.path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    assert "Policy Report No. 4" not in text and "Page " not in text
    assert paragraphs[0] == "Russia and Iraq"
    # every paragraph is there, word for word, its line breaks as printed
    flat = " ".join(text.split())
    for p in PDF_PARAGRAPHS:
        assert p in flat
    assert all("\n" in p for p in paragraphs[1:])
    # a paragraph that runs over a page break is split in two blocks, and still verifies
    whole = {" ".join(p.split()) for p in paragraphs}
    spanning = [p for p in PDF_PARAGRAPHS if p not in whole]
    assert spanning, "the test PDF should have a paragraph running over a page break"
    assert (
        statuses(
            brief,
            [(result.id, spanning[0].replace("–", "-").replace("’", "'"))]
            + [(result.id, p) for p in PDF_PARAGRAPHS[:2]],
        )
        == ["verified"] * 3
    )


@pytest.mark.pdf
def test_pdf_xmp_metadata_comes_first(brief, tmp_path):
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    plain = make_pdf(
        tmp_path / "plain.pdf",
        "<title>Microsoft Word - report_final_v3.docx</title>"
        '<meta name="author" content="Mamedov, Ruslan; Lukyanov, Grigory">',
    )
    xmp = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Russia and Iraq: Resilience &amp; Instability</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>Ruslan Mamedov</rdf:li><rdf:li>Grigory Lukyanov</rdf:li></rdf:Seq></dc:creator>
<dc:publisher><rdf:Bag><rdf:li>Evgeniy Primakov Center for International Cooperation</rdf:li></rdf:Bag></dc:publisher>
<prism:publicationDate>2024-03-15</prism:publicationDate>
<prism:url>https://primakovcenter.example/en/analysis/russia-iraq</prism:url>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode()  # noqa: E501
    writer = PdfWriter(clone_from=PdfReader(plain))
    stream = DecodedStreamObject()
    stream.set_data(xmp)
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)
    pdf = tmp_path / "with-xmp.pdf"
    with pdf.open("wb") as handle:
        writer.write(handle)
    result = add_source(pdf, brief, today=TODAY)
    assert result.id == "primakovcenter-2024-russia-iraq-resilience"
    front, _ = split(result.path.read_text(encoding="utf-8"))
    assert front == (
        "---\n"
        "title: 'Russia and Iraq: Resilience & Instability'\n"
        "publisher: Evgeniy Primakov Center for International Cooperation\n"
        "authors:\n"
        "- Ruslan Mamedov\n"
        "- Grigory Lukyanov\n"
        "date: '2024-03-15'\n"
        "url: https://primakovcenter.example/en/analysis/russia-iraq\n"
        "accessed: '2026-11-20'\n"
        "---\n"
    )
    assert result.imported.found == {
        "title": "XMP dc:title",
        "publisher": "XMP dc:publisher",
        "authors": "XMP dc:creator",
        "date": "XMP prism:publicationDate",
        "url": "XMP prism:url",
        "accessed": "today",
    }
    assert result.imported.notes[0] == (
        "the PDF's title 'Microsoft Word - report_final_v3.docx' is a file name, not a title"
    )
    # without XMP: the file-name title is refused, '; '-separated surname-first authors read
    plain_result = add_source(plain, brief, today=TODAY)
    assert plain_result.imported.meta["title"] == "plain"
    assert plain_result.imported.meta["authors"] == ["Ruslan Mamedov", "Grigory Lukyanov"]
    assert "no title found; used the file name 'plain': change `title:` by hand" in (
        plain_result.imported.notes
    )


@pytest.mark.pdf
def test_pdf_without_text_is_an_error(brief, tmp_path):
    from weasyprint import HTML

    pdf = tmp_path / "scan.pdf"
    HTML(string="<div style='width:10cm;height:10cm;background:#888'></div>").write_pdf(pdf)
    with pytest.raises(BriefgenError, match="found no text in .*OCR"):
        add_source(pdf, brief)
    assert list((brief / "content/sources").iterdir()) == []


# --- small parts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-02-05", ("2023-02-05", "ok")),
        ("2023-02-05T23:30:00-05:00", ("2023-02-05", "ok")),
        ("2023-02-05T12:47:00Z", ("2023-02-05", "ok")),
        ("2021/6/5", ("2021-06-05", "ok")),
        ("D:20240301120000+01'00'", ("2024-03-01", "ok")),
        ("20240301", ("2024-03-01", "ok")),
        ("Sun, 05 Feb 2023 10:00:00 GMT", ("2023-02-05", "ok")),
        ("2023", (None, "partial")),
        ("2023-02", (None, "partial")),
        ("2023-02-30", (None, "bad")),
        ("last Tuesday", (None, "bad")),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Jane Roe", ["Jane Roe"]),
        ("By Jane Roe", ["Jane Roe"]),
        ("Ann Roe, Bob Doe", ["Ann Roe", "Bob Doe"]),
        ("Roe, Ann", ["Ann Roe"]),
        ("Roe, Ann; Doe, Bob", ["Ann Roe", "Bob Doe"]),
        ("Martin Luther King, Jr.", ["Martin Luther King, Jr."]),
        ("Reuters", ["Reuters"]),
    ],
)
def test_split_authors(value, names):
    assert _split_authors(value) == names


def test_derive_id():
    assert derive_id({"title": "What is Russia’s Lavrov doing in Iraq?"}, Path("x.html")) == (
        "russia-lavrov-doing"
    )
    assert (
        derive_id(
            {"title": "A", "url": "https://news.bbc.co.uk/1/x", "date": "2020-01-02"},
            Path("x.html"),
        )
        == "bbc-2020"
    )
    assert (
        derive_id({"title": "Über Öl", "publisher": "The Baghdad Post"}, Path("x.html"))
        == "baghdad-post-uber-ol"
    )
    assert derive_id({"title": "قضايا النفط"}, Path("Saved Page (2).html")) == "saved-page-2"


def test_import_file_usage_error_for_a_folder(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        import_file(tmp_path)


def test_page_encodings_are_read(brief, tmp_path):
    """A legacy-encoded page (declared in <meta>) and a UTF-8 page with a BOM."""
    paragraph = (
        "Iraq’s parliament approved the budget – the largest in its history – after "
        "“long and difficult” talks between the blocs, the speaker’s office said on Sunday. "
    ) * 2
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "<title>Budget passed</title></head><body><article>"
        f"<p>{paragraph}</p><p>{paragraph.upper()}</p></article></body></html>"
    )
    legacy = tmp_path / "legacy.html"
    legacy.write_bytes(html.encode("cp1252"))
    bom = tmp_path / "bom.html"
    bom.write_bytes(b"\xef\xbb\xbf" + html.replace("windows-1252", "utf-8").encode("utf-8"))
    for page, sid in ((legacy, "legacy"), (bom, "bom")):
        result = add_source(page, brief, source_id=sid, today=TODAY)
        assert split(result.path.read_text("utf-8"))[1] == [
            paragraph.strip(),
            paragraph.upper().strip(),
        ]
