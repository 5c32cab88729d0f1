"""Reading sources: front matter, body text per file type, and bad files."""

import re
import sys
import time
from pathlib import Path

import conftest
import markdown
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from briefgen import sources
from briefgen.errors import Diagnostics
from briefgen.project import Project
from briefgen.sources import body_text, html_text, markdown_html, read_source, read_sources

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import corpus  # noqa: E402

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def read(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    diags = Diagnostics()
    return read_source(path, diags), [d.format(tmp_path) for d in diags]


def test_txt_body_is_kept_exactly(tmp_path):
    source, errors = read(tmp_path, "a.txt", "---\ntitle: T\nauthors: [A B]\n---\n  Body\tline\n\n")
    assert errors == []
    assert source.text == "  Body\tline\n\n"
    assert source.meta.title == "T" and source.meta.authors == ("A B",)
    assert source.body_line == 5


def test_example_sources_keep_the_seed_text():
    sources = read_sources(Project(REPO), Diagnostics())
    assert len(sources) == 5
    primakov = sources["primakov-2024-russia-iraq"]
    assert "Three key projects are most important \u2013 Lukoil's investment" in primakov.text
    assert primakov.meta.authors == ("Ruslan Mamedov", "Grigory Lukyanov")


def test_markdown_and_html_are_reduced_to_visible_text(tmp_path):
    md, _ = read(tmp_path, "m.md", "---\ntitle: T\n---\n# Head\n\nSome *emphasis* and **bold**.\n")
    assert md.text == "Head\n\nSome emphasis and bold.\n"
    html = html_text("<nav>x</nav><p>One <b>bo</b>ld</p><script>evil()</script><p>Two</p>")
    assert "evil" not in html
    assert "One bold\n\nTwo" in html


def test_bad_front_matter_and_metadata(tmp_path):
    _, errors = read(tmp_path, "a.txt", "no front matter\n")
    assert errors == [
        "a.txt:1:1: error: missing front matter: start the file with a '---' line, "
        "'title: ...' and a closing '---' line"
    ]
    _, errors = read(tmp_path, "b.txt", "---\ntitel: T\ndate: 2023-13-01\nurl: ftp://x\n---\nB\n")
    assert errors == [
        "b.txt:2:1: error: unknown key 'titel' in the source's front matter "
        "(did you mean 'title'?)",
        "b.txt:2:1: error: the source's front matter is missing the required key 'title'",
        "b.txt:3:7: error: 'date' of the source's front matter is not a real date: '2023-13-01'",
        "b.txt:4:6: error: 'url' of the source's front matter must be an http(s) address, "
        "not 'ftp://x'",
    ]


def test_binary_and_bad_encoding(tmp_path):
    _, errors = read(tmp_path, "a.txt", b"---\ntitle: T\n---\nok\n\xff\xfe bad\n")
    assert errors == ["a.txt:5:1: error: not UTF-8 text: save the source as UTF-8"]
    _, errors = read(tmp_path, "b.txt", b"---\ntitle: T\n---\nab\x00c\n")
    assert errors[0].startswith("b.txt:4:3: error: the file holds NUL bytes")


def test_bom_and_crlf_are_accepted(tmp_path):
    source, errors = read(
        tmp_path, "a.txt", b"\xef\xbb\xbf---\r\ntitle: T\r\n---\r\nOne\r\ntwo\r\n"
    )
    assert errors == []
    assert source.text == "One\ntwo\n"


def test_symlink_out_of_project_is_refused(tmp_path):
    root = tmp_path / "p"
    (root / "content" / "sources").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("---\ntitle: S\n---\nsecret\n")
    (root / "content" / "sources" / "s.txt").symlink_to(tmp_path / "secret.txt")
    diags = Diagnostics()
    assert read_sources(Project(root), diags) == {}
    assert "outside the project" in diags[0].message


def test_html_the_tokenizer_refuses_is_an_error_not_a_crash(tmp_path):
    _, errors = read(tmp_path, "a.html", "---\ntitle: T\n---\n<p>ok</p><![foo[ y\n")
    assert errors == [
        "a.html:4:1: error: the HTML cannot be read (unknown status keyword 'foo' in marked "
        "section); save the source as plain text (.txt)"
    ]


# -- html_text gives what Beautiful Soup's tree gave ------------------------------------------
#
# html_text used to build a Beautiful Soup tree ("html.parser") and walk it; it now reads the
# same tokenizer's events in one pass (ten times faster, and bs4 is not imported). The old
# function is kept here as the reference: the two must give the same text for every input.


def reference_html_text(html: str) -> str:
    """html_text as it was: a walk over Beautiful Soup's tree."""
    from bs4 import BeautifulSoup, CData, NavigableString, Tag

    soup = BeautifulSoup(html, "html.parser")
    parts: list[str] = []
    stack = [(iter(soup.contents), False)]
    while stack:
        children, block = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            if block:
                parts.append("\n")
        elif isinstance(node, Tag):
            if node.name in sources._HIDDEN:
                continue
            is_block = node.name in sources._BLOCKS
            if is_block:
                parts.append("\n")
            stack.append((iter(node.contents), is_block))
        elif type(node) in (NavigableString, CData):
            parts.append(str(node))
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts))
    return re.sub(r"\n\s*\n\s*", "\n\n", text).strip() + "\n"


