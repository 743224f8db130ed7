"""The dev server without a browser: source filter, batching, one build at a time, and real HTTP.

`ServeProcess` runs `newsgen serve --port 0` as a user would, in a throwaway copy of the project;
test_serve_browser.py reuses it. Traversal attempts are sent raw (http.client never normalises).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import FIXED_EPOCH, copy_project
from htmlutil import parse

from generator.build import BuildOptions
from generator.cli import Console
from generator.devpages import current_asset, request_relative
from generator.reload import inject, page_url, reload_message
from generator.serve import DevServer
from generator.watch import ChangeQueue, Rebuilder, SourceWatcher, is_source

T = TypeVar("T")
SERVE_ARGS = ("--future",)  # the sample article is dated after the fixed test clock


class ServeProcess:
    """`python -m generator serve --port 0` in `root`; stdout and stderr collected as lines."""

    def __init__(self, root: Path, *args: str) -> None:
        env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONUNBUFFERED": "1"}
        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", *args], cwd=root, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._drain, args=(pipe, lines), daemon=True)
                         for pipe, lines in ((self.process.stdout, self.out),
                                             (self.process.stderr, self.err))]
        for reader in self._readers:
            reader.start()
        self.url = self._wait_for_url()
        self.origin = self.url.split("/news/")[0]

    @staticmethod
    def _drain(pipe: Any, lines: list[str]) -> None:
        for line in pipe:
            lines.append(line.rstrip("\n"))

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in self.out:
                if line.startswith("serving http://"):
                    return line.split()[1]
            time.sleep(0.05)
        self.close()
        raise AssertionError(f"no URL printed:\n{self.text()}")

    def text(self) -> str:
        return "\n".join(self.out + self.err)

    def wait_for_text(self, needle: str, timeout: float = 15) -> str:
        """The output once it contains `needle`: a reader thread collects it, so a line the
        server printed may arrive a moment after what the browser was sent."""
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never printed:\n{self.text()}")
            time.sleep(0.05)
        return self.text()

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.origin}/__newsgen/status", timeout=10) as reply:
            status: dict[str, Any] = json.load(reply)
        return status

    def wait_idle(self, quiet: float = 0.6, timeout: float = 60) -> None:
        """Until no build is running or queued and none has started for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            status = self.status()
            if status["pending"] or status["builds"] != last:
                last, since = status["builds"], time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.05)
        raise AssertionError("the server never went idle")

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C; (exit code, stdout, stderr)."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=60)
        self.close()
        return code, "\n".join(self.out), "\n".join(self.err)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def raw_get(origin: str, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent exactly as given (no client-side normalisation)."""
    host, port = origin.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = copy_project(tmp_path_factory.mktemp("serve") / "site")
    process = ServeProcess(root, "--port", "0", *SERVE_ARGS)
    yield process
    process.close()


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync API may own this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=60)


# --- pure parts -------------------------------------------------------------------------------

def test_a_source_folder_created_while_serving_is_watched(tmp_path: Path) -> None:
    seen: list[Path] = []
    (tmp_path / "site.toml").write_text("")
    watcher = SourceWatcher(tmp_path, tmp_path / "public", seen.append)
    watcher.start()
    try:
        (tmp_path / "seeds").mkdir()
        seed = tmp_path / "seeds" / "001_0123456789abcdef.txt"
        deadline = time.monotonic() + 15
        while seed not in seen and time.monotonic() < deadline:
            seed.write_text("Headline\n\nBody.")  # until the new folder's watch is in place
            time.sleep(0.1)
    finally:
        watcher.stop()
    assert tmp_path / "seeds" in seen and seed in seen
    assert (tmp_path / "public") not in seen


@pytest.mark.parametrize(("relative", "expected"), [
    ("site.toml", True),
    ("content/articles/a.md", True),
    ("seeds/001_x.txt", True),
    ("layouts/partials/head.html", True),
    ("layouts/static/style.css", True),
    ("content/articles/.a.md.swp", False),
    ("content/articles/a.md~", False),
    ("content/articles/.#a.md", False),
    ("content/articles/4913", False),
    ("content/articles/.a.md.tmp", False),
    ("public/index.html", False),
    (".public.staging/index.html", False),
    (".public.previous/index.html", False),
    (".cache/state.json", False),
    (".git/index", False),
    ("content/.git/HEAD", False),
    (".newsgen.lock", False),
    ("README.md", False),
    ("seeds", True),
    ("tests/x.py", False),
])
def test_only_sources_trigger_rebuilds(tmp_path: Path, relative: str, expected: bool) -> None:
    assert is_source(tmp_path / relative, tmp_path, tmp_path / "public") is expected


@pytest.mark.parametrize("raw", [
    "/news/../site.toml", "/news/%2e%2e/site.toml", "/news/%2E%2E/%2e%2e/etc/passwd",
    "/news/..%2fsite.toml", "/news/%2fetc/passwd", "/news/a/..", "/news/.",
    "/news/..\\site.toml", "/news/%5c..%5csite.toml", "/news/%00", "/news/a%00.html",
    "//etc/passwd", "/etc/passwd", "/news//etc/passwd", "/news/%ff%fe",
])
def test_request_paths_that_could_escape_are_refused(raw: str) -> None:
    assert request_relative(raw, "/news/") is None


def test_request_paths_inside_the_site_are_decoded() -> None:
    assert request_relative("/news/", "/news/") == ""
    assert request_relative("/news/tags/u-s/", "/news/") == "tags/u-s/"
    assert request_relative("/news/a%20b/index.html", "/news/") == "a b/index.html"


def test_script_goes_before_the_first_head_end_only() -> None:
    page = b"<html><head><title>x</title></HEAD><body></head></body></html>"
    assert inject(page, b"<s>") == b"<html><head><title>x</title><s></HEAD><body></head></body></html>"


def test_a_stale_fingerprint_maps_to_the_current_asset(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "style.0123abcd.css").write_text("new")
    (static / "app.0123abcd.js").write_text("js")
    assert current_asset(tmp_path, "static/style.ffffffff.css") == static / "style.0123abcd.css"
    assert current_asset(tmp_path, "static/other.ffffffff.css") is None
    assert current_asset(tmp_path, "about/index.ffffffff.css") is None


def test_css_edits_hot_swap_and_page_edits_name_the_changed_pages(tmp_path: Path) -> None:
    css, md = tmp_path / "layouts/static/style.css", tmp_path / "content/a.md"
    outputs = ["index.html", "static/style.0123abcd.css"]
    assert reload_message({css}, outputs, "/news/") == "/news/static/style.0123abcd.css"
    assert reload_message({css, md}, outputs, "/news/") == "*"
    assert reload_message({md}, ["index.html", "2026/01/a/index.html", "404.html"],
                          "/news/") == "page:/news/\n/news/2026/01/a/\n/news/404.html"
    assert reload_message({md}, ["feed.xml", "sitemap.xml"], "/news/") is None  # no page
    many = [f"tags/t{i}/index.html" for i in range(1000)]
    assert reload_message({md}, many, "/news/") == "*"
    assert page_url("2026/01/caf\u00e9/index.html", "/") == "/2026/01/caf%C3%A9/"


def test_a_burst_of_events_becomes_one_batch() -> None:
    async def scenario() -> list[frozenset[Path]]:
        queue = ChangeQueue(asyncio.get_running_loop(), quiet=0.05, longest=1.0)
        for name in ("a", "b", "a", "c"):
            queue.add(Path(name))
        first = await queue.next_batch()
        queue.add(Path("d"))
        return [first, await queue.next_batch()]

    assert run_async(scenario) == [frozenset(map(Path, "abc")), frozenset({Path("d")})]


def test_changes_during_a_build_make_exactly_one_more_build() -> None:
    calls: list[set[Path] | None] = []
    overlaps: list[int] = []
    running = threading.Semaphore(1)
    build_started = threading.Event()

    def build(changed: set[Path] | None) -> Any:
        if not running.acquire(blocking=False):
            overlaps.append(1)
        calls.append(changed)
        build_started.set()
        time.sleep(0.4)  # long enough for all the edits below to land during this build
        running.release()
        return "ok"

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        queue = ChangeQueue(loop, quiet=0.02, longest=0.2)
        rebuilder = Rebuilder(loop, queue, build, lambda *args: None)
        task = asyncio.create_task(rebuilder.run_forever(threading.Event()))
        await loop.run_in_executor(None, build_started.wait)
        for name in ("a.md", "b.md", "c.md"):
            queue.put(Path(name))  # from another thread, as watchdog does
            await asyncio.sleep(0.03)
        while rebuilder.pending() or len(calls) < 2:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # nothing else may start
        task.cancel()
        rebuilder.shutdown()

    run_async(scenario)
    assert overlaps == []
    assert calls == [None, {Path("a.md"), Path("b.md"), Path("c.md")}]


def test_rebuilder_runs_one_full_scan_once_saves_pause() -> None:
    """Batches are built from watchdog's events alone; when saves pause, one full-scan build
    (an empty change set) catches anything an event missed, then the idle work runs."""
    calls: list[set[Path] | None] = []
    idle_runs: list[int] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        queue = ChangeQueue(loop, quiet=0.02, longest=0.2)
        rebuilder = Rebuilder(loop, queue, lambda changed: calls.append(changed) or "ok",
                              lambda *args: None, idle=lambda: idle_runs.append(len(calls)),
                              idle_after=0.15)
        task = asyncio.create_task(rebuilder.run_forever(threading.Event()))
        while not calls:
            await asyncio.sleep(0.01)
        queue.put(Path("a.md"))
        await asyncio.sleep(0.6)  # several idle periods: still one check
        task.cancel()
        rebuilder.shutdown()

    run_async(scenario)
    assert calls == [None, {Path("a.md")}, set()]
    assert idle_runs and set(idle_runs) == {3}  # the idle work follows the check


# --- the real server over HTTP ----------------------------------------------------------------

def test_root_redirects_to_the_sub_path(server: ServeProcess) -> None:
    status, headers, _ = raw_get(server.origin, "/")
    assert status in (301, 302) and headers["location"] == "/news/"
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/news/")
    assert "127.0.0.1" in server.text() and "this machine only" in server.text()


@pytest.mark.parametrize("raw", [
    "/news/../site.toml", "/news/%2e%2e/site.toml", "/news/..%2fsite.toml",
    "/news/%2e%2e%2fsite.toml", "/news/static/../../site.toml", "/news/..\\site.toml",
    "/news/%5c..%5csite.toml", "/news/%00", "//site.toml", "/site.toml",
    "/news//etc/passwd", "/news/%2fetc%2fpasswd", "/news/%2Fetc/passwd",
])
def test_requests_outside_the_output_folder_get_404(server: ServeProcess, raw: str) -> None:
    status, _, body = raw_get(server.origin, raw)
    assert status == 404
    assert b"base_url" not in body and b"root:" not in body
    assert "Page not found" in parse(body.decode()).one("h1").text()


def test_unknown_pages_get_the_sites_404_page(server: ServeProcess) -> None:
    status, headers, body = raw_get(server.origin, "/news/no/such/page/")
    assert status == 404 and headers["content-type"].startswith("text/html")
    assert parse(body.decode()).one("h1").text() == "Page not found"


def test_html_responses_carry_the_live_reload_script(server: ServeProcess) -> None:
    status, headers, body = raw_get(server.origin, "/news/")
    scripts = [s.raw_text() for s in parse(body.decode()).find_all("script")]
    assert status == 200 and headers["cache-control"] == "no-store"
    assert any("/livereload.js?port=" in s for s in scripts)
    head_end = body.index(b"</head>")
    assert body.index(b"livereload.js") < head_end
    on_disk = (server.root / "public" / "index.html").read_bytes()
    assert b"livereload" not in on_disk
    status, headers, body = raw_get(server.origin, "/news/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000
    status, _, script = raw_get(server.origin, "/livereload.js")
    assert status == 200 and b"LiveReload" in script


def test_hashed_assets_are_cached_and_everything_else_is_not(server: ServeProcess) -> None:
    """A reload refetches the page, not its stylesheet: a content-hashed file under its own
    name never changes. A stale hashed name (answered with the current file) is not cached."""
    [css] = (server.root / "public" / "static").glob("style.*.css")
    status, headers, _ = raw_get(server.origin, f"/news/static/{css.name}")
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
    status, headers, body = raw_get(server.origin, "/news/static/style.ffffffff.css")
    assert status == 200 and headers["cache-control"] == "no-store" and body == css.read_bytes()
    for path in ("/news/", "/news/feed.xml", "/news/no/such/page/"):
        assert raw_get(server.origin, path)[1]["cache-control"] == "no-store", path


def test_folders_redirect_to_their_slash_and_feeds_are_served(server: ServeProcess) -> None:
    status, headers, _ = raw_get(server.origin, "/news/about")
    assert status in (301, 302) and headers["location"] == "/news/about/"
    status, headers, body = raw_get(server.origin, "/news/feed.xml")
    assert status == 200 and "xml" in headers["content-type"] and b"livereload" not in body


def test_an_old_asset_fingerprint_serves_the_current_file(server: ServeProcess) -> None:
    current = next((server.root / "public" / "static").glob("style.*.css"))
    status, headers, body = raw_get(server.origin, "/news/static/style.00000000.css?livereload=1")
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert body == current.read_bytes()


def livereload_session(origin: str, snipver: int) -> Any:
    """Handshake like livereload.js does; the first message the server sends after it (or None)."""
    from tornado.websocket import websocket_connect

    async def talk() -> Any:
        socket = await websocket_connect(origin.replace("http://", "ws://") + "/livereload")
        try:
            await socket.write_message(json.dumps({
                "command": "hello", "snipver": snipver,
                "protocols": ["http://livereload.com/protocols/official-7"]}))
            hello = json.loads(await socket.read_message() or "{}")
            assert hello["command"] == "hello"
            await socket.write_message(json.dumps({"command": "info", "url": origin}))
            try:
                return json.loads(await asyncio.wait_for(socket.read_message(), 1.0) or "null")
            except TimeoutError:
                return None
        finally:
            socket.close()

    return run_async(talk)


def test_a_page_from_an_older_build_reloads_as_soon_as_it_connects(server: ServeProcess) -> None:
    # The reload a page missed while it was loading is sent when its websocket connects.
    generation = server.status()["generation"]
    message = livereload_session(server.origin, generation - 1)
    assert message is not None and message["command"] == "reload" and message["path"] == "*"
    assert livereload_session(server.origin, generation) is None


def test_newsgen_build_output_has_no_live_reload_script(built_site: Path) -> None:
    files = [p for p in (built_site / "public").rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    assert [p for p in files if b"livereload" in p.read_bytes()] == []


def test_a_port_in_use_is_a_clear_error(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
        result = subprocess.run([sys.executable, "-m", "generator", "serve", "--port", str(port)],
                                cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port 0" in result.stderr and "Traceback" not in result.stderr


def test_a_page_that_connects_late_gets_the_messages_it_missed(project: Path) -> None:
    """Not a blanket reload: a tab that reloaded for the early announcement of its article must
    not reload again when the listings are announced (they do not name it)."""
    class Waiter:
        def __init__(self) -> None:
            self.paths: list[str] = []

        def reload(self, path: str) -> None:
            self.paths.append(path)

    class Idle:
        def build(self, changed: set[Path] | None = None) -> Any:
            raise AssertionError("not started")

    dev = DevServer(project, BuildOptions(), Console(-1), port=0, builder=Idle())
    try:
        start = dev.generation
        dev._broadcast("page:/news/a/")
        dev._broadcast("page:/news/b/\n/news/c/")

        def received(served: object) -> list[str]:
            waiter = Waiter()
            dev.attach(waiter, served)  # type: ignore[arg-type]
            dev.detach(waiter)  # type: ignore[arg-type]
            return waiter.paths

        assert received(start) == ["page:/news/a/", "page:/news/b/\n/news/c/"]
        assert received(start + 1) == ["page:/news/b/\n/news/c/"]
        assert received(start + 2) == [] and received(str(start + 2)) == []
        assert received(None) == ["*"]  # no generation given: reload to be safe
        for number in range(40):
            dev._broadcast(f"page:/news/{number}/")
        assert received(start) == ["*"]  # missed more than the server keeps
    finally:
        dev._loop.close()


def test_an_unexpected_build_crash_is_shown_and_stopping_joins_every_thread(
        project: Path) -> None:
    class Crashing:
        def build(self, changed: set[Path] | None = None) -> Any:
            raise RuntimeError("boom <b>")

    before = set(threading.enumerate())
    dev = DevServer(project, BuildOptions(), Console(-1), port=0, builder=Crashing())
    dev.start()
    try:
        status, _, body = raw_get(dev.url.split("/news/")[0], "/news/")
        assert status == 500
        assert "RuntimeError: boom <b>" in parse(body.decode()).one("main").text()
    finally:
        dev.stop()
    assert [t.name for t in threading.enumerate() if t not in before and t.is_alive()] == []


def test_ctrl_c_stops_cleanly(project: Path) -> None:
    process = ServeProcess(project, "--port", "0", *SERVE_ARGS)
    try:
        with urllib.request.urlopen(process.url, timeout=10) as reply:
            assert reply.status == 200
        code, out, err = process.interrupt()
    finally:
        process.close()
    assert code == 0, err
    assert "Traceback" not in err and "Traceback" not in out
    assert out.splitlines()[-1] == "stopped"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(process.url, timeout=5)
