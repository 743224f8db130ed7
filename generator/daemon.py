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
disk (an upgrade, a `git pull`): that build then runs locally. As Gradle's client does, a
`newsgen build` that ran locally and succeeded starts one for the builds after it, unless
NEWSGEN_DAEMON says otherwise (`daemon_mode`): on CI, where every build is the first in a fresh
machine, none is started.

This module is the client side and the protocol, which the `newsgen` command imports on every
build to look for a daemon, so it imports little; the daemon itself is daemonserver.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SOCKET_NAME = "daemon.sock"
LOCK_NAME = "daemon.lock"
LOG_NAME = "daemon.log"
FAILED_NAME = "daemon.failed"  # why the last daemon could not start (daemonserver.run_daemon)
# The pid of a daemon spawned but not listening yet: `daemon stop` right after the build that
# started one must wait for it and stop it, not report that none runs and leave it running.
STARTING_NAME = "daemon.starting"
START_SECONDS = 60  # how long a starting daemon may take to listen before it is given up on
IDLE_SECONDS = 1800  # how long a daemon waits for a build before it stops
# NEWSGEN_DAEMON: "auto" uses a running daemon and starts one after a local build, "manual" only
# uses one that `newsgen daemon start` started, "off" never uses one (as --no-daemon).
MODE_VARIABLE = "NEWSGEN_DAEMON"
MODES = ("auto", "manual", "off")
MESSAGE_MAX = 1 << 20
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


# Set by CI services that do not set CI (Jenkins, Azure Pipelines, TeamCity, AWS CodeBuild,
# Bamboo); any non-empty value counts.
CI_VARIABLES = ("JENKINS_URL", "BUILD_ID", "TF_BUILD", "TEAMCITY_VERSION", "CODEBUILD_BUILD_ID",
                "bamboo_buildKey")
# File systems whose changes inotify may not see (edited from another machine or the host):
# a daemon there would trust a stale scan. Builds start none on them.
REMOTE_FILE_SYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "vboxsf",
                       "drvfs", "afs", "ceph", "glusterfs", "lustre", "gpfs")


def daemon_mode(environ: Mapping[str, str]) -> str:
    """"auto", "manual" or "off", from NEWSGEN_DAEMON; unset, "auto" except on CI (a `CI`
    variable set to anything but "", "false" or "0", as GitHub Actions, GitLab and most others
    set it, or one of CI_VARIABLES), where "manual". Raises ValueError naming the variable for
    any other value."""
    value = environ.get(MODE_VARIABLE, "").strip().lower()
    if value in MODES:
        return value
    if value:
        raise ValueError(f"{MODE_VARIABLE}={environ[MODE_VARIABLE]!r} is not one of "
                         f"{', '.join(MODES)}")
    on_ci = (environ.get("CI", "").strip().lower() not in ("", "false", "0")
             or any(environ.get(name) for name in CI_VARIABLES))
    return "manual" if on_ci else "auto"


