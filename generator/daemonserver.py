"""The build daemon's side (see daemon.py): started by `newsgen daemon start`, it imports the
package once, keeps the sources' scan current (livescan.py) and forks one worker per
`newsgen build` it is handed; the worker becomes that command, in the caller's folder and
environment and on its terminal, and reports the exit code.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat as stat_module
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .daemon import (
    FAILED_NAME,
    LOCK_NAME,
    LOG_NAME,
    MESSAGE_MAX,
    PRELOAD,
    ShortAddress,
    ask,
    clear_starting,
    identity,
    peer_uid,
    running,
    send,
    socket_path,
    spawn,
)
from .scan import SourceScan, file_identity

if TYPE_CHECKING:
    from .livescan import LiveScan


def start(root: Path, idle: int) -> tuple[int, str]:
    """Start a daemon for `root` in the background; (its pid, "") once it listens, or
    (0, why it did not start)."""
    import time

    log = root / ".cache" / LOG_NAME
    pid = spawn(root, idle)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:  # it ended: another daemon runs, or it failed
            # Another `start` won the race: its daemon holds the lock, and answers once it has
            # imported and scanned.
            while running(root) and time.monotonic() < deadline:
                status = ask(root, "status")
                if status:
                    return int(status["pid"]), ""
                time.sleep(0.05)
            return 0, log.read_text("utf-8", "replace").strip()
        status = ask(root, "status")
        if status and status.get("pid") == pid:
            return pid, ""
        time.sleep(0.02)
    return 0, f"the daemon did not start listening within a minute (see {log})"


def run_daemon(root: Path, idle: float, fresh_log: bool = False) -> int:
    """Serve builds for `root` until idle, stopped, out of date or its socket is removed."""
    import fcntl
    import importlib
    import time

    cache = root / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    lock = open(cache / LOCK_NAME, "a")  # noqa: SIM115 - held for the process's life
    deadline = time.monotonic() + 3  # a daemon just told to stop may still be exiting
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                print(f"a build daemon already runs for {root}", file=sys.stderr)
                clear_starting(root, os.getpid())
                return 1
            time.sleep(0.05)
    os.chdir(root)  # not the starting shell's folder, which may be deleted or unmounted later
    if fresh_log and stat_module.S_ISREG(os.fstat(1).st_mode):
        os.ftruncate(1, 0)  # the log `start` opened for appending: this daemon's alone now
    # A daemon that cannot start (no Unix sockets or inotify here, a damaged .cache/) leaves a
    # note, so that builds do not start it again and again (daemon.why_not_start).
    failed = cache / FAILED_NAME
    try:
        for name in PRELOAD:
            importlib.import_module(name)
        path = socket_path(root)
        path.unlink(missing_ok=True)  # a killed daemon's: the lock says no live one owns it
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mask = os.umask(0o077)  # only this user may connect
        try:
            ShortAddress(path)(listener.bind)
        finally:
            os.umask(mask)
        inode = file_identity(path)
        listener.listen(16)
        listener.settimeout(1.0)
        signal.signal(signal.SIGTERM, _exit_on_signal)
        # The children's collector must not copy every imported module's pages.
        from .workers import freeze_for_good

        freeze_for_good()
        from .livescan import LiveScan

        server = _Daemon(root, listener, lock, idle, _module_stamps())
        server.live = LiveScan.start(root)
    except Exception as err:
        failed.write_text(f"{type(err).__name__}: {err}\n", "utf-8")
        raise
    finally:
        clear_starting(root, os.getpid())  # listening, or given up: `ask` need not wait
    failed.unlink(missing_ok=True)
    print(f"build daemon for {root}: pid {os.getpid()}, listening on {path}", flush=True)
    try:
        reason = server.serve()
    finally:
        if file_identity(path) == inode:
            path.unlink()
    print(f"build daemon stopped: {reason}", flush=True)
    return 0


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _stamp(name: str) -> tuple[int, int] | None:
    try:
        st = os.stat(name)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _module_stamps() -> dict[str, tuple[int, int]]:
    """(mtime, size) of every imported module's file: the code this daemon runs."""
    names = [getattr(module, "__file__", None) for module in list(sys.modules.values())]
    stamps = {name: _stamp(name) for name in names if isinstance(name, str)}
    return {name: stamp for name, stamp in stamps.items() if stamp is not None}


def changed_module(stamps: dict[str, tuple[int, int]]) -> str | None:
    """The first module file that changed (or went) since `stamps` were taken, or None."""
    return next((name for name, stamp in stamps.items() if _stamp(name) != stamp), None)


