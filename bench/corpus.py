"""Generate a large brief project for benchmarks: many sources, an outline with many excerpts.

    .venv/bin/python bench/corpus.py DIR [--sources 1000] [--excerpts 5000] [--seed 1]

Sources are a few pages each (about 1,500 words, 9 KB): paragraphs of sentences drawn from a
word list with Zipf-like frequencies (a seeded RNG, so the same arguments give the same corpus),
with numbers, names, typographic quotes and dashes, some Cyrillic and Arabic names, phrases that
many sources share (boilerplate, stock phrases), and in a few sources a sentence said twice. Most
sources are .txt; some are .md and .html, as in a real collection. The outline cites every source
in prose and quotes verbatim excerpts cut from them (one or two whole sentences, each unique in
its source), folded over lines as an editor's outline would be.
"""

from __future__ import annotations

import argparse
import html
import itertools
import random
import textwrap
from dataclasses import dataclass
from pathlib import Path


def _words(text: str) -> list[str]:
    return text.split()


NOUNS = _words("""government minister ministry policy security energy oil gas pipeline investment
company contract agreement deal trade market price economy growth budget revenue bank loan
debt currency army force defence equipment training intelligence operation cooperation
partnership relationship dialogue visit delegation meeting summit president parliament
election coalition party opposition reform province region border city capital
infrastructure electricity plant refinery field production output capacity development
project construction corridor railway port airport water drought wheat inflation
unemployment protest crisis conflict war peace stability militia insurgency attack threat
embassy ambassador analyst official expert report statement interview agency strategy
interest influence balance pressure support rivalry competition decade framework
memorandum commission committee council authority investor fund stake licence tender
negotiation proposal plan programme initiative technology grain fertiliser tanker route
exchange rate partner ally neighbour rival state sanction export import barrel""")

ADJECTIVES = _words("""significant important major key large small growing rising falling strong
weak
limited new foreign domestic international regional national economic military political
diplomatic strategic local central northern southern western eastern Russian Iraqi Kurdish
Turkish Iranian Chinese American European long-term short-term bilateral joint
comprehensive""")

VERBS = _words("""expects plans announced signed agreed discussed reported noted stressed warned
argued increased reduced maintains improved secured protects built develops promotes
remains continues seeks aims hopes needs supports opposes rejected approved delayed
financed launched completed suspended extended renewed""")

PREPOSITIONS = _words("""in of with for on from against between under after before during across
through within without towards""")

DETERMINERS = _words("""the the the a its their this that each another""")

ADVERBS = _words("""also still already now increasingly largely partly reportedly""")

SYLLABLES = _words("""ka ra mi lo vu sa te ni ba do ru ze ha ko li ma na pe su ta vo ya al an ar el
em en er il in ir or ul un ur ash bar dor gan hal kar lan mar nor ran sar tal var zan""")

CYRILLIC = ["Москва", "Росснефть", "Лукойл", "Газпром", "Министерство", "соглашение", "ёмкость"]
ARABIC = ["بغداد", "البصرة", "أربيل", "النفط", "الحكومة", "مُحَمَّد", "الموصل"]

SHARED_PHRASES = [
    "according to officials familiar with the matter",
    "in the years to come",
    "as part of a wider strategy",
    "under the terms of the agreement",
    "despite repeated warnings from analysts",
    "in the wake of the crisis",
    "at the request of the government",
    "on the sidelines of the summit",
    "in line with its commitments",
    "for the first time since the war",
]
BOILERPLATE = [
    "The views expressed in this publication are solely those of the authors.",
    "This article was updated to reflect new information.",
    "All rights reserved.",
    "Subscribe to our newsletter for more analysis.",
]
QUOTES = [("\u201c", "\u201d"), ('"', '"'), ("\u2018", "\u2019")]


@dataclass(frozen=True)
class Corpus:
    root: Path
    sources: list[str]  # source ids, in order
    excerpts: int
    bytes: int  # of all source files


