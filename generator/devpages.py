"""What the dev server answers over HTTP: the site's files, its status, the reload socket.

`SiteHandler` serves the output folder under base_url's sub-path (never a file outside it), adds
the live-reload script to HTML responses and, while the last build failed, answers with the
error page instead. `ReloadSocket` is livereload's websocket with waiters kept per server.
"""

from __future__ import annotations

import html
import json
import mimetypes
import os
import re
import traceback
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from livereload.handlers import LiveReloadHandler
from tornado import web

from .errors import BuildFailed, Diagnostic, GeneratorError, excerpt
from .reload import inject, live_script

if TYPE_CHECKING:
    from .serve import DevServer

HASHED_NAME = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{8}(?P<ext>\.[A-Za-z0-9]+)$")
EXTRA_TYPES = {".avif": "image/avif", ".webp": "image/webp", ".woff2": "font/woff2"}

TEXT_TYPES = ("text/", "application/xml", "application/json", "application/feed+json",
              "application/javascript", "image/svg+xml")



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
