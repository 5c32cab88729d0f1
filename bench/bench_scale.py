"""Benchmark briefgen at scale: `check` and `find` on generated corpora of 250 to 1,000 sources.

    .venv/bin/python bench/bench_scale.py [--sizes 250,500,1000] [--runs 3] [--queries 50]
                                          [--check-only] [--profile] [--keep DIR]

For each size N the corpus (bench/corpus.py: N sources of about 9 KB, an outline with 5 N
verbatim excerpts) is generated in a temporary folder, and these are measured, each as wall
time and CPU time (user + system, of this process or of the child), median of --runs:

- `check`, cold process: a fresh `briefgen check` with no `output/` (nothing cached);
- `check`, warm process: a fresh `briefgen check` again, nothing changed, with the sources'
  cache (`output/.briefgen/sources.cache`) in place as a successful run leaves it (this
  script saves it through `sourcecache.SourceCache`, as a run's caller does); and the same
  without the cache;
- `check`, warm, in process: `briefgen.build.check` called again in this process;
- where a warm `check` spends its CPU: reading the outline, reading the sources, folding them
  (`normalize`, nothing cached), anchoring;
- unless --check-only, the search index: built from nothing, brought up to date when nothing
  changed, and after one source was edited; its size on disk;
- and `find`: the search alone and `briefgen.search.find` (index check + search) in this
  process, median and 95th percentile over --queries queries after indexing; and a fresh
  `briefgen find` process (median of 5).

The last column divides the largest size's figure by the smallest's: for linear growth it
equals the ratio of the sizes. Goals: `check` under 3 s warm, `find` under 100 ms per query.
--profile adds a cProfile of a warm `check` on the largest corpus, and times the outline's YAML
with briefgen's loader (libyaml where PyYAML has it) and with the pure-Python loader alone.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
).rstrip(os.pathsep)

from corpus import ADJECTIVES, NOUNS, make_corpus  # noqa: E402

from briefgen.build import check  # noqa: E402
from briefgen.errors import Diagnostics  # noqa: E402
from briefgen.project import open_project  # noqa: E402
from briefgen.search import SearchIndex, find  # noqa: E402

#: `briefgen` in a fresh process, from the same source tree as this script imports
BRIEFGEN = [sys.executable, "-m", "briefgen"]
GOALS = {
    "check, warm process": 3.0,
    "check, warm process, CPU": 3.0,
    "find: search alone": 0.1,
    "find: index check + search": 0.1,
}


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    begun = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - begun, value


def cpu_timed(fn, *args, **kwargs) -> tuple[float, object]:
    """CPU seconds of this process: steadier than wall time on a busy machine."""
    begun = time.process_time()
    value = fn(*args, **kwargs)
    return time.process_time() - begun, value


def process_time(args: list[str], cwd: Path, ok=(0,)) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begun = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - begun
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise RuntimeError(f"{args} exited {done.returncode}: {done.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu


def processes(args: list[str], cwd: Path, runs: int, name: str) -> dict[str, float]:
    """{name: median wall seconds, name + ', CPU': median CPU seconds} over `runs` processes."""
    times = [process_time(args, cwd) for _ in range(runs)]
    return {
        name: statistics.median(t[0] for t in times),
        f"{name}, CPU": statistics.median(t[1] for t in times),
    }


def save_source_cache(root: Path) -> None:
    """Write the sources' cache as a successful run leaves it (a no-op if it is up to date)."""
    try:
        from briefgen.sourcecache import SourceCache
    except ImportError:  # a briefgen without the cache
        return
    from briefgen.sources import read_sources

    project = open_project(root)
    cache = SourceCache(project)
    read_sources(project, Diagnostics(), cache)
    cache.save()


