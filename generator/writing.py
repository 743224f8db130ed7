"""Writing a build's pages: a full build into a staging folder swapped in whole (Publisher),
an incremental one in place with an undo (InPlaceWriter); both before the cache trusts them.

A part of `build.Builder`, which provides the attributes declared below.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import CacheStore
from .cachekey import BuildState
from .config import SiteConfig
from .errors import Diagnostic
from .model import Output, RenderJob
from .publish import InPlaceWriter, Publisher, files_under
from .workers import Progress, Recorder, render_pages

if TYPE_CHECKING:
    from .build import BuildOptions, BuildResult
    from .render import Renderer

# (pages rendered, (files written, files unchanged, changed paths), files removed)
WriteSummary = tuple[int, tuple[int, int, list[str]], int]
# How a build records the pages it renders, and where the records go (workers.Recorder).
Recording = tuple[Recorder, dict[str, str]]


class PageWriting:
    """How `build.Builder` writes what it renders."""

    options: BuildOptions
    store: CacheStore
    progress: Progress | None

    if TYPE_CHECKING:  # Builder's own, used here
        def _jobs(self) -> int: ...

    def _count(self, result: BuildResult, written: WriteSummary,
               counts: tuple[int, int, int, int, int]) -> None:
        stats = result.stats
        result.rendered, (stats.written, stats.unchanged, changed), stats.removed = written
        stats.changed = sorted(changed)
        stats.feeds, stats.pages, stats.other, _, stats.assets = counts

    def _write_all(self, config: SiteConfig, renderer: Renderer, jobs: list[RenderJob],
                   extras: list[Output], diagnostics: list[Diagnostic],
                   recording: Recording) -> WriteSummary:
        publisher = Publisher(config.output_dir)
        record, records = recording
        try:
            for output in extras:
                publisher.write(output)
            records.update(render_pages(renderer, publisher, jobs, self._jobs(), record,
                                        self.progress))
            if self.options.search and config.search:  # issue 6 hook: index before swap-in
                from . import search

                search.publish_search_index(publisher, publisher.staging, diagnostics,
                                            previous_dir=config.output_dir,
                                            cache_dir=self.store.path.parent,
                                            reuse=self.options.cache)
            removed = publisher.removed_count()
            # The swap replaces what the cache's output fingerprints describe: if this build is
            # killed after it, the next one must not trust them (as in _write_changed).
            self.store.invalidate_outputs()
            publisher.commit()
        except BaseException:
            publisher.abort()
            raise
        return len(jobs), publisher.counts(), removed

    def _write_changed(self, config: SiteConfig, renderer: Renderer, jobs: list[RenderJob],
                       extras: list[Output], fingerprints: Mapping[str, str],
                       state: BuildState, diagnostics: list[Diagnostic],
                       recording: Recording) -> WriteSummary:
        """Render the jobs whose record changed (their new records go into `recording`)."""
        previous = state.outputs
        todo = [job for job in jobs if previous.get(job.output) != fingerprints[job.output]]
        produced = set(fingerprints) | {output.path for output in extras}
        stale = [path for path in previous if path not in produced]
        if self.options.search and not config.search:  # site.toml turned search off
            stale += _search_leftovers(config.output_dir)
        writer, removed = self._commit_in_place(config, renderer, todo, recording, extras, stale)
        if self.options.search and config.search:  # issue 6 hook: re-index what is now live
            self._index_search(config, writer, diagnostics)
        return len(todo), writer.counts(), removed

    def _index_search(self, config: SiteConfig, writer: InPlaceWriter,
                      diagnostics: list[Diagnostic]) -> None:
        index_writer = InPlaceWriter(config.output_dir)
        from . import search

        search.publish_search_index(index_writer, config.output_dir, diagnostics,
                                    cache_dir=self.store.path.parent, reuse=self.options.cache)
        index_writer.commit()
        writer.add_counts(index_writer.counts())

    def _commit_in_place(self, config: SiteConfig, renderer: Renderer, todo: list[RenderJob],
                         recording: Recording, extras: Sequence[Output] = (),
                         stale: Sequence[str] = ()) -> tuple[InPlaceWriter, int]:
        """Render `todo` into the staging folder, then move it into public/; returns the writer
        and how many stale outputs were removed. The pages' records go into `recording`."""
        writer = InPlaceWriter(config.output_dir)
        try:
            for output in extras:
                writer.write(output)
            record, records = recording
            records.update(render_pages(renderer, writer, todo, self._jobs(), record,
                                        self.progress))
            writer.remove_later(list(stale))
        except BaseException:
            writer.abort()  # nothing reached public/
            raise
        # From here public/ changes: if this build is killed, the next one must not trust the
        # old fingerprints of files this one may already have replaced.
        self.store.invalidate_outputs()
        return writer, writer.commit()


def site_extras(config: SiteConfig) -> Iterator[Output]:
    # GitHub Pages runs Jekyll unless told not to; Jekyll would hide files starting with '_'.
    yield Output(".nojekyll", b"")
    if config.cname:
        yield Output("CNAME", (config.cname.strip() + "\n").encode("ascii", "replace"))


# search.OUTPUT_SUBDIR (not imported: search.py is loaded only by builds that index)
SEARCH_DIR = "pagefind"


def _search_leftovers(output_dir: Path) -> list[str]:
    """The files of an earlier build's search index, removed once site.toml turns search off:
    no page offers it any more, and it would go stale. (A --no-search build keeps it for the
    next build with search to reuse; its pages do not offer it either.)"""
    bundle = output_dir / SEARCH_DIR
    if not bundle.is_dir():
        return []
    return sorted(f"{SEARCH_DIR}/{path}" for path in files_under(bundle))
