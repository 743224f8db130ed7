"""Dev server: build, serve the output folder under base_url's sub-path, rebuild on change, reload.

watch.py turns saves into batches and runs one build at a time; this module serves the files and
tells the browser through livereload's websocket. The live-reload script is added to HTML
responses only, never written to the output folder, and no file outside that folder is served.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import mimetypes
import os
import re
import signal
import sys
import threading
import traceback
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .build import Builder, BuildOptions, BuildResult
from .config import load_config
from .errors import BuildFailed, Diagnostic, GeneratorError, excerpt
from .reload import PAGES_PREFIX, inject, live_script, reload_message
from .urls import Urls
from .watch import VERIFY, Batch, ChangeQueue, Rebuilder, SourceWatcher, describe

HASHED_NAME = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{8}(?P<ext>\.[A-Za-z0-9]+)$")
EXTRA_TYPES = {".avif": "image/avif", ".webp": "image/webp", ".woff2": "font/woff2"}
RECENT_MESSAGES = 32  # reload messages kept for pages that connect late
TEXT_TYPES = ("text/", "application/xml", "application/json", "application/feed+json",
              "application/javascript", "image/svg+xml")


class Log(Protocol):
    """What the server prints through; cli.Console fits."""

    def info(self, text: str) -> None: ...
    def detail(self, text: str) -> None: ...
    def diagnostics(self, items: list[Diagnostic] | tuple[Diagnostic, ...]) -> None: ...
    def error(self, err: GeneratorError) -> None: ...


class SiteBuilder(Protocol):
    def build(self, changed: set[Path] | None = None) -> BuildResult: ...


@dataclass(frozen=True, slots=True)
class Problem:
    """One error as the browser's error page shows it."""

    message: str
    where: str = ""
    hint: str = ""
    lines: tuple[str, ...] = ()


def problems_of(err: BaseException, root: Path) -> tuple[Problem, ...]:
    if isinstance(err, BuildFailed):
        errors = [d for d in err.diagnostics if d.severity == "error"] or list(err.diagnostics)
        return tuple(_diagnostic_problem(d, root) for d in errors) or (Problem(err.message),)
    if isinstance(err, GeneratorError):
        return (Problem(err.message, str(err.location or ""), err.hint or "", err.source_lines),)
    stack = traceback.format_exception(err)
    return (Problem(f"{type(err).__name__}: {err}", "internal error (a bug in newsgen)",
                    "the traceback is printed in the terminal", tuple(stack[-6:])),)


def _diagnostic_problem(item: Diagnostic, root: Path) -> Problem:
    lines: tuple[str, ...] = ()
    where = item.location
    if where is not None and where.line:
        path = where.path if where.path.is_absolute() else root / where.path
        with suppress(OSError, UnicodeDecodeError):
            lines = excerpt(path.read_text(encoding="utf-8"), where.line)
    return Problem(item.message, str(where or ""), item.hint or "", lines)


def error_page(problems: tuple[Problem, ...], script: bytes) -> bytes:
    parts = []
    for problem in problems:
        where = f"<h2>{html.escape(problem.where)}</h2>" if problem.where else ""
        hint = f"<p class=hint>hint: {html.escape(problem.hint)}</p>" if problem.hint else ""
        code = (f"<pre>{html.escape(chr(10).join(problem.lines))}</pre>"
                if problem.lines else "")
        parts.append(f"<section>{where}<p>{html.escape(problem.message)}</p>{hint}{code}</section>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Build failed | newsgen</title><style>body{font:16px/1.5 system-ui,sans-serif;"
        "margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222;background:#fff}"
        "h1{color:#b00020}section{border-left:4px solid #b00020;padding:.2rem 1rem;"
        "margin:1rem 0;background:#fdf3f4}pre{overflow:auto;background:#fff;padding:.5rem}"
        ".hint{color:#555}</style></head><body><main id=newsgen-build-error><h1>Build failed</h1>"
        "<p>The server keeps the last good site. Fix the file and save: this page reloads "
        f"by itself.</p>{''.join(parts)}</main></body></html>"
    ).encode().replace(b"</head>", script + b"</head>", 1)


def request_relative(raw_path: str, base_path: str) -> str | None:
    """The output-relative path a (still percent-encoded) request path names, or None when it
    is outside base_path or could leave the output folder ('..', encoded '/', '\\', NUL)."""
    if not raw_path.startswith(base_path) or "\\" in raw_path:
        return None
    segments = raw_path[len(base_path):].split("/")
    decoded = []
    for position, segment in enumerate(segments):
        try:
            text = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            return None
        if text in (".", "..") or any(c in text for c in "/\\\x00"):
            return None
        if text == "" and position < len(segments) - 1:
            return None  # '//' inside the path
        decoded.append(text)
    return "/".join(decoded)


