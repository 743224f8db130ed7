"""Plan stage: `Site` -> `RenderJob`s, one per file to write, with the content keys each shows.

Every output path is produced here through `urls.output_path`, and two jobs writing the same file
are a `RouteError` naming both sources (never a silent overwrite). Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from .config import SiteConfig
from .errors import RouteError
from .model import RenderJob, Site, Taxonomy
from .site import section_block_keys
from .urls import Urls, output_path, paginated

# The news sitemap can only list recent articles; the newest this many are its candidates.
NEWS_CANDIDATES = 2000
FEED_FILES = (("rss", "feed.xml"), ("atom", "atom.xml"), ("json", "feed.json"))


def plan(site: Site, config: SiteConfig) -> list[RenderJob]:
    urls = Urls(config.base_url, config.permalink)
    jobs: list[RenderJob] = []
    front = _listing("/", "front", "index.html", site.articles, config.paginate, urls,
                     source="front page")
    # Page 1 also shows a block per section: it depends on those articles and counts too.
    blocks = tuple((slug, count, keys) for slug, count, keys
                   in section_block_keys(site, front[0].param("keys")))
    counts = (("section_counts", tuple((s.slug, len(s.keys)) for s in site.sections)),)
    front = [replace(job, params=(*job.params, *counts)) for job in front]
    front[0] = replace(front[0], params=(*front[0].params, ("blocks", blocks)),
                       depends_on=tuple(dict.fromkeys(
                           (*front[0].depends_on, *(k for _, _, keys in blocks for k in keys)))))
    jobs += front
    for key in site.articles + site.pages:
        entry = site.entry(key)
        kind = "article" if entry.doc.kind == "article" else "page"
        template = entry.doc.meta.layout or f"{kind}.html"
        neighbours = tuple(k for k in (site.previous.get(key), site.next.get(key)) if k)
        jobs.append(RenderJob(entry.output, entry.url, kind, template, (("key", key),),
                              (key, *neighbours, *site.related.get(key, ())), source=key))
    for kind, prefix, groups in (("section", "/section/", site.sections),
                                 ("tag", "/tags/", site.tags),
                                 ("author", "/authors/", site.authors)):
        for group in groups:
            jobs += _listing(f"{prefix}{group.slug}/", kind, f"{kind}.html", group.keys,
                             config.paginate, urls, source=f"{kind} {group.slug}",
                             extra=(("slug", group.slug), ("name", group.name),
                                    ("count", len(group.keys))))
    # These index pages show each group's name, link and count, not any article: those are
    # their inputs (so a body edit never re-renders them).
    jobs.append(_job("/tags/", "tags", "tags.html", urls, params=_counts("tags", site.tags)))
    jobs.append(_job("/authors/", "authors", "authors.html", urls,
                     params=_counts("authors", site.authors)))
    jobs += _archives(site, urls, config.archive_paginate)
    jobs.append(_job("/404.html", "404", "404.html", urls))
    jobs.append(_job("/search/", "search", "search.html", urls, params=counts))
    jobs += _feeds(site, config, urls)
    # The sitemap shows only URLs and modification dates: those are its inputs (not every
    # article's content), so editing a body does not re-render it.
    jobs += _sitemaps(sitemap_entries(site, urls), urls)
    jobs.append(_job("/news-sitemap.xml", "news-sitemap", "", urls,
                     depends=site.articles[:NEWS_CANDIDATES]))
    jobs.append(_job("/robots.txt", "robots", "", urls))
    check_unique(jobs)
    return jobs


def _job(path: str, kind: str, template: str, urls: Urls, *, depends: Sequence[str] = (),
         params: tuple[tuple[str, object], ...] = ()) -> RenderJob:
    return RenderJob(output_path(path), urls.rel(path), kind, template, params, tuple(depends),
                     source=f"{kind} page")


def _counts(name: str, groups: Sequence[Taxonomy]) -> tuple[tuple[str, object], ...]:
    return ((name, tuple((group.slug, group.name, len(group.keys)) for group in groups)),)


def _listing(path: str, kind: str, template: str, keys: Sequence[str], per_page: int, urls: Urls,
             *, source: str, extra: tuple[tuple[str, object], ...] = ()) -> list[RenderJob]:
    total = max(1, math.ceil(len(keys) / per_page))
    jobs = []
    for number in range(1, total + 1):
        page_keys = tuple(keys[(number - 1) * per_page: number * per_page])
        page_path = paginated(path, number)
        params = (*extra, ("keys", page_keys), ("page", number), ("pages", total),
                  ("base_path", path))
        jobs.append(RenderJob(output_path(page_path), urls.rel(page_path), kind, template,
                              params, page_keys, source=source))
    return jobs


def _archives(site: Site, urls: Urls, per_page: int) -> Iterator[RenderJob]:
    # The archive and year pages list months and years with their counts, no article.
    years, months = _counts("years", site.years), _counts("months", site.months)
    yield _job("/archive/", "archive", "archive.html", urls, params=(*years, *months))
    for year in site.years:
        yield _job(f"/archive/{year.slug}/", "archive-year", "archive_year.html", urls,
                   params=(("year", year.slug), *years, *months))
    # Paginated: a newsroom publishing 50 stories a day would otherwise get 1,500 cards (1 MB)
    # on one month's page.
    for month in site.months:
        yield from _listing(f"/archive/{month.slug}/", "archive-month", "archive_month.html",
                            month.keys, per_page, urls, source="archive-month page",
                            extra=(("month", month.slug), ("count", len(month.keys))))


def _feeds(site: Site, config: SiteConfig, urls: Urls) -> Iterator[RenderJob]:
    limit = config.feeds.limit
    enabled = [(fmt, name) for fmt, name in FEED_FILES if getattr(config.feeds, fmt)]
    scopes = [("", site.articles)] + [(s.slug, s.keys) for s in site.sections]
    for section, keys in scopes:
        prefix = f"/section/{section}/" if section else "/"
        for fmt, name in enabled:
            yield _job(f"{prefix}{name}", f"feed-{fmt}", "", urls, depends=keys[:limit],
                       params=(("section", section), ("keys", tuple(keys[:limit]))))


def sitemap_entries(site: Site, urls: Urls) -> tuple[tuple[str, datetime | None], ...]:
    """(URL, last modified) for the sitemap: the front page, sections, articles and pages."""
    newest = site.entry(site.articles[0]).updated if site.articles else None
    entries: list[tuple[str, datetime | None]] = [(urls.rel("/"), newest)]
    for section in site.sections:
        entries.append((urls.rel(f"/section/{section.slug}/"), site.entry(section.keys[0]).updated))
    for key in site.articles + site.pages:
        entry = site.entry(key)
        entries.append((entry.url, entry.updated if entry.doc.kind == "article"
                        else entry.doc.meta.updated or entry.doc.meta.date))
    return tuple(entries)


# sitemaps.org: at most 50,000 URLs (and 50 MB) in one sitemap file. Google ignores a larger
# one, so a larger site gets a sitemap index at /sitemap.xml and parts beside it.
SITEMAP_LIMIT = 50_000


def _sitemaps(entries: tuple[tuple[str, datetime | None], ...], urls: Urls) -> list[RenderJob]:
    """/sitemap.xml with every entry, or, above SITEMAP_LIMIT, a sitemap index there and
    /sitemap-1.xml, /sitemap-2.xml... each with up to SITEMAP_LIMIT entries.

    The parts take the entries from the end (pages, then articles oldest first, then sections
    and the front page), so publishing an article changes the index and the last part (the
    last two if it lands within a few entries of their boundary): the parts before keep their
    bytes and are not rendered again.
    """
    limit = SITEMAP_LIMIT  # read at each call: tests lower it
    if len(entries) <= limit:
        return [_job("/sitemap.xml", "sitemap", "", urls, params=(("urls", entries),))]
    ordered = entries[::-1]
    parts = [_job(f"/sitemap-{number}.xml", "sitemap", "", urls,
                  params=(("urls", ordered[start:start + limit]),))
             for number, start in enumerate(range(0, len(ordered), limit), start=1)]
    listed = tuple((part.url, max((modified for _, modified in part.param("urls") if modified),
                                  default=None))
                   for part in parts)
    return [_job("/sitemap.xml", "sitemap-index", "", urls, params=(("urls", listed),)), *parts]


def check_unique(jobs: Sequence[RenderJob]) -> None:
    seen: dict[str, RenderJob] = {}
    for job in jobs:
        if job.output in seen:
            raise RouteError(
                f"two pages write {job.output}: {seen[job.output].source} and {job.source}",
                hint="change the slug of one of them (sections, tags and pages share URL space)",
            )
        seen[job.output] = job
