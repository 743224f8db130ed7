"""Dev server: build, serve the output folder under base_url's sub-path, rebuild on change, reload.

watch.py turns saves into batches and runs one build at a time; this module serves the files and
tells the browser through livereload's websocket. The live-reload script is added to HTML
responses only, never written to the output folder, and no file outside that folder is served.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
import threading
import traceback
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from livereload.handlers import LiveReloadJSHandler
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .build import Builder, BuildOptions, BuildResult
from .config import load_config
from .devpages import Problem, ReloadSocket, SiteHandler, StatusHandler, problems_of
from .errors import BuildFailed, Diagnostic, GeneratorError
from .reload import PAGES_PREFIX, reload_message
from .urls import Urls
from .watch import VERIFY, Batch, ChangeQueue, Rebuilder, SourceWatcher, describe

RECENT_MESSAGES = 32  # reload messages kept for pages that connect late
class Log(Protocol):
    """What the server prints through; cli.Console fits."""

    def info(self, text: str) -> None: ...
    def detail(self, text: str) -> None: ...
    def diagnostics(self, items: list[Diagnostic] | tuple[Diagnostic, ...]) -> None: ...
    def error(self, err: GeneratorError) -> None: ...


class SiteBuilder(Protocol):
    def build(self, changed: set[Path] | None = None) -> BuildResult: ...


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
