"""Benchmark builds of the example brief: cold, no-op, one-source edit, watch, and WeasyPrint alone.

Run:  .venv/bin/python bench/bench_build.py [--runs 5]

Each figure is the median wall time of fresh `briefgen` processes (as an editor runs them), on a
private copy of content/. "weasyprint alone" runs the `weasyprint` command on the very HTML that
briefgen fed it, so the overhead of everything else is known. "watch" is the time from saving a
source to the new PDF on disk, in one warm `briefgen watch` process.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EDITED = "content/sources/rogozin-baghdad-delegation.txt"


def timed(args: list[str], cwd: Path) -> float:
    begun = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - begun


def edit_source(root: Path, n: int) -> None:
    path = root / EDITED
    path.write_text(path.read_text(encoding="utf-8") + f"\nRevision {n}.\n", encoding="utf-8")


def digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def watch_rebuilds(root: Path, runs: int) -> list[float]:
    """Seconds from a save to a new brief.pdf, in one warm `briefgen watch` process."""
    pdf = root / "output" / "brief.pdf"
    process = subprocess.Popen([str(BIN / "briefgen"), "watch", str(root)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = []
    try:
        time.sleep(3)  # let it start and settle after its first (no-op) build
        for n in range(runs):
            before = digest(pdf)
            begun = time.perf_counter()
            edit_source(root, 1000 + n)
            while digest(pdf) == before:
                if time.perf_counter() - begun > 60:
                    raise RuntimeError("watch did not rebuild within 60 s")
                time.sleep(0.01)
            times.append(time.perf_counter() - begun)
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-watch", action="store_true", help="skip the watch measurement")
    runs = parser.parse_args().runs
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "brief"
        shutil.copytree(REPO / "content", root / "content")
        briefgen = [str(BIN / "briefgen"), "build", str(root)]
        results: dict[str, list[float]] = {"cold build": [], "no-op build": [],
                                           "rebuild after one source edit": [],
                                           "weasyprint alone (same HTML)": []}
        for n in range(runs):
            shutil.rmtree(root / "output", ignore_errors=True)
            results["cold build"].append(timed(briefgen, root))
            results["no-op build"].append(timed(briefgen, root))
            edit_source(root, n)
            results["rebuild after one source edit"].append(timed(briefgen, root))
            results["weasyprint alone (same HTML)"].append(timed(
                [str(BIN / "weasyprint"), str(root / "output" / ".briefgen" / "print.html"),
                 str(Path(tmp) / "floor.pdf")], root))
        if not args.no_watch:
            results["watch: save to new PDF"] = watch_rebuilds(root, runs)
        pages = subprocess.run(["pdfinfo", str(root / "output" / "brief.pdf")],
                               capture_output=True, text=True).stdout
        page_count = next((line.split()[-1] for line in pages.splitlines()
                           if line.startswith("Pages:")), "?")
    cold = statistics.median(results["cold build"])
    print(f"example brief: {page_count} pages; medians of {runs} runs")
    print(f"{'measurement':34} {'median s':>9} {'x cold':>7}   all runs")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:34} {median:9.3f} {median / cold:7.2f}   "
              + " ".join(f"{v:.3f}" for v in values))


if __name__ == "__main__":
    main()