def queries(root: Path, count: int, seed: int = 7) -> list[str]:
    """Words, pairs of words, phrases from the text, prefixes and rare words, in a fixed mix."""
    rng = random.Random(seed)
    files = sorted((root / "content" / "sources").iterdir())
    out: list[str] = []
    while len(out) < count:
        kind = len(out) % 5
        if kind == 0:
            out.append(rng.choice(NOUNS))
        elif kind == 1:
            out.append(f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}")
        elif kind == 2:  # a phrase of three words taken from a source
            words = rng.choice(files).read_text(encoding="utf-8").split("---", 2)[2].split()
            words = [w for w in words if w.isalpha()]
            at = rng.randrange(len(words) - 3)
            out.append('"' + " ".join(words[at : at + 3]) + '"')
        elif kind == 3:
            out.append(rng.choice(NOUNS)[:4] + "*")
        else:  # a rare word: a source's name part, or a word in another script
            name = rng.choice(files).stem.split("-")[-1]
            out.append(rng.choice([name, "Лукойл", "البصرة", "ёмкость"]))
    return out


def check_phases(root: Path) -> dict[str, float]:
    """CPU seconds a warm check spends reading the outline, reading sources (from the cache when
    there is one), folding them (nothing cached), and anchoring."""
    from briefgen import textnorm
    from briefgen.anchor import locate
    from briefgen.outline import read_outline
    from briefgen.sources import read_sources

    project = open_project(root)
    diags = Diagnostics()
    phases = {}
    phases["check phase: read outline (YAML), CPU"], outline = cpu_timed(
        read_outline, project.outline_path, diags
    )
    phases["check phase: read sources, CPU"], sources = cpu_timed(read_sources, project, diags)
    if hasattr(textnorm, "remember"):
        textnorm.remember({})  # fold them again, as with no cache
    phases["check phase: fold sources, CPU"], folded = cpu_timed(
        lambda: {sid: textnorm.normalize(s.text) for sid, s in sources.items()}
    )

    def anchor_all():
        for _section, excerpt in outline.excerpts:
            source = sources[excerpt.source]
            locate(excerpt.quote, source.text, folded[source.id])

    phases["check phase: anchor excerpts, CPU"], _ = cpu_timed(anchor_all)
    return phases