class _Daemon:
    def __init__(self, root: Path, listener: socket.socket, lock: Any, idle: float,
                 stamps: dict[str, tuple[int, int]]) -> None:
        import time

        self.root = root
        self.listener = listener
        self.lock = lock
        self.idle = idle
        self.stamps = stamps
        self.inode = file_identity(socket_path(root))
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
            if file_identity(socket_path(self.root)) != self.inode:
                return "its socket was removed"
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                stop = self._answer(conn)
            if stop:
                return stop

    def _answer(self, conn: socket.socket) -> str | None:
        if peer_uid(conn) != os.getuid():
            return None
        conn.settimeout(2.0)  # a client sends at once: a silent one must not stall the rest
        fds: list[int] = []
        try:
            data, fds, _flags, _address = socket.recv_fds(conn, MESSAGE_MAX, 3)
            request = json.loads(data)
            kind = request.get("kind")
            if kind == "status":
                send(conn, self._status())
            elif kind == "stop":
                send(conn, {"stopped": os.getpid()})
                return "asked to stop"
            elif kind == "build" and len(fds) == 3:
                # Its own code first: an upgrade changes both, and must stop this daemon.
                changed = changed_module(self.stamps)
                if changed:
                    send(conn, {"stale": f"{changed} changed since it started"})
                    return f"{changed} changed"
                if request.get("identity") != identity():
                    send(conn, {"other": "it runs another newsgen installation or Python"})
                else:
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
                "identity": identity(),
                "up": round(time.time() - self.started), "builds": self.builds,
                "idle_limit": self.idle, "idle": round(time.monotonic() - self.last_active)}

    def _fork_build(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        import time

        ready = (self.root, self.live.current()) if self.live is not None else None
        # Signals are held across the fork: landing in the child before it is on its own, one
        # would unwind the daemon's code there (and unlink the daemon's socket).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            pid = os.fork()
            if pid == 0:
                try:  # the child lets go of what only the daemon holds: its socket, its lock
                    # (else a new daemon could not start while this build runs), its watches
                    _caller_signals(request.get("ignored", []))
                    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                    self.listener.close()
                    self.lock.close()
                    if self.live is not None:
                        self.live.close()
                    _run_build(conn, request, fds, ready)
                finally:
                    os._exit(1)  # _run_build exits itself; this is for anything before it
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        self.children.add(pid)
        self.builds += 1
        self.last_active = time.monotonic()

    def _reap(self) -> None:
        for pid in list(self.children):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.children.discard(pid)


_HELD = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _caller_signals(ignored: list[int]) -> None:
    """The signal dispositions of a local build: Python's Ctrl-C, the default for the others,
    and ignored whatever the caller ignores (`nohup`, a background job)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    for signum in ignored:
        if signum in _HELD:
            signal.signal(signum, signal.SIG_IGN)


def _run_build(conn: socket.socket, request: dict[str, Any], fds: list[int],
               ready: tuple[Path, SourceScan] | None) -> None:
    """The forked child: become the caller's `newsgen build` and report its exit code."""
    code = 1
    conn.setblocking(True)  # no timeout (the daemon's): the hang-up check peeks without waiting
    try:
        _stop_when_the_caller_goes(conn)
        send(conn, {"pid": os.getpid()})
    except (OSError, KeyboardInterrupt):
        os._exit(1)  # the caller has gone already
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        import time

        time.tzset()
        _reopen_streams(request.get("encoding", {}))
        from .cli import finish, main

        code = finish(main(list(request["argv"]), scan_ahead=True, ready=ready))
    except SystemExit as leaving:
        code = leaving.code if isinstance(leaving.code, int) else int(leaving.code is not None)
    except KeyboardInterrupt:  # before the command's own handling began
        from .cli import interrupted

        code = interrupted()
    except BaseException:  # reported on the caller's stderr, then exit 1
        import traceback

        traceback.print_exc()
    finally:
        try:
            send(conn, {"exit": code})
        finally:
            os._exit(code)


def _stop_when_the_caller_goes(conn: socket.socket) -> None:
    """If the `newsgen build` that asked for this build ends (killed), stop as on Ctrl-C, as
    a local build would have died with it. The kernel signals the hang-up (SIGIO)."""
    import fcntl

    def hung_up(_signum: object = None, _frame: object = None) -> None:
        try:
            data = conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return  # a spurious wake-up: the caller is still there
        except OSError:
            data = b""
        if not data:
            raise KeyboardInterrupt

    signal.signal(signal.SIGIO, hung_up)
    fcntl.fcntl(conn.fileno(), fcntl.F_SETOWN, os.getpid())
    flags = fcntl.fcntl(conn.fileno(), fcntl.F_GETFL)
    fcntl.fcntl(conn.fileno(), fcntl.F_SETFL, flags | os.O_ASYNC)
    hung_up()  # SIGIO reports only what happens from now on: a caller gone already is not


def _reopen_streams(encodings: dict[str, list[str]]) -> None:
    """sys.stdout and sys.stderr on the caller's descriptors, encoded and buffered as its own."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        encoding, errors = encodings.get(name, ("utf-8", "backslashreplace"))
        line_buffered = name == "stderr" or os.isatty(fd)
        stream = open(fd, "w", encoding=encoding, errors=errors,  # noqa: SIM115
                      buffering=1 if line_buffered else -1, closefd=False)
        setattr(sys, name, stream)
