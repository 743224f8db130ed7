"""Publish stage: write rendered `Output`s into the output folder.

Builds the whole site in a sibling temporary folder and swaps it in with renames, so a failed or
killed build leaves the previous site intact. Files whose bytes did not change are hard-linked from
the previous site, keeping their mtimes (small deploy diffs). Never writes outside the folder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import PublishError, SourceLocation
from .model import Output


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Serialise builds of one project: a second build waits for the first (no mixed public/)."""
    lock_path = root / ".newsgen.lock"
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Writer:
    """Shared by both publishing modes: the path check and the "unchanged bytes" bookkeeping."""

    base: Path

    def __init__(self) -> None:
        self.written = 0
        self.unchanged = 0
        self.changed: list[str] = []  # outputs whose bytes differ from the previous site

    def target(self, relative: str) -> Path:
        # Checked lexically (no resolve(): it costs a syscall per path component, per file).
        parts = relative.split("/")
        if ("\x00" in relative or "\\" in relative or relative.startswith("/")
                or any(part in ("", ".", "..") for part in parts)):
            raise PublishError(f"refusing to write {relative!r} outside the output folder")
        return self.base / relative

    def counts(self) -> tuple[int, int, list[str]]:
        return self.written, self.unchanged, self.changed

    def add_counts(self, counts: tuple[int, int, list[str]]) -> None:
        """Merge what a worker process wrote through its copy of this writer."""
        self.written += counts[0]
        self.unchanged += counts[1]
        self.changed += counts[2]


class Publisher(_Writer):
    """Full build: write everything into a staging folder, then swap it in."""

    def __init__(self, output_dir: Path) -> None:
        super().__init__()
        self.output_dir = output_dir
        self.base = self.staging = output_dir.with_name(f".{output_dir.name}.staging")
        self.retired = output_dir.with_name(f".{output_dir.name}.previous")
        recover(output_dir)
        shutil.rmtree(self.staging, ignore_errors=True)
        try:
            self.staging.mkdir(parents=True)
        except OSError as err:
            raise _os_error(err, self.staging) from None

    def write(self, output: Output) -> None:
        path = self.target(output.path)
        previous = self.output_dir / output.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if _same_bytes(previous, output.data):
                os.link(previous, path)  # keeps the old mtime: deploys see no change
                self.unchanged += 1
                return
            path.write_bytes(output.data)
        except OSError as err:
            raise _os_error(err, path) from None
        self.written += 1
        self.changed.append(output.path)

    def removed_count(self) -> int:
        """Files of the previous site that this build does not produce."""
        if not self.output_dir.is_dir():
            return 0
        old = {p.relative_to(self.output_dir) for p in self.output_dir.rglob("*") if p.is_file()}
        new = {p.relative_to(self.staging) for p in self.staging.rglob("*") if p.is_file()}
        return len(old - new)

    def commit(self) -> None:
        try:
            if self.output_dir.exists():
                os.rename(self.output_dir, self.retired)
            os.rename(self.staging, self.output_dir)
        except OSError as err:
            raise _os_error(err, self.output_dir) from None
        shutil.rmtree(self.retired, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


class InPlaceWriter(_Writer):
    """Incremental build: only changed files are replaced, and only once everything rendered.

    Changed pages are staged in a sibling folder; `commit` moves each into place with a rename
    (each file is replaced atomically), so a template error half-way leaves public/ untouched.
    A build killed during `commit` leaves every file complete (old or new); the cache marks its
    fingerprints untrusted first, so the next build redoes whatever this one did not finish.
    """

    def __init__(self, output_dir: Path) -> None:
        super().__init__()
        self.output_dir = output_dir
        self.base = self.incoming = output_dir.with_name(f".{output_dir.name}.incoming")
        shutil.rmtree(self.incoming, ignore_errors=True)
        self._stale: list[str] = []

    def write(self, output: Output) -> None:
        path = self.target(output.path)
        if _same_bytes(self.output_dir / output.path, output.data):
            self.unchanged += 1
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(output.data)
        except OSError as err:
            raise _os_error(err, path) from None
        self.written += 1
        self.changed.append(output.path)

    def remove_later(self, relatives: list[str]) -> None:
        """Files to delete from the live folder at `commit` (outputs no longer produced)."""
        self._stale = sorted(relatives)

    def commit(self) -> int:
        """Move staged files into place and delete stale ones; returns how many were removed."""
        try:
            for relative in self.changed:
                if (self.incoming / relative).is_file():
                    live = self.output_dir / relative
                    live.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(self.incoming / relative, live)
            removed = sum(self._remove(relative) for relative in self._stale)
        except OSError as err:
            raise _os_error(err, self.output_dir) from None
        finally:
            shutil.rmtree(self.incoming, ignore_errors=True)
        return removed

    def _remove(self, relative: str) -> int:
        path = self.output_dir / relative
        try:
            path.unlink()
        except FileNotFoundError:
            return 0
        self.changed.append(relative)
        parent = path.parent
        while parent != self.output_dir and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
        return 1

    def abort(self) -> None:
        shutil.rmtree(self.incoming, ignore_errors=True)


def recover(output_dir: Path) -> None:
    """Undo what a build killed between the two renames of `Publisher.commit` left behind."""
    retired = output_dir.with_name(f".{output_dir.name}.previous")
    if retired.exists() and not output_dir.exists():
        os.rename(retired, output_dir)
    shutil.rmtree(retired, ignore_errors=True)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _os_error(err: OSError, path: Path) -> PublishError:
    hints = {
        errno.ENOSPC: "the disk is full: free some space and build again",
        errno.EROFS: "the output folder is on a read-only file system",
        errno.EACCES: "no permission to write there: check the folder's owner and mode",
    }
    return PublishError(f"cannot write output: {err.strerror}", SourceLocation(path),
                        hint=hints.get(err.errno or 0, "the previous site was left in place"))