def _bodies(paths) -> list[tuple[str, str]]:
    out = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        front = sources._FRONT.match(text)
        out.append((path.name, text[front.end() :] if front else text))
    return out


@pytest.fixture(scope="module")
def corpus_bodies(tmp_path_factory) -> list[tuple[str, str]]:
    """The bodies of a generated corpus's sources (bench/corpus.py): .txt, .md and .html."""
    root = tmp_path_factory.mktemp("corpus")
    corpus.make_corpus(root, sources=120, excerpts=10, seed=3)
    return _bodies(sorted((root / "content" / "sources").iterdir()))


def _html_inputs(corpus_bodies) -> list[tuple[str, str]]:
    """HTML from the example's and the fixtures' sources and pages, and the generated corpus's."""
    pages = sorted((REPO / "tests" / "fixtures" / "add").glob("*.html"))
    inputs = _bodies(pages)
    inputs += _bodies(sorted((REPO / "content" / "sources").iterdir()))  # text read as HTML
    for name, body in corpus_bodies:
        if name.endswith(".md"):
            inputs.append((name, markdown.markdown(body, extensions=["extra"])))
        elif name.endswith(".html"):
            inputs.append((name, body))
    inputs += [(f"conftest {k}", v) for k, v in vars(conftest).items() if k.startswith("SOURCE")]
    return inputs


def test_html_text_is_beautiful_soups_text_on_every_page_we_have(corpus_bodies):
    inputs = _html_inputs(corpus_bodies)
    assert sum(name.endswith(".md") for name, _ in inputs) >= 3
    assert sum(name.endswith(".html") for name, _ in inputs) >= 6
    for name, html in inputs:
        assert html_text(html) == reference_html_text(html), name


MARKUP = [
    "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "</br>", "<hr>", "<img src=x>", "<b>",
    "</b>", "<i>", "</i>", "<span>", "</span>", "<pre>", "</pre>", "<textarea>", "</textarea>",
    "<script>", "</script>", "<style>", "</style>", "<head>", "</head>", "<svg>", "</svg>",
    "<template>", "</template>", "<noscript>", "</noscript>", "<ruby>", "<rt>", "</rt>", "<rp>",
    "</rp>", "<li>", "<ul>", "</ul>", "<td>", "<table>", "<H1>", "</h1>", "<P/>", "<x-y>",
    "</x-y>", "<!-- c -->", "<!--", "-->", "<!DOCTYPE html>", "<?pi x?>", "<![CDATA[ c ]]>",
    "<!x>", "&amp;", "&amp", "&lt;", "&nbsp;", "&notit;", "&bogus;", "&#65;", "&#x41;",
    "&#X41;", "&#xAB;", "&#150;", "&#129;", "&#0;", "&#xD800;", "&#1114112;", "&#65x", "&#",
    "&", "<", ">", "</", "<a", "<a href='x>y'>", "<p class=\"a\">", " ", "  ", "\n", " \n ",
    "\t", "\f", "\r", "\u00a0", "x", "word", "two words", "é", "\U0001f600",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(MARKUP), max_size=30).map("".join))
def test_html_text_is_beautiful_soups_text_on_random_markup(html):
    note(repr(html))
    assert html_text(html) == reference_html_text(html)


