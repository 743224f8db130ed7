"""The build daemon: a resident process that has the package imported and forks one child per
`newsgen build`, so a small rebuild does not pay Python's start-up and imports again.

A CLI build at 10,000 articles spends most of its time importing (the package, Jinja2,
Python-Markdown, PyYAML: about 110 ms of 180) before a one-article rebuild that takes 30. The
same pattern as mypy's `dmypy` and the Gradle daemon: `newsgen daemon start` leaves a process
listening on `.cache/daemon.sock`; `newsgen build` in that project hands it its command line,
working folder, environment, umask and its own stdin, stdout and stderr (as descriptors, over
the socket), and the daemon forks a child that runs exactly the command line a local build
would run, with those. Output goes straight to the caller's terminal; the child's exit code is
the command's. Every build is a fresh fork of the same imported state, so nothing carries over
from one build to the next: the cache on disk stays the only memory, as for local builds.

The daemon stops after `idle` seconds without a build, when its socket is removed (deleting
.cache/ stops it), on `newsgen daemon stop`, or as soon as any module it imported changes on
disk (an upgrade, a `git pull`): that build then runs locally. Nothing starts a daemon but
`newsgen daemon start`.

This module's top level is what the `newsgen` command imports on every build to look for a
daemon, so it imports little; the server's imports are inside its functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .livescan import LiveScan
    from .scan import SourceScan

SOCKET_NAME = "daemon.sock"
IDLE_SECONDS = 1800
_MESSAGE_MAX = 1 << 20
# An AF_UNIX address holds at most 107 bytes; a longer path is reached from its folder.
_ADDRESS_MAX = 100
# What a build may import (some only on use, like search and ingest): imported once, up front.
PRELOAD = ("generator.build", "generator.render", "generator.content", "generator.routes",
           "generator.site", "generator.images", "generator.ingest", "generator.search",
           "generator.fastbuild", "generator.memostore", "generator.feeds", "generator.sitemap",
           "generator.workers", "generator.scan", "multiprocessing", "concurrent.futures",
           "jinja2", "markdown", "yaml", "frontmatter")


def socket_path(root: Path) -> Path:
    return root / ".cache" / SOCKET_NAME


class _At:
    """Runs a socket call on `path`, from inside its folder when the path is too long."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, call: Any) -> None:
        if len(os.fsencode(self.path)) <= _ADDRESS_MAX:
            call(str(self.path))
            return
        here = os.open(".", os.O_RDONLY)
        try:
            os.chdir(self.path.parent)
            call(self.path.name)
        finally:
            os.fchdir(here)
            os.close(here)


def _send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def _receive(sock: socket.socket) -> dict[str, Any] | None:
    data = sock.recv(_MESSAGE_MAX)
    return json.loads(data) if data else None  # b"": the other end has gone


def _connect(root: Path, timeout: float | None = 5.0) -> socket.socket | None:
    path = socket_path(root)
    try:
        os.stat(path)
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(timeout)
    try:
        _At(path)(sock.connect)
    except OSError:  # left behind by a daemon that was killed, or not a socket at all
        sock.close()
        return None
    return sock


# --- the client: `newsgen build` -------------------------------------------------------------

