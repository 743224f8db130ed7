"""Template context: the documented template variables, built in one place from the model.

Templates see plain view objects (`site`, `page`, `article`, `articles`, `pagination`, ...) and
never the raw model, so the layouts' contract is this file. Pure: no I/O.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .attrdict import AttrDict
from .config import SiteConfig, og_locale
from .fragments import FragmentStore
from .model import Entry, RenderJob, Site, Taxonomy
from .routes import FEED_FILES
from .urls import Urls, paginated

if TYPE_CHECKING:  # images.py is imported only by builds that process images
    from .images import ResponsiveImage


@dataclass(frozen=True, slots=True)
class Link:
    name: str
    url: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class ArticleView:
    key: str
    kind: str
    title: str
    summary: str
    url: str
    abs_url: str
    date: datetime
    updated: datetime
    section: Link | None
    authors: tuple[Link, ...]
    tags: tuple[Link, ...]
    image: str
    image_alt: str
    image_caption: str
    image_credit: str
    dateline: str
    reading_minutes: int
    # ContextBuilder._read, for this document: its body ("html") or word count ("words").
    # Through it the build learns which pages read a document in full (see
    # incremental.job_fingerprint), and a body is fetched only when a page shows it.
    read: Callable[[str], Any]
    extra: dict[str, Any] = field(default_factory=dict)
    # The lead image's responsive variants (srcset, width/height) when `image` is set.
    picture: ResponsiveImage | None = None

    def body(self) -> str:
        result: str = self.read("html")
        return result

    def description(self) -> str:
        """The standfirst; without one, the body's first paragraph cut at a word within 160
        characters (rather than the site's description, which every such page would share)."""
        if self.summary:
            return self.summary
        from .markup import opening_words  # imported by the load stage; here only on use

        return opening_words(self.body())

    @property
    def html(self) -> Markup:
        """The rendered body, safe to output unescaped."""
        return Markup(self.read("html"))

    @property
    def word_count(self) -> int:
        result: int = self.read("words")
        return result


@dataclass(frozen=True, slots=True)
class SectionBlock:
    """A front-page block: the section's link (with its article count) and a few articles."""

    section: Link
    articles: tuple[ArticleView, ...]


@dataclass(frozen=True, slots=True)
class PageLink:
    """One item of a pagination bar; `number` 0 is a gap (an ellipsis)."""

    number: int
    url: str
    current: bool


def page_window(page: int, pages: int, around: int = 2) -> list[int]:
    """Page numbers to link: the first two, the last two and `around` either side of `page`,
    with 0 where numbers are skipped. A bounded list, so a 1,000-page listing does not make
    every one of its pages list all 1,000 (quadratic work)."""
    shown = sorted({n for n in (1, 2, pages - 1, pages, *range(page - around, page + around + 1))
                    if 1 <= n <= pages})
    window: list[int] = []
    for n in shown:
        if window and n - window[-1] > 1:
            window.append(0)
        window.append(n)
    return window


class ContextBuilder:
    """Makes template contexts for jobs; caches article views (they are immutable)."""

    def __init__(self, site: Site, config: SiteConfig, asset_url: Any,
                 html_of: Any = None) -> None:
        self.site = site
        # Bodies of unchanged documents live in the build cache, not in memory: fetched on use.
        self._html_of = html_of or (lambda doc: doc.html)
        self.config = config
        self.urls = Urls(config.base_url, config.permalink)
        self._views: dict[str, ArticleView] = {}
        self._images: Mapping[str, ResponsiveImage] = {}
        self._asset_url = asset_url
        self.site_view = self._site_view()
        self.read_in_full: set[str] = set()  # keys whose body or word count a render used
        # {% cache %} fragments, keyed by this builder's views: they live and die together.
        self.fragments = FragmentStore(self.read_in_full)
        self._by_slug: dict[str, dict[str, Taxonomy]] | None = None  # made on first use

    def _read(self, entry: Entry, what: str) -> Any:
        self.read_in_full.add(entry.doc.key)
        return self._html_of(entry.doc) if what == "html" else entry.doc.word_count

    def _site_view(self) -> AttrDict:
        config, urls = self.config, self.urls
        return AttrDict({
            "title": config.title,
            "description": config.description,
            "language": config.language,
            "og_locale": og_locale(config.language),
            "base_url": config.base_url,
            "url": urls.rel("/"),
            "publisher": config.publisher or config.title,
            "logo": self._asset_url(config.logo) if config.logo else "",
            # No counts here: every page shows the navigation, and a count in it would make
            # each new article re-render the whole site.
            "sections": tuple(Link(s.name, urls.rel(f"/section/{s.slug}/"))
                              for s in self.site.sections),
            "feeds": AttrDict({fmt: urls.rel(f"/{name}") for fmt, name in FEED_FILES
                               if getattr(config.feeds, fmt)}),
            "search": config.search,
            "search_url": urls.rel("/search/"),
            "tags_url": urls.rel("/tags/"),
            "authors_url": urls.rel("/authors/"),
            "archive_url": urls.rel("/archive/"),
            "pages": tuple(Link(self.site.entry(k).doc.meta.title, self.site.entry(k).url)
                           for k in self.site.pages),
        })

    def use_images(self, images: Mapping[str, ResponsiveImage]) -> None:
        """The lead images made by images.py, by front-matter `image` value (before rendering)."""
        self._images = images
        self._views.clear()
        self.fragments.clear()  # keyed by the views just dropped

    def view(self, key: str) -> ArticleView:
        cached = self._views.get(key)
        if cached is None:
            cached = self._views[key] = self._make_view(self.site.entry(key))
        return cached

    def _make_view(self, entry: Entry) -> ArticleView:
        meta, urls = entry.doc.meta, self.urls
        picture = self._images.get(meta.image) if meta.image else None
        section = None
        if entry.section:
            section = Link(self.config.section(entry.section).title,
                           urls.rel(f"/section/{entry.section}/"))
        return ArticleView(
            key=entry.doc.key, kind=entry.doc.kind, title=meta.title, summary=meta.summary,
            url=entry.url, abs_url=urls.origin + entry.url, date=entry.date,
            updated=entry.updated, section=section,
            authors=tuple(Link(n, urls.rel(f"/authors/{s}/"))
                          for n, s in zip(meta.authors, entry.author_slugs)),
            tags=tuple(Link(n, urls.rel(f"/tags/{s}/")) for n, s in zip(meta.tags, entry.tag_slugs)),
            image=picture.src if picture else "", picture=picture,
            image_alt=meta.image_alt, image_caption=meta.image_caption,
            image_credit=meta.image_credit, dateline=meta.dateline,
            reading_minutes=entry.doc.reading_minutes,
            read=functools.partial(self._read, entry), extra=dict(meta.extra),
        )

    def context(self, job: RenderJob) -> dict[str, Any]:
        page = AttrDict({
            "kind": job.kind, "url": job.url, "canonical": self.urls.origin + job.url,
            "title": self.config.title, "description": self.config.description,
            "image": "", "og_type": "website", "feeds": self.site_view["feeds"],
        })
        ctx: dict[str, Any] = {"site": self.site_view, "page": page}
        key = job.param("key")
        if key:
            article = self.view(key)
            ctx["article"] = article
            page.update(title=article.title,
                        description=article.description() or self.config.description,
                        image=self.urls.origin + article.image if article.image else "",
                        og_type="article" if article.kind == "article" else "website")
            ctx["previous"] = self._maybe(self.site.previous.get(key))
            ctx["next"] = self._maybe(self.site.next.get(key))
            ctx["related"] = tuple(self.view(k) for k in self.site.related.get(key, ()))
            ctx["jsonld"] = (self.jsonld(article, page["description"])
                             if article.kind == "article" else "")
        keys = job.param("keys")
        if keys is not None:
            ctx["articles"] = tuple(self.view(k) for k in keys)
            ctx["pagination"] = self._pagination(job)
        self._add_kind_specific(job, ctx, page)
        if job.kind == "front":
            ctx["section_blocks"] = self._section_blocks(job)
        if job.param("section_counts") is not None:
            ctx["section_counts"] = tuple(
                Link(self.config.section(slug).title, self.urls.rel(f"/section/{slug}/"), count)
                for slug, count in job.param("section_counts"))
        return ctx

    def _section_blocks(self, job: RenderJob) -> tuple[SectionBlock, ...]:
        """Front page 1 only: per section, its newest articles not already shown above."""
        if job.param("page", 1) != 1:
            return ()
        blocks = job.param("blocks", ())
        return tuple(SectionBlock(Link(self.config.section(slug).title,
                                       self.urls.rel(f"/section/{slug}/"), count),
                                  tuple(self.view(k) for k in keys))
                     for slug, count, keys in blocks)

    def _maybe(self, key: str | None) -> ArticleView | None:
        return self.view(key) if key else None

    def _pagination(self, job: RenderJob) -> AttrDict:
        number: int = job.param("page")
        total: int = job.param("pages")
        base: str = job.param("base_path")

        def url(n: int) -> str:
            return self.urls.rel(paginated(base, n))

        return AttrDict({
            "page": number, "pages": total,
            "prev_url": url(number - 1) if number > 1 else "",
            "next_url": url(number + 1) if number < total else "",
            "links": tuple(PageLink(n, url(n) if n else "", n == number)
                           for n in page_window(number, total)),
        })

    def _add_kind_specific(self, job: RenderJob, ctx: dict[str, Any], page: dict[str, Any]) -> None:
        kind = job.kind
        groups = self._taxonomies()
        prefix = {"section": "/section/", "tag": "/tags/", "author": "/authors/"}
        if kind in groups:
            group = self._group(kind, job.param("slug"))
            ctx["taxonomy"] = Link(group.name, self.urls.rel(f"{prefix[kind]}{group.slug}/"),
                                   len(group.keys))
            label = {"section": "", "tag": "Tag: ", "author": "Articles by "}[kind]
            page["title"] = f"{label}{group.name}"
            count = len(group.keys)
            page["description"] = (f"{label}{group.name} — {count} article"
                                   f"{'s' if count != 1 else ''}")
            if kind == "section":
                page["feeds"] = AttrDict({fmt: self.urls.rel(f"/section/{group.slug}/{name}")
                                          for fmt, name in FEED_FILES
                                          if getattr(self.config.feeds, fmt)})
        elif kind in ("tags", "authors"):
            page["title"] = kind.title()
            path = prefix[kind[:-1]]
            ctx["groups"] = self._links(groups[kind[:-1]], path)
        elif kind.startswith("archive"):
            self._archive(job, ctx, page)
        elif kind == "404":
            page["title"] = "Page not found"
        elif kind == "search":
            page["title"] = "Search"
        number = job.param("page", 1)
        if number > 1:
            # The front page's title is the site's own, which <title> adds after a "|".
            page["title"] = (f"Page {number}" if kind == "front"
                             else f"{page['title']} — page {number}")
            page["description"] += f" (page {number})"

    def _taxonomies(self) -> dict[str, tuple[Taxonomy, ...]]:
        site = self.site
        return {"section": site.sections, "tag": site.tags, "author": site.authors}

    def _group(self, kind: str, slug: str) -> Taxonomy:
        """A section, tag or author by slug, from an index (a scan per page is quadratic)."""
        if self._by_slug is None:
            self._by_slug = {kind: {group.slug: group for group in groups}
                             for kind, groups in self._taxonomies().items()}
        return self._by_slug[kind][slug]

    def _links(self, groups: tuple[Taxonomy, ...], prefix: str) -> tuple[Link, ...]:
        return tuple(Link(g.name, self.urls.rel(f"{prefix}{g.slug}/"), len(g.keys)) for g in groups)

    def _archive(self, job: RenderJob, ctx: dict[str, Any], page: dict[str, Any]) -> None:
        years = sorted(self.site.years, key=lambda y: y.slug, reverse=True)
        months = sorted(self.site.months, key=lambda m: m.slug, reverse=True)
        ctx["years"] = self._links(tuple(years), "/archive/")
        if job.kind == "archive":
            page["title"] = "Archive"
            ctx["months"] = self._links(tuple(months), "/archive/")
        elif job.kind == "archive-year":
            year = job.param("year")
            page["title"] = f"Archive: {year}"
            ctx["months"] = self._links(tuple(m for m in months if m.slug.startswith(year)),
                                        "/archive/")
        else:  # a month: its `articles` are this page's (`keys`, set by `context`)
            wanted = job.param("month")
            month = next(m for m in self.site.months if m.slug == wanted)
            page["title"] = f"Archive: {month.name}"
            ctx["month"] = Link(month.name, self.urls.rel(f"/archive/{month.slug}/"),
                                len(month.keys))

    def jsonld(self, article: ArticleView, description: str) -> Markup:
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title[:110],
            "description": description,
            "datePublished": article.date.isoformat(),
            "dateModified": article.updated.isoformat(),
            "author": [{"@type": "Person", "name": a.name, "url": self.urls.origin + a.url}
                       for a in article.authors] or [{"@type": "Organization",
                                                     "name": self.site_view["publisher"]}],
            "publisher": {"@type": "Organization", "name": self.site_view["publisher"],
                          "logo": {"@type": "ImageObject",
                                   "url": self.urls.origin + (self.site_view["logo"]
                                                              or self.urls.rel("/"))}},
            "mainEntityOfPage": {"@type": "WebPage", "@id": article.abs_url},
            "articleSection": article.section.name if article.section else "",
            "keywords": [t.name for t in article.tags],
            "wordCount": article.word_count,
        }
        if article.image:
            data["image"] = [self.urls.origin + article.image]
        return script_json(data)


def script_json(data: Any) -> Markup:
    """JSON safe to place inside <script>: '<', '>' and '&' escaped so '</script>' cannot close it."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False, indent=None)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)
