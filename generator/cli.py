"""Command line: `newsgen ingest|build|new|serve`; the only place that prints and picks exit codes.

Exit codes: 0 success, 1 content or configuration errors (each printed as path:line: message
with a hint), 2 usage errors (argparse's convention).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

# The rest of the package is imported once the command is known: a build first starts its
# scan of the sources in a child process (scan.py), which then runs during these imports.
if TYPE_CHECKING:
    from .build import BuildResult
    from .errors import Diagnostic, GeneratorError
    from .scan import ScanAhead, SourceScan

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a process Ctrl-C ended


class Console:
    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity

    def info(self, text: str) -> None:
        if self.verbosity >= 0:
            print(text)

    def detail(self, text: str) -> None:
        if self.verbosity > 0:
            print(text)

    def diagnostics(self, items: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        # Repeated warnings (same message, many files) are collapsed unless -v.
        seen: dict[str, int] = {}
        for item in items:
            if item.severity == "warning" and self.verbosity < 0:
                continue
            key = f"{item.severity}:{item.message}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= 3 or self.verbosity > 0:
                print(item, file=sys.stderr)
        for key, count in seen.items():
            if count > 3 and self.verbosity <= 0:
                print(f"... and {count - 3} more like '{key.split(':', 1)[1]}' (use -v)",
                      file=sys.stderr)

    def error(self, err: GeneratorError) -> None:
        print(err, file=sys.stderr)
        for line in err.source_lines:
            print(f"    {line}", file=sys.stderr)


class Progress:
    """A progress line for long builds: redrawn in place on a terminal, sparse lines otherwise."""

    def __init__(self, console: Console) -> None:
        self.tty = sys.stderr is not None and sys.stderr.isatty()  # None: started with it closed
        self.started = time.monotonic()
        self.last_percent = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if time.monotonic() - self.started < 2.0:
            return  # short builds print no progress at all
        percent = done * 100 // max(total, 1)
        if self.tty:
            end = "\n" if done >= total else ""
            print(f"\r{stage}: {done}/{total} ({percent}%)", end=end, file=sys.stderr, flush=True)
        elif percent // 25 != self.last_percent // 25 or done >= total:
            print(f"{stage}: {done}/{total} ({percent}%)", file=sys.stderr, flush=True)
        self.last_percent = percent


def _common_options(defaults: bool) -> argparse.ArgumentParser:
    """--root, -v and -q, accepted before or after the command.

    The copy given to the commands has no defaults (SUPPRESS): otherwise the command's default
    would overwrite a value given before the command (`newsgen -v build`).
    """
    common = argparse.ArgumentParser(add_help=False)
    default: object = Path(".") if defaults else argparse.SUPPRESS
    common.add_argument("--root", type=Path, default=default,
                        help="project folder holding site.toml (default: current folder)")
    noise = common.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_const", const=1, dest="verbosity",
                       default=0 if defaults else argparse.SUPPRESS,
                       help="more detail: every warning, time per stage")
    noise.add_argument("-q", "--quiet", action="store_const", const=-1, dest="verbosity",
                       default=0 if defaults else argparse.SUPPRESS, help="only errors")
    return common


def make_parser() -> argparse.ArgumentParser:
    from .daemon import IDLE_SECONDS  # imported by every build anyway, to look for a daemon

    common = _common_options(defaults=False)
    parser = argparse.ArgumentParser(prog="newsgen", description="Static news-site generator.",
                                     parents=[_common_options(defaults=True)])
    parser.add_argument("--version", action="version", version=f"newsgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("ingest", parents=[common], help="turn seeds/*.txt into content/articles/*.md",
                        description="Turn seeds/*.txt into front-mattered Markdown in content/articles/.")
    b = commands.add_parser("build", parents=[common], help="ingest, then build the site into public/",
                            description="Ingest seeds, then render content/ into the output folder.")
    _build_flags(b)
    b.add_argument("--no-daemon", dest="daemon", action="store_false",
                   help="build in this process, neither using nor starting a build daemon "
                   "(newsgen daemon)")
    n = commands.add_parser("new", parents=[common], help="scaffold a new article or page",
                            description="Create content/articles/<slug>.md (or a page) to edit.")
    n.add_argument("title", help="the headline")
    n.add_argument("--page", action="store_true", help="a standalone page in content/pages/")
    n.add_argument("--section", default="", help="section slug (default: site default)")
    s = commands.add_parser("serve", parents=[common], help="build, serve and rebuild on change",
                            description="Build, serve on 127.0.0.1 and rebuild when sources change.")
    _build_flags(s)
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    d = commands.add_parser(
        "daemon", parents=[common], help="start, stop or query the build daemon",
        description="A resident process that runs this project's `newsgen build` commands "
        "without Python's start-up and imports (about 0.1 s less per build). A local "
        "`newsgen build` starts one too (NEWSGEN_DAEMON=auto, the default off CI); it stops "
        "after --idle seconds without a build, on `stop`, when .cache/ is deleted, or when the "
        "installed code changes.")
    d.add_argument("action", choices=("start", "stop", "status", "run"),
                   help="run: serve in the foreground (for a process supervisor)")
    d.add_argument("--idle", type=_positive_int, default=IDLE_SECONDS, metavar="SECONDS",
                   help=f"stop after this long without a build (default {IDLE_SECONDS}, as for "
                   "a daemon a build starts)")
    d.add_argument("--fresh-log", action="store_true", help=argparse.SUPPRESS)  # from `start`
    return parser


def _build_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-ingest", dest="ingest", action="store_false",
                        help="skip ingesting seeds/ first")
    parser.add_argument("--drafts", action="store_true", help="include draft: true documents")
    parser.add_argument("--future", action="store_true", help="include future-dated articles")
    parser.add_argument("--now", type=_iso_datetime, default=None,
                        help="reference time for --future and the news sitemap (ISO 8601; "
                        "default: SOURCE_DATE_EPOCH if set, else the clock)")
    parser.add_argument("-j", "--jobs", type=_positive_int, default=0,
                        help="worker processes for large builds (default: one per core)")
    parser.add_argument("--no-search", dest="search", action="store_false",
                        help="skip the Pagefind search index (faster; the pages then offer no search)")
    parser.add_argument("--clean", dest="cache", action="store_false",
                        help="ignore the build cache in .cache/ and rebuild everything")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _iso_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    if value.tzinfo:
        return value
    from .model import reference_time

    return value.replace(tzinfo=reference_time().tzinfo)


def main(argv: list[str] | None = None, *, scan_ahead: bool = False,
         use_daemon: bool = False, ready: tuple[Path, SourceScan] | None = None) -> int:
    """Run one command; `scan_ahead` (the `newsgen` command's) lets a build scan its sources
    in a forked child while this process loads the rest of the package (scan.py), and
    `use_daemon` (also the command's) hands a build to the project's build daemon if one runs
    (daemon.py). `ready` is the daemon's: a project and a scan of it taken just now."""
    argv = sys.argv[1:] if argv is None else argv
    args = make_parser().parse_args(argv)
    console = Console(args.verbosity)
    root = args.root.resolve()
    mode = "off"
    if use_daemon and args.command == "build" and args.daemon:
        from .daemon import daemon_mode

        try:
            mode = daemon_mode(os.environ)
        except ValueError as err:
            print(f"newsgen: error: {err}", file=sys.stderr)
            return EXIT_USAGE
    if mode != "off":
        from .daemon import forward_build

        code = forward_build(root, argv, args.verbosity, restarts=mode == "auto")
        if code is not None:
            return code
    if args.command == "daemon":
        return _daemon(root, args, console)
    ahead: ScanAhead | None = None
    if ready is not None and ready[0] == root and args.command == "build":
        from .scan import ReadyScan

        ahead = ReadyScan(ready[1])
    # Not with --jobs 1, which asks for no worker processes (a scan is one).
    elif scan_ahead and args.command == "build" and args.jobs != 1:
        from .scan import ScanAhead

        ahead = ScanAhead.start(root)
    try:
        code = _command(args, root, console, ahead)
    finally:
        if ahead is not None:  # not taken up: the build failed before it scanned
            ahead.discard()
    if mode == "auto" and code == EXIT_OK:
        _start_daemon_for_later(root, console)
    return code


def _start_daemon_for_later(root: Path, console: Console) -> None:
    """After a local build, a daemon for the next ones (daemon.py), if none runs yet."""
    from .daemon import IDLE_SECONDS, MODE_VARIABLE, spawn, why_not_start

    reason = why_not_start(root)
    if reason:
        console.detail(f"newsgen: no build daemon started: {reason}")
        return
    try:
        pid = spawn(root, IDLE_SECONDS)
    except OSError as err:  # out of processes, or .cache/ not writable: build on without one
        console.detail(f"newsgen: no build daemon started: {err}")
        return
    console.info(f"starting a build daemon (pid {pid}): later builds here skip Python's "
                 f"start-up; it stops after {IDLE_SECONDS // 60} min without one, or on "
                 f"`newsgen daemon stop` ({MODE_VARIABLE}=manual starts none)")


def _command(args: argparse.Namespace, root: Path, console: Console,
             ahead: ScanAhead | None) -> int:
    from .build import BuildOptions, build
    from .config import load_config
    from .errors import BuildFailed, GeneratorError
    from .model import reference_time

    try:
        if args.command == "ingest":
            return _ingest(root, console)
        if args.command == "new":
            from .scaffold import new_document

            path = new_document(load_config(root), args.title, page=args.page,
                                section=args.section, now=reference_time())
            console.info(f"created {path}")
            return EXIT_OK
        # A build allocates millions of short-lived objects beside a large long-lived index.
        # With the default thresholds (700, 10, 10) a 10k build's parent ran 885 young and 7
        # full collections (each full one walks the whole index); with these, 44 and none.
        # About 5% less CPU for the same peak memory (benchmarks/README.md).
        gc.set_threshold(50_000, 20, 100)
        options = BuildOptions(ingest=args.ingest, drafts=args.drafts, future=args.future,
                               now=args.now, jobs=args.jobs, cache=args.cache,
                               search=args.search)
        if args.command == "serve":
            from .serve import serve  # imported lazily: the build path never loads tornado

            return serve(root, options, args.host, args.port, console)
        result = build(root, options, Progress(console) if console.verbosity >= 0 else None,
                       ahead)
    except BuildFailed as failed:
        console.diagnostics(failed.diagnostics)
        print(f"build failed: {failed.message}", file=sys.stderr)
        return EXIT_ERROR
    except GeneratorError as err:
        console.error(err)
        if args.command in ("build", "serve"):
            print("build failed; the previous site was left in place", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return interrupted()
    return report_build(result, console)


def interrupted() -> int:
    """What a build stopped by Ctrl-C says, and its exit code (also the build daemon's, for a
    Ctrl-C that lands before or outside the command's own handling)."""
    print("interrupted; the previous site was left in place", file=sys.stderr)
    return EXIT_INTERRUPTED


def _daemon(root: Path, args: argparse.Namespace, console: Console) -> int:
    from . import daemon, daemonserver
    from .config import load_config
    from .errors import GeneratorError

    if args.action in ("start", "run"):
        try:  # a daemon for a folder that is no project would only litter it with .cache/
            load_config(root)
        except GeneratorError as err:
            console.error(err)
            return EXIT_ERROR
    if args.action == "run":
        return daemonserver.run_daemon(root, args.idle, args.fresh_log)
    status = daemon.ask(root, "status" if args.action != "stop" else "stop")
    if args.action == "start" and status is None:
        pid, failure = daemonserver.start(root, args.idle)
        if not pid:
            print(f"the build daemon did not start: {failure}", file=sys.stderr)
            return EXIT_ERROR
        console.info(f"build daemon started for {root} (pid {pid}): `newsgen build` here runs "
                     f"through it until it stops ({args.idle} s without a build, or "
                     "`newsgen daemon stop`)")
    elif status is None:
        console.info(f"no build daemon runs for {root}")
        return EXIT_ERROR if args.action == "status" else EXIT_OK
    elif args.action == "stop":
        console.info(f"build daemon stopped (pid {status['stopped']})")
    else:
        console.info(f"build daemon for {status['root']}: pid {status['pid']}, newsgen "
                     f"{status['version']}, up {status['up']} s, {status['builds']} build(s), "
                     f"idle {status['idle']} s of {status['idle_limit']:g}")
        if status.get("identity") != daemon.identity():
            console.info("  it runs another newsgen installation or Python than this command, "
                         "so it does not serve it: `newsgen daemon stop`, then start again")
    return EXIT_OK


def _ingest(root: Path, console: Console) -> int:
    from .cache import CacheStore
    from .config import load_config
    from .ingest import ingest  # imported on use: a build that skips ingest starts faster

    # The last build's seed records: which article each seed became, even if the article no
    # longer says so (ingest.py, _taken_over).
    store = CacheStore(root)
    try:
        known = store.seed_records()
    finally:
        store.close()
    report = ingest(load_config(root), known)
    console.diagnostics(report.diagnostics)
    console.info(f"ingest: {len(report.written)} written, {report.unchanged} unchanged, "
                 f"{len(report.kept)} kept (hand-edited), {report.failed} failed")
    for path in report.written:
        console.detail(f"  wrote {path}")
    return EXIT_ERROR if report.failed else EXIT_OK


def report_build(result: BuildResult, console: Console) -> int:
    console.diagnostics(result.diagnostics)
    stats = result.stats
    if result.ingest:
        report = result.ingest
        console.info(f"ingest: {len(report.written)} written, {report.unchanged} unchanged, "
                     f"{len(report.kept)} kept, {report.failed} failed")
    if result.up_to_date:
        console.info(f"up to date: no source changed, nothing written ({result.seconds:.2f}s)")
        return EXIT_OK
    console.info(
        f"built {stats.pages} pages, {stats.feeds} feeds, {stats.assets} assets, "
        f"{stats.other} other files; rendered {result.rendered} "
        f"({stats.written} written, {stats.unchanged} unchanged, "
        f"{stats.removed} removed); {len(result.warnings)} warning(s); "
        f"{result.seconds:.2f}s")
    for stage, seconds in stats.timings.items():
        console.detail(f"  {stage:<14} {seconds * 1000:8.1f} ms")
    # Not index.html: opened as a file, a site under a sub-path (/news/) has no working link.
    console.info(f"site: {result.output_dir}/ (preview it with `newsgen serve`)")
    failed = result.ingest.failed if result.ingest else 0
    return EXIT_ERROR if failed else EXIT_OK


def run() -> None:
    """The `newsgen` command: main(), then exit without tearing the interpreter down.

    A build's index is millions of objects: freeing them one by one at exit took 0.35 s of a
    12 s build at 10,000 articles, for nothing. Everything that must outlive the process is
    done by then (pages committed, cache saved and closed); only the output is flushed.
    """
    os._exit(finish(main(scan_ahead=True, use_daemon=True)))


def finish(code: int) -> int:
    """Flush the output before an os._exit; the exit code (an error if output was lost)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when started with that descriptor closed
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`newsgen build | head`)
            code = code or EXIT_ERROR
    return code


if __name__ == "__main__":
    run()