def forward_build(root: Path, argv: list[str], verbosity: int) -> int | None:
    """Run `newsgen <argv>` in this project's daemon; its exit code, or None when no daemon
    took it (none running, or it was out of date): the caller then builds here."""
    if not all(_is_open(fd) for fd in (0, 1, 2)):
        return None  # e.g. `newsgen build >&-`: nothing to hand over
    sock = _connect(root)
    if sock is None:
        return None
    with sock:
        request = {"kind": "build", "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                   "umask": _umask(), "encoding": _encodings()}
        try:
            _send(sock, request, [0, 1, 2])
            sock.settimeout(None)  # a cold build takes minutes
            first = _receive(sock)
        except OSError:
            return None
        if first is None or "stale" in first:
            if first is not None and verbosity >= 0:
                print(f"newsgen: the build daemon stopped ({first['stale']}); building without "
                      "it (`newsgen daemon start` starts a new one)", file=sys.stderr)
            return None
        code = _wait_for_child(sock, int(first["pid"]))
        if verbosity > 0:
            print(f"(built by the build daemon: worker pid {first['pid']})", file=sys.stderr)
        return code


def _wait_for_child(sock: socket.socket, pid: int) -> int:
    # Ctrl-C reaches this process (the terminal's foreground one); the build is in the child.
    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    while True:
        try:
            reply = _receive(sock)
        except InterruptedError:
            continue
        if reply is None:
            print("newsgen: the build daemon's worker ended without a result (killed?)",
                  file=sys.stderr)
            return 1
        if "exit" in reply:
            return int(reply["exit"])


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _encodings() -> dict[str, list[str]]:
    found = {}
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and getattr(stream, "encoding", None):
            found[name] = [stream.encoding, stream.errors or "strict"]
    return found


def ask(root: Path, kind: str) -> dict[str, Any] | None:
    """Send `status` or `stop` to this project's daemon; its reply, or None if none runs."""
    sock = _connect(root)
    if sock is None:
        return None
    with sock:
        try:
            _send(sock, {"kind": kind})
            return _receive(sock)
        except OSError:
            return None


# --- the daemon ------------------------------------------------------------------------------

def start(root: Path, idle: int) -> tuple[int, str]:
    """Start a daemon for `root` in the background; (its pid, "") once it listens, or
    (0, why it did not start)."""
    import time

    cache = root / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    log = cache / "daemon.log"
    command = [sys.executable, "-m", "generator", "--root", str(root), "daemon", "run",
               "--idle", str(idle)]
    pid = os.posix_spawn(sys.executable, command, dict(os.environ), setsid=True, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:  # it ended: another daemon runs, or it failed
            return 0, log.read_text("utf-8", "replace").strip()
        status = ask(root, "status")
        if status and status.get("pid") == pid:
            return pid, ""
        time.sleep(0.02)
    return 0, f"the daemon did not start listening within a minute (see {log})"


def run_daemon(root: Path, idle: float) -> int:
    """Serve builds for `root` until idle, stopped, out of date or its socket is removed."""
    import fcntl
    import gc
    import importlib
    import time

    cache = root / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    lock = open(cache / "daemon.lock", "a")  # noqa: SIM115 - held for the process's life
    deadline = time.monotonic() + 3  # a daemon just told to stop may still be exiting
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                print(f"a build daemon already runs for {root}", file=sys.stderr)
                return 1
            time.sleep(0.05)
    for name in PRELOAD:
        importlib.import_module(name)
    path = socket_path(root)
    path.unlink(missing_ok=True)  # a killed daemon's: the lock says no live one owns it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    mask = os.umask(0o077)  # only this user may connect
    try:
        _At(path)(listener.bind)
    finally:
        os.umask(mask)
    inode = os.stat(path).st_ino
    listener.listen(16)
    listener.settimeout(1.0)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    gc.freeze()  # the children's collector must not copy every imported module's pages
    from .livescan import LiveScan

    server = _Daemon(root, listener, lock, idle, _module_stamps())
    server.live = LiveScan.start(root)
    print(f"build daemon for {root}: pid {os.getpid()}, listening on {path}", flush=True)
    try:
        reason = server.serve()
    finally:
        if _inode(path) == inode:
            path.unlink()
    print(f"build daemon stopped: {reason}", flush=True)
    return 0


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _inode(path: Path) -> int:
    try:
        return os.stat(path).st_ino
    except OSError:
        return -1


def _module_stamps() -> dict[str, tuple[int, int]]:
    """(mtime, size) of every imported module's file: the code this daemon runs."""
    stamps = {}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str):
            try:
                stat = os.stat(name)
            except OSError:
                continue
            stamps[name] = (stat.st_mtime_ns, stat.st_size)
    return stamps


def changed_module(stamps: dict[str, tuple[int, int]]) -> str | None:
    """The first module file that changed since `stamps` were taken, or None."""
    for name, stamp in stamps.items():
        try:
            stat = os.stat(name)
        except OSError:
            return name
        if (stat.st_mtime_ns, stat.st_size) != stamp:
            return name
    return None


class _Daemon:
    def __init__(self, root: Path, listener: socket.socket, lock: Any, idle: float,
                 stamps: dict[str, tuple[int, int]]) -> None:
        import time

        self.root = root
        self.listener = listener
        self.lock = lock
        self.idle = idle
        self.stamps = stamps
        self.inode = _inode(socket_path(root))
        self.started = time.time()
        self.children: set[int] = set()
        self.builds = 0
        self.last_active = time.monotonic()
        self.live: LiveScan | None = None  # the sources' scan, kept current (livescan.py)

    def serve(self) -> str:
        """Answer requests until told to stop; returns why it stopped."""
        import time

        while True:
            self._reap()
            if self.children:
                self.last_active = time.monotonic()
            if time.monotonic() - self.last_active > self.idle:
                return f"no build for {self.idle:g} s"
            if _inode(socket_path(self.root)) != self.inode:
                return "its socket was removed"
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                stop = self._answer(conn)
            self.last_active = time.monotonic()
            if stop:
                return stop

    def _answer(self, conn: socket.socket) -> str | None:
        uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                  struct.calcsize("3i")))[1]
        if uid != os.getuid():
            return None
        conn.settimeout(5.0)
        fds: list[int] = []
        try:
            data, fds, _flags, _address = socket.recv_fds(conn, _MESSAGE_MAX, 3)
            request = json.loads(data)
            kind = request.get("kind")
            if kind == "status":
                _send(conn, self._status())
            elif kind == "stop":
                _send(conn, {"stopped": os.getpid()})
                return "asked to stop"
            elif kind == "build" and len(fds) == 3:
                changed = changed_module(self.stamps)
                if changed:
                    _send(conn, {"stale": f"{changed} changed since it started"})
                    return f"{changed} changed"
                self._fork_build(conn, request, fds)
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(f"build daemon: a request failed: {err!r}", file=sys.stderr, flush=True)
        finally:
            for fd in fds:
                os.close(fd)
        return None

    def _status(self) -> dict[str, Any]:
        import time

        from . import __version__

        return {"pid": os.getpid(), "root": str(self.root), "version": __version__,
                "up": round(time.time() - self.started), "builds": self.builds,
                "idle_limit": self.idle, "idle": round(time.monotonic() - self.last_active)}

    def _fork_build(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        ready = (self.root, self.live.current()) if self.live is not None else None
        pid = os.fork()
        if pid == 0:
            # Never returns. The child lets go of what only the daemon holds: its socket, its
            # lock (else a new daemon could not start while this build runs), its watches.
            self.listener.close()
            self.lock.close()
            if self.live is not None:
                self.live.close()
            _run_build(conn, request, fds, ready)
        self.children.add(pid)
        self.builds += 1

    def _reap(self) -> None:
        for pid in list(self.children):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.children.discard(pid)


def _run_build(conn: socket.socket, request: dict[str, Any], fds: list[int],
               ready: tuple[Path, SourceScan] | None) -> None:
    """The forked child: become the caller's `newsgen build` and report its exit code."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        import time

        time.tzset()
        _reopen_streams(request.get("encoding", {}))
        _send(conn, {"pid": os.getpid()})
        from .cli import finish, main

        code = finish(main(list(request["argv"]), scan_ahead=True, ready=ready))
    except SystemExit as leaving:
        code = leaving.code if isinstance(leaving.code, int) else int(leaving.code is not None)
    except BaseException:  # reported on the caller's stderr, then exit 1
        import traceback

        traceback.print_exc()
    finally:
        try:
            _send(conn, {"exit": code})
        finally:
            os._exit(code)


def _reopen_streams(encodings: dict[str, list[str]]) -> None:
    """sys.stdout and sys.stderr on the caller's descriptors, encoded and buffered as its own."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        encoding, errors = encodings.get(name, ("utf-8", "backslashreplace"))
        line_buffered = name == "stderr" or os.isatty(fd)
        stream = open(fd, "w", encoding=encoding, errors=errors,  # noqa: SIM115
                      buffering=1 if line_buffered else -1, closefd=False)
        setattr(sys, name, stream)
