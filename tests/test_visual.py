"""Visual regression: every page of the example brief, as an image, against a stored reference.

Each page is rasterised by `pdftoppm` in grayscale at exactly 2 pixels per millimetre (A4 is
420 x 594 pixels, about 51 dpi: no partly covered pixel at the page's edges) and compared with
`tests/visual/example-page-NN.png`. The page count must match.

The tolerance. A pixel differs when it is more than LEVELS grey levels darker or lighter than
every pixel of the 3 x 3 neighbourhood around the same place in the other image (checked both
ways). A page fails when more than BOUND of its pixels differ. Measured on the example:

- the same build twice: byte-identical PDFs, 0 pixels differ on every page;
- the same PDF drawn by another rasteriser (`pdftocairo` instead of `pdftoppm`: other
  anti-aliasing), or shifted by a whole pixel: at most 0.014% of a page differs;
- one word of prose replaced by another of the same length (no reflow): 0.03% on its page;
- one line of notes at the foot of a page erased (a note moved away): 0.09-0.19%;
- a quote lengthened by one sentence (the rest of its page moves down): 5.3% on its page;
- quotes that no longer wrap and overflow the page (`white-space: nowrap`): 4.5-6.6% on every
  page with a quote;
- the right margin 3 mm wider: 0.4-5% on 10 of the 13 pages (0.07% and 0.02% on the other two).

BOUND = 0.05% (about 125 pixels, a few words at 7.5 pt) sits 3.5 times above rendering noise and
below the smallest break measured (a lost line of notes); moved or overflowing text is 100 times
above it. On a failure the
actual pages and a diff image for each failing page (reference | actual | differences in red)
are written to a folder that the message names.

References are refreshed on purpose, after looking at the change: `bash scripts/refresh-visual.sh`
(it runs `python tests/test_visual.py --refresh PDF`).

The break tests build one broken copy of the example (a lengthened quote in section 1; a project
`templates/print.css` that makes the quotes of the last section overflow) in a subprocess that
starts with this module, so it runs alongside the build of the example itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter

REPO = Path(__file__).resolve().parent.parent
VISUAL = Path(__file__).resolve().parent / "visual"
SIZE = (420, 594)  # A4 at 2 px/mm
LEVELS = 64
BOUND = 0.0005
REFRESH = "bash scripts/refresh-visual.sh"

pytestmark = [
    pytest.mark.pdf,
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)"),
]


# -- rasterise and compare -------------------------------------------------------------------------


def rasterise(pdf: Path) -> list[Image.Image]:
    """Every page of `pdf` as an 8-bit grayscale image of SIZE pixels."""
    with tempfile.TemporaryDirectory(prefix="briefgen-visual-") as folder:
        subprocess.run(
            [
                "pdftoppm",
                "-gray",
                "-scale-to-x",
                str(SIZE[0]),
                "-scale-to-y",
                str(SIZE[1]),
                str(pdf),
                str(Path(folder) / "page"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        pages = []
        for path in sorted(Path(folder).glob("page-*.pgm"), key=lambda p: int(p.stem[5:])):
            with Image.open(path) as image:
                pages.append(image.convert("L"))
        return pages


def reference_path(number: int) -> Path:
    return VISUAL / f"example-page-{number:02d}.png"


def references() -> list[Image.Image]:
    paths = sorted(VISUAL.glob("example-page-*.png"))
    pages = []
    for path in paths:
        with Image.open(path) as image:
            pages.append(image.convert("L"))
    return pages


def differing(reference: Image.Image, actual: Image.Image) -> Image.Image:
    """A mask (255 where a pixel differs, see the module's docstring) of two same-size pages."""
    mask = None
    for one, other in ((actual, reference), (reference, actual)):
        low = other.filter(ImageFilter.MinFilter(3))
        high = other.filter(ImageFilter.MaxFilter(3))
        beyond = ImageChops.lighter(ImageChops.subtract(low, one), ImageChops.subtract(one, high))
        found = beyond.point(lambda v: 255 if v > LEVELS else 0)
        mask = found if mask is None else ImageChops.lighter(mask, found)
    return mask


def fraction(mask: Image.Image) -> float:
    return mask.histogram()[255] / (mask.width * mask.height)


def diff_image(reference: Image.Image, actual: Image.Image, mask: Image.Image) -> Image.Image:
    """Reference, actual, and both pages faded on top of each other, the differing pixels red."""
    both = ImageChops.darker(reference, actual)
    faded = Image.eval(both, lambda v: 170 + v * 85 // 255).convert("RGB")
    faded.paste((220, 0, 0), mask=mask)
    gap = 8
    sheet = Image.new("RGB", (3 * SIZE[0] + 2 * gap, SIZE[1]), (255, 255, 255))
    for i, image in enumerate((reference.convert("RGB"), actual.convert("RGB"), faded)):
        sheet.paste(image, (i * (SIZE[0] + gap), 0))
    return sheet


@dataclass(frozen=True)
class Comparison:
    pages: int
    reference_pages: int
    differences: dict[int, float]  # page number (1-based) -> fraction of its pixels that differ
    folder: Path

    @property
    def failing(self) -> list[int]:
        return [page for page, value in self.differences.items() if value > BOUND]

    @property
    def ok(self) -> bool:
        return self.pages == self.reference_pages and not self.failing

    def message(self) -> str:
        lines = []
        if self.pages != self.reference_pages:
            lines.append(f"the brief has {self.pages} pages, the references {self.reference_pages}")
        for page in self.failing:
            lines.append(
                f"page {page}: {self.differences[page]:.3%} of the pixels differ (bound"
                f" {BOUND:.2%}); reference {reference_path(page).relative_to(REPO)},"
                f" diff {self.folder / f'diff-page-{page:02d}.png'}"
            )
        lines.append(f"actual pages in {self.folder}")
        lines.append(f"if the change is intended, refresh the references: {REFRESH}")
        return "\n".join(lines)


def compare(pdf: Path, folder: Path) -> Comparison:
    """Compare every page of `pdf` with its reference; write the actual pages and the diff images
    of failing pages into `folder`."""
    expected = references()
    if not expected:
        pytest.fail(f"no reference images in {VISUAL.relative_to(REPO)}; make them: {REFRESH}")
    actual = rasterise(pdf)
    folder.mkdir(parents=True, exist_ok=True)
    differences = {}
    for number, (reference, page) in enumerate(zip(expected, actual, strict=False), 1):
        page.save(folder / f"actual-page-{number:02d}.png")
        if reference.size != page.size:
            differences[number] = 1.0
            continue
        mask = differing(reference, page)
        differences[number] = fraction(mask)
        if differences[number] > BOUND:
            diff_image(reference, page, mask).save(folder / f"diff-page-{number:02d}.png")
    for number, page in enumerate(actual[len(expected) :], len(expected) + 1):
        page.save(folder / f"actual-page-{number:02d}.png")
    return Comparison(len(actual), len(expected), differences, folder)


def refresh(pdf: Path) -> list[Path]:
    """Write the references from `pdf` (deleting references of pages it no longer has)."""
    VISUAL.mkdir(exist_ok=True)
    for old in VISUAL.glob("example-page-*.png"):
        old.unlink()
    written = []
    for number, page in enumerate(rasterise(pdf), 1):
        page.save(reference_path(number), optimize=True)
        written.append(reference_path(number))
    return written


# -- the example against its references ------------------------------------------------------------


def test_example_pages_match_references(built_example, tmp_path):
    result = compare(built_example / "output" / "brief.pdf", tmp_path / "visual-diff")
    assert result.ok, result.message()


# -- the comparison itself -------------------------------------------------------------------------


def test_tolerance_accepts_a_one_pixel_shift_and_rejects_a_lost_line():
    pages = references()
    if not pages:
        pytest.skip(f"no references yet: {REFRESH}")
    dark = [fraction(page.point(lambda v: 255 if v < 128 else 0)) for page in pages]
    page = pages[dark.index(max(dark))]
    for dx, dy in ((1, 0), (0, 1), (-1, -1)):  # half a millimetre: anti-aliasing, not layout
        assert fraction(differing(page, ImageChops.offset(page, dx, dy))) <= BOUND
    assert fraction(differing(page, ImageChops.offset(page, 0, 2))) > BOUND  # 1 mm lower
    # The last line above the bottom margin (24 mm) gone, as when a note moves to the next page.
    ink = [
        y for y in range(SIZE[1] - 48) if min(page.crop((0, y, SIZE[0], y + 1)).getextrema()) < 128
    ]
    bottom = top = ink[-1]
    while top - 1 in ink:
        top -= 1
    erased = page.copy()
    erased.paste(255, (0, top, SIZE[0], bottom + 1))
    assert fraction(differing(page, erased)) > BOUND


# -- a deliberately broken build fails -------------------------------------------------------------

# One broken copy of the example, with two breaks far apart: the first quote of section 1 is one
# sentence longer (its page reflows), and a project print.css makes the quotes of the last
# section overflow the page. Sections start on a new page, so the pages in between must pass.

# The sentence that follows the first quote of section 1 in its source.
NEXT_SENTENCE = (
    ' Lavrov is expected to "meet with President Abdul Latif Rashid, Prime Minister Mohammad Shia'
    " al-Sudani, speaker of the House of Representatives (parliament) Mohamed al-Halbousi and his"
    ' Iraqi counterpart, Fuad Hussein," Russia\u2019s state media TASS reported, citing the foreign'
    " ministry."
)
FIRST_QUOTE_END = "regime of Saddam Hussein.\n"
# Words looked for in the PDF's text, white space removed.
FIRST_QUOTE = "decisiontosenditstopdiplomat"  # section 1 (history), its first quote
ENERGY_START = "Energyisthethreadthatrunsthrougheveryaccount"  # section 2's first words
LAST_SECTION = "regional-dynamics"
LAST_SECTION_QUOTE = "goalistogetTurkeybacktonormalization"  # its first quote
OVERFLOW_RULE = f"#{LAST_SECTION} .excerpt blockquote {{ white-space: nowrap; }}\n"


def break_example(root: Path) -> None:
    outline = root / "content" / "brief.yaml"
    text = outline.read_text(encoding="utf-8")
    assert FIRST_QUOTE_END in text, "the example's first quote changed; update this test"
    assert f"id: {LAST_SECTION}" in text, "the example's last section changed; update this test"
    text = text.replace(FIRST_QUOTE_END, FIRST_QUOTE_END[:-1] + NEXT_SENTENCE + "\n", 1)
    outline.write_text(text, encoding="utf-8")
    # The built-in print.css with one rule added, before the footnote rule, which must stay last
    # (README "Themes"): a project's file replaces the built-in one of the same name.
    css = (REPO / "templates" / "print.css").read_text(encoding="utf-8")
    last_rule = css.rfind("@page")
    (root / "templates").mkdir()
    (root / "templates" / "print.css").write_text(
        css[:last_rule] + OVERFLOW_RULE + css[last_rule:], encoding="utf-8"
    )


@pytest.fixture(scope="session", autouse=True)
def _broken_build(tmp_path_factory):
    """Start building the broken copy at once, in a subprocess, while the example itself builds."""
    root = tmp_path_factory.mktemp("visual-break") / "example"
    shutil.copytree(REPO / "content", root / "content")
    break_example(root)
    process = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "build", str(root)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    yield root, process
    if process.poll() is None:
        process.kill()
    process.communicate()


@dataclass(frozen=True)
class Broken:
    pdf: Path
    comparison: Comparison
    first_quote: int  # page numbers
    energy_start: int
    last_section_quote: int


@pytest.fixture(scope="module")
def broken(_broken_build, tmp_path_factory) -> Broken:
    root, process = _broken_build
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, f"the broken copy did not build:\n{err.decode()}{out.decode()}"
    pdf = root / "output" / "brief.pdf"
    [first_quote] = pages_with(pdf, FIRST_QUOTE)
    [energy_start] = pages_with(pdf, ENERGY_START)
    [last_section_quote] = pages_with(pdf, LAST_SECTION_QUOTE)
    assert first_quote < energy_start < last_section_quote
    comparison = compare(pdf, tmp_path_factory.mktemp("visual-break-diff"))
    return Broken(pdf, comparison, first_quote, energy_start, last_section_quote)


def pages_with(pdf: Path, squashed: str) -> list[int]:
    """1-based numbers of the pages whose text (white space removed) contains `squashed`."""
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    pages = text.split("\f")[:-1]  # every page ends with a form feed
    return [number for number, page in enumerate(pages, 1) if squashed in "".join(page.split())]


def test_a_broken_build_fails_with_a_useful_message(broken):
    result = broken.comparison
    assert not result.ok
    message = result.message()
    for page in result.failing:
        assert f"page {page}: " in message
        assert (result.folder / f"diff-page-{page:02d}.png").is_file()
        assert str(result.folder / f"diff-page-{page:02d}.png") in message
    assert (result.folder / "actual-page-01.png").is_file()
    assert REFRESH in message


def test_a_lengthened_quote_fails_on_its_page(broken):
    result, page = broken.comparison, broken.first_quote
    assert page in result.failing, result.message()
    assert result.differences[page] > 20 * BOUND
    assert min(result.failing) == page, "a page before the change differs:\n" + result.message()


def test_overflowing_quotes_fail_on_their_page(broken):
    result, page = broken.comparison, broken.last_section_quote
    assert page in result.failing, result.message()
    assert result.differences[page] > 20 * BOUND


def test_the_pages_between_the_breaks_pass(broken):
    result = broken.comparison
    between = range(broken.energy_start, broken.last_section_quote)
    assert len(between) >= 2
    assert not [page for page in between if page in result.failing], result.message()
    assert result.pages == result.reference_pages


# -- refresh ---------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "--refresh":
        print("usage: python tests/test_visual.py --refresh BRIEF.pdf", file=sys.stderr)
        return 2
    written = refresh(Path(argv[1]))
    size = sum(path.stat().st_size for path in written)
    where = VISUAL.relative_to(REPO)
    print(f"wrote {len(written)} reference pages to {where}/ ({size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
