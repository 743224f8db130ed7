"""Watch stage of the dev server: watchdog events on the sources -> debounced, serialised builds.

Watches seeds/, content/, layouts/ (static files included) and site.toml; ignores the output and
staging folders, caches, VCS folders and editor temp/swap files. One burst of saves becomes one
batch; one build runs at a time. Never touches a file itself and never talks to the browser.
"""

from __future__ import annotations

import asyncio
import fnmatch
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

if TYPE_CHECKING:
    from .build import BuildResult

SOURCE_FOLDERS = ("seeds", "content", "layouts")
CONFIG_FILE = "site.toml"
IGNORED_FOLDERS = {".git", ".hg", ".svn", ".cache", "__pycache__", "node_modules", ".venv"}
# Editors save through temp files: vim (`.x.swp`, `x~`, its `4913` probe), emacs (`.#x`),
# ours and others (`*.tmp`). None of them is a source; the final rename is what counts.
IGNORED_NAMES = ("*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "4913", "*.tmp", ".DS_Store")
# watchdog 7 also reports opened/closed_no_write for plain reads: a rebuild reads every source,
# so without this filter each rebuild would trigger the next one forever.
EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent,
]


def output_folders(output_dir: Path) -> tuple[Path, ...]:
    """The output folder and the publisher's staging siblings: written by builds, never sources."""
    name = output_dir.name
    return (output_dir, output_dir.with_name(f".{name}.staging"),
            output_dir.with_name(f".{name}.previous"))


def is_source(path: Path, root: Path, output_dir: Path) -> bool:
    """True if a change to `path` (absolute) can change the built site."""
    if any(path == out or path.is_relative_to(out) for out in output_folders(output_dir)):
        return False
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    if not parts:
        return False
    if len(parts) == 1:
        return parts[0] in (CONFIG_FILE, *SOURCE_FOLDERS)  # a folder: created, moved or deleted
    if parts[0] not in SOURCE_FOLDERS or IGNORED_FOLDERS.intersection(parts):
        return False
    return not any(fnmatch.fnmatchcase(parts[-1], pattern) for pattern in IGNORED_NAMES)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: SourceWatcher, output_dir: Path,
                 notify: Callable[[Path], None]) -> None:
        self.watcher, self.output_dir, self.notify = watcher, output_dir, notify

    def on_any_event(self, event: FileSystemEvent) -> None:
        # A rename counts for both ends: `x.tmp -> x.md` is a save, `x.md -> elsewhere` a delete.
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw.decode() if isinstance(raw, bytes) else raw)
            if event.is_directory:
                self.watcher.adopt(path)
            if is_source(path, self.watcher.root, self.output_dir):
                self.notify(path)


class SourceWatcher:
    """One watchdog observer over the project's sources; `notify(path)` runs on its thread."""

    def __init__(self, root: Path, output_dir: Path, notify: Callable[[Path], None]) -> None:
        self.root = root
        self._observer = Observer()
        self._handler = _Handler(self, output_dir, notify)
        self._folders: dict[str, ObservedWatch] = {}
        for name in SOURCE_FOLDERS:
            self.adopt(root / name)
        # The root itself non-recursively, for site.toml and for source folders created later;
        # is_source drops everything else there.
        self._observer.schedule(self._handler, root, recursive=False, event_filter=EVENT_TYPES)

    def adopt(self, folder: Path) -> bool:
        """Watch a source folder (also one created or re-created while serving); True if it is one."""
        if folder.parent != self.root or folder.name not in SOURCE_FOLDERS or not folder.is_dir():
            return False
        stale = self._folders.pop(folder.name, None)
        if stale is not None:  # a deleted folder's watch is dead: replace it
            with suppress(KeyError):
                self._observer.unschedule(stale)
        self._folders[folder.name] = self._observer.schedule(
            self._handler, folder, recursive=True, event_filter=EVENT_TYPES)
        return True

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join()


