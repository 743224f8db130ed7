"""The build orchestrator: config -> ingest -> load -> index -> plan -> render -> publish.

`Builder.build()` is the whole data flow in one place; each step is a function of its own
module. It gathers and indexes everything first, then renders and writes, so no page needs a
second pass. The cache decides what to redo: nothing when no input changed, only the pages whose
inputs changed otherwise, and everything (into a fresh folder, swapped in) on a cold build.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from .assets import collect_assets
from .cache import CACHE_VERSION, BuildState, CacheStore, fingerprint, input_stats, signature
from .config import SiteConfig, load_config
from .content import content_files
from .errors import BuildFailed, Diagnostic, GeneratorError
from .images import process_images
from .ingest import IngestReport, ingest
from .model import BuildStats, Document, Output, RenderJob, Site
from .publish import InPlaceWriter, Publisher, build_lock
from .render import Renderer
from .routes import plan
from .search import publish_search_index
from .site import index_site
from .sitemap import NEWS_WINDOW
from .workers import Progress, cpu_count, load_documents, render_pages

# (pages rendered, (files written, files unchanged, changed paths), files removed)
WriteSummary = tuple[int, tuple[int, int, list[str]], int]


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
        return f"drafts={self.drafts};future={self.future}"


@dataclass(slots=True)
class BuildResult:
    output_dir: Path
    stats: BuildStats
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ingest: IngestReport | None = None
    seconds: float = 0.0
    up_to_date: bool = False  # nothing changed: nothing was rendered or written
    rendered: int = 0  # pages and feeds rendered this time

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def reference_time() -> datetime:
    """The build's "now": SOURCE_DATE_EPOCH when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC)


def build(root: Path, options: BuildOptions = BuildOptions(),
          progress: Progress | None = None) -> BuildResult:
    return Builder(root, options, progress).build()


