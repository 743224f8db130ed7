"""Parallel runner: splits document loading and page rendering across processes.

Work goes out in chunks (not one task per page) to forked workers that inherit the indexed site
and the compiled templates, so nothing large is pickled; each worker writes its pages itself and
returns only counts. With one job, or little work, everything runs in this process. Workers
die with the build: a killed build never leaves them writing or holding the build lock.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import SiteConfig
from .errors import GeneratorError
from .model import Document, RenderJob

Progress = Callable[[str, int, int], None]
PARALLEL_MIN_DOCUMENTS = 200
PARALLEL_MIN_PAGES = 400

# Set just before forking: the children inherit it (fork), so it is never pickled.
_inherited: dict[str, Any] = {}


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _chunks(items: Sequence[Any], workers: int, per_chunk: int) -> list[Sequence[Any]]:
    size = max(1, min(per_chunk, -(-len(items) // (workers * 4))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _pool(workers: int) -> Any:
    # Imported here: a small (or fast) rebuild never starts a pool and need not pay for these.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(os.getpid(),))


def _start_worker(parent: int) -> None:
    # A worker forked inside collector_paused must still collect its own garbage (Markdown
    # and Jinja make cycles).
    gc.enable()
    _die_with_parent(parent)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the build process dies.

    A build killed with SIGKILL cannot shut its pool down. Its workers would live on, blocked on
    the task queue forever, holding the inherited build lock (every later build would wait for
    ever) and possibly still writing pages into a staging folder the next build reuses.
    """
    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # elsewhere: notice it by polling
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


_frozen_depth = 0


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist now, until the outermost of these
    nested scopes ends (gc.freeze: they move to a generation it never walks).

    For two reasons. Forked workers: their collector would otherwise write to (and so copy)
    every inherited page of the indexed site. And the build's own long-lived data: each full
    collection walks all of it, a cost that grows faster than the site (3.4 s of the parent's
    time at 100,000 articles, 0.16 s at 10,000). Cycles made inside the scope and frozen with
    it are freed once it ends.
    """
    global _frozen_depth
    _frozen_depth += 1  # counted first: a Ctrl-C between the two cannot leave an uncounted freeze
    try:
        gc.freeze()
        yield
    finally:
        _frozen_depth -= 1
        if not _frozen_depth:
            gc.unfreeze()


def freeze_more() -> None:
    """Inside frozen_heap: freeze the objects made since (the documents just loaded...)."""
    if _frozen_depth:
        gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Inside frozen_heap: no collection while the block runs, then what it made is frozen.

    For the stages that build the long-lived index (load's documents, the site and its jobs,
    the memo) and make little cyclic garbage. Each young collection reads the header of every
    object its 50,000 young ones refer to, and those lie all over a heap ten times larger at
    100,000 articles: 12.7 ms a collection there against 5.9 ms at 10,000, 1.7 s of the
    parent's time in these stages against 0.1 s. Cycles made inside are freed with the rest
    of the frozen objects when the outermost frozen_heap ends. Outside one (the dev server),
    this does nothing.
    """
    if not _frozen_depth or not gc.isenabled():
        yield
        return
    try:  # disabled inside: a Ctrl-C just after it must still turn it back on
        gc.disable()
        yield
    finally:
        gc.freeze()
        gc.enable()


def freeze_for_good() -> None:
    """Freeze everything now, for the rest of this process and of every process it forks: a
    frozen_heap scope ending in a forked child (the build daemon's workers) then leaves the
    inherited objects frozen instead of handing them back to the collector."""
    global _frozen_depth
    _frozen_depth += 1
    gc.freeze()


def load_documents(paths: Sequence[Path], config: SiteConfig, jobs: int,
                   progress: Progress | None = None, bodies: Any = None
                   ) -> Iterator[list[Document | GeneratorError]]:
    """Chunks of documents (or the error each bad file raised), in the order of `paths`.

    Chunks, so the caller never holds every rendered body at once. With `bodies` (the build
    cache: cache.CacheStore) each body goes into it where it was rendered and the document
    comes back without it: a forked worker writes through its own connection, and the parent
    neither unpickles nor stores 10,000 bodies (a tenth of a core for the whole load stage).
    """
    if jobs <= 1 or len(paths) < PARALLEL_MIN_DOCUMENTS:
        for chunk in _chunks(paths, 1, 200):
            yield _load_chunk(chunk, config, bodies)
        return
    done = 0
    if bodies is not None:
        bodies.prepare()
    _inherited["bodies"] = bodies
    try:
        # Paused: here this process only unpickles the documents the workers parsed.
        with _pool(jobs) as pool, collector_paused():
            for chunk in pool.map(_load_inherited, _chunks(paths, jobs, 100),
                                  [config] * len(paths)):
                done += len(chunk)
                if progress:
                    progress("load", done, len(paths))
                yield chunk
    finally:
        _inherited.pop("bodies", None)


