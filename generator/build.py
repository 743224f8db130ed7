"""The build orchestrator: config -> ingest -> load -> index -> plan -> render -> publish.

`Builder.build()` is the whole data flow in one place; each step is a function of its own
module. It gathers and indexes everything first, then renders and writes, so no page needs a
second pass. The cache decides what to redo: nothing when no input changed, only the pages whose
inputs changed otherwise, and everything (into a fresh folder, swapped in) on a cold build.
An edit to Markdown files alone takes the fast path first (fastbuild.py), from a memo of the
last build that the dev server keeps in memory and the CLI reads from the cache.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .assets import collect_assets
from .cache import CacheStore
from .cachekey import BuildState, signature
from .config import SiteConfig, load_config
from .errors import BuildFailed, Diagnostic, GeneratorError
from .fastbuild import FastRebuilds, Unsaved
from .incremental import (
    Memo,
    dependents_index,
    document_hashes,
    fingerprint_jobs,
    job_counts,
)
from .model import BuildStats, Document, Output, RenderJob, Site, reference_time, timed
from .publish import InPlaceWriter, build_lock
from .scan import ScanAhead, SourceScan, scan_now, trusted
from .workers import Progress, collector_paused, cpu_count, freeze_more, frozen_heap, load_documents
from .writing import site_extras

if TYPE_CHECKING:
    from .ingest import IngestReport


@dataclass(frozen=True, slots=True)
class BuildOptions:
    ingest: bool = True
    drafts: bool = False
    future: bool = False
    now: datetime | None = None
    search: bool = True  # build the Pagefind index (also needs `search = true` in site.toml)
    jobs: int = 0  # worker processes; 0 means one per core
    cache: bool = True  # False: ignore and overwrite .cache/ (a clean build)

    def key(self) -> str:
        """The options that change the output, for the cache signature."""
        return f"drafts={self.drafts};future={self.future};search={self.search}"


@dataclass(slots=True)
class BuildResult:
    output_dir: Path
    stats: BuildStats
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ingest: IngestReport | None = None
    seconds: float = 0.0
    up_to_date: bool = False  # nothing changed: nothing was rendered or written
    fast: bool = False  # the dev server's fast path re-rendered only the edited documents' pages
    announced: list[str] = field(default_factory=list)  # changed outputs told to announce()
    rendered: int = 0  # pages and feeds rendered this time

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def build(root: Path, options: BuildOptions = BuildOptions(),
          progress: Progress | None = None, scan_ahead: ScanAhead | None = None) -> BuildResult:
    builder = Builder(root, options, progress, scan_ahead=scan_ahead)
    try:
        return builder.build()
    finally:
        builder.close()  # the cache's connection too: SQLite folds its log into the file


# What a fast rebuild imports (Markdown and YAML to load the edited article, Jinja to render),
# imported while the CLI waits for its scan: a build that needs none of them (nothing changed)
# has nothing better to do in that time.
_EDIT_MODULES = ("jinja2", "generator.render", "yaml", "markdown", "generator.content")


class Builder(FastRebuilds):
    """Builds a project; kept alive by the dev server so state stays in memory between builds."""

    def __init__(self, root: Path, options: BuildOptions = BuildOptions(),
                 progress: Progress | None = None, *, keep_memo: bool = False,
                 scan_ahead: ScanAhead | None = None) -> None:
        self.root = root
        # The CLI's scan of the sources, started before its imports (scan.py): the first
        # build takes it up instead of scanning.
        self.scan_ahead = scan_ahead
        self.options = options
        self.progress = progress
        self.store = CacheStore(root)
        self.state: BuildState | None = None
        self._loaded = False
        # The dev server keeps the indexed site in memory for fast rebuilds (incremental.py).
        self.keep_memo = keep_memo
        self.memo: Memo | None = None
        self._dirty = False
        self._unsaved = Unsaved()
        self._config_cache: tuple[tuple[int, int], SiteConfig] | None = None
        # The dev server's: called with the changed outputs once an edited document's own page
        # is written, before the pages that list it (a fast rebuild commits in two steps).
        self.announce: Callable[[list[str]], None] | None = None
        self.search_stale = False

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        """Bring the output up to date. `changed` is a hint only: inputs are always compared."""
        started = time.perf_counter()
        config = self._config()
        if not self.options.search and config.search:
            # --no-search: no page may offer a search this build makes no index for.
            config = replace(config, search=False)
        hinted = {p.resolve().relative_to(self.root.resolve()).as_posix() for p in changed or ()
                  if p.resolve().is_relative_to(self.root.resolve())}
        with build_lock(self.root) as waited:
            if waited:
                # Scanned before another build ran (and perhaps ingested): out of date. (A
                # build that ran before this one asked for the lock: see _scan.)
                self._drop_scan_ahead()
            if self.store.replaced():
                self._forget_cache()
            # What a one-build process keeps, the collector need not walk again. Not in the
            # dev server: every build's freeze would reset the young collections' count and
            # then hand what it froze to the oldest generation, so its garbage would pile up.
            with frozen_heap() if not self.keep_memo else nullcontext():
                result = self._build(config, hinted)
        result.seconds = time.perf_counter() - started
        return result

    def _config(self) -> SiteConfig:
        """site.toml, parsed again only when its size or mtime changed (a dev server rebuild
        should not spend 4 ms of its 10 ms re-reading an unchanged file)."""
        try:
            st = os.stat(self.root / "site.toml")
            stamp: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None  # load_config reports the missing file
        # As for every input, a file saved within the last second may have changed twice in
        # one mtime tick (scan.RACY_NS): it is read again.
        if (stamp is None or self._config_cache is None or self._config_cache[0] != stamp
                or not trusted(stamp, time.time_ns())):
            config = load_config(self.root)
            self._config_cache = (stamp, config) if stamp is not None else None
            return config
        return self._config_cache[1]

    def _drop_scan_ahead(self) -> None:
        if self.scan_ahead is not None:
            self.scan_ahead.discard()
            self.scan_ahead = None

    def _scan(self, result: BuildResult) -> SourceScan:
        ahead, self.scan_ahead = self.scan_ahead, None
        if ahead is not None:
            scan = ahead.result(meanwhile=_EDIT_MODULES)
            # Started before ingest and before the lock: if ingest wrote articles, or another
            # build scanned (and published) since, this scan is out of date.
            if (scan is not None and not (result.ingest and result.ingest.written)
                    and self.store.scanned_ns() <= scan[0]):
                return scan
        return scan_now(self.root)

    def _up_to_date(self, input_signature: str, newest_mtime: int, now: datetime) -> bool:
        state = self.state
        if state is not None:  # in memory (dev server): no need to ask the file
            return (state.signature == input_signature
                    and trusted((0, newest_mtime), state.scanned_ns)
                    and (state.next_event is None or now < state.next_event))
        return self.store.up_to_date(input_signature, newest_mtime, now)

    def _seed_records(self) -> dict[str, tuple[int, int, str]] | None:
        """Ingest records of the last build, read without unpickling the whole state."""
        if self.state is not None:
            return self.state.seeds
        return self.store.seed_records() if self.options.cache else None

    def _previous_state(self, result: BuildResult) -> BuildState | None:
        if not self._loaded:
            self.state = self.store.load() if self.options.cache else None
            result.diagnostics += self.store.warnings
            self.store.warnings.clear()
            self._loaded = True
        return self.state

    def _build(self, config: SiteConfig, hinted: set[str]) -> BuildResult:
        stats = BuildStats()
        result = BuildResult(config.output_dir, stats)
        now = self.options.now or reference_time()
        if self.options.ingest:
            with timed(stats, "ingest"):
                from .ingest import ingest  # imported on use, like images and search:
                # a fast rebuild must start quickly

                result.ingest = ingest(config, self._seed_records(), now)
            result.diagnostics += result.ingest.diagnostics
        ingest_failed = bool(result.ingest and result.ingest.failed)
        hinted_scan = self._trust_hints(hinted) if not ingest_failed else None
        if hinted_scan is not None and self.memo is not None and self._try_fast(
                config, self.memo, hinted_scan, hinted, now, result, trusted_hints=True):
            return result
        with timed(stats, "scan"):
            scanned_ns, inputs, digest = self._scan(result)
        input_signature = signature(digest, self.options.key())
        newest = max((mtime for _, mtime in inputs.values()), default=0)
        if (self.options.cache and not ingest_failed and config.output_dir.is_dir()
                and not hinted and self._up_to_date(input_signature, newest, now)):
            result.up_to_date = True
            if self.keep_memo and self.memo is None:  # a dev server started on a built site
                self.memo = self._stored_memo(result)
            return result
        scan = (inputs, input_signature, scanned_ns)
        memo = self.memo
        if memo is None and self.options.cache and not self._loaded and not ingest_failed:
            memo = self._stored_memo(result)
        if memo is not None and self._try_fast(config, memo, scan, hinted, now, result):
            return result
        # The full path reads the cache's state: it must include what fast rebuilds did.
        self._flush_unsaved()
        # Replaced once this build succeeds; if it fails, a memo read from the cache must not
        # stay beside the state loaded below (fast rebuilds would take it for their own).
        self.memo = None
        state = self._previous_state(result)
        if state is None:
            self.store.begin_fresh()  # nothing to keep: a new file, written once (cache.py)
        with timed(stats, "load"):
            documents = self._load(config, inputs, state, result, hinted)
            freeze_more()  # the documents live as long as the build
        if any(d.severity == "error" for d in result.diagnostics):
            raise BuildFailed(tuple(result.diagnostics))
        incremental = state is not None and bool(state.outputs) and config.output_dir.is_dir()
        with timed(stats, "index"), collector_paused():  # it builds what the build keeps
            # Imported here: Jinja, Markdown and YAML cost a no-change build 60 ms.
            from .render import Renderer
            from .routes import plan
            from .site import index_site

            site = index_site(documents, config, now, drafts=self.options.drafts, jobs=self._jobs(),
                              future=self.options.future, warnings=result.diagnostics)
            jobs = plan(site, config)
            manifest, assets = collect_assets(self.root / "layouts")
            # issue 6 hook: lead images (images.py); their content-hashed names join the
            # manifest so the fingerprints below change when a picture does.
            from .images import process_images

            lead_images = process_images(site, config, result.diagnostics)
            manifest.update(lead_images.manifest())
            renderer = Renderer(site, config, manifest, now, self.store.body)
            renderer.contexts.use_images(lead_images.images)
            shas, cards = document_hashes(site)
            fingerprints = fingerprint_jobs(
                self.root / "layouts", (config.path.read_text("utf-8"), self.options.key(),
                                        repr(sorted(manifest.items()))), renderer, jobs,
                state.outputs if incremental and state else {}, (shas, cards))
            freeze_more()  # and so do the indexed site and the jobs
        extras = [*assets, *site_extras(config), *lead_images.outputs()]

        def record(job: RenderJob, deep: int) -> str:
            return fingerprints.record(job, shas.__getitem__, cards.__getitem__, deep)

        with timed(stats, "render+write"):
            # The records of the pages rendered, stored once they are committed.
            records: dict[str, str] = {}
            if incremental and state is not None:
                written = self._write_changed(config, renderer, jobs, extras,
                                              fingerprints.outputs, state,
                                              result.diagnostics, (record, records))
            else:
                written = self._write_all(config, renderer, jobs, extras,
                                          result.diagnostics, (record, records))
            fingerprints.outputs.update(records)
        counts = job_counts(jobs, len(assets))
        self._count(result, written, counts)
        self.search_stale = False  # the normal build indexes search itself
        with timed(stats, "save"), collector_paused():
            memo = Memo(inputs, scanned_ns, site, jobs, fingerprints, renderer,
                        dependents_index(jobs), shas, cards, counts,
                        _next_event(documents, site, now), options=self.options.key())
            self._save(documents, scan, fingerprints.outputs, extras, memo, result)
        self.memo = memo if self.keep_memo else None
        return result

    def refresh_search(self) -> int:
        """Re-index search after fast rebuilds; returns the number of index files written."""
        if not self.search_stale:
            return 0
        config = load_config(self.root)
        diagnostics: list[Diagnostic] = []
        with build_lock(self.root):
            writer = InPlaceWriter(config.output_dir)
            from . import search

            count = search.publish_search_index(writer, config.output_dir, diagnostics,
                                                cache_dir=self.store.path.parent,
                                                reuse=self.options.cache)
            writer.commit()
        self.search_stale = False
        return count

    def close(self) -> None:
        """Save what fast rebuilds kept in memory (the dev server calls this on exit)."""
        if self._dirty:
            # Under the lock, as every save is: a build running in another process may be
            # writing a fresh cache, which the save would otherwise take for a killed one's.
            with build_lock(self.root):
                if self.store.replaced():  # that build replaced the cache (and the output)
                    self._forget_cache()
                elif self.state is not None:
                    self.store.save(self.state, self.memo)
                self._flush_unsaved()
        self._dirty = False
        self.store.close()
        self._drop_scan_ahead()  # a build that failed before it scanned

    def _forget_cache(self) -> None:
        """Drop what was read from, or is still to be saved into, a cache file that another
        process has since replaced (CacheStore.replaced): the next build reads the new one."""
        self.state, self.memo, self._loaded = None, None, False
        self._dirty, self._unsaved = False, Unsaved()

    def _load(self, config: SiteConfig, inputs: dict[str, tuple[int, int]],
              state: BuildState | None, result: BuildResult, hinted: set[str]) -> list[Document]:
        """Documents from the cache where the file is unchanged (and not racily so), else parsed."""
        cached = state.documents if state else {}
        scanned_ns = state.scanned_ns if state else 0
        documents: list[Document] = []
        to_load: list[Path] = []
        from .content import content_files

        for path in content_files(self.root, inputs):
            key = path.relative_to(self.root).as_posix()
            entry = cached.get(key)
            stat = inputs.get(key)
            if entry and entry[:2] == stat and trusted(stat, scanned_ns) and key not in hinted:
                documents.append(entry[2])
            else:
                to_load.append(path)
        # Bodies go to the cache as they are rendered; the build keeps only metadata in memory
        # and renderers fetch a body when a page shows it.
        for chunk in load_documents(to_load, config, self._jobs(), self.progress, self.store):
            documents += [item for item in chunk if isinstance(item, Document)]
            result.diagnostics += [item.diagnostic() for item in chunk
                                   if isinstance(item, GeneratorError)]
        documents.sort(key=lambda doc: doc.key)
        return documents

    def _jobs(self) -> int:
        if self.memo is not None:
            # The dev server after its first build: forking while its threads run risks
            # inheriting a held lock; its rebuilds are small anyway.
            return 1
        return self.options.jobs or cpu_count()

    def _save(self, documents: list[Document],
              scan: tuple[dict[str, tuple[int, int]], str, int], fingerprints: Mapping[str, str],
              extras: list[Output], memo: Memo, result: BuildResult) -> None:
        inputs, input_signature, scanned_ns = scan
        outputs = dict(fingerprints)
        outputs.update({o.path: hashlib.sha256(o.data).hexdigest() for o in extras})
        state = BuildState(
            signature=input_signature,
            scanned_ns=scanned_ns,
            options=self.options.key(),
            next_event=memo.next_event,
            documents={doc.key: (*inputs.get(doc.key, (0, 0)),
                                 doc if not doc.html else replace(doc, html=""))
                       for doc in documents},
            seeds=dict(result.ingest.records) if result.ingest else (
                self.state.seeds if self.state else {}),
            outputs=outputs,
        )
        if result.ingest and result.ingest.failed:
            state.signature = ""  # a failed seed must be retried next time
        self.store.save(state, memo, self._jobs())
        self.state = state
        self._dirty = False


def _next_event(documents: list[Document], site: Site, now: datetime) -> datetime | None:
    """When time alone changes the site: a future article falls due, or one leaves the news
    sitemap's two-day window."""
    from .sitemap import NEWS_WINDOW

    moments = [doc.meta.date for doc in documents
               if doc.kind == "article" and doc.meta.date and doc.meta.date > now]
    moments += [site.entry(key).date + NEWS_WINDOW for key in site.articles
                if site.entry(key).date + NEWS_WINDOW > now]
    return min(moments, default=None)