class Builder:
    """Builds a project; kept alive by the dev server so state stays in memory between builds."""

    def __init__(self, root: Path, options: BuildOptions = BuildOptions(),
                 progress: Progress | None = None) -> None:
        self.root = root
        self.options = options
        self.progress = progress
        self.store = CacheStore(root)
        self.state: BuildState | None = None
        self._loaded = False

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        """Bring the output up to date. `changed` is a hint only: inputs are always compared."""
        started = time.perf_counter()
        config = load_config(self.root)
        with build_lock(self.root):
            result = self._build(config)
        result.seconds = time.perf_counter() - started
        return result

    def _up_to_date(self, input_signature: str, now: datetime) -> bool:
        if self.state is not None:  # in memory (dev server): no need to ask the file
            return self.state.signature == input_signature and (
                self.state.next_event is None or now < self.state.next_event)
        return self.store.up_to_date(input_signature, now)

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

    def _build(self, config: SiteConfig) -> BuildResult:
        stats = BuildStats()
        result = BuildResult(config.output_dir, stats)
        now = self.options.now or reference_time()
        if self.options.ingest:
            with _timed(stats, "ingest"):
                result.ingest = ingest(config, self._seed_records())
            result.diagnostics += result.ingest.diagnostics
        inputs = input_stats(self.root)
        input_signature = signature(inputs, self.options.key())
        ingest_failed = bool(result.ingest and result.ingest.failed)
        if (self.options.cache and not ingest_failed and config.output_dir.is_dir()
                and self._up_to_date(input_signature, now)):
            result.up_to_date = True
            return result
        state = self._previous_state(result)
        with _timed(stats, "load"):
            documents = self._load(config, inputs, state, result)
        if any(d.severity == "error" for d in result.diagnostics):
            raise BuildFailed(tuple(result.diagnostics))
        with _timed(stats, "index"):
            site = index_site(documents, config, now, drafts=self.options.drafts,
                              future=self.options.future)
            jobs = plan(site, config)
            manifest, assets = collect_assets(self.root / "layouts")
            # issue 6 hook: lead images (images.py); their content-hashed names join the
            # manifest so the fingerprints below change when a picture does.
            lead_images = process_images(site, config, result.diagnostics)
            manifest.update(lead_images.manifest())
            renderer = Renderer(site, config, manifest, now, self.store.body)
            renderer.contexts.use_images(lead_images.images)
            fingerprints = self._fingerprints(config, renderer, jobs, manifest)
        incremental = state is not None and bool(state.outputs) and config.output_dir.is_dir()
        extras = [*assets, *site_extras(config), *lead_images.outputs()]
        with _timed(stats, "render+write"):
            if incremental and state is not None:
                written = self._write_changed(config, renderer, jobs, extras, fingerprints, state,
                                              result.diagnostics)
            else:
                written = self._write_all(config, renderer, jobs, extras, result.diagnostics)
        result.rendered, (stats.written, stats.unchanged, changed), stats.removed = written
        stats.changed = sorted(changed)
        stats.assets = len(assets)
        stats.feeds = sum(1 for j in jobs if j.kind.startswith("feed-"))
        stats.pages = sum(1 for j in jobs if j.template)
        stats.other = len(jobs) - stats.pages - stats.feeds
        self._save(documents, inputs, input_signature, fingerprints, extras, site, now, result)
        return result

    def _load(self, config: SiteConfig, inputs: dict[str, tuple[int, int]],
              state: BuildState | None, result: BuildResult) -> list[Document]:
        """Documents from the cache where the file's size and mtime are unchanged, else parsed."""
        cached = state.documents if state else {}
        documents: list[Document] = []
        to_load: list[Path] = []
        for path in content_files(self.root):
            key = path.relative_to(self.root).as_posix()
            entry = cached.get(key)
            if entry and entry[:2] == inputs.get(key):
                documents.append(entry[2])
            else:
                to_load.append(path)
        loaded = load_documents(to_load, config, self._jobs(), self.progress)
        for item in loaded:
            if isinstance(item, GeneratorError):
                result.diagnostics.append(item.diagnostic())
            else:
                documents.append(item)
        self.store.put_html((doc.sha256, doc.html) for doc in loaded if isinstance(doc, Document))
        documents.sort(key=lambda doc: doc.key)
        return documents

    def _jobs(self) -> int:
        return self.options.jobs or cpu_count()

    def _fingerprints(self, config: SiteConfig, renderer: Renderer, jobs: list[RenderJob],
                      manifest: dict[str, str]) -> dict[str, str]:
        """Per output, a hash of everything it is made from: if equal, the bytes are equal."""
        site = renderer.site
        site_wide = fingerprint(CACHE_VERSION, config.path.read_text("utf-8"),
                                self.options.key(), repr(sorted(manifest.items())),
                                repr(renderer.contexts.site_view))
        layouts = self.root / "layouts"
        template_hashes: dict[str, str] = {"": ""}
        sources: dict[str, str] = {}
        for name in {job.template for job in jobs if job.template}:
            closure = sorted(renderer.templates_used(name))
            for used in closure:
                if used not in sources:
                    path = layouts / used
                    sources[used] = path.read_text("utf-8") if path.is_file() else ""
            template_hashes[name] = fingerprint(*(f"{u}\0{sources[u]}" for u in closure))
        shas = {key: entry.doc.sha256 for key, entry in site.entries.items()}
        return {
            job.output: fingerprint(site_wide, template_hashes[job.template], repr(job.params),
                                    job.url, job.kind, *(shas[k] for k in job.depends_on))
            for job in jobs
        }

    def _write_all(self, config: SiteConfig, renderer: Renderer, jobs: list[RenderJob],
                   extras: list[Output], diagnostics: list[Diagnostic]) -> WriteSummary:
        publisher = Publisher(config.output_dir)
        try:
            for output in extras:
                publisher.write(output)
            render_pages(renderer, publisher, jobs, self._jobs(), self.progress)
            if self.options.search and config.search:  # issue 6 hook: index before swap-in
                publish_search_index(publisher, publisher.staging, diagnostics,
                                     previous_dir=config.output_dir)
            removed = publisher.removed_count()
            publisher.commit()
        except BaseException:
            publisher.abort()
            raise
        return len(jobs), publisher.counts(), removed

    def _write_changed(self, config: SiteConfig, renderer: Renderer, jobs: list[RenderJob],
                       extras: list[Output], fingerprints: dict[str, str],
                       state: BuildState, diagnostics: list[Diagnostic]) -> WriteSummary:
        previous = state.outputs
        todo = [job for job in jobs if previous.get(job.output) != fingerprints[job.output]]
        produced = set(fingerprints) | {output.path for output in extras}
        stale = [path for path in previous if path not in produced]
        # Before touching public/: if this build is killed, the next one must not trust the
        # old fingerprints of files this one may already have replaced.
        self.store.invalidate_outputs()
        writer = InPlaceWriter(config.output_dir)
        for output in extras:
            writer.write(output)
        render_pages(renderer, writer, todo, self._jobs(), self.progress)
        removed = writer.remove(stale)
        if self.options.search and config.search:  # issue 6 hook: re-index in place
            publish_search_index(writer, config.output_dir, diagnostics)
        return len(todo), writer.counts(), removed

    def _save(self, documents: list[Document], inputs: dict[str, tuple[int, int]],
              input_signature: str, fingerprints: dict[str, str], extras: list[Output],
              site: Site, now: datetime, result: BuildResult) -> None:
        outputs = dict(fingerprints)
        outputs.update({o.path: hashlib.sha256(o.data).hexdigest() for o in extras})
        state = BuildState(
            signature=input_signature,
            options=self.options.key(),
            next_event=_next_event(documents, site, now),
            documents={doc.key: (*inputs.get(doc.key, (0, 0)), replace(doc, html=""))
                       for doc in documents},
            seeds=dict(result.ingest.records) if result.ingest else (
                self.state.seeds if self.state else {}),
            outputs=outputs,
        )
        if result.ingest and result.ingest.failed:
            state.signature = ""  # a failed seed must be retried next time
        self.store.save(state)
        self.state = state


def _next_event(documents: list[Document], site: Site, now: datetime) -> datetime | None:
    """When time alone changes the site: a future article falls due, or one leaves the news
    sitemap's two-day window."""
    moments = [doc.meta.date for doc in documents
               if doc.kind == "article" and doc.meta.date and doc.meta.date > now]
    moments += [site.entry(key).date + NEWS_WINDOW for key in site.articles
                if site.entry(key).date + NEWS_WINDOW > now]
    return min(moments, default=None)


def site_extras(config: SiteConfig) -> Iterator[Output]:
    # GitHub Pages runs Jekyll unless told not to; Jekyll would hide files starting with '_'.
    yield Output(".nojekyll", b"")
    if config.cname:
        yield Output("CNAME", (config.cname.strip() + "\n").encode("ascii", "replace"))


@contextmanager
def _timed(stats: BuildStats, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        stats.timings[stage] = stats.timings.get(stage, 0.0) + time.perf_counter() - started

