"""Markdown to safe HTML, note formatting and the template context."""

from briefgen.build import verify
from briefgen.cite import csl_item, default_style, format_citations, plain_text
from briefgen.markup import render_markdown
from briefgen.project import Project
from briefgen.render import build_context
from briefgen.sources import Source, SourceMeta


def no_cite(k):
    return f"[{k}]"


def test_markdown_is_sanitised():
    html = render_markdown(
        "Hi <script>alert(1)</script> <img src=x onerror=alert(1)> "
        "[x](javascript:alert(1)) <a href='https://ok.example' onclick='x()'>ok</a>",
        no_cite,
    )
    assert "<script" not in html and "onerror" not in html and "<img" not in html
    assert "javascript:" not in html and "onclick" not in html
    assert '<a href="https://ok.example" rel="noopener noreferrer">ok</a>' in html


def test_citations_become_calls_after_sanitising():
    html = render_markdown(
        "Claim [@a]. Next [@b, p. 2].", lambda k: f'<span class="fn">{k}</span>', inline=True
    )
    assert html == 'Claim<span class="fn">0</span>. Next<span class="fn">1</span>.'
    # a citation at the start of a YAML line keeps to its word: no space before the call
    folded = render_markdown("Claim\n[@a].", lambda k: "<sup>1</sup>", inline=True)
    assert folded == "Claim<sup>1</sup>."


def source(source_id="s", **meta):
    return Source(source_id, None, SourceMeta(**meta), "", "")


def test_notes_full_then_short_chicago():
    """The default style (Chicago notes) in full on first use, short after.

    Formerly briefgen's own formatter; with CSL the text legitimately changed: US dates
    ('March 2, 2024'), headline-style capitals, and Chicago's bare page locator ('9', not 'p. 9').
    """
    s = source(
        title="Russia and Iraq: Resilience",
        publisher="Center",
        authors=("Ann Lee", "Bo Ng"),
        date="2024-03-02",
        url="https://x.example/a",
    )
    q = source("q", title="Could Russia move?", publisher="Post")
    notes = [[("s", None)], [("s", None)], [("s", "p. 9")], [("q", None)]]
    done = format_citations(default_style(), {"s": csl_item(s), "q": csl_item(q)}, notes, None)
    assert [plain_text(n) for n in done.notes] == [
        "Ann Lee and Bo Ng, \u201cRussia and Iraq: Resilience,\u201d Center, March 2, 2024, "
        "https://x.example/a.",
        "Lee and Ng, \u201cRussia and Iraq.\u201d",
        "Lee and Ng, \u201cRussia and Iraq,\u201d 9.",
        "\u201cCould Russia Move?\u201d Post.",
    ]


def test_context_prints_the_sources_characters(project):
    verified = verify(Project(project)).verified
    context = build_context(verified, "print")
    energy = context["sections"][1]["blocks"][1]
    # the outline has a straight hyphen; the source an en dash: the source's wins
    assert energy["paragraphs"] == [
        "Three key projects are most important \u2013 Lukoil's investment in West Qurna-2."
    ]
    assert 'class="fn"' in energy["call"]
    # In the style's order (Chicago: alphabetical), no longer in order of first citation.
    assert [s["id"] for s in context["sources"]] == ["energy", "lavrov"]