def test_character_references_are_resolved_as_beautiful_soup_does():
    from bs4.builder._htmlparser import BeautifulSoupHTMLParser
    from bs4.dammit import EntitySubstitution

    assert sources._entities() == EntitySubstitution.HTML_ENTITY_TO_CHARACTER
    numbers = [*range(0x3000), *range(0xD7F0, 0xE010), *range(0xFDC0, 0x10000)]
    numbers += [0x1FFFE, 0x10FFFF, 0x110000, 10**20]
    for n in numbers:
        for name in (str(n), f"x{n:x}", f"X{n:X}"):
            char, _, extra = BeautifulSoupHTMLParser._dereference_numeric_character_reference(name)
            assert sources._charref(name) == char + extra, name


# -- Markdown in linear time, with Python-Markdown's HTML ---------------------------------------


def test_markdown_html_is_python_markdowns_html(corpus_bodies):
    bodies = [body for name, body in corpus_bodies if name.endswith(".md")]
    bodies += [
        p.read_text(encoding="utf-8")
        for p in sorted(REPO.glob("**/*.md"))
        if ".venv" not in p.parts
    ]
    for body in bodies:
        assert markdown_html(body) == markdown.markdown(body, extensions=["extra"])


MARKDOWN = [
    "[", "]", "[^", "![", "\\[", "\\]", "\\\\", "<!", "`", "``", "(", ")", "(http://e.org)",
    "[x]", "[x](y)", "[^1]", "[id]", "[x][id]", "[x][]", " ", "\n", "\n\n", "x", "AB", "*", "_",
    "<b>", "</b>", "<![CDATA[", "&amp;", "\n[id]: http://e.org/\n", "\n[^1]: a note\n",
    "\n*[AB]: a title\n", "\n- ", "\n> ", "\n    ", "\n```\n", "\n| a | b |\n|---|---|\n", "{: .c}",
    "\ue000", "\n*[A[B]: a title\n", "A[B", "<!DOCTYPE x [",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(MARKDOWN), max_size=40).map("".join))
def test_markdown_html_is_python_markdowns_html_on_random_brackets(body):
    note(repr(body))
    assert markdown_html(body) == markdown.markdown(body, extensions=["extra"])


@FUZZ
@given(st.text(alphabet="[]x ", max_size=30), st.integers(0, 32))
def test_the_bracket_rule_is_python_markdowns_get_text(data, index):
    from markdown.inlinepatterns import LinkInlineProcessor

    closed = LinkInlineProcessor.getText(None, data, index)[2]
    assert sources._Brackets().closes(data, index) == closed


@pytest.mark.parametrize(
    "body",
    [
        "[x " * 66_000,
        "[x " * 66_000 + "]",
        "[x " * 33_000 + "\n\n]",
        "[^x " * 50_000,
        "![x " * 50_000,
    ],
    ids=["no-close", "one-close-at-the-end", "close-in-next-paragraph", "footnotes", "images"],
)
def test_markdown_with_many_unclosed_brackets_reads_in_linear_time(body):
    """200 KB of '[' that nothing closes (13 s for 12 KB before, quadratic; now about 0.1 s)."""
    begun = time.process_time()
    text = body_text(body, ".md")
    assert time.process_time() - begun < 1.5
    assert text.count("[") == body.count("[")


def test_a_markdown_conversion_cut_off_halfway_leaves_no_state_behind(monkeypatch):
    """The converter is kept for the thread; one stopped mid-way (an error, or the build's time
    bound) must not change how the next text converts (the block parser keeps a state stack
    that `reset()` does not clear)."""
    probe = "text [x](y)\n\n- one\n- two\n\n> q\n\n    code\n"
    expected = markdown.markdown(probe, extensions=["extra"])
    paragraph = sources._markdown().parser.blockprocessors["paragraph"]
    run = paragraph.run

    def stop_at_boom(parent, blocks):
        if blocks and "BOOM" in blocks[0]:
            raise KeyboardInterrupt
        return run(parent, blocks)

    monkeypatch.setattr(paragraph, "run", stop_at_boom)
    with pytest.raises(KeyboardInterrupt):
        sources.markdown_html("- a\n- BOOM\n")
    assert sources.markdown_html(probe) == expected
