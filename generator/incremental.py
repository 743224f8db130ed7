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
from typing import Any, TypeVar

from .cachekey import CACHE_VERSION, fingerprint
from .model import Document, Entry, RenderJob, Site
from .scan import trusted

V = TypeVar("V")


@dataclass(slots=True)
class Memo:
    inputs: dict[str, tuple[int, int]]
    scanned_ns: int
    site: Site
    jobs: Sequence[RenderJob]
    fingerprints: Fingerprints
    renderer: Any  # generator.render.Renderer (kept to reuse its compiled templates), or None
    dependents: Mapping[str, list[int]]  # document key -> indexes of jobs that show it
    shas: Mapping[str, str]  # document key -> source hash, for every entry of the site
    cards: Mapping[str, str]  # document key -> card_hash, for every entry of the site
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


def card_hash(doc: Document) -> str:
    """A hash of what a page may show of a document it does not read in full: everything but
    the body and its word count (title, standfirst, dates, byline, image, reading time...)."""
    return fingerprint("card", repr(doc.meta), doc.kind, doc.slug, str(doc.reading_minutes))


def job_fingerprint(site_wide: str, template_hash: str, job: RenderJob,
                    shas: Callable[[str], str], cards: Callable[[str], str],
                    deep: int | None) -> str:
    """A record of everything a page is made from, "hash/mask": equal records, equal bytes.

    `deep` says which of the documents the page shows it read in full at its last render: bit
    i for `job.depends_on[i]`, set when a template used that document's body or word count
    (the Renderer records this). Those count by source hash, the others by `card_hash`, so
    editing a story's text re-renders its own page and feeds, not every listing showing its
    headline. None (never rendered) counts every document in full. If a render reads more,
    the record it leaves says so, and the next edit of those documents re-renders the page.
    """
    parts = [f"{key}\0{shas(key) if deep is None or deep >> i & 1 else cards(key)}"
             for i, key in enumerate(job.depends_on)]
    digest = fingerprint(site_wide, template_hash, repr(job.params), job.url, job.kind, *parts)
    return f"{digest}/{'*' if deep is None else format(deep, 'x')}"


def recorded_deep(record: str | None) -> int | None:
    """The `deep` mask of a record job_fingerprint made; None for none (or a file's hash)."""
    if not record or "/" not in record:
        return None
    mask = record.rpartition("/")[2]
    return None if mask == "*" else int(mask, 16)


@dataclass(frozen=True, slots=True)
class Fingerprints:
    site_wide: str  # config, options, asset names, navigation: shown on (or shaping) every page
    templates: dict[str, str]  # template name -> hash of it and everything it includes
    outputs: MutableMapping[str, str]  # output path -> job fingerprint

    def record(self, job: RenderJob, shas: Callable[[str], str], cards: Callable[[str], str],
               deep: int | None) -> str:
        """`job_fingerprint` with this build's site-wide and template hashes."""
        return job_fingerprint(self.site_wide, self.templates[job.template], job, shas, cards,
                               deep)


def fingerprint_jobs(layouts: Path, site_wide_parts: Sequence[str], renderer: Any,
                     jobs: Sequence[RenderJob], previous: Mapping[str, str],
                     hashes: tuple[dict[str, str], dict[str, str]]) -> Fingerprints:
    """Every job's record, with the deep reads `previous` (the last build's records) noted:
    a job whose record is unchanged need not be rendered again. With no previous records
    (every job renders), none is computed here: each is made where its page renders
    (workers.render_pages)."""
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
    shas, cards = hashes  # document_hashes(renderer.site)
    prints = Fingerprints(site_wide, templates, {})
    if previous:
        prints.outputs.update({job.output: prints.record(job, shas.__getitem__, cards.__getitem__,
                                                         recorded_deep(previous.get(job.output)))
                               for job in jobs})
    return prints


def document_hashes(site: Site) -> tuple[dict[str, str], dict[str, str]]:
    """(source hash, card hash) of every document of the site, by key."""
    entries = site.entries.items()
    return ({key: entry.doc.sha256 for key, entry in entries},
            {key: card_hash(entry.doc) for key, entry in entries})


def dependents_index(jobs: Sequence[RenderJob]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for position, job in enumerate(jobs):
        for key in job.depends_on:
            index[key].append(position)
    return dict(index)


def modified_documents(memo: Memo, new: dict[str, tuple[int, int]]) -> list[str] | None:
    """Paths of the content/*.md files and seeds modified in place; None when anything else
    changed.

    Seeds may change (ingest already turned them into content edits); the caller loads only
    the content files, and stores the new stats of all. Files saved within the racy window of
    the last scan count as modified even if their stat looks the same.
    """
    old = memo.inputs
    if old.keys() != new.keys():
        return None
    changed = [path for path, stat in new.items()
               if old[path] != stat or not trusted(stat, memo.scanned_ns)]
    if any(not (p.startswith("content/") and p.endswith(".md")) and not p.startswith("seeds/")
           for p in changed):
        return None
    return changed


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
    return replace(site, entries=overlaid(site.entries, updates))


def overlaid(values: Mapping[str, V], changes: dict[str, V]) -> Mapping[str, V]:
    """`values` with `changes` over them: a merged copy of the dev server's dict, or a new view
    of rows read from the cache (memostore.StoredRows), which copying would read one by one."""
    if isinstance(values, dict):
        return {**values, **changes}
    return values.updated(changes)  # type: ignore[attr-defined, no-any-return]


def affected_jobs(memo: Memo, keys: Sequence[str]) -> list[int]:
    """The positions of the jobs showing these documents of the site.

    Each has a row: every document of the site has its own page. A missing one is damage,
    raised (cache.MissingRow from a stored memo), never read as "no page shows it", which
    left the edited article's page unchanged, with no warning.
    """
    return sorted({position for key in keys for position in memo.dependents[key]})