def current_asset(public: Path, relative: str) -> Path | None:
    """For `static/style.<oldhash>.css`, the asset's current fingerprinted file, if any.

    An open page keeps linking the stylesheet it was loaded with; livereload's CSS refresh
    re-fetches that old name, and must get the new content without a full reload.
    """
    folder, _, name = relative.rpartition("/")
    match = HASHED_NAME.match(name)
    if not (relative.startswith("static/") and match):
        return None
    candidates = []
    with suppress(OSError):
        for path in (public / folder).iterdir():
            other = HASHED_NAME.match(path.name)
            if other and other["stem"] == match["stem"] and other["ext"] == match["ext"]:
                candidates.append((path.stat().st_mtime_ns, path))
    return max(candidates)[1] if candidates else None


class CannotListen(Exception):
    """The address or port cannot be bound (usually: another server uses the port)."""


class DevServer:
    """Builds, serves and rebuilds one project; `start()` returns once the first build is done."""

    def __init__(self, root: Path, options: BuildOptions, log: Log, host: str = "127.0.0.1",
                 port: int = 8000, builder: SiteBuilder | None = None) -> None:
        self.root = root.resolve()
        self.options, self.log, self.host = options, log, host
        self.port = port
        # keep_memo: the builder keeps the indexed site in memory for fast rebuilds.
        self.builder: SiteBuilder = builder or Builder(self.root, options, keep_memo=True)
        if isinstance(self.builder, Builder):
            self.builder.announce = self.announce
        config = load_config(self.root)  # a broken site.toml stops here, before binding
        self.base_path = Urls(config.base_url, config.permalink).base_path
        self.output_dir = config.output_dir
        # Bumped after every build that changed what a page shows. Starts at 1: livereload.js
        # leaves a falsy `snipver` out of its handshake.
        self.generation = 1
        self._sent: list[tuple[int, str]] = []  # (generation it made, message): the recent ones
        self.problems: tuple[Problem, ...] = ()  # the last build's errors; () when it worked
        self._waiters: set[ReloadSocket] = set()
        self._loop = asyncio.new_event_loop()
        queue = ChangeQueue(self._loop)
        self.rebuilder = Rebuilder(self._loop, queue, self.builder.build, self._finished,
                                   idle=getattr(self.builder, "refresh_search", None))
        self._stopping = asyncio.Event()
        self._first_build = threading.Event()
        self._done = threading.Event()  # the serving thread has finished
        self._thread = threading.Thread(target=self._run, name="newsgen-serve", daemon=True)
        self._watcher = SourceWatcher(self.root, self.output_dir, queue.put)
        self._sockets: list[Any] = []

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{self.base_path}"

    def start(self) -> None:
        """Bind (CannotListen if the port is taken), watch, build once, then serve in a thread."""
        try:
            self._sockets = bind_sockets(self.port, self.host or None)
        except OSError as err:
            raise CannotListen(f"cannot listen on {self.host}:{self.port}: {err.strerror}") from err
        self.port = self._sockets[0].getsockname()[1]
        self._watcher.start()  # before the first build: an edit made during it is not lost
        self._thread.start()
        while not self._first_build.wait(0.2):
            if self._done.is_set():
                raise RuntimeError("the dev server thread stopped during the first build")

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C interrupts this wait)."""
        # Not Thread.join(): on 3.11 a join interrupted by Ctrl-C can mark the thread stopped.
        while not self._done.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop watching and serving; waits for a running build to finish. Idempotent."""
        self._watcher.stop()
        if self._thread.ident is not None:  # started
            if not self._done.is_set():
                self._loop.call_soon_threadsafe(self._stopping.set)
            self._done.wait()
            self._thread.join()
        self.rebuilder.shutdown()
        close = getattr(self.builder, "close", None)
        if close is not None:
            close()  # saves the cache state that fast rebuilds kept in memory
        for sock in self._sockets:
            sock.close()
        if not self._loop.is_closed():
            self._loop.close()  # never started: close it here instead

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()
            self._done.set()

    async def _main(self) -> None:
        application = web.Application([
            (r"/livereload", ReloadSocket, {"server": self}),
            (r"/livereload\.js", LiveReloadJSHandler),
            (r"/__newsgen/status", StatusHandler, {"server": self}),
            (r".*", SiteHandler, {"server": self}),
        ], debug=False, autoreload=False, log_function=lambda handler: None)
        http = HTTPServer(application)
        http.add_sockets(self._sockets)
        worker = asyncio.create_task(self.rebuilder.run_forever(self._first_build))
        await self._stopping.wait()
        http.stop()
        worker.cancel()
        with suppress(asyncio.CancelledError):
            await worker
        # Block this (stopping) loop until a running build finishes: its completion is then
        # delivered to a live loop, and public/ is never left half-written.
        self.rebuilder.shutdown()
        for waiter in list(self._waiters):
            waiter.close()
        with suppress(TimeoutError):
            await asyncio.wait_for(http.close_all_connections(), 2)

    def _finished(self, outcome: BuildResult | Exception, batch: Batch, seconds: float) -> None:
        if isinstance(outcome, Exception):
            self._failed(outcome, batch, seconds)
        else:
            self._succeeded(outcome, batch, seconds)

    def _failed(self, err: Exception, batch: Batch, seconds: float) -> None:
        what = describe(batch, self.root) if batch else "first build"
        if isinstance(err, BuildFailed):
            self.log.diagnostics(err.diagnostics)
        elif isinstance(err, GeneratorError):
            self.log.error(err)
        else:
            traceback.print_exception(err, file=sys.stderr)
        self.log.info(f"rebuild failed after {seconds * 1000:.0f} ms ({what}); still serving the "
                      "last good site, the browser shows the error")
        self.problems = problems_of(err, self.root)
        self._broadcast("*")

    def _succeeded(self, result: BuildResult, batch: Batch, seconds: float) -> None:
        stats, recovered = result.stats, bool(self.problems)
        if batch == VERIFY and not (stats.changed or stats.removed or result.diagnostics
                                    or recovered):
            return  # the quiet check after saves pause found nothing watchdog missed
        self.problems = ()
        self.log.diagnostics(result.diagnostics)
        what = (describe(batch, self.root) if batch else
                "first build" if batch is None else "full scan after saves paused")
        self.log.info(f"rebuilt in {seconds * 1000:.0f} ms: {len(stats.changed)} output(s) "
                      f"changed, {stats.removed} removed ({what})")
        for output in stats.changed:
            self.log.detail(f"  {output}")
        if batch and any(path.name == "site.toml" for path in batch):
            with suppress(GeneratorError):
                config = load_config(self.root)
                self.base_path = Urls(config.base_url, config.permalink).base_path
        if batch is not None and (stats.changed or stats.removed or recovered):
            # Pages announced while the build ran (announce()) have reloaded already.
            unseen = [output for output in stats.changed if output not in result.announced]
            path = "*" if recovered else reload_message(batch, unseen, self.base_path)
            if stats.removed and (path is None or path.startswith(PAGES_PREFIX)):
                path = "*"  # a removed page's tab is not among the changed ones
            if path is not None:
                self._broadcast(path)

    def announce(self, outputs: list[str]) -> None:
        """From the build thread: the edited pages are written, the rest of the build is not
        (Builder.announce). Their open tabs reload now rather than when the build ends."""
        path = reload_message((), outputs, self.base_path)
        if path is not None and not self.problems:
            self._loop.call_soon_threadsafe(self._broadcast, path)

    def _broadcast(self, path: str) -> None:
        self.generation += 1
        self._sent.append((self.generation, path))
        del self._sent[:-RECENT_MESSAGES]
        for waiter in list(self._waiters):
            waiter.reload(path)

    def attach(self, waiter: ReloadSocket, generation: object) -> None:
        """A page connects, telling which generation it was served at: it gets the messages it
        missed meanwhile (a tab reloading for the edited article, announced early, must not
        reload again for the listings announced after it), or a reload when they are gone."""
        self._waiters.add(waiter)
        served = int(generation) if isinstance(generation, int | str) and str(
            generation).isdigit() else None
        if served == self.generation:
            return
        missed = [path for number, path in self._sent if served is not None and number > served]
        if served is None or not self._sent or self._sent[0][0] > served + 1:
            missed = ["*"]  # older than what is kept: reload
        for path in missed:
            waiter.reload(path)

    def detach(self, waiter: ReloadSocket) -> None:
        self._waiters.discard(waiter)