def _load_one(path: Path, config: SiteConfig) -> Document | GeneratorError:
    from .content import load_document  # YAML and Markdown: only a build that parses

    try:
        return load_document(path, config)
    except GeneratorError as err:
        return err


def _load_chunk(paths: Sequence[Path], config: SiteConfig,
                bodies: Any = None) -> list[Document | GeneratorError]:
    if len(paths) > 1:
        prefetch(paths)
    loaded = [_load_one(path, config) for path in paths]
    if bodies is None:
        return loaded
    bodies.put_html((item.sha256, item.html) for item in loaded if isinstance(item, Document))
    return [replace(item, html="") if isinstance(item, Document) else item for item in loaded]


def prefetch(paths: Sequence[Path]) -> None:
    """Have the kernel start reading every file of `paths` now, all at once.

    A load reads one file at a time per worker, so a file that is not in the page cache stalls
    its worker for a disk read; a large archive is rarely all cached (after a reboot, or on a
    machine that reclaims idle page cache, as this one does after a minute). Read ahead
    together, the chunk's files arrive while the first ones are parsed. Measured with 20,000
    evicted articles and 1 ms of work each on 2 workers: 12.4 s without, 10.6 s with, and
    10.7 s when every file was cached. Errors are left to the read that follows.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def _load_inherited(paths: Sequence[Path], config: SiteConfig) -> list[Document | GeneratorError]:
    """_load_chunk in a forked worker, storing bodies through the cache it inherited."""
    bodies = _inherited.get("bodies")
    if bodies is not None and _inherited.get("bodies_pid") != os.getpid():
        bodies.after_fork()  # never the parent's SQLite connection: this process opens its own
        _inherited["bodies_pid"] = os.getpid()
    return _load_chunk(paths, config, bodies)


# Makes a rendered job's cache record from the job and the deep reads of its render.
Recorder = Callable[[RenderJob, int], str]


def render_pages(renderer: Any, writer: Any, jobs: Sequence[RenderJob], workers: int,
                 record: Recorder, progress: Progress | None = None) -> dict[str, str]:
    """Render every job and hand the Output to `writer` (in workers when it is worth it);
    returns `record(job, deep reads)` for every job by output path.

    With N workers this process renders too, beside N-1 forked ones: the same number of busy
    cores, and one copy fewer of the indexed site (each worker's touches copy the pages it
    inherited: ~30 MB at 10,000 articles). Records are made where the page was rendered, in
    parallel: made afterwards in this process, they were a serial second at 100,000 articles.
    """
    records: dict[str, str] = {}
    if workers <= 1 or len(jobs) < PARALLEL_MIN_PAGES:
        for done, job in enumerate(jobs, start=1):
            _render_one(renderer, writer, job, record, records)
            if progress and done % 500 == 0:
                progress("render", done, len(jobs))
        return records
    # The workers inherit the indexed site: see frozen_heap.
    with frozen_heap():
        _render_forked(renderer, writer, jobs, workers, progress, record, records)
    return records


def _render_forked(renderer: Any, writer: Any, jobs: Sequence[RenderJob], workers: int,
                   progress: Progress | None, record: Recorder,
                   records: dict[str, str]) -> None:
    import multiprocessing

    ranges = [(r[0], r[-1] + 1) for r in _chunks(range(len(jobs)), workers, 250)]
    # The next range to render, shared by every process (inherited through fork).
    claimed = multiprocessing.get_context("fork").Value("i", 0)
    _inherited.update(renderer=renderer, writer=writer, jobs=jobs, ranges=ranges, next=claimed,
                      record=record)
    try:
        with _pool(workers - 1) as pool:
            helpers = [pool.submit(_render_share) for _ in range(workers - 1)]
            try:
                for done in _claim_ranges(renderer, writer, jobs, ranges, claimed, record,
                                          records):
                    for helper in helpers:
                        if helper.done():
                            helper.result()  # a worker's error ends the build now
                    if progress:
                        progress("render", min(done, len(jobs)), len(jobs))
            except BaseException:
                with claimed.get_lock():
                    claimed.value = len(ranges)  # the workers stop after their current range
                raise
            for helper in helpers:
                counts, made = helper.result()
                writer.add_counts(counts)
                records.update(made)
        if progress:
            progress("render", len(jobs), len(jobs))
    finally:
        _inherited.clear()


def _render_one(renderer: Any, writer: Any, job: RenderJob, record: Recorder,
                records: dict[str, str]) -> None:
    writer.write(renderer.render(job))
    records[job.output] = record(job, renderer.deep[job.output])


def _claim_ranges(renderer: Any, writer: Any, jobs: Sequence[RenderJob],
                  ranges: list[tuple[int, int]], claimed: Any, record: Recorder,
                  records: dict[str, str]) -> Iterator[int]:
    """Render ranges until none is left; yields how far the claims have got (for progress)."""
    sweeper = _Sweeper()
    with collector_paused():
        while True:
            with claimed.get_lock():
                index = claimed.value
                claimed.value = index + 1
            if index >= len(ranges):
                return
            start, stop = ranges[index]
            for position in range(start, stop):
                _render_one(renderer, writer, jobs[position], record, records)
            sweeper.after_range((jobs[start].template, jobs[stop - 1].template))
            yield stop


class _Sweeper:
    """Between the ranges a process renders (collector paused): freeze what the range left.

    A render process keeps what it caches (article views, fragments: ~30 objects an article)
    and, with our layouts, makes no cyclic garbage. Left to the collector, the kept objects
    set off young collections that find nothing and walk them twice (young, then middle
    generation): 1.6 s of each process's CPU at 100,000 articles, 0.1 s at 10,000. So each
    range's survivors are frozen instead. A layout that does make cycles still has them freed:
    before freezing, a young collection (of that range's objects only) runs after the first
    range and then at doubling intervals while it finds nothing, after every range once it
    finds something, and again after the first range of other layouts (the jobs run kind by
    kind: a tag page's layout may make cycles where the article's made none). Garbage of the
    ranges in between that it misses stays frozen until the render ends.
    """

    LONGEST_INTERVAL = 64  # ranges (of 250 pages)

    def __init__(self) -> None:
        self.interval = self.countdown = 1
        self.layouts: tuple[str, str] | None = None

    def after_range(self, layouts: tuple[str, str]) -> None:
        """After a range whose first and last jobs use `layouts`."""
        if gc.isenabled():  # outside frozen_heap: the collector runs as usual
            return
        if layouts != self.layouts:
            self.layouts = layouts
            self.interval = self.countdown = 1
        self.countdown -= 1
        if not self.countdown:
            found = gc.collect(0)
            self.interval = 1 if found else min(2 * self.interval, self.LONGEST_INTERVAL)
            self.countdown = self.interval
        gc.freeze()


def _render_share() -> tuple[tuple[int, int, list[str]], dict[str, str]]:
    """A worker's part of render_pages: its writer's counts and its pages' records (the
    parent merges them)."""
    shared = _inherited
    renderer, writer = shared["renderer"], shared["writer"]
    writer.written, writer.unchanged, writer.changed = 0, 0, []
    renderer.after_fork()
    records: dict[str, str] = {}
    for _ in _claim_ranges(renderer, writer, shared["jobs"], shared["ranges"], shared["next"],
                           shared["record"], records):
        pass
    counts: tuple[int, int, list[str]] = writer.counts()
    return counts, records


def fork_map(function: Callable[[int, int], Any], count: int, workers: int,
             minimum: int = 2000) -> list[Any]:
    """[function(start, stop) for each of `workers` contiguous parts of range(count)], in order.

    For a CPU-bound step of the otherwise serial index stage: the parts after the first run in
    forked processes, which inherit whatever `function` reads (nothing is pickled but the
    results); the first runs here meanwhile. Below `minimum` items, or with one worker, it is
    one call here.
    """
    if workers <= 1 or count < max(minimum, workers):
        return [function(0, count)]
    step = -(-count // workers)
    bounds = [(start, min(start + step, count)) for start in range(0, count, step)]
    _inherited["fork_map"] = function
    try:
        with frozen_heap(), _pool(len(bounds) - 1) as pool:  # frozen: as in render_pages
            parts = [pool.submit(_fork_map_part, start, stop) for start, stop in bounds[1:]]
            first = function(*bounds[0])
            return [first, *(part.result() for part in parts)]
    finally:
        _inherited.pop("fork_map", None)


def _fork_map_part(start: int, stop: int) -> Any:
    return _inherited["fork_map"](start, stop)