def running(root: Path) -> bool | None:
    """Whether a daemon holds this project's lock (serving, starting or just stopping); None
    when the lock cannot be tried (no .cache/, or no file locks on this file system)."""
    import fcntl

    try:
        with open(root / ".cache" / LOCK_NAME, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    return False


def why_not_start(root: Path) -> str:
    """Why a build should not start a daemon for `root` now, or "" if it may (auto mode)."""
    if not sys.platform.startswith("linux"):
        return "the build daemon needs Linux (inotify, SO_PEERCRED)"
    if os.getpriority(os.PRIO_PROCESS, 0) > 0:
        # It would keep this command's priority, CPU affinity and limits for every later build.
        return "this build runs at a lowered priority (nice)"
    if len(os.sched_getaffinity(0)) < (os.cpu_count() or 1):
        return "this build is pinned to some of the CPUs"
    fs_type = file_system_type(root)
    if fs_type in REMOTE_FILE_SYSTEMS or fs_type.startswith("fuse"):
        return f"the project is on a {fs_type} file system, where inotify may miss edits"
    failed = root / ".cache" / FAILED_NAME
    with contextlib.suppress(OSError):
        if time.time() - failed.stat().st_mtime < IDLE_SECONDS:
            return f"the last one could not start ({failed})"
    state = running(root)
    if state is None:
        return "its lock file cannot be locked"
    return "one is running" if state else ""


def file_system_type(path: Path) -> str:
    """The type of the file system `path` is on (Linux /proc/self/mountinfo), or ""."""
    try:
        lines = Path("/proc/self/mountinfo").read_text("utf-8", "replace").splitlines()
    except OSError:
        return ""
    target, best, found = os.path.realpath(path), -1, ""
    for line in lines:
        fields = line.split(" ")
        if " - " not in line or len(fields) < 5:
            continue
        mount = fields[4].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > best:
            best, found = len(mount), line.split(" - ", 1)[1].split(" ", 1)[0]
    return found


def spawn(root: Path, idle: int) -> int:
    """Start `newsgen daemon run` for `root` in the background, in a session of its own, and
    return its pid without waiting: it logs to .cache/daemon.log and exits at once if another
    daemon holds the lock."""
    cache = root / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    log = cache / LOG_NAME
    # -P: the package as installed, never a `generator/` folder where the caller stands.
    command = [sys.executable, "-P", "-m", "generator", "--root", str(root), "daemon", "run",
               "--idle", str(idle), "--fresh-log"]
    _close_on_exec_all()  # a pipe of ours left open in the daemon would never see its EOF
    # Appended, not truncated: a second start racing this one must not cut the first's log
    # (the daemon empties it once it holds the lock).
    pid = os.posix_spawn(sys.executable, command, dict(os.environ), setsid=True, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2)])
    marker = cache / f".{STARTING_NAME}.{pid}"
    marker.write_text(str(pid), "ascii")
    marker.replace(cache / STARTING_NAME)  # whole or absent for a reader
    return pid


def starting(root: Path) -> int:
    """The pid of a daemon spawned for `root` that is alive and may not listen yet, or 0.

    Checked against the process's command line, so a marker left by a killed daemon, whose
    pid a new process has since taken, names no daemon."""
    try:
        pid = int((root / ".cache" / STARTING_NAME).read_text("ascii"))
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return 0
    ours = [b"generator", b"--root", os.fsencode(root), b"daemon", b"run"]
    return pid if arguments[3:8] == ours else 0


def clear_starting(root: Path, pid: int) -> None:
    """Remove the starting marker if it names `pid` (the daemon listens, or has given up)."""
    if starting(root) in (pid, 0):
        with contextlib.suppress(OSError):
            (root / ".cache" / STARTING_NAME).unlink()


def _close_on_exec_all() -> None:
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        descriptors = list(range(3, 256))
    for fd in descriptors:
        if fd > 2:
            with contextlib.suppress(OSError):
                os.set_inheritable(fd, False)


class ShortAddress:
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


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def receive(sock: socket.socket) -> dict[str, Any] | None:
    data = sock.recv(MESSAGE_MAX)
    return json.loads(data) if data else None  # b"": the other end has gone


def _connect(root: Path, timeout: float | None = 5.0) -> socket.socket | None:
    """A connection to this project's daemon, if one of this user's own answers."""
    path = socket_path(root)
    try:
        if os.stat(path).st_uid != os.getuid():
            return None  # planted by someone else: never hand them our terminal and environment
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(timeout)
    try:
        ShortAddress(path)(sock.connect)
        if peer_uid(sock) == os.getuid():
            return sock
    except OSError:  # left behind by a daemon that was killed, or not a socket at all
        pass
    sock.close()
    return None


def peer_uid(sock: socket.socket) -> int:
    credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", credentials)[1])


def identity() -> list[str]:
    """What a client and the daemon must share: the same package, version and Python."""
    from . import __version__

    return [__version__, os.path.realpath(os.path.dirname(__file__)), sys.version, sys.prefix]


# --- the client: `newsgen build` -------------------------------------------------------------

_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Abandoned(Exception):
    """A signal came before the daemon's worker was known: give up the request."""


