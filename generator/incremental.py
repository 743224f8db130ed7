"""Fast rebuilds for the dev server: re-render only the pages that show an edited document.

After a build, `Memo` keeps the indexed site, the planned jobs and their fingerprints in memory.
When the next change only modifies Markdown files and leaves the site's structure alone (same
URLs, dates, sections, tags, authors, layouts), the plan is unchanged: only the jobs that depend
on the edited documents can change, found through a reverse index. Anything else (a file added
or removed, a template, site.toml) returns None and the caller runs the normal build.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .cache import CACHE_VERSION, fingerprint, trusted
from .model import Document, Entry, RenderJob, Site


@dataclass(slots=True)
class Memo:
    inputs: dict[str, tuple[int, int]]
    scanned_ns: int
    site: Site
    jobs: Sequence[RenderJob]
    fingerprints: Fingerprints
    renderer: Any  # generator.render.Renderer (kept to reuse its compiled templates), or None
    dependents: Mapping[str, list[int]]  # document key -> indexes of jobs that show it
    shas: dict[str, str]  # document key -> source hash, for every entry of the site
    counts: tuple[int, int, int, int, int]  # feeds, pages, other outputs, jobs, assets
    next_event: datetime | None  # when time alone changes the site (see build._next_event)
    # A memo read from the cache has no renderer yet: (asset manifest, lead images) to make one.
    options: str = ""  # BuildOptions.key() of the build that made it
    renderer_inputs: tuple[dict[str, str], dict[str, Any]] | None = None


def job_counts(jobs: Sequence[RenderJob], assets: int) -> tuple[int, int, int, int, int]:
    """What the build summary counts (a fast rebuild reports the whole site too)."""
    feeds = sum(1 for job in jobs if job.kind.startswith("feed-"))
    pages = sum(1 for job in jobs if job.template)
    return feeds, pages, len(jobs) - pages - feeds, len(jobs), assets


def job_fingerprint(site_wide: str, template_hash: str, job: RenderJob,
                    shas: Callable[[str], str]) -> str:
    """A hash of everything a page is made from: equal fingerprints mean equal bytes."""
    return fingerprint(site_wide, template_hash, repr(job.params), job.url, job.kind,
                       *(shas(key) for key in job.depends_on))


@dataclass(frozen=True, slots=True)
class Fingerprints:
    site_wide: str  # config, options, asset names, navigation: shown on (or shaping) every page
    templates: dict[str, str]  # template name -> hash of it and everything it includes
    outputs: MutableMapping[str, str]  # output path -> job fingerprint


def fingerprint_jobs(layouts: Path, site_wide_parts: Sequence[str], renderer: Any,
                     jobs: Sequence[RenderJob]) -> Fingerprints:
    site_wide = fingerprint(CACHE_VERSION, *site_wide_parts, repr(renderer.contexts.site_view))
    templates: dict[str, str] = {"": ""}
    sources: dict[str, str] = {}
    for name in sorted({job.template for job in jobs if job.template}):
        closure = sorted(renderer.templates_used(name))
        for used in closure:
            if used not in sources:
                path = layouts / used
                sources[used] = path.read_text("utf-8") if path.is_file() else ""
        templates[name] = fingerprint(*(f"{used}\0{sources[used]}" for used in closure))
    shas = {key: entry.doc.sha256 for key, entry in renderer.site.entries.items()}
    outputs = {job.output: job_fingerprint(site_wide, templates[job.template], job, shas.__getitem__)
               for job in jobs}
    return Fingerprints(site_wide, templates, outputs)


def dependents_index(jobs: Sequence[RenderJob]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for position, job in enumerate(jobs):
        for key in job.depends_on:
            index[key].append(position)
    return dict(index)


def modified_documents(memo: Memo, new: dict[str, tuple[int, int]]) -> list[str] | None:
    """Keys of content/*.md files modified in place; None when anything else changed.

    Seeds may change too (ingest already turned them into content edits). Files saved within
    the racy window of the last scan count as modified even if their stat looks the same.
    """
    old = memo.inputs
    if old.keys() != new.keys():
        return None
    changed = [path for path, stat in new.items()
               if old[path] != stat or not trusted(stat, memo.scanned_ns)]
    if any(not (p.startswith("content/") and p.endswith(".md")) and not p.startswith("seeds/")
           for p in changed):
        return None
    return [p for p in changed if p.startswith("content/")]


# What an edit may change without moving the document in the site (its URL, its place in lists
# and groups, its template, the navigation that every page shows).
def _same_structure(old: Entry, new: Entry) -> bool:
    before, after = old.doc.meta, new.doc.meta
    return (
        (old.url, old.output, old.date, old.section, old.tag_slugs, old.author_slugs)
        == (new.url, new.output, new.date, new.section, new.tag_slugs, new.author_slugs)
        and (before.tags, before.authors, before.draft, before.layout, before.image,
             before.image_alt, before.updated) == (after.tags, after.authors, after.draft,
                                                   after.layout, after.image, after.image_alt,
                                                   after.updated)
        and (old.doc.kind == "article" or before.title == after.title)
    )


def patch_site(site: Site, documents: Sequence[Document],
               make_entry: Callable[[Document], Entry]) -> Site | None:
    """The site with these documents replaced, or None if one of them moved in the structure."""
    updates: dict[str, Entry] = {}
    for doc in documents:
        old = site.entries.get(doc.key)
        if old is None or doc.meta.draft:
            return None
        new = make_entry(doc)
        if not _same_structure(old, new):
            return None
        updates[doc.key] = new
    if isinstance(site.entries, dict):
        return replace(site, entries={**site.entries, **updates})
    return replace(site, entries=site.entries.updated(updates))  # type: ignore[attr-defined]


def affected_jobs(memo: Memo, keys: Sequence[str]) -> list[int]:
    return sorted({position for key in keys for position in memo.dependents.get(key, ())})
