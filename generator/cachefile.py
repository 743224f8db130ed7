"""Which SQLite file the build cache is, and how a cache built from nothing replaces it.

A build that finds no usable cache writes a new file beside it (`begin_fresh`) and renames it
over the cache once saved (`put_in_place`). Every row is new, so SQLite's journal would only
write each page twice (the write-ahead log, then the file) and sync the disk at every
checkpoint: 1 GB and hundreds of syncs at 100,000 articles. Without a journal the new file may
be left damaged by a killed build, but nothing opens it before the rename, and the next save
deletes it. Not synced either: the cache is only ever a shortcut (deleting it is always safe).

A long-lived builder (the dev server) notices when another process's build has replaced the
file it opened (`replaced`): writes through its old connection would go to a deleted file.
"""

from __future__ import annotations

import os
from pathlib import Path


class CacheFile:
    """The cache's path, the fresh file being written instead (if any), and the identity of
    the file last opened or put in place. The caller (cache.CacheStore) owns the connection and
    closes it before any of these files is deleted or renamed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Written instead of `path` until put_in_place (None: the build updates `path` itself).
        self.fresh: Path | None = None
        self._owner = 0  # the process that may delete the fresh file (not a worker it forked)
        self._identity: tuple[int, int] | None = None  # (device, inode)

    @property
    def target(self) -> Path:
        """The file to connect to."""
        return self.fresh or self.path

    def opened(self) -> None:
        """Called once connected to the target: remember which file `path` is."""
        if self.fresh is None:
            self._identity = _identity(self.path)

    @property
    def _fresh_path(self) -> Path:
        return self.path.with_name(self.path.name + ".new")

    def begin_fresh(self) -> None:
        remove_database(self._fresh_path)  # a killed build's
        self.fresh, self._owner = self._fresh_path, os.getpid()

    def drop_fresh(self) -> None:
        """Delete a fresh file that was never put in place (only the process writing it)."""
        if self.fresh is not None and self._owner == os.getpid():
            remove_database(self.fresh)
            self.fresh = None

    def remove_old(self) -> None:
        """Delete the cache the fresh file will replace: it describes output being replaced."""
        remove_database(self.path)

    def remove_abandoned(self) -> None:
        """Delete a fresh file a killed build left. Only while saving: builds hold the build
        lock, so no other build is writing one."""
        remove_database(self._fresh_path)

    def put_in_place(self) -> None:
        """Rename the completed fresh file over the cache."""
        fresh, self.fresh = self.fresh, None
        assert fresh is not None
        # The old file's log must go first: beside the new file it would be replayed into it.
        remove_database(self.path)
        remove_database(fresh, keep_main=True)
        os.replace(fresh, self.path)
        self._identity = _identity(self.path)

    def replaced(self) -> bool:
        """True (once) when `path` is no longer the file last opened or put in place."""
        if self._identity is None or self._identity == _identity(self.path):
            return False
        self._identity = None
        return True


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def remove_database(path: Path, keep_main: bool = False) -> None:
    """Delete an SQLite file with its log and shared-memory index (absent ones are fine)."""
    for suffix in ("-wal", "-shm", "-journal") if keep_main else ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