def forward_build(root: Path, argv: list[str], verbosity: int,
                  restarts: bool = False) -> int | None:
    """Run `newsgen <argv>` in this project's daemon; its exit code, or None when no daemon
    took it (none running, out of date, another installation's): the caller builds here.
    `restarts`: the caller starts a new daemon after its build (NEWSGEN_DAEMON=auto)."""
    if not all(_is_open(fd) for fd in (0, 1, 2)):
        return None  # e.g. `newsgen build >&-`: nothing to hand over
    try:
        cwd = os.getcwd()
    except OSError:  # run from a deleted folder
        return None
    # Signals this process ignores (`nohup`, a background job) the worker ignores too, as a
    # local build would; the others reach this process (the terminal's foreground one) and are
    # passed on to the worker once it is known. One that comes before gives up the request:
    # a worker already started sees the connection close and stops (daemonserver.py).
    ignored = [signum for signum in _FORWARDED if signal.getsignal(signum) == signal.SIG_IGN]
    request = {"kind": "build", "argv": argv, "cwd": cwd, "env": dict(os.environ),
               "umask": _umask(), "encoding": _encodings(), "identity": identity(),
               "ignored": [int(signum) for signum in ignored]}
    worker = {"pid": 0}
    caught: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        caught.append(signum)
        if not worker["pid"]:
            raise _Abandoned
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker["pid"], signum)

    previous = {signum: signal.signal(signum, forward)
                for signum in _FORWARDED if signum not in ignored}
    code: int | None = None
    try:
        sock = _connect(root)
        if sock is None:
            return None
        with sock:
            first = _first_reply(sock, request, verbosity, restarts)
            if first is not None and "pid" in first:
                worker["pid"] = int(first["pid"])
                code = _wait_for_exit(sock)
                if code is not None and verbosity > 0:
                    print(f"(built by the build daemon: worker pid {first['pid']})",
                          file=sys.stderr)
            elif first is not None and "exit" in first:  # it failed before it began
                code = int(first["exit"])
    except _Abandoned:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if code is None and caught:
        return _end_as_signalled(caught[-1])
    if code is None and worker["pid"]:
        print("newsgen: the build daemon's worker ended without a result (killed?)",
              file=sys.stderr)
        return 1
    return code


def _first_reply(sock: socket.socket, request: dict[str, Any], verbosity: int,
                 restarts: bool) -> dict[str, Any] | None:
    try:
        send(sock, request, [0, 1, 2])
        sock.settimeout(None)  # a cold build takes minutes
        first = receive(sock)
    except OSError:
        return None
    if first is not None and verbosity >= 0 and "stale" in first:
        again = ("a new one starts after this build or the next" if restarts
                 else "`newsgen daemon start` starts a new one")
        print(f"newsgen: the build daemon stopped ({first['stale']}); building without it "
              f"({again})", file=sys.stderr)
    elif first is not None and verbosity > 0 and "other" in first:
        print(f"newsgen: not using the build daemon ({first['other']})", file=sys.stderr)
    return first


def _wait_for_exit(sock: socket.socket) -> int | None:
    """The worker's exit code, or None if it ended without one (killed by a signal)."""
    while True:
        try:
            reply = receive(sock)
        except InterruptedError:
            continue
        except OSError:
            return None
        if reply is None:
            return None
        if "exit" in reply:
            return int(reply["exit"])


def _end_as_signalled(signum: int) -> int:
    """End as a local build would have on this signal: Ctrl-C is exit 130, others kill."""
    if signum == signal.SIGINT:
        from .cli import interrupted  # imported already: the command is what called us

        return interrupted()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    return 128 + signum


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
    """Send `status` or `stop` to this project's daemon; its reply, or None if none runs.

    A daemon that is starting (spawned, or holding the lock but not listening yet) is waited
    for, up to START_SECONDS; one that is stopping, until it has gone."""
    sock = _connect(root)
    deadline = time.monotonic() + START_SECONDS
    while sock is None and (starting(root) or running(root)) and time.monotonic() < deadline:
        time.sleep(0.02)
        sock = _connect(root)
    if sock is None:
        return None
    with sock:
        try:
            send(sock, {"kind": kind})
            return receive(sock)
        except OSError:
            return None
