"""A source scan kept current by inotify, for the build daemon: no `stat` of every file per build.

A build starts with a scan of every source (scan.py): 10,000 `stat` calls, about 60 ms at
10,000 articles, most of a one-article rebuild in the daemon. `LiveScan` scans once, watches
every scanned folder with Linux's inotify, and on each `current()` re-reads only the paths the
kernel reported since. The kernel queues an event inside the write (or rename, or touch) that
caused it, so an edit saved before `newsgen build` started is always in the queue when the
daemon drains it: the result equals a fresh scan taken at the start of the drain.

Where inotify cannot see everything, `current()` falls back to a full scan: on queue overflow,
when a watched folder itself is moved or deleted, when a watch cannot be added (the per-user
limit), when content/, layouts/ or seeds/ itself is made, removed, replaced or reached
through a retargeted link, and when a folder's permissions change; and files reached through a
symlink are read again on every call (their targets are not watched).
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat as stat_module
import struct
import time
from pathlib import Path

from .scan import (
    WATCHED,
    SourceScan,
    Stats,
    file_identity,
    input_stats,
    listing_digest,
    scan_folder,
    scan_now,
)

_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_IGNORED = 0x400, 0x800, 0x4000, 0x8000
_IN_ONLYDIR, _IN_ISDIR = 0x1000000, 0x40000000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
         | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows
_NONBLOCK_CLOEXEC = os.O_NONBLOCK | os.O_CLOEXEC
# What changes a folder's entries (a touch or chmod of the folder changes none).
_ENTRY_CHANGES = _IN_CREATE | _IN_DELETE | _IN_MOVED_FROM | _IN_MOVED_TO


class _Rescan(Exception):
    """inotify cannot vouch for the kept scan: take a full one."""


class LiveScan:
    """The sources' scan for `root`, kept current between builds; Linux only (`start`)."""

    def __init__(self, root: Path, libc: ctypes.CDLL) -> None:
        self.root = root
        self._libc = libc
        self._fd = -1
        self._folders: dict[int, str] = {}  # watch -> folder relative to the root ("" = root)
        self._stats: Stats = {}
        self._symlinks: set[str] = set()
        self._tops: list[tuple[int, int]] = []
        self._digest: str | None = None
        self.full_scans = 0

    @classmethod
    def start(cls, root: Path) -> LiveScan | None:
        """A live scan of `root`, or None where inotify is not available."""
        try:  # the C library is already loaded in this process (as publish._exchange finds it)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.inotify_init1, libc.inotify_add_watch  # noqa: B018 - both must exist
        except (OSError, AttributeError, TypeError):
            return None
        live = cls(root, libc)
        try:
            live._reset()
        except OSError:
            live.close()
            return None
        return live

    def current(self) -> SourceScan:
        """The scan as a fresh `scan_now` would give it now."""
        scanned_ns = time.time_ns()  # before the drain, as scan_now takes it before its stats
        if self._fd >= 0:
            try:
                if self._top_folders() != self._tops:
                    raise _Rescan  # a link on the way to one was retargeted: no event says so
                self._drain()
                for path in list(self._symlinks):  # their targets are not watched: re-read
                    self._restat(path)
            except (_Rescan, OSError):
                try:
                    self._reset()
                except OSError:  # e.g. out of inotify watches: scan afresh every time
                    self.close()
            if self._fd >= 0:
                return scanned_ns, dict(self._stats), self._listing_digest()
        return scan_now(self.root)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _top_folders(self) -> list[tuple[int, int]]:
        """Which folders content/, layouts/ and seeds/ are, through any symlinks."""
        return [file_identity(self.root / name) for name in WATCHED]

    def _listing_digest(self) -> str:
        if self._digest is None:
            self._digest = listing_digest(self._stats)
        return self._digest

    def _reset(self) -> None:
        """Watch every folder, then scan: whatever changes after a watch is added is seen."""
        self.close()
        self.full_scans += 1
        self._folders.clear()
        self._fd = self._libc.inotify_init1(_NONBLOCK_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._symlinks = set()
        self._tops = self._top_folders()
        self._watch("")
        for name in WATCHED:
            self._watch_tree(name)
        if os.path.islink(self.root / "site.toml"):
            self._symlinks.add("site.toml")
        self._stats = input_stats(self.root)
        self._digest = None

    def _watch(self, folder: str) -> bool:
        path = os.fsencode(self.root / folder if folder else self.root)
        wd = self._libc.inotify_add_watch(self._fd, path, _MASK)
        if wd < 0:
            code = ctypes.get_errno()
            if code in (errno.ENOENT, errno.ENOTDIR):
                return False  # not (or no longer) a folder: nothing to watch
            raise OSError(code, f"cannot watch {folder or '.'}: {os.strerror(code)}")
        self._folders[wd] = folder
        return True

    def _watch_tree(self, folder: str) -> None:
        """Watch `folder` and the folders below it, as scan.scan_folder walks them, and note
        the symlinks in them (dangling ones too: a target may appear later)."""
        if not self._watch(folder):
            return
        folders = []
        try:
            with os.scandir(self.root / folder) as listing:
                for entry in listing:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_symlink():
                        self._symlinks.add(f"{folder}/{entry.name}")
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(entry.name)
        except OSError:
            return
        for name in folders:
            self._watch_tree(f"{folder}/{name}")

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = os.fsdecode(data[offset:offset + length].rstrip(b"\0"))
                offset += length
                self._event(wd, mask, name)

    def _event(self, wd: int, mask: int, name: str) -> None:
        if mask & (_IN_Q_OVERFLOW | _IN_DELETE_SELF | _IN_MOVE_SELF):
            raise _Rescan  # events were lost, or a watched folder left its place
        if mask & _IN_IGNORED:
            self._folders.pop(wd, None)  # its folder was deleted (seen through the parent)
            return
        folder = self._folders.get(wd)
        if folder is None or not name or name.startswith("."):
            return
        path = f"{folder}/{name}" if folder else name
        if not folder and name != "site.toml":
            if name in WATCHED and mask & (_ENTRY_CHANGES | _IN_ATTRIB):
                # content/, layouts/ or seeds/ itself made, removed, replaced (a symlink
                # retargeted, which scan_folder follows at this level) or its permissions
                # changed: rare, so scan anew.
                raise _Rescan
            return  # the project folder: only site.toml and the watched folders count
        if not mask & _IN_ISDIR:
            self._restat(path)
        elif mask & _ENTRY_CHANGES:
            self._folder_changed(path, mask)
        elif mask & _IN_ATTRIB:
            # A touch changes none of its files, but a chmod can hide them all from a scan
            # (or show them again): which one it was, a full scan settles.
            raise _Rescan

    def _folder_changed(self, path: str, mask: int) -> None:
        prefix = path + "/"
        for key in [key for key in self._stats if key.startswith(prefix)]:
            del self._stats[key]
        self._symlinks = {link for link in self._symlinks if not link.startswith(prefix)}
        self._digest = None
        if mask & (_IN_CREATE | _IN_MOVED_TO) and os.path.isdir(self.root / path):
            self._watch_tree(path)  # first, so that a file added meanwhile is not missed
            found: Stats = {}
            scan_folder(self.root / path, path, found)
            self._stats.update(found)
        elif mask & _IN_MOVED_FROM:
            # A moved folder keeps its watches, which would report under the old name.
            for wd, folder in list(self._folders.items()):
                if folder == path or folder.startswith(prefix):
                    self._libc.inotify_rm_watch(self._fd, wd)
                    del self._folders[wd]

    def _restat(self, path: str) -> None:
        self._digest = None
        full = self.root / path
        if os.path.islink(full):
            self._symlinks.add(path)  # kept while the link exists, even with no target
        else:
            self._symlinks.discard(path)
        try:
            st = os.stat(full)
        except OSError:
            self._stats.pop(path, None)
            return
        if stat_module.S_ISREG(st.st_mode):
            self._stats[path] = (st.st_size, st.st_mtime_ns)
        else:
            self._stats.pop(path, None)
