"""Dev-server latency: time from saving an article to the new text being shown in Chromium.

For each corpus size: generate the corpus (benchmarks/corpus.py), start `newsgen serve --port 0`
on it, open the middle article in headless Debian Chromium, then save an edit to that article's
body `--edits` times. The page records when the edited text is on screen (first animation frame
after DOMContentLoaded of the reloaded page, in wall-clock ms), so the figure is save -> painted
text, rebuild and reload included, with no polling delay. Each (size, flags) row replaces its
previous result in results/serve_latency.json, and results/serve_latency.md shows them all.
Usage: .venv/bin/python benchmarks/serve_latency.py [--sizes 1000,10000] [--edits 20]
       [--flags "--no-search;"]   (';' separates flag sets; an empty set means the defaults)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # a sibling module: benchmarks/ is not a package

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MARKER = re.compile(r"bench-edit-(\d+)")
# Runs in every page before its own scripts: note when an edit marker is first painted.
RECORDER = """
document.addEventListener('DOMContentLoaded', () => {
  const found = document.body.innerText.match(/bench-edit-(\\d+)/);
  requestAnimationFrame(() => { window.__shown = {
    n: found ? Number(found[1]) : -1, at: performance.timeOrigin + performance.now() }; });
});
"""


@dataclass(slots=True)
class Run:
    size: int
    flags: tuple[str, ...]
    latencies_ms: list[float] = field(default_factory=list)
    rebuild_ms: list[float] = field(default_factory=list)
    first_build_s: float = 0.0
    measured: str = ""
    load: str = ""  # 1-minute load average before and after: the machine may be shared


class Server:
    """`newsgen serve --port 0` in `root`, its output lines collected by a thread."""

    def __init__(self, root: Path, flags: tuple[str, ...]) -> None:
        command = [str(REPO / ".venv" / "bin" / "newsgen"), "serve", "--port", "0", "--no-ingest",
                   *flags]
        self.process = subprocess.Popen(command, cwd=root, text=True, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        started = time.monotonic()
        self.url = self._wait_for("serving http://").split()[1]
        self.first_build_s = time.monotonic() - started
        self.origin = self.url.split("/", 3)[:3]

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_for(self, prefix: str, timeout: float = 1800) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in list(self.lines):
                if line.startswith(prefix):
                    return line
            time.sleep(0.05)
        raise RuntimeError("server did not start:\n" + "\n".join(self.lines[-30:]))

    def idle(self, quiet: float = 0.3) -> None:
        status_url = "/".join(self.origin) + "/__newsgen/status"
        last, since = None, time.monotonic()
        while True:
            with urllib.request.urlopen(status_url, timeout=30) as reply:
                status = json.load(reply)
            if status["pending"] or status["builds"] != last:
                last, since = status["builds"], time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.05)

    def rebuild_times(self) -> list[float]:
        return [float(m.group(1)) for line in self.lines
                if (m := re.match(r"rebuilt in (\d+) ms: .*articles/", line))]

    def stop(self) -> None:
        # SIGTERM, which the server treats like Ctrl-C: a SIGINT would be ignored when this
        # script runs in the background (the shell starts background jobs with SIGINT ignored,
        # and the server inherits that).
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)


def save_edit(path: Path, original: str, number: int) -> None:
    path.write_text(f"{original.rstrip()}\n\nEdited for the latency benchmark: bench-edit-{number}."
                    "\n", encoding="utf-8")


def shown(page: Any, number: int, timeout: float = 600) -> float:
    """Wall-clock ms at which the page showing edit `number` painted it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            record = page.evaluate("window.__shown || null")
        except Exception:  # the page is mid-reload: its context went away
            record = None
        if record and record["n"] == number:
            return float(record["at"])
        time.sleep(0.005)
    raise TimeoutError(f"edit {number} never showed up")