def measure(root: Path, runs: int, count: int, check_only: bool = False) -> dict[str, float]:
    results: dict[str, float] = {}
    source_files = sorted((root / "content" / "sources").iterdir())
    results["sources (MB)"] = sum(p.stat().st_size for p in source_files) / 1e6
    command = [*BRIEFGEN, "check", str(root)]
    shutil.rmtree(root / "output", ignore_errors=True)
    results.update(processes(command, root, runs, "check, cold process"))
    (root / "output").mkdir()  # as a first build leaves it
    save_source_cache(root)
    results.update(processes(command, root, runs, "check, warm process"))
    cache = root / "output" / ".briefgen" / "sources.cache"
    kept = cache.with_name("kept.cache")
    if cache.exists():
        cache.rename(kept)
    results.update(processes(command, root, runs, "check, warm process, no cache"))
    if kept.exists():
        kept.rename(cache)
    check(root)  # warm up imports and caches
    warm, cpu = [], []
    for _ in range(runs):
        begun = time.process_time()
        seconds, report = timed(check, root)
        cpu.append(time.process_time() - begun)
        warm.append(seconds)
    results["check, warm, in process"] = statistics.median(warm)
    results["check, warm, in process, CPU"] = statistics.median(cpu)
    results["excerpts verified"] = report.counts().get("verified", 0)
    results.update(check_phases(root))
    if check_only:
        return results

    index_file = root / "output" / ".briefgen" / "search.sqlite"
    index_file.unlink(missing_ok=True)
    with SearchIndex(root) as index:
        begun = time.process_time()
        results["index: build from nothing"], update = timed(index.update)
        results["index: build from nothing, CPU"] = time.process_time() - begun
        results["index: passages"] = update.total_passages
        results["index: size (MB)"] = index.size() / 1e6
        results["index: update, nothing changed"] = statistics.median(
            timed(index.update)[0] for _ in range(5)
        )
        edited = source_files[len(source_files) // 2]
        edited.write_text(
            edited.read_text(encoding="utf-8") + "\nA late addition about the pipeline.\n",
            encoding="utf-8",
        )
        results["index: update after one edit"], update = timed(index.update)
        assert len(update.changed) == 1 and not update.added, update
        wanted = queries(root, count)
        for q in wanted[:5]:
            index.search(q)  # warm the page cache
        alone = [timed(index.search, q, 10)[0] for q in wanted]
    both = [timed(find, root, q, 10)[0] for q in wanted]
    results["find: search alone"] = statistics.median(alone)
    results["find: search alone, p95"] = statistics.quantiles(alone, n=20)[-1]
    results["find: index check + search"] = statistics.median(both)
    results["find: index check + search, p95"] = statistics.quantiles(both, n=20)[-1]
    results["find: cold process"] = statistics.median(
        process_time([*BRIEFGEN, "find", q, str(root)], root)[0] for q in wanted[:5]
    )
    return results


def profile_check(root: Path) -> None:
    check(root)
    profiler = cProfile.Profile()
    profiler.enable()
    check(root)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(22)
        text = out.getvalue()
        print(f"\n--- cProfile of a warm check, by {order} ---")
        print(text[text.index("ncalls") - 3 :].rstrip())


def outline_yaml(root: Path) -> None:
    """Time the outline's YAML with briefgen's loader and with the pure-Python loader alone."""
    from briefgen import yamlfile

    text = (root / "content" / "brief.yaml").read_text(encoding="utf-8")
    path = Path("brief.yaml")
    fast = min(cpu_timed(yamlfile.load_yaml, text, path)[0] for _ in range(3))
    try:
        pure = min(cpu_timed(yamlfile.load_yaml, text, path, libyaml=False)[0] for _ in range(3))
    except TypeError:  # a briefgen whose loader is the pure one only
        pure = fast
    print(
        f"\noutline YAML ({len(text) / 1e6:.1f} MB), CPU: briefgen's loader {fast:.2f} s, "
        f"the pure-Python loader {pure:.2f} s ({pure / fast:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check-only", action="store_true", help="no index, no find")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", type=Path, help="generate the corpora here and keep them")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = args.keep or Path(tempfile.mkdtemp(prefix="briefgen-scale-"))
    table: dict[int, dict[str, float]] = {}
    try:
        for n in sizes:
            root = base / f"corpus-{n}"
            shutil.rmtree(root, ignore_errors=True)
            seconds, corpus = timed(make_corpus, root, n, 5 * n, args.seed)
            print(
                f"{n} sources, {corpus.excerpts} excerpts: generated in {seconds:.1f} s", flush=True
            )
            table[n] = measure(root, args.runs, args.queries, args.check_only)
        print_table(table, args)
        if args.profile:
            largest = base / f"corpus-{max(sizes)}"
            profile_check(largest)
            outline_yaml(largest)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def print_table(table: dict[int, dict[str, float]], args) -> None:
    sizes = sorted(table)
    names = list(table[sizes[0]])
    print(
        f"\nmedians of {args.runs} runs (check) and of {args.queries} queries (find); seconds "
        "unless stated"
    )
    header = f"{'measurement':42}" + "".join(f"{f'{n} src':>11}" for n in sizes)
    header += f"{f'x{sizes[-1] / sizes[0]:.0f} size':>10}   goal"
    print(header)
    for name in names:
        values = [table[n][name] for n in sizes]
        cells = "".join(_cell(name, v) for v in values)
        growth = f"{values[-1] / values[0]:10.2f}" if values[0] else f"{'':10}"
        goal = GOALS.get(name)
        mark = ""
        if goal is not None:
            mark = f"   < {goal:g} s: {'yes' if values[-1] < goal else 'NO'}"
        print(f"{name:42}{cells}{growth}{mark}")


def _cell(name: str, value: float) -> str:
    if name in ("excerpts verified", "index: passages"):
        return f"{value:11.0f}"
    if "(MB)" in name:
        return f"{value:11.1f}"
    if value < 1:
        return f"{value * 1000:9.1f}ms"
    return f"{value:10.2f}s"


if __name__ == "__main__":
    main()
