"""Fast rebuilds: re-render only the pages that show the Markdown files edited in place.

The Builder (build.py) takes this path first. The memo it works from is the dev server's,
kept in memory, or the last build's, read from the cache row by row (memostore.py) by a new
process such as the CLI. incremental.py decides what an edit may touch; this module runs the
rebuild and keeps the cache in step with what it wrote.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import CacheStore, MissingRow
from .cachekey import BuildState
from .config import SiteConfig
from .incremental import (
    Memo,
    affected_jobs,
    card_hash,
    modified_documents,
    overlaid,
    patch_site,
    recorded_deep,
)
from .model import Document, Output, RenderJob, Site, timed
from .publish import InPlaceWriter
from .urls import Urls
from .workers import load_documents
from .writing import PageWriting

if TYPE_CHECKING:
    from .build import BuildOptions, BuildResult
    from .render import Renderer

Scan = tuple[dict[str, tuple[int, int]], str, int]  # (input stats, signature, scanned_ns)


class FastRebuilds(PageWriting):
    """The fast path of `build.Builder`, which provides the attributes below; it writes pages
    as every build does (writing.PageWriting)."""

    root: Path
    options: BuildOptions
    store: CacheStore
    state: BuildState | None
    memo: Memo | None
    keep_memo: bool
    announce: Callable[[list[str]], None] | None
    search_stale: bool
    _dirty: bool
    _unsaved: Unsaved

    def _stored_memo(self, result: BuildResult) -> Memo | None:
        """The last build's memo, read from the cache row by row (a new process: the CLI, or
        a dev server started on an up-to-date site, which keeps it)."""
        memo = self.store.load_memo()
        result.diagnostics += self.store.warnings
        self.store.warnings.clear()
        return memo

    def _trust_hints(self, hinted: set[str]) -> Scan | None:
        """The dev server's scan when watchdog named every changed file: the memo's listing
        with only those files stat'ed again (stat-ing 10,000 files costs 40 ms of a 100 ms
        rebuild). Only for Markdown files edited in place; anything else (a new or deleted
        file, a template) gets the full scan. The Rebuilder runs a full scan once saves pause,
        so an event watchdog missed is still built within seconds."""
        memo = self.memo
        if memo is None or not self.keep_memo or not hinted:
            return None
        from .content import is_content_file

        inputs = dict(memo.inputs)
        for key in hinted:
            if key not in inputs or not is_content_file(key):
                return None
            try:
                st = os.stat(self.root / key)
            except OSError:
                return None
            inputs[key] = (st.st_size, st.st_mtime_ns)
        # The signature of the whole input is unknown until that full scan: "" never matches.
        return inputs, "", memo.scanned_ns

    def _try_fast(self, config: SiteConfig, memo: Memo, scan: Scan, hinted: set[str],
                  now: datetime, result: BuildResult, trusted_hints: bool = False) -> bool:
        """_rebuild_fast, or False when a memo read from the cache lacks a row its other rows
        refer to: a damaged cache, discarded with a warning for the normal build to redo.
        Nothing is written by then, or what was is put back (see _rebuild_fast)."""
        try:
            return self._rebuild_fast(config, memo, scan, hinted, now, result, trusted_hints)
        except MissingRow as missing:
            self.store.discard(f"the build cache lacks a row it refers to ({missing}); "
                               "rebuilding it")
            result.diagnostics += self.store.warnings
            self.store.warnings.clear()
            self.memo = None
            return False

    def _rebuild_fast(self, config: SiteConfig, memo: Memo, scan: Scan,
                      hinted: set[str], now: datetime, result: BuildResult,
                      trusted_hints: bool = False) -> bool:
        """Re-render only the pages showing edited documents (see incremental.py), from the
        dev server's memo in memory or the last build's memo in the cache (memostore.py).

        Returns False, having changed nothing, when the edit needs the normal build.
        """
        inputs, input_signature, scanned_ns = scan
        changed = sorted(hinted) if trusted_hints else modified_documents(memo, inputs)
        if (changed is None or memo.options != self.options.key()
                or (memo.next_event is not None and now >= memo.next_event)
                or any(h not in inputs or not h.startswith("content/") for h in hinted)):
            return False
        # Whose stats the stored memo must take (seeds too), and the documents to load.
        restated = sorted(set(changed) | hinted)
        keys = [path for path in restated if path.startswith("content/")]
        with timed(result.stats, "load"):
            loaded = [item for chunk in load_documents([self.root / key for key in keys], config, 1)
                      for item in chunk]
        documents = [doc for doc in loaded if isinstance(doc, Document)]
        if len(documents) != len(loaded):
            return False  # the normal build reports the error with every other one
        from .site import make_entry

        urls = Urls(config.base_url, config.permalink)
        site = patch_site(memo.site, documents, lambda doc: make_entry(doc, config, urls))
        if site is None:
            return False
        with timed(result.stats, "render+write"):
            renderer = self._fast_renderer(config, memo, site, now)
            shas = overlaid(memo.shas, {doc.key: doc.sha256 for doc in documents})
            cards = overlaid(memo.cards, {doc.key: card_hash(doc) for doc in documents})
            hashes = (shas.__getitem__, cards.__getitem__)
            jobs = _stale_jobs(memo, [memo.jobs[position]
                                      for position in affected_jobs(memo, keys)], *hashes)
            own = {site.entries[key].output for key in keys}
            first = [job for job in jobs if job.output in own]
            fresh: dict[str, str] = {}  # the records of the pages re-rendered

            def record(job: RenderJob, deep: int) -> str:
                return memo.fingerprints.record(job, *hashes, deep)

            if self.announce is not None and first and len(first) < len(jobs):
                # The edited pages first: their tabs reload while the listings render.
                before = _current_bytes(config.output_dir, first)
                writer, _ = self._commit_in_place(config, renderer, first, (record, fresh))
                result.announced = list(writer.changed)
                if result.announced:
                    self.announce(result.announced)
                rest = [job for job in jobs if job.output not in own]
                try:
                    writer.add_counts(self._commit_in_place(config, renderer, rest,
                                                            (record, fresh))[0].counts())
                except BaseException:
                    _put_back(config.output_dir, before)  # a failed build changes nothing
                    raise
            else:
                writer, _ = self._commit_in_place(config, renderer, jobs, (record, fresh))
            memo.fingerprints.outputs.update(fresh)
        self._count(result, (len(fresh), writer.counts(), 0), memo.counts)  # fresh: re-rendered
        self.store.put_html((doc.sha256, doc.html) for doc in documents)
        memo.inputs, memo.scanned_ns, memo.site = inputs, scanned_ns, site
        memo.shas, memo.cards = shas, cards
        search = self.options.search and config.search and bool(writer.changed)
        seeds = dict(result.ingest.records) if result.ingest else None
        if self.keep_memo:  # the dev server: saved by close(), not on every save
            self.memo, memo.renderer = memo, renderer
            if self.state is not None:  # a memo it made itself, with the whole state
                for doc in documents:
                    self.state.documents[doc.key] = (*inputs[doc.key], replace(doc, html=""))
                self.state.outputs.update(fresh)
                self.state.signature, self.state.scanned_ns = input_signature, scanned_ns
            else:  # a memo read from the cache: close() stores the rows that changed
                self._unsaved.note(keys, restated, fresh, input_signature, seeds)
            self._dirty = True
            # Pagefind re-indexes the whole site (seconds at 10,000 articles): the dev server
            # runs it after the browser has reloaded, through refresh_search().
            self.search_stale = self.search_stale or search
        else:  # the CLI: store the few changed rows now
            if search:
                self._index_search(config, writer, result.diagnostics)
            self.store.save_fast(memo, keys, restated, fresh, input_signature, seeds)
        result.fast = True
        return True

    def _fast_renderer(self, config: SiteConfig, memo: Memo, site: Site,
                       now: datetime) -> Renderer:
        from .render import Renderer

        if memo.renderer is not None:
            renderer: Renderer = memo.renderer.with_site(site, now)
            return renderer
        assert memo.renderer_inputs is not None
        manifest, images = memo.renderer_inputs
        renderer = Renderer(site, config, manifest, now, self.store.body)
        renderer.contexts.use_images(images)
        return renderer

    def _flush_unsaved(self) -> None:
        """Store what fast rebuilds on a memo read from the cache changed (see close())."""
        if self._dirty and self.state is None and self.memo is not None:
            unsaved = self._unsaved
            self.store.save_fast(self.memo, sorted(unsaved.keys), sorted(unsaved.restated),
                                 unsaved.outputs, unsaved.signature, unsaved.seeds)
            self._dirty, self._unsaved = False, Unsaved()


def _stale_jobs(memo: Memo, jobs: Sequence[RenderJob], shas: Callable[[str], str],
                cards: Callable[[str], str]) -> list[RenderJob]:
    """The jobs whose record changed (with the deep reads their last render made)."""
    prints = memo.fingerprints
    stale = []
    for job in jobs:
        old = prints.outputs.get(job.output)
        if old != prints.record(job, shas, cards, recorded_deep(old)):
            stale.append(job)
    return stale


def _current_bytes(output_dir: Path, jobs: Sequence[RenderJob]) -> dict[str, bytes | None]:
    before: dict[str, bytes | None] = {}
    for job in jobs:
        try:
            before[job.output] = (output_dir / job.output).read_bytes()
        except OSError:
            before[job.output] = None
    return before


def _put_back(output_dir: Path, before: dict[str, bytes | None]) -> None:
    """Restore the files of the first of a fast rebuild's two commits (the second failed)."""
    writer = InPlaceWriter(output_dir)
    for output, data in before.items():
        if data is not None:
            writer.write(Output(output, data))
    writer.remove_later([output for output, data in before.items() if data is None])
    writer.commit()


@dataclass(slots=True)
class Unsaved:
    """What fast rebuilds on a memo read from the cache changed, for Builder.close()."""

    keys: set[str] = field(default_factory=set)  # edited documents
    restated: set[str] = field(default_factory=set)  # files with new stats (seeds too)
    outputs: dict[str, str] = field(default_factory=dict)
    signature: str = ""
    seeds: dict[str, tuple[int, int, str]] | None = None

    def note(self, keys: Sequence[str], restated: Sequence[str], outputs: dict[str, str],
             signature: str, seeds: dict[str, tuple[int, int, str]] | None) -> None:
        self.keys.update(keys)
        self.restated.update(restated)
        self.outputs.update(outputs)
        self.signature = signature
        self.seeds = seeds if seeds is not None else self.seeds