def measure(size: int, edits: int, flags: tuple[str, ...], browser: Any) -> Run:
    root = HERE / "work" / f"serve-{size}"
    corpus.generate(root, size)
    run = Run(size, flags, measured=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
              load=f"{os.getloadavg()[0]:.1f}")
    articles = sorted((root / "content" / "articles").glob("*.md"))
    target = articles[len(articles) // 2]
    original = target.read_text(encoding="utf-8")
    server = Server(root, flags)
    run.first_build_s = server.first_build_s
    try:
        [html] = (root / "public").glob(f"*/*/{target.stem}/index.html")
        page = browser.new_page()
        page.add_init_script(RECORDER)
        page.goto(server.url + html.parent.relative_to(root / "public").as_posix() + "/")
        for number in range(edits):
            server.idle()
            saved = time.time() * 1000
            save_edit(target, original, number)
            run.latencies_ms.append(shown(page, number) - saved)
        server.idle()
        run.rebuild_ms = server.rebuild_times()
        run.load += f" -> {os.getloadavg()[0]:.1f}"
        page.close()
    finally:
        target.write_text(original, encoding="utf-8")
        server.stop()
    return run


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report(runs: list[Run]) -> str:
    rows = ["| articles | flags | edits | median | p95 | min | max | whole rebuild (median) "
            "| first build | measured | load avg |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for run in runs:
        values = run.latencies_ms
        rebuild = f"{statistics.median(run.rebuild_ms):.0f} ms" if run.rebuild_ms else "n/a"
        rows.append(
            f"| {run.size:,} | `{' '.join(run.flags) or '(default)'}` | {len(values)} "
            f"| **{statistics.median(values):.0f} ms** | **{percentile(values, 0.95):.0f} ms** "
            f"| {min(values):.0f} ms | {max(values):.0f} ms | {rebuild} "
            f"| {run.first_build_s:.1f} s | {run.measured} | {run.load or '?'} |")
    return "\n".join([
        "# Dev server: save -> new text on screen", "",
        f"Machine: {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()}, Debian Chromium headless); "
        "`.venv/bin/python benchmarks/serve_latency.py`.", "",
        "Each edit rewrites the middle article's Markdown body (a new final sentence); the time "
        "runs from just before the write to the first animation frame after the reloaded page's "
        "DOMContentLoaded, measured in the page with `performance.timeOrigin + now()` (same wall "
        "clock as the writer). The server is idle before each edit. The figure covers the "
        "watchdog event, the 10 ms debounce, the rebuild up to the edited page's own file (the "
        "server tells the page to reload then, before it re-renders the listings that also show "
        "the article: generator/reload.py) and the browser's reload and paint. `whole rebuild` "
        "is the rebuild time the server logs, listings included, so it can exceed the median. "
        "`newsgen serve --no-ingest` on the generated corpus (benchmarks/corpus.py). "
        "Goal from issue 4: under 100 ms at 10,000 articles.", "",
        *rows, ""])


def measure_all(size: int, edits: int, flag_sets: str) -> list[Run]:
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for flag_set in flag_sets.split(";"):
            run = measure(size, edits, tuple(flag_set.split()), browser)
            runs.append(run)
            print(f"{size} {run.flags}: median {statistics.median(run.latencies_ms):.0f} ms, "
                  f"p95 {percentile(run.latencies_ms, 0.95):.0f} ms", flush=True)
        browser.close()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated article counts")
    parser.add_argument("--edits", type=int, default=20, help="edits per size (default 20)")
    parser.add_argument("--flags", default="--no-search;",
                        help="';'-separated sets of extra serve flags to compare")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "serve_latency.md")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the Markdown from the saved JSON without measuring")
    args = parser.parse_args(argv)
    sizes = [] if args.report_only else [int(s) for s in args.sizes.split(",") if s]
    runs = [run for size in sizes for run in measure_all(size, args.edits, args.flags)]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    store = args.output.with_suffix(".json")
    saved = json.loads(store.read_text(encoding="utf-8")) if store.is_file() else []
    fresh = {(run.size, run.flags) for run in runs}
    kept = [Run(**{**item, "flags": tuple(item["flags"])}) for item in saved
            if (item["size"], tuple(item["flags"])) not in fresh]
    every = sorted([*kept, *runs], key=lambda run: (run.size, run.flags))
    store.write_text(json.dumps([asdict(run) for run in every], indent=1) + "\n", encoding="utf-8")
    args.output.write_text(report(every), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