class ChangeQueue:
    """Collects changed paths from any thread; `next_batch()` hands them over once they settle.

    A batch closes `quiet` seconds after its last event (one save is several events, within a
    millisecond or two; a save whose events straddle the close costs one more small build, as
    events arriving during a build make the next batch), but never
    later than `longest` after its first, so a stream of saves still rebuilds regularly. Paths
    that arrive while the caller is busy (building) simply wait for the next batch: none is lost.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, quiet: float = 0.01,
                 longest: float = 0.5) -> None:
        self._loop = loop
        self.quiet, self.longest = quiet, longest
        self._paths: set[Path] = set()
        self._first = self._last = 0.0
        self._ready = asyncio.Event()

    def put(self, path: Path) -> None:
        """Thread-safe: the only loop method watchdog's thread may call."""
        self._loop.call_soon_threadsafe(self.add, path)

    def add(self, path: Path) -> None:
        now = self._loop.time()
        if not self._paths:
            self._first = now
        self._paths.add(path)
        self._last = now
        self._ready.set()

    def pending(self) -> bool:
        return bool(self._paths)

    async def next_batch(self) -> frozenset[Path]:
        while True:
            await self._ready.wait()
            now = self._loop.time()
            wait = min(self._last + self.quiet, self._first + self.longest) - now
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._ready.clear()
        batch, self._paths = frozenset(self._paths), set()
        return batch


def describe(paths: Iterable[Path], root: Path, limit: int = 3) -> str:
    """'content/a.md, layouts/b.html (+2 more)' for the rebuild log."""
    names = sorted(p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p)
                   for p in paths)
    text = ", ".join(names[:limit])
    return text + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


Batch = frozenset[Path] | None  # None: the first build
VERIFY: frozenset[Path] = frozenset()  # the batch of a full-scan check once saves pause
Finished = Callable[["BuildResult | Exception", Batch, float], None]


class Rebuilder:
    """Runs `build(changed)` in one worker thread after each batch, never two at a time.

    Saves that arrive during a build wait in the queue and become exactly one more build, so the
    last save always ends up built. `finished(result or error, batch, seconds)` runs on the loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: ChangeQueue,
                 build: Callable[[set[Path] | None], BuildResult], finished: Finished,
                 idle: Callable[[], object] | None = None, idle_after: float = 2.0) -> None:
        self._loop, self._queue, self._build, self._finished = loop, queue, build, finished
        # Slow, non-urgent work (the search index) runs once saves have paused for a while,
        # so it never delays the reload a writer is waiting for.
        self._idle, self._idle_after = idle, idle_after
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="newsgen-build")
        self._unverified = False
        self.building = False
        self.builds = 0

    def pending(self) -> bool:
        return self.building or self._queue.pending()

    async def run_forever(self, first_done: threading.Event) -> None:
        try:
            await self._once(None)
        finally:
            first_done.set()
        while True:
            try:
                batch = await asyncio.wait_for(self._queue.next_batch(), self._idle_after)
            except TimeoutError:
                if self._unverified:
                    # Batches are built from watchdog's events alone (Builder._trust_hints);
                    # once saves pause, a full scan builds anything an event failed to report.
                    self._unverified = False
                    await self._once(VERIFY)
                if self._idle is not None:
                    await self._run_idle()
                continue
            await self._once(batch)
            self._unverified = True

    async def _run_idle(self) -> None:
        assert self._idle is not None
        try:
            await self._loop.run_in_executor(self._executor, self._idle)
        except Exception:  # the search index is a convenience: never stop the server for it
            traceback.print_exc()

    async def _once(self, batch: Batch) -> None:
        self.building = True
        started = time.perf_counter()
        outcome: BuildResult | Exception
        try:
            changed = None if batch is None else set(batch)
            outcome = await self._loop.run_in_executor(self._executor, self._build, changed)
        except Exception as err:  # reported, never fatal: the server keeps the last good site
            outcome = err
        finally:
            self.building = False
            self.builds += 1
        try:
            self._finished(outcome, batch, time.perf_counter() - started)
        except Exception:  # a bug in reporting must not stop the rebuilds that follow
            traceback.print_exc()

    def shutdown(self) -> None:
        """Wait for a running build to finish (a build is never cut off half-way)."""
        self._executor.shutdown(wait=True)
