"""The benchmark suite: build, rebuild, watch and check, against WeasyPrint alone as the floor.

    .venv/bin/python bench/run.py                      # everything; writes docs/performance.md
    .venv/bin/python bench/run.py --sizes example,10 --runs 3 --no-write   # a quick look

For the example brief (content/) and for generated briefs of about 10, 50 and 200 pages
(bench/briefs.py, deterministic), each in a private temporary folder, it measures:

- `build`, cold: a fresh `briefgen build` process with no output/ (wall time, peak memory);
- `build`, no-op: the same again, nothing to do;
- `build` after one source edit (a sentence appended to one cited source);
- `weasyprint` alone, the floor: the `weasyprint` command on the very HTML that briefgen laid out
  (output/.briefgen/print.html), in a fresh process, so both pay Python's start and
  `import weasyprint`; run right after each cold build, so both see the same machine load;
- `watch`: in one warm `briefgen watch` process, the time from saving a source to the new PDF
  on disk (the output's inode changes: builds write a new file and rename it), and the peak
  memory of that process over the whole run;
- `check`: a fresh `briefgen check` process.

Peak memory is the maximum resident set size of the process, children included (pandoc), from
`os.wait4`. Each figure is the median of --runs runs (watch: of --runs saves). `--profile`
also writes a cProfile of a cold build of the largest brief (its own process) to
bench/profile-<N>.txt, and a breakdown of where that build spends its time.
Results go to docs/performance.md, between its `bench:begin` and `bench:end` markers (the text
around them is kept), with the machine: CPU, cores, memory, load, Python and WeasyPrint versions.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from briefs import make_brief  # noqa: E402

BIN = Path(sys.executable).parent
BRIEFGEN = [str(BIN / "briefgen")]  # the console script of the environment running this
WEASYPRINT = [str(BIN / "weasyprint")]
DOC = REPO / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass
class Run:
    seconds: float  # wall time
    cpu: float  # user + system CPU seconds, children included
    peak_mb: float  # max RSS of the process and its children


@dataclass
class Result:
    name: str
    pages: int = 0
    sources: int = 0
    excerpts: int = 0
    html_kb: float = 0.0
    pdf_kb: float = 0.0
    runs: dict[str, list[Run]] = field(default_factory=dict)
    watch_peak_mb: float = 0.0

    def add(self, what: str, run: Run) -> None:
        self.runs.setdefault(what, []).append(run)

    def median(self, what: str) -> float:
        return statistics.median(r.seconds for r in self.runs[what])

    def cpu(self, what: str) -> float:
        return statistics.median(r.cpu for r in self.runs[what])

    def peak(self, what: str) -> float:
        return statistics.median(r.peak_mb for r in self.runs[what])


def measure(args: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> Run:
    """Run a command to its end: wall seconds and peak memory (MB), children included."""
    with tempfile.TemporaryFile() as out:
        begun = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - begun
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in ok:
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
            raise RuntimeError(f"{args} exited {process.returncode}:\n{text[-3000:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def edit(path: Path, n: int) -> None:
    """Append one sentence to a source, as an editor's save would (write in place)."""
    text = path.read_text(encoding="utf-8")
    if text.rstrip().endswith("</html>"):
        text = text.replace("</body>", f"<p>A late addition, number {n}.</p></body>", 1)
    else:
        text += f"\nA late addition, number {n}.\n"
    path.write_text(text, encoding="utf-8")


def _cpu_of(pid: int) -> float:
    """CPU seconds of a running process and its waited-for children (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _signature(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def watch_runs(root: Path, source: Path, runs: int, result: Result) -> None:
    """Seconds from a save to a new brief.pdf in one warm `briefgen watch`; its peak memory."""
    pdf = root / "output" / "brief.pdf"
    process = subprocess.Popen(
        [*BRIEFGEN, "watch", str(root)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(600):
            raise RuntimeError("watch printed nothing in 600 s")
        time.sleep(1.0)  # the watch is armed just after its first report
        for n in range(runs):
            before, seen = _signature(pdf), len(lines)
            cpu = _cpu_of(process.pid)
            begun = time.perf_counter()
            edit(source, 1000 + n)
            while _signature(pdf) == before:
                if time.perf_counter() - begun > 900:
                    raise RuntimeError(f"watch did not rebuild in 900 s: {lines[-5:]}")
                time.sleep(0.005)
            seconds = time.perf_counter() - begun
            while len(lines) == seen:  # its summary line: the build is over
                time.sleep(0.01)
            result.add("watch: save to new PDF", Run(seconds, _cpu_of(process.pid) - cpu, 0.0))
            time.sleep(0.5)
        if any("failed" in line for line in lines):
            raise RuntimeError("a watch build failed:\n" + "\n".join(lines))
    finally:
        process.terminate()
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0
        result.watch_peak_mb = usage.ru_maxrss / 1024


def bench_brief(name: str, root: Path, source: Path, runs: int, watch: bool) -> Result:
    result = Result(name)
    output = root / "output"
    build = [*BRIEFGEN, "build", str(root)]
    for n in range(runs):
        shutil.rmtree(output, ignore_errors=True)
        result.add("build, cold", measure(build, root))
        floor_pdf = root / "floor.pdf"
        result.add(
            "weasyprint alone (floor)",
            measure([*WEASYPRINT, str(output / ".briefgen" / "print.html"), str(floor_pdf)], root),
        )
        floor_pdf.unlink()
        result.add("build, no-op", measure(build, root))
        edit(source, n)
        result.add("build, one source edited", measure(build, root))
        result.add("check", measure([*BRIEFGEN, "check", str(root)], root, ok=(0,)))
        print(f"  {name}: run {n + 1}/{runs} done", flush=True)
    if watch:
        watch_runs(root, source, runs, result)
    result.pages = pdf_pages(output / "brief.pdf")
    result.sources = len(list((root / "content" / "sources").iterdir()))
    result.excerpts = (
        (root / "content" / "brief.yaml").read_text(encoding="utf-8").count("- excerpt:")
    )
    result.html_kb = (output / ".briefgen" / "print.html").stat().st_size / 1024
    result.pdf_kb = (output / "brief.pdf").stat().st_size / 1024
    return result


# --- where a cold build spends its time -------------------------------------------------------

PHASES_CHILD = r"""
import json, resource, sys, time
wall0, cpu0 = time.perf_counter(), time.process_time()
phases = {}
def add(label, wall, cpu):
    w, c = phases.get(label, (0.0, 0.0))
    phases[label] = (w + wall, c + cpu)