class ReloadSocket(LiveReloadHandler):  # type: ignore[misc]
    """livereload's websocket with per-server waiters (livereload keeps them class-wide)."""

    def initialize(self, server: DevServer) -> None:
        self.server = server
        self.generation: object = None

    def on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        if data.get("command") == "hello":
            self.generation = data.get("snipver")
            super().on_message(message)  # livereload's handshake reply
        elif data.get("command") == "info":
            self.server.attach(self, self.generation)

    def on_close(self) -> None:
        self.server.detach(self)

    def reload(self, path: str) -> None:
        message = {"command": "reload", "path": path, "liveCSS": True, "liveImg": True}
        try:
            sent = self.write_message(json.dumps(message))
        except Exception:  # the page went away between two builds
            self.server.detach(self)
            return
        sent.add_done_callback(lambda future: future.cancelled() or future.exception())


class StatusHandler(web.RequestHandler):
    def initialize(self, server: DevServer) -> None:
        self.server = server

    def get(self) -> None:
        server = self.server
        self.set_header("Cache-Control", "no-store")
        self.write({"generation": server.generation, "builds": server.rebuilder.builds,
                    "pending": server.rebuilder.pending(), "failed": bool(server.problems),
                    # The search index lags fast rebuilds until saves pause (Rebuilder idle).
                    "search_pending": bool(getattr(server.builder, "search_stale", False))})


