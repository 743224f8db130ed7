"""The input scan: (size, mtime) of every source file, and a digest of that listing.

Every build starts here: it is how a build knows what changed. At 10,000 articles the scan is
10,000 `stat` calls, 55 ms, which the CLI need not wait for: `ScanAhead` runs it in a forked
child while the parent imports Jinja, Markdown and YAML (110 ms), so this module imports
nothing from the package and only the standard library's basics.
"""

from __future__ import annotations

import hashlib
import importlib
import marshal
import os
import select
import signal
import stat as stat_module
import time
from array import array
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

WATCHED = ("content", "layouts", "seeds")

# File systems stamp mtimes with a coarse clock (ext4: one kernel tick), so a second save in the
# same tick with the same size looks unchanged. As in git's "racily clean" rule, a file whose
# mtime is this close to the previous scan is re-read rather than trusted.
RACY_NS = 1_000_000_000

Stats = dict[str, tuple[int, int]]  # path relative to the project -> (size, mtime_ns)
# When the scan started (later mtimes are racy), the stats, and their listing_digest.
SourceScan = tuple[int, Stats, str]


def trusted(stat: tuple[int, int] | None, scanned_ns: int) -> bool:
    return stat is not None and stat[1] < scanned_ns - RACY_NS


def input_stats(root: Path) -> Stats:
    """(size, mtime_ns) of every source file: site.toml, content/, layouts/, seeds/."""
    stats: Stats = {}
    for name in WATCHED:
        scan_folder(root / name, name, stats)
    try:
        st = os.stat(root / "site.toml")
        stats["site.toml"] = (st.st_size, st.st_mtime_ns)
    except OSError:
        pass
    return stats


def scan_folder(folder: Path | str, prefix: str, stats: Stats) -> None:
    """Add the regular files under `folder` (as `prefix/...`) to `stats`; dot-names skipped."""
    # The hot loop of every build (a stat per source file: 10,000 at 10,000 articles), so it
    # is kept lean: no Path objects, one stat per entry (DirEntry caches it).
    try:
        listing = os.scandir(folder)
    except OSError:
        return
    with listing:
        for entry in listing:
            name = entry.name
            if name.startswith("."):
                continue  # editor swap files and our own temporary files
            try:
                if entry.is_dir(follow_symlinks=False):
                    scan_folder(entry.path, f"{prefix}/{name}", stats)
                    continue
                st = entry.stat()
            except OSError:
                continue
            if stat_module.S_ISREG(st.st_mode):
                stats[f"{prefix}/{name}"] = (st.st_size, st.st_mtime_ns)


def file_identity(path: Path) -> tuple[int, int]:
    """Which file `path` names now, through symlinks: (device, inode), or (-1, -1) if none."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_dev, st.st_ino)


def listing_digest(stats: Stats) -> str:
    """A hash of every (path, size, mtime): equal digests, same listing.

    The sorted paths (NUL never occurs in one), then every size and mtime as 64-bit integers:
    5 ms at 10,000 files, where formatting a line per file took 9.
    """
    paths = sorted(stats)
    digest = hashlib.sha256("\0".join(paths).encode("utf-8", "surrogateescape"))
    digest.update(array("q", chain.from_iterable(map(stats.__getitem__, paths))).tobytes())
    return digest.hexdigest()


def scan_now(root: Path) -> SourceScan:
    scanned_ns = time.time_ns()  # before the first stat: a file saved during the scan is racy
    stats = input_stats(root)
    return scanned_ns, stats, listing_digest(stats)


class ScanAhead:
    """`scan_now(root)` running in a forked child, for a build to take up later (`result`).

    Only the CLI starts one, before its heavy imports; a build whose own steps may have changed
    the sources since (ingest writing articles, or another build it waited for) scans again
    instead. The child uses nothing of the parent's but the pipe, and never runs the parent's
    code after the fork: it scans, writes the marshalled scan and leaves with `os._exit`.
    """

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid, self._pipe = pid, pipe

    @classmethod
    def start(cls, root: Path) -> ScanAhead | None:
        """The scan started in a child, or None where processes cannot fork."""
        if not hasattr(os, "fork") or signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN:
            # With SIGCHLD ignored the child would be reaped on exit and its pid could be
            # reused before `discard` kills it.
            return None
        # Ctrl-C is held back across the fork: landing in the child before its `try`, it
        # would unwind the parent's code there.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            read_end, write_end = os.pipe()
            try:
                pid = os.fork()
            except OSError:
                os.close(read_end)
                os.close(write_end)
                raise
        except OSError:  # out of processes or descriptors: the build scans for itself
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            return None
        if pid == 0:  # the child
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it, silently
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                os.close(read_end)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(marshal.dumps(scan_now(root)))
                code = 0
            finally:
                os._exit(code)  # silently, whatever happened: the parent then scans itself
        os.close(write_end)
        ahead = cls(pid, read_end)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return ahead

    def result(self, meanwhile: Iterable[str] = ()) -> SourceScan | None:
        """The child's scan (waiting for it), or None when it failed. Once only.

        Until the child is done, the modules named in `meanwhile` are imported one by one:
        time the parent would otherwise spend waiting.
        """
        if self._pipe < 0:
            return None
        chunks = []
        try:
            for module in meanwhile:
                if select.select([self._pipe], [], [], 0)[0]:
                    break  # the child is writing: it has finished
                importlib.import_module(module)
            while chunk := os.read(self._pipe, 1 << 20):
                chunks.append(chunk)
        finally:
            self.discard()
        try:  # a child that failed wrote nothing, or was cut short: marshal refuses either
            scanned_ns, stats, digest = marshal.loads(b"".join(chunks))
        except (EOFError, ValueError, TypeError):
            return None
        return int(scanned_ns), stats, str(digest)

    def discard(self) -> None:
        """Close the pipe and reap the child, stopping it first if it is still scanning."""
        if self._pipe < 0:
            return
        os.close(self._pipe)
        self._pipe = -1
        # Not reaped yet, so the pid is still this child's (a zombie at worst): safe to kill.
        os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)


class ReadyScan(ScanAhead):
    """A scan taken before the build began (the build daemon's, livescan.py), offered to the
    build the way a ScanAhead child's is, and judged by the same rules."""

    def __init__(self, scan: SourceScan) -> None:
        super().__init__(-1, -1)
        self._scan: SourceScan | None = scan

    def result(self, meanwhile: Iterable[str] = ()) -> SourceScan | None:
        scan, self._scan = self._scan, None
        return scan

    def discard(self) -> None:
        self._scan = None
