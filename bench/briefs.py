"""Generate a brief project of about N printed pages, deterministically, for benchmarks.

    .venv/bin/python bench/briefs.py DIR --pages 50 [--seed 1]

The brief looks like a real one, scaled: a summary of cited points; sections of about five pages,
each a run of *units* (a prose paragraph of 90-150 words citing one or two sources, with a page
locator now and then; a verbatim excerpt of one or two sentences, some with an editor's note; a
key point every third unit; a sub-heading every fourth); one source per three pages (at least
five), each a few pages of text (bench/corpus.py's sentence maker: Zipf-like words, names,
numbers, typographic quotes and dashes, some Cyrillic and Arabic), most `.txt`, some `.md` and
`.html`. Every excerpt is cut from its source and occurs there once, so the brief checks clean.

`UNITS_PER_PAGE` was measured on the default theme (A4): the page count comes within a few per
cent of N (bench/run.py prints the real count from the PDF).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import TextMaker, _source_file  # noqa: E402

#: Content units (paragraph + excerpt, with key points and headings in proportion) per A4 page,
#: measured: a brief of U units prints about U / UNITS_PER_PAGE + FIXED_PAGES pages.
UNITS_PER_PAGE = 1.65
#: Cover, contents, summary, sources and evidence appendix, at a small size.
FIXED_PAGES = 5
UNITS_PER_SECTION = 7


@dataclass(frozen=True)
class Brief:
    root: Path
    pages: int  # asked for
    units: int
    sections: int
    sources: list[str]
    excerpts: int

    @property
    def edited_source(self) -> Path:
        """The source file a one-source-edit benchmark appends to (cited, in the middle)."""
        folder = self.root / "content" / "sources"
        sid = self.sources[len(self.sources) // 2]
        return next(folder.glob(f"{sid}.*"))


def _wrap(text: str, indent: int) -> list[str]:
    return textwrap.wrap(text, 96 - indent, break_long_words=False, break_on_hyphens=False) or [""]


def make_brief(root: Path, pages: int, seed: int = 1) -> Brief:
    """Write content/brief.yaml and content/sources/ under `root` for a brief of ~`pages` pages."""
    rng = random.Random(seed)
    maker = TextMaker(rng)
    units = max(3, round((pages - FIXED_PAGES) * UNITS_PER_PAGE))
    n_sources = max(5, pages // 3)
    folder = root / "content" / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    sentences_of: dict[str, list[str]] = {}
    for n in range(n_sources):
        sid = f"src-{n:03d}-{maker.names[n % len(maker.names)].lower()}"
        title = " ".join(maker.words(6)).capitalize()
        roll = rng.random()
        kind = "html" if roll < 0.08 else "md" if roll < 0.16 else "txt"
        paragraphs = [maker.paragraph() for _ in range(12)]
        (folder / f"{sid}.{kind}").write_text(
            _source_file(sid, title, paragraphs, kind, rng), encoding="utf-8"
        )
        ids.append(sid)
        sentences_of[sid] = [s for p in paragraphs for s in p]

    def excerpt_from(sid: str) -> str:
        sentences = sentences_of[sid]
        text = " ".join(sentences)
        quote = sentences[0]
        for _ in range(30):
            at = rng.randrange(len(sentences) - 1)
            quote = " ".join(sentences[at : at + rng.choice([1, 1, 2])])
            if text.count(quote) == 1 and 60 < len(quote) < 600:
                break
        return quote

    def prose(cited: list[str]) -> str:
        words = rng.randint(90, 150)
        sentences: list[str] = []
        while sum(len(s.split()) for s in sentences) < words:
            sentences.append(maker.sentence())
        refs = []
        for sid in cited:
            locator = f", p. {rng.randint(1, 40)}" if rng.random() < 0.4 else ""
            refs.append(f"@{sid}{locator}")
        at = rng.randrange(len(sentences))
        cite = f"[{'; '.join(refs)}]"
        end = sentences[at]
        sentences[at] = f"{end[:-1]} {cite}{end[-1]}" if end[-1] in ".?" else f"{end} {cite}"
        return " ".join(sentences)

    lines = [
        f'title: "A generated brief of about {pages} pages"',
        'subtitle: "Benchmark content: generated, deterministic, checks clean"',
        'series: "Benchmark brief"',
        "date: 2026-11-22",
        "authors:",
        '  - name: "Ann Editor"',
        '    affiliation: "Example Forum"',
        '  - name: "Ben Analyst"',
        'organization: "Example Forum"',
        'distribution: "Public"',
        "keywords: [energy, security, trade]",
        "summary:",
    ]
    for k in range(4):
        lines.append("  - >-")
        text = " ".join(maker.sentence() for _ in range(2))[:-1] + f" [@{ids[k % len(ids)]}]."
        lines += ["    " + line for line in _wrap(text, 4)]
    lines.append("sections:")
    excerpts = 0
    sections = 0
    for unit in range(units):
        if unit % UNITS_PER_SECTION == 0:
            sections += 1
            title = " ".join(maker.words(3)).capitalize()
            lines += [f"  - id: part-{sections}", f"    title: {json.dumps(title)}", "    content:"]
        if unit % 4 == 3:
            lines.append(f"      - heading: {json.dumps(' '.join(maker.words(4)).capitalize())}")
        cited = rng.sample(ids, rng.choice([1, 1, 2]))
        lines.append("      - >-")
        lines += ["        " + line for line in _wrap(prose(cited), 8)]
        sid = rng.choice(cited)
        excerpts += 1
        lines += ["      - excerpt:", f"          source: {sid}", "          quote: >-"]
        lines += ["            " + line for line in _wrap(excerpt_from(sid), 12)]
        if rng.random() < 0.3:
            lines.append("          note: >-")
            comment = maker.sentence()[:-1] + f" [@{rng.choice(ids)}]."
            lines += ["            " + line for line in _wrap(comment, 12)]
        if unit % 3 == 2:
            lines.append("      - key: >-")
            lines += ["          " + line for line in _wrap(maker.sentence(), 10)]
    (root / "content" / "brief.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Brief(root, pages, units, sections, ids, excerpts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    brief = make_brief(args.root, args.pages, args.seed)
    print(
        f"{brief.root}: {brief.units} units in {brief.sections} sections, "
        f"{len(brief.sources)} sources, {brief.excerpts} excerpts (about {brief.pages} pages)"
    )


if __name__ == "__main__":
    main()