class SiteHandler(web.RequestHandler):
    """Serves the output folder under the sub-path; HTML gets the live-reload script."""

    def initialize(self, server: DevServer) -> None:
        self.server = server

    def head(self) -> None:
        self.get()

    def get(self) -> None:
        server = self.server
        generation = server.generation  # read before the file: a racing build only adds a reload
        raw, base = self.request.path, server.base_path
        if raw in ("/", base.rstrip("/")) and raw != base:
            return self.redirect(base)
        relative = request_relative(raw, base)
        public = server.output_dir
        path = None
        if relative is not None:
            path = public / relative
            if path.is_dir():
                if relative and not relative.endswith("/"):
                    return self.redirect(raw + "/" + _query(self.request.query))
                path = path / "index.html"
            if not path.is_file():
                path = current_asset(public, relative)
        # A content-hashed file under its own name never changes: the browser keeps it across
        # reloads (a reload then fetches only the page). A stale name answered with the current
        # file (current_asset) must not be kept.
        immutable = (path is not None and relative is not None and path == public / relative
                     and HASHED_NAME.match(path.name) is not None)
        status, data = 200, _read(path, public)
        if data is None:
            status, path, data = 404, public / "404.html", _read(public / "404.html", public)
            immutable = False
        self._send(status, path, data, generation, immutable)

    def _send(self, status: int, path: Path | None, data: bytes | None, generation: int,
              immutable: bool = False) -> None:
        name = path.name if path else "404.html"
        kind = (EXTRA_TYPES.get(Path(name).suffix) or mimetypes.guess_type(name)[0]
                or "application/octet-stream")
        if data is None:
            data = b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"
        if kind == "text/html":
            script = live_script(generation)
            if self.server.problems:
                status, data = 500, error_page(self.server.problems, script)
            else:
                data = inject(data, script)
        self.set_status(status)
        text = kind.startswith(TEXT_TYPES)
        self.set_header("Content-Type", f"{kind}; charset=utf-8" if text else kind)
        self.set_header("Cache-Control", "public, max-age=31536000, immutable" if immutable
                        else "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Length", str(len(data)))
        if self.request.method != "HEAD":
            self.write(data)
        self.finish()


def _read(path: Path | None, public: Path) -> bytes | None:
    if path is None:
        return None
    try:
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(os.path.realpath(public)):
            return None  # a symlink pointing out of the output folder
        return real.read_bytes()
    except OSError:
        return None  # includes the instant a full rebuild swaps the folders


def _query(query: str) -> str:
    return f"?{query}" if query else ""


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # `kill` stops like Ctrl-C


def _force_exit(signum: int, frame: object) -> None:
    os._exit(130)  # a second Ctrl-C while stopping: the user does not want to wait


def serve(root: Path, options: BuildOptions, host: str, port: int, console: Log) -> int:
    """`newsgen serve`: 0 after Ctrl-C, 1 if the port is taken."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # rebuild logs show up at once in pipes too
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        signal.signal(signal.SIGTERM, _on_sigterm)
    server = DevServer(root, options, console, host, port)
    try:
        server.start()
        local = " (this machine only; --host 0.0.0.0 shares it)" if host == "127.0.0.1" else ""
        console.info(f"serving {server.url} on {host}{local}; Ctrl-C stops")
        server.wait()
    except CannotListen as err:
        print(f"error: {err}", file=sys.stderr)
        print("  hint: another server uses that port; pass --port N, or --port 0 to pick a free "
              "one", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if server.rebuilder.building:
            console.info("stopping after the running build (Ctrl-C again quits at once)")
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, _force_exit)
        server.stop()
    console.info("stopped")
    return 0
