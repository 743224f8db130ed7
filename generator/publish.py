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


class Publisher:
    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.staging = output_dir.with_name(f".{output_dir.name}.staging")
        self.retired = output_dir.with_name(f".{output_dir.name}.previous")
        self.written = 0
        self.unchanged = 0
        self.changed: list[str] = []  # outputs whose bytes differ from the previous site
        self._recover()
        shutil.rmtree(self.staging, ignore_errors=True)
        try:
            self.staging.mkdir(parents=True)
        except OSError as err:
            raise _os_error(err, self.staging) from None

    def _recover(self) -> None:
        # A build killed between the two renames of `commit` leaves only the retired copy.
        if self.retired.exists() and not self.output_dir.exists():
            os.rename(self.retired, self.output_dir)
        shutil.rmtree(self.retired, ignore_errors=True)

    def target(self, relative: str) -> Path:
        path = (self.staging / relative).resolve()
        if not path.is_relative_to(self.staging.resolve()) or "\x00" in relative:
            raise PublishError(f"refusing to write {relative!r} outside the output folder")
        return path

    def write(self, output: Output) -> None:
        path = self.target(output.path)
        previous = self.output_dir / output.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if _same_bytes(previous, output.data):
                os.link(previous, path)
                self.unchanged += 1
                return
            path.write_bytes(output.data)
            self.written += 1
            self.changed.append(output.path)
        except OSError as err:
            raise _os_error(err, path) from None

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
