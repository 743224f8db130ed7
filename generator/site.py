"""Index stage: `Document`s -> `Site` (filtered, sorted, grouped, linked).

Drafts and future-dated articles are dropped unless asked for; articles are grouped by section,
tag, author and month; previous/next and related articles are computed from indexes built once,
so the work stays linear in the number of articles. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter, defaultdict
import bisect
from collections.abc import Iterable
from datetime import datetime

from .config import SiteConfig
from .errors import ContentError, RouteError, SourceLocation
from .model import Document, Entry, Site, Taxonomy
from .urls import Urls, output_path, slugify


def index_site(
    documents: Iterable[Document],
    config: SiteConfig,
    now: datetime,
    *,
    drafts: bool = False,
    future: bool = False,
) -> Site:
    urls = Urls(config.base_url, config.permalink)
    entries: dict[str, Entry] = {}
    for doc in documents:
        if doc.meta.draft and not drafts:
            continue
        if doc.kind == "article" and doc.meta.date and doc.meta.date > now and not future:
            continue
        entries[doc.key] = _entry(doc, config, urls)
    _check_collisions(entries.values())
    articles = sorted((e for e in entries.values() if e.doc.kind == "article"),
                      key=lambda e: (e.date, e.doc.key), reverse=True)
    article_keys = tuple(e.doc.key for e in articles)
    pages = tuple(sorted(e.doc.key for e in entries.values() if e.doc.kind == "page"))
    older = {a: b for a, b in zip(article_keys, article_keys[1:])}
    newer = {b: a for a, b in zip(article_keys, article_keys[1:])}
    return Site(
        entries=entries,
        articles=article_keys,
        pages=pages,
        sections=_sections(articles, config),
        tags=_group(articles, lambda e: zip(e.tag_slugs, e.doc.meta.tags)),
        authors=_group(articles, lambda e: zip(e.author_slugs, e.doc.meta.authors)),
        years=_group(articles, lambda e: [(f"{e.date.year:04d}", f"{e.date.year:04d}")]),
        months=_group(articles, lambda e: [(f"{e.date:%Y/%m}", f"{e.date:%B %Y}")]),
        previous=older,
        next=newer,
        related=_related(articles, config.related),
    )


def _entry(doc: Document, config: SiteConfig, urls: Urls) -> Entry:
    tz = config.tz
    date = doc.meta.date or datetime(1970, 1, 1, tzinfo=tz)
    if doc.kind == "page":
        site_path = f"/{doc.slug}/"
    else:
        site_path = urls.article_path(doc.slug, date, doc.meta.section)
    try:
        output = output_path(site_path)
    except RouteError as err:
        raise ContentError(err.message, SourceLocation(doc.path), hint=err.hint) from None
    return Entry(
        doc=doc,
        url=urls.rel(site_path),
        output=output,
        date=date,
        updated=max(doc.meta.updated or date, date),
        section=doc.meta.section,
        tag_slugs=tuple(slugify(t) for t in doc.meta.tags),
        author_slugs=tuple(slugify(a) for a in doc.meta.authors),
    )


def _check_collisions(entries: Iterable[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.doc.key):
        if entry.output in seen:
            first = seen[entry.output].doc.path
            raise ContentError(
                f"{entry.doc.path} and {first} both resolve to {entry.url}",
                SourceLocation(entry.doc.path),
                hint="give one of them a different 'slug' in its front matter",
            )
        seen[entry.output] = entry


def _sections(articles: list[Entry], config: SiteConfig) -> tuple[Taxonomy, ...]:
    by_section: dict[str, list[str]] = defaultdict(list)
    for entry in articles:
        by_section[entry.section].append(entry.doc.key)
    # Configured order first (it is the navigation order), then any others alphabetically.
    order = [s.slug for s in config.sections]
    order += sorted(set(by_section) - set(order))
    return tuple(Taxonomy(slug, config.section(slug).title, tuple(by_section[slug]))
                 for slug in order if by_section.get(slug))


def _group(articles: list[Entry], names: object) -> tuple[Taxonomy, ...]:
    keys: dict[str, list[str]] = defaultdict(list)
    display: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in articles:
        for slug, name in names(entry):  # type: ignore[operator]
            if not keys[slug] or keys[slug][-1] != entry.doc.key:
                keys[slug].append(entry.doc.key)
            display[slug][name] += 1
    # The most used spelling names the group ("NATO" beats "Nato"); ties go to the first seen.
    return tuple(Taxonomy(slug, display[slug].most_common(1)[0][0], tuple(keys[slug]))
                 for slug in sorted(keys))


def _related(articles: list[Entry], limit: int) -> dict[str, tuple[str, ...]]:
    """Articles sharing the most tags, newest first; uses a tag -> articles index (no n^2 scan).

    Very common tags are capped so one tag on every article cannot make this quadratic.
    """
    position = {e.doc.key: i for i, e in enumerate(articles)}
    by_tag: dict[str, list[str]] = defaultdict(list)
    for entry in articles:
        for tag in entry.tag_slugs:
            by_tag[tag].append(entry.doc.key)
    related: dict[str, tuple[str, ...]] = {}
    for entry in articles:
        scores: Counter[str] = Counter()
        for tag in entry.tag_slugs:
            for other in _nearest(by_tag[tag], position[entry.doc.key], position, 50):
                if other != entry.doc.key:
                    scores[other] += 1
        ranked = sorted(scores, key=lambda k: (-scores[k], position[k]))
        related[entry.doc.key] = tuple(ranked[:limit])
    return related


def _nearest(keys: list[str], here: int, position: dict[str, int], window: int) -> list[str]:
    """The `window` articles of a tag list closest in time to position `here`."""
    if len(keys) <= window:
        return keys

    positions = [position[k] for k in keys]
    middle = bisect.bisect_left(positions, here)
    start = max(0, min(middle - window // 2, len(keys) - window))
    return keys[start:start + window]
