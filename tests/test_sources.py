"""Reading sources: front matter, body text per file type, and bad files."""

from pathlib import Path

from briefgen.errors import Diagnostics
from briefgen.project import Project
from briefgen.sources import html_text, read_source, read_sources

REPO = Path(__file__).resolve().parent.parent


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
