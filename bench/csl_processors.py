"""Compare CSL processors on briefgen's citations: correctness on reference cases, and speed.

Run:  .venv/bin/python bench/csl_processors.py [--runs 5]
      (citeproc-py is measured too when it is installed: pip install citeproc-py)

Correctness: nine citations of the example's five sources, with the metadata a Zotero record
would add (types, a date, a URL), formatted as notes/in-text citations plus the bibliography, in
Chicago notes-bibliography, APA 7 and Cite Them Right (Harvard); each output is compared with the
form the style's manual gives (EXPECTED, checked by hand against CMOS 18, APA 7 and Cite Them
Right). Speed: the example brief's notes (83) and its sources through each processor, the best
of --runs runs, in milliseconds, with the processor's start-up included (what a build pays).
See docs/citations.md for the results and the choice they led to.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from briefgen.build import verify  # noqa: E402
from briefgen.cite import csl_item, plain_text, resolve_style  # noqa: E402
from briefgen.cite import processor as pandoc_processor  # noqa: E402
from briefgen.errors import Diagnostics  # noqa: E402
from briefgen.project import Project  # noqa: E402

ITEMS = [
    {
        "id": "jpost",
        "type": "article-newspaper",
        "title": "What is Russia’s Lavrov doing in Iraq? - analysis",
        "title-short": "What is Russia’s Lavrov doing in Iraq?",
        "container-title": "The Jerusalem Post",
    },
    {
        "id": "fa",
        "type": "webpage",
        "title": "Russia’s Objectives in Iraq: Diplomatic Strategy",
        "title-short": "Russia’s Objectives in Iraq",
        "container-title": "Foreign Affairs",
    },
    {
        "id": "primakov",
        "type": "report",
        "title": "Russia and Iraq: Resilience amid Regional Instability",
        "title-short": "Russia and Iraq",
        "publisher": "Evgeniy Primakov Center for International Cooperation",
        "author": [
            {"family": "Mamedov", "given": "Ruslan"},
            {"family": "Lukyanov", "given": "Grigory"},
        ],
        "issued": {"date-parts": [[2024, 3, 1]]},
        "URL": "https://example.org/primakov",
    },
    {
        "id": "bp",
        "type": "article-newspaper",
        "title": "Could Russia move to counterbalance the US in Iraq?",
        "container-title": "Baghdadpost",
        "issued": {"date-parts": [[2020, 1, 20]]},
    },
    {
        "id": "rogozin",
        "type": "webpage",
        "title": "Russia is Making a Huge Effort to Challenge US Influence in Iraq",
        "title-short": "Russia is Making a Huge Effort",
    },
]
CASES = [
    [("primakov", "p. 9")],
    [("primakov", None)],
    [("primakov", "p. 12")],
    [("jpost", None)],
    [("primakov", None), ("jpost", None)],
    [("bp", None)],
    [("rogozin", None)],
    [("jpost", "pp. 3-4")],
    [("fa", None)],
]
_MAMEDOV = "Ruslan Mamedov and Grigory Lukyanov"
_RUSSIA_IRAQ = "Russia and Iraq: Resilience amid Regional Instability"
_PRIMAKOV = "Evgeniy Primakov Center for International Cooperation"
_LAVROV = "“What Is Russia’s Lavrov Doing in Iraq? - Analysis"
#: The manuals' forms: the nine citations, then the bibliography in the style's order.
EXPECTED = {
    "chicago": [
        f"{_MAMEDOV}, *{_RUSSIA_IRAQ}* ({_PRIMAKOV}, 2024), 9, https://example.org/primakov.",
        "Mamedov and Lukyanov, *Russia and Iraq*.",
        "Mamedov and Lukyanov, *Russia and Iraq*, 12.",
        f"{_LAVROV},” *The Jerusalem Post*, n.d.",
        "Mamedov and Lukyanov, *Russia and Iraq*; *The Jerusalem Post*, “What Is Russia’s Lavrov "
        "Doing in Iraq?”",
        "“Could Russia Move to Counterbalance the US in Iraq?” *Baghdadpost*, January 20, 2020.",
        "“Russia Is Making a Huge Effort to Challenge US Influence in Iraq.”",
        "*The Jerusalem Post*, “What Is Russia’s Lavrov Doing in Iraq?” 3–4.",
        "“Russia’s Objectives in Iraq: Diplomatic Strategy,” Foreign Affairs.",
        "*Baghdadpost*. “Could Russia Move to Counterbalance the US in Iraq?” January 20, 2020.",
        "Foreign Affairs. “Russia’s Objectives in Iraq: Diplomatic Strategy.”",
        f"Mamedov, Ruslan, and Grigory Lukyanov. *{_RUSSIA_IRAQ}*. {_PRIMAKOV}, 2024. "
        "https://example.org/primakov.",
        "“Russia Is Making a Huge Effort to Challenge US Influence in Iraq.”",
        f"*The Jerusalem Post*. {_LAVROV}.” n.d.",
    ],
    "apa": [
        "(Mamedov & Lukyanov, 2024, p. 9)",
        "(Mamedov & Lukyanov, 2024)",
        "(Mamedov & Lukyanov, 2024, p. 12)",
        "(“What Is Russia’s Lavrov Doing in Iraq?” n.d.)",
        "(Mamedov & Lukyanov, 2024; “What Is Russia’s Lavrov Doing in Iraq?” n.d.)",
        "(“Could Russia Move to Counterbalance the US in Iraq?” 2020)",
        "(*Russia Is Making a Huge Effort*, n.d.)",
        "(“What Is Russia’s Lavrov Doing in Iraq?” n.d., pp. 3–4)",
        "(*Russia’s Objectives in Iraq*, n.d.)",
        "Could Russia move to counterbalance the US in Iraq? (2020, January 20). *Baghdadpost*.",
        f"Mamedov, R., & Lukyanov, G. (2024). *{_RUSSIA_IRAQ}*. {_PRIMAKOV}. "
        "https://example.org/primakov",
        "*Russia is Making a Huge Effort to Challenge US Influence in Iraq*. (n.d.).",
        "*Russia’s Objectives in Iraq: Diplomatic Strategy*. (n.d.). Foreign Affairs.",
        "What is Russia’s Lavrov doing in Iraq? - analysis. (n.d.). *The Jerusalem Post*.",
    ],
    "harvard": [
        "(Mamedov and Lukyanov, 2024, p. 9)",
        "(Mamedov and Lukyanov, 2024)",
        "(Mamedov and Lukyanov, 2024, p. 12)",
        "(*The Jerusalem Post*, no date)",
        "(Mamedov and Lukyanov, 2024; *The Jerusalem Post*, no date)",
        "(*Baghdadpost*, 2020)",
        "(*Russia is Making a Huge Effort to Challenge US Influence in Iraq*, no date)",
        "(*The Jerusalem Post*, no date, pp. 3–4)",
        "(*Russia’s Objectives in Iraq: Diplomatic Strategy*, no date)",
        "*Baghdadpost* (2020) “Could Russia move to counterbalance the US in Iraq?” 20 January.",
        f"Mamedov, R. and Lukyanov, G. (2024) *{_RUSSIA_IRAQ}*. {_PRIMAKOV}. Available at: "
        "https://example.org/primakov.",
        "*Russia is Making a Huge Effort to Challenge US Influence in Iraq* (no date).",
        "*Russia’s Objectives in Iraq: Diplomatic Strategy* (no date) *Foreign Affairs*.",
        "*The Jerusalem Post* (no date) “What is Russia’s Lavrov doing in Iraq? - analysis.”",
    ],
}


def style_path(name: str):
    found = resolve_style(name, (1, 1), REPO / "content" / "brief.yaml", REPO, Diagnostics())
    assert found is not None
    return found


def run_pandoc(style, items, notes):
    pandoc_processor._CACHE.clear()
    done = pandoc_processor.format_citations(style, {i["id"]: i for i in items}, notes, None)
    return [plain_text(n) for n in done.notes], [plain_text(done.entries[k]) for k in done.order]


def run_citeproc_py(style, items, notes):
    import warnings

    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        Locator,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    warnings.simplefilter("ignore")
    bib = CitationStylesBibliography(
        CitationStylesStyle(str(style.path), validate=False), CiteProcJSON(items), formatter.html
    )
    citations = []
    for note in notes:
        cites = []
        for sid, locator in note:
            if locator:
                label, _, number = locator.partition(" ")
                kind = {"p.": "page", "pp.": "page", "chap.": "chapter"}.get(label, "page")
                cites.append(CitationItem(sid, locator=Locator(kind, number or label)))
            else:
                cites.append(CitationItem(sid))
        citation = Citation(cites)
        bib.register(citation)
        citations.append(citation)
    out = [plain_text(str(bib.cite(c, lambda _item: None))) for c in citations]
    return out, [plain_text(str(entry)) for entry in bib.bibliography()]


def processors() -> dict:
    found = {"pandoc citeproc (pypandoc-binary)": run_pandoc}
    try:
        import citeproc  # noqa: F401

        found["citeproc-py"] = run_citeproc_py
    except ImportError:
        print("(citeproc-py is not installed: pip install citeproc-py to measure it too)")
    return found


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print every output that differs")
    args = parser.parse_args()
    report = verify(Project(REPO))
    citations = report.verified.citations
    example_items = [csl_item(report.verified.sources[sid]) for sid in citations.order]
    example_notes = [[(r.source_id, r.locator) for r in n.references] for n in citations.notes]
    results = {}
    for name, run in processors().items():
        for style_name, expected in EXPECTED.items():
            style = style_path(style_name)
            count = len(CASES)
            try:
                notes, entries = run(style, json.loads(json.dumps(ITEMS)), CASES)
                notes, entries = [_norm(t) for t in notes], [_norm(t) for t in entries]
                wrong = [(e, g) for e, g in zip(expected, notes, strict=False) if e != g]
                wrong += [(e, "(missing)") for e in expected[len(notes) : count]]
                # Entries are judged one by one; their order (the style sorts) separately.
                wrong += [(e, "(no such entry)") for e in expected[count:] if e not in entries]
                keys = [e.casefold()[:24] for e in expected[count:]]
                ranks = [
                    keys.index(g.casefold()[:24]) for g in entries if g.casefold()[:24] in keys
                ]
                ordered = len(ranks) == len(keys) and ranks == sorted(ranks)
            except Exception as exc:  # a processor that cannot run the style at all
                wrong = [(f"{type(exc).__name__}: {exc}", "")] * len(expected)
                ordered = False
            best = float("inf")
            for _ in range(args.runs):
                begun = time.perf_counter()
                run(style, json.loads(json.dumps(example_items)), example_notes)
                best = min(best, time.perf_counter() - begun)
            results[(name, style_name)] = (len(expected) - len(wrong), len(expected), ordered, best)
            if args.show:
                for e, g in wrong:
                    print(f"  {name} {style_name}\n    expected {e}\n    got      {g}")
    print(f"\n{'processor':36} {'style':8} {'correct':>8} {'sorted':>7} {'ms (83 notes)':>14}")
    for (name, style_name), (ok, total, ordered, seconds) in results.items():
        sort = "yes" if ordered else "no"
        print(f"{name:36} {style_name:8} {ok:>4}/{total:<3} {sort:>7} {seconds * 1000:>14.0f}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