class TextMaker:
    """Sentences from simple phrase patterns over a word list with Zipf-like frequencies."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        names = {
            (rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)).capitalize()
            for _ in range(400)
        }
        self.names = sorted(names)
        self.classes = {}
        for key, words in (
            ("n", NOUNS),
            ("a", ADJECTIVES),
            ("v", VERBS),
            ("p", PREPOSITIONS),
            ("d", DETERMINERS),
            ("r", ADVERBS),
        ):
            # Zipf-like: the k-th word has weight 1/(k+4), in a shuffled order per class
            words = list(words)
            rng.shuffle(words)
            self.classes[key] = (
                words,
                list(itertools.accumulate(1 / (k + 4) for k in range(len(words)))),
            )

    def word(self, key: str) -> str:
        words, cum = self.classes[key]
        return self.rng.choices(words, cum_weights=cum)[0]

    def words(self, n: int) -> list[str]:
        return [self.word(self.rng.choice("nnav")) for _ in range(n)]

    def noun_phrase(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.12:
            return rng.choice(self.names)
        if roll < 0.17:
            return rng.choice(CYRILLIC + ARABIC)
        if roll < 0.25:
            return rng.choice(
                [
                    f"${rng.randint(1, 90)}bn",
                    f"{rng.randint(2, 95)} per cent",
                    f"{rng.randint(10, 900):,} barrels",
                ]
            )
        parts = [self.word("d")]
        if rng.random() < 0.5:
            parts.append(self.word("a"))
        parts.append(self.word("n"))
        if rng.random() < 0.3:
            parts.append(self.word("n"))
        return " ".join(parts)

    def clause(self) -> str:
        rng = self.rng
        parts = [self.noun_phrase()]
        if rng.random() < 0.2:
            parts.append(self.word("r"))
        parts += [self.word("v"), self.noun_phrase()]
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            parts += [self.word("p"), self.noun_phrase()]
        if rng.random() < 0.15:
            parts.append(rng.choice(SHARED_PHRASES))
        if rng.random() < 0.1:
            parts.append(f"in {rng.randint(1990, 2025)}")
        return " ".join(parts)

    def sentence(self) -> str:
        rng = self.rng
        clauses = [self.clause()]
        while rng.random() < 0.35 and len(clauses) < 3:
            clauses.append(rng.choice([", and ", ", but ", " \u2013 ", ", while "]) + self.clause())
        text = "".join(clauses)
        text = text[0].upper() + text[1:]
        end = "?" if rng.random() < 0.04 else "."
        if rng.random() < 0.08:
            left, right = rng.choice(QUOTES)
            return f"{rng.choice(self.names)} said: {left}{text}{end}{right}"
        return text + end

    def paragraph(self) -> list[str]:
        return [self.sentence() for _ in range(self.rng.randint(2, 7))]


def _source_file(
    sid: str, title: str, paragraphs: list[list[str]], kind: str, rng: random.Random
) -> str:
    front = (
        f'---\ntitle: "{title}"\npublisher: "{rng.choice(["Gulf Review", "Tigris Daily"])}"\n'
        f"date: {rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}\n"
        f"url: https://example.org/{sid}\n---\n"
    )
    if kind == "html":
        body = "\n".join("<p>" + html.escape(" ".join(p), quote=False) + "</p>" for p in paragraphs)
        return front + f"<html><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    if kind == "md":
        return front + f"# {title}\n\n" + "\n\n".join(" ".join(p) for p in paragraphs) + "\n"
    # .txt: half the sources wrap their lines (PDF-like), half keep a paragraph per line
    if rng.random() < 0.5:
        wrapped = (
            textwrap.fill(" ".join(p), 80, break_long_words=False, break_on_hyphens=False)
            for p in paragraphs
        )
        return front + "\n\n".join(wrapped) + "\n"
    return front + "\n".join(" ".join(p) for p in paragraphs) + "\n"


def make_corpus(
    root: Path, sources: int = 1000, excerpts: int = 5000, seed: int = 1, pages: int = 3
) -> Corpus:
    """Write content/sources/ and content/brief.yaml under `root`; return what was made."""
    rng = random.Random(seed)
    maker = TextMaker(rng)
    folder = root / "content" / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    sentences_of: dict[str, list[str]] = {}
    total = 0
    for n in range(sources):
        sid = f"src-{n:04d}-{maker.names[n % len(maker.names)].lower()}"
        title = " ".join(maker.words(6)).capitalize().replace(" ,", "")
        roll = rng.random()
        kind = "html" if roll < 0.05 else "md" if roll < 0.1 else "txt"
        paragraphs = [maker.paragraph() for _ in range(pages * 5)]
        if rng.random() < 0.5:
            paragraphs.insert(0, [rng.choice(BOILERPLATE)])
        if rng.random() < 0.05:  # a sentence said twice
            paragraphs[-1].append(paragraphs[1][0])
        data = _source_file(sid, title, paragraphs, kind, rng)
        (folder / f"{sid}.{kind}").write_text(data, encoding="utf-8")
        total += len(data.encode("utf-8"))
        ids.append(sid)
        sentences_of[sid] = [s for p in paragraphs for s in p]
    (root / "content" / "brief.yaml").write_text(
        _outline(ids, sentences_of, excerpts, rng), encoding="utf-8"
    )
    return Corpus(root, ids, excerpts, total)


def _outline(
    ids: list[str], sentences_of: dict[str, list[str]], excerpts: int, rng: random.Random
) -> str:
    """Sections of about 100 excerpts, each with some prose citing sources."""
    picks = []
    for k in range(excerpts):
        sid = ids[k % len(ids)]
        sentences = sentences_of[sid]
        text = " ".join(sentences)
        for _ in range(20):
            at = rng.randrange(len(sentences) - 1)
            quote = " ".join(sentences[at : at + rng.choice([1, 1, 2])])
            if text.count(quote) == 1 and len(quote) > 40:
                break
        picks.append((sid, quote))
    rng.shuffle(picks)
    lines = ['title: "A benchmark brief"', "date: 2026-11-22", "sections:"]
    per_section = 100
    for s in range(0, len(picks), per_section):
        chunk = picks[s : s + per_section]
        lines += [f"  - id: part-{s // per_section + 1}", f"    title: Part {s // per_section + 1}"]
        lines.append("    content:")
        cited = "; ".join(f"@{sid}" for sid, _ in chunk[:3])
        lines.append(f"      - Prose that cites its sources [{cited}].")
        for sid, quote in chunk:
            lines += ["      - excerpt:", f"          source: {sid}", "          quote: >-"]
            lines += [
                "            " + line
                for line in textwrap.wrap(quote, 76, break_long_words=False, break_on_hyphens=False)
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--excerpts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    corpus = make_corpus(args.root, args.sources, args.excerpts, args.seed)
    print(
        f"{len(corpus.sources)} sources ({corpus.bytes / 1e6:.1f} MB) and an outline with "
        f"{corpus.excerpts} excerpts in {corpus.root}"
    )


if __name__ == "__main__":
    main()