def timed(owner, name, label):
    original = getattr(owner, name, None)
    if original is None:  # not in this version of briefgen
        return
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            add(label, time.perf_counter() - wall, time.process_time() - cpu)
    setattr(owner, name, wrapper)
import briefgen.build as build_module
add("start Python, import briefgen.build", time.perf_counter() - wall0, time.process_time())
wall, cpu = time.perf_counter(), time.process_time()
import weasyprint, weasyprint.document
import briefgen.pdf as pdf_module
import briefgen.render as render_module
import briefgen.cite.processor as processor
add("import WeasyPrint, the rendering stack", time.perf_counter() - wall, time.process_time() - cpu)
timed(build_module, "verify", "verify: outline, sources, anchors, citations numbered")
timed(processor, "run_pandoc", "citations: pandoc (its CPU is not in this process's)")
timed(processor, "_parse", "citations: pandoc's HTML cut into notes")
timed(render_module, "build_context", "render: template context (Markdown, evidence SVG)")
timed(render_module, "render_html", "render: both HTML pages in all")
timed(render_module, "render_report", "render: report.html")
timed(weasyprint.HTML, "__init__", "WeasyPrint: parse the HTML")
timed(pdf_module, "resolve_directions", "resolve dir=auto")
timed(weasyprint.HTML, "render", "WeasyPrint: style and lay out")
timed(weasyprint.document.Document, "write_pdf", "WeasyPrint: write the PDF")
timed(build_module, "_write", "write the outputs and the state")
wall, cpu = time.perf_counter(), time.process_time()
build_module.build(sys.argv[1])
add("build() in all", time.perf_counter() - wall, time.process_time() - cpu)
add("process in all", time.perf_counter() - wall0, time.process_time())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
phases["peak memory, this process (MB)"] = (peak, 0)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
phases["peak memory, children: pandoc (MB)"] = (peak, 0)
print(json.dumps(phases))
"""


def phases(root: Path) -> dict[str, tuple[float, float]]:
    import json

    shutil.rmtree(root / "output", ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-c", PHASES_CHILD, str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile(root: Path, out: Path) -> None:
    """cProfile of a cold build in its own process, top functions by cumulative and own time."""
    shutil.rmtree(root / "output", ignore_errors=True)
    stats = out.with_suffix(".prof")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(stats),
            BRIEFGEN[0],
            "build",
            str(root),
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )
    import io
    import pstats

    text = io.StringIO()
    for order, only in (("cumulative", "briefgen/"), ("cumulative", ""), ("tottime", "")):
        text.write(f"--- by {order}{f', {only} only' if only else ''} ---\n")
        pstats.Stats(str(stats), stream=text).sort_stats(order).print_stats(only, 40)
    out.write_text(text.getvalue(), encoding="utf-8")
    stats.unlink()


# --- the machine and the report --------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    import weasyprint

    pango = "unknown"
    try:
        from weasyprint.text.ffi import pango as pango_lib

        version = pango_lib.pango_version()  # e.g. 15012 for 1.50.12
        pango = f"{version // 10000}.{version // 100 % 100}.{version % 100}"
    except Exception:  # informational only
        pass
    return {
        "CPU": cpu,
        "cores (nproc)": str(os.cpu_count()),
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "WeasyPrint": weasyprint.__version__,
        "Pango": pango,
        "load average at start (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


ROWS = [
    "build, cold",
    "weasyprint alone (floor)",
    "build, no-op",
    "build, one source edited",
    "watch: save to new PDF",
    "check",
]


def report(results: list[Result], info: dict[str, str], args, extra: str) -> str:
    out = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} with `{' '.join(args.command)}`: medians of "
        f"{args.runs} runs: wall time / CPU time (user + system, children included), and peak "
        "memory (maximum resident set size) in MB.",
        "",
        "| machine | |",
        "| --- | --- |",
        *(f"| {k} | {v} |" for k, v in info.items()),
        "",
        "| brief | pages | sources | excerpts | print HTML | PDF |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {r.name} | {r.pages} | {r.sources} | {r.excerpts} | {r.html_kb:.0f} KB | "
            f"{r.pdf_kb:.0f} KB |"
            for r in results
        ),
        "",
        "| measurement | " + " | ".join(r.name for r in results) + " |",
        "| --- |" + " ---: |" * len(results),
    ]
    for row in ROWS:
        cells = []
        for r in results:
            if row not in r.runs:
                cells.append("")
                continue
            peak = r.watch_peak_mb if row.startswith("watch") else r.peak(row)
            cells.append(f"{r.median(row):.2f} s / {r.cpu(row):.2f} s ({peak:.0f} MB)")
        out.append(f"| {row} | " + " | ".join(cells) + " |")
    # The goals.
    ratio = [r.median("build, cold") / r.median("weasyprint alone (floor)") for r in results]
    cpu_ratio = [r.cpu("build, cold") / r.cpu("weasyprint alone (floor)") for r in results]
    memory = [r.peak("build, cold") / r.peak("weasyprint alone (floor)") for r in results]
    per_page = [r.median("build, cold") / r.pages for r in results]
    out += [
        "| cold build / floor, time (goal <= 1.10) | "
        + " | ".join(f"{x:.2f}" for x in ratio)
        + " |",
        "| cold build / floor, CPU time | " + " | ".join(f"{x:.2f}" for x in cpu_ratio) + " |",
        "| cold build / floor, peak memory (goal <= 1.5) | "
        + " | ".join(f"{x:.2f}" for x in memory)
        + " |",
        "| cold build, seconds per page | " + " | ".join(f"{x:.3f}" for x in per_page) + " |",
        "",
    ]
    generated = [r for r in results if r.name != "example"]
    if len(generated) >= 2:
        a, b = generated[0], generated[-1]
        grow = (b.median("build, cold") - a.median("build, cold")) / (b.pages - a.pages)
        floor = (b.median("weasyprint alone (floor)") - a.median("weasyprint alone (floor)")) / (
            b.pages - a.pages
        )
        out.append(
            f"Growth from {a.pages} to {b.pages} pages: {grow:.3f} s per extra page for a cold "
            f"build, {floor:.3f} s for WeasyPrint alone; the time per page at {b.pages} pages is "
            f"{per_page[results.index(b)] / per_page[results.index(a)]:.2f} times that at "
            f"{a.pages} (1.00 is linear; fixed costs make it less)."
        )
        out.append("")
    if extra:
        out += [extra, ""]
    return "\n".join(out)


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="example,10,50,200", help="example and/or page counts")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-watch", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest brief")
    parser.add_argument("--no-write", action="store_true", help="print, leave the doc alone")
    parser.add_argument("--keep", type=Path, help="make the briefs here and keep them")
    args = parser.parse_args()
    args.command = ["bench/run.py", *sys.argv[1:]]
    # briefgen bounds a build's rendering time (120 s by default); a 200-page brief on a slow or
    # busy machine may need more, and a benchmark measures, it does not guard.
    os.environ.setdefault("BRIEFGEN_MAX_SECONDS", "3600")
    info = machine()
    base = args.keep or Path(tempfile.mkdtemp(prefix="briefgen-bench-"))
    results: list[Result] = []
    extra = ""
    try:
        roots = []
        for size in args.sizes.split(","):
            if size == "example":
                root = base / "example"
                shutil.rmtree(root, ignore_errors=True)
                shutil.copytree(REPO / "content", root / "content")
                source = root / "content" / "sources" / "rogozin-baghdad-delegation.txt"
                roots.append(("example", root, source))
            else:
                root = base / f"brief-{size}"
                shutil.rmtree(root, ignore_errors=True)
                brief = make_brief(root, int(size))
                roots.append((f"{size} pages", root, brief.edited_source))
        for name, root, source in roots:
            print(f"{name}: {root}", flush=True)
            results.append(bench_brief(name, root, source, args.runs, not args.no_watch))
        name, root, _ = roots[-1]
        split = phases(root)
        extra = f"Where a cold build of the {name} brief spends its time (one run):\n\n"
        extra += "| phase | wall s | CPU s |\n| --- | ---: | ---: |\n"
        extra += "\n".join(
            f"| {k} | {w:.0f} MB | |" if "MB" in k else f"| {k} | {w:.2f} | {c:.2f} |"
            for k, (w, c) in split.items()
        )
        if args.profile:
            digits = re.sub(r"\D", "", name) or "example"
            target = BENCH / f"profile-{digits}.txt"
            profile(root, target)
            extra += f"\n\ncProfile of that build: `{target.relative_to(REPO)}`."
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    block = report(results, info, args, extra)
    print(block)
    if not args.no_write:
        write_doc(block)
        print(f"\nwritten to {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
