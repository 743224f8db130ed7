"""The build orchestrator: config -> ingest -> load -> index -> plan -> render -> publish.

`build()` is the whole data flow in one place; each step is a function of its own module. It
gathers and indexes everything first, then renders and writes, so no page needs a second pass.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .assets import collect_assets
from .config import SiteConfig, load_config
from .content import content_files, load_document
from .errors import BuildFailed, Diagnostic, GeneratorError
from .ingest import IngestReport, ingest
from .model import BuildStats, Document, Output
from .publish import Publisher, build_lock
from .render import Renderer
from .routes import plan
from .site import index_site


@dataclass(frozen=True, slots=True)
class BuildOptions:
    ingest: bool = True
    drafts: bool = False
    future: bool = False
    now: datetime | None = None


@dataclass(slots=True)
class BuildResult:
    output_dir: Path
    stats: BuildStats
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ingest: IngestReport | None = None
    seconds: float = 0.0

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def reference_time(tz: object = timezone.utc) -> datetime:
    """The build's "now": SOURCE_DATE_EPOCH when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc)


def build(root: Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    started = time.perf_counter()
    config = load_config(root)
    stats = BuildStats()
    result = BuildResult(config.output_dir, stats)
    with build_lock(root):
        if options.ingest:
            with _timed(stats, "ingest"):
                result.ingest = ingest(config)
            result.diagnostics += result.ingest.diagnostics
        with _timed(stats, "load"):
            documents = load_documents(config, result.diagnostics)
        if any(d.severity == "error" for d in result.diagnostics):
            raise BuildFailed(tuple(result.diagnostics))
        with _timed(stats, "index"):
            now = options.now or reference_time()
            site = index_site(documents, config, now, drafts=options.drafts, future=options.future)
            jobs = plan(site, config)
            manifest, assets = collect_assets(root / "layouts")
        renderer = Renderer(site, config, manifest, now)
        publisher = Publisher(config.output_dir)
        try:
            with _timed(stats, "render+write"):
                for asset in assets:
                    publisher.write(asset)
                for job in jobs:
                    publisher.write(renderer.render(job))
                for extra in site_extras(config):
                    publisher.write(extra)
            stats.removed = publisher.removed_count()
            publisher.commit()
        except BaseException:
            publisher.abort()
            raise
    stats.assets = len(assets)
    stats.feeds = sum(1 for j in jobs if j.kind.startswith("feed-"))
    stats.pages = sum(1 for j in jobs if j.template)
    stats.other = len(jobs) - stats.pages - stats.feeds
    stats.written, stats.unchanged = publisher.written, publisher.unchanged
    stats.changed = publisher.changed
    result.seconds = time.perf_counter() - started
    return result


class Builder:
    """A long-lived builder for the dev server: `build(changed)` after each batch of edits.

    `changed` names the source files that changed (None: unknown, check everything). The
    result's `stats.changed` lists the output files whose bytes changed.
    """

    def __init__(self, root: Path, options: BuildOptions = BuildOptions()) -> None:
        self.root = root
        self.options = options

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        return build(self.root, self.options)


def load_documents(config: SiteConfig, diagnostics: list[Diagnostic]) -> list[Document]:
    """Every content file, keeping going past bad ones so all errors are reported at once."""
    documents = []
    for path in content_files(config.root):
        try:
            documents.append(load_document(path, config))
        except GeneratorError as err:
            diagnostics.append(err.diagnostic())
    return documents


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
