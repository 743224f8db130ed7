"""Render stage: `RenderJob` -> `Output(path, bytes)`; never touches the disk.

One `Renderer` per process holds the Jinja environment (templates compile once) and the
context builder (article views are made once and shared by every listing that shows them).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from .cache import CACHE_DIR
from .config import SiteConfig
from .context import ContextBuilder
from .errors import SourceLocation, TemplateError
from .model import Output, RenderJob, Site
from .templates import TemplateGraph, make_environment, render_template
from .urls import Urls


class Renderer:
    def __init__(self, site: Site, config: SiteConfig, manifest: dict[str, str],
                 now: datetime, html_of: Any = None) -> None:
        self.site = site
        self.config = config
        self.now = now
        self.urls = Urls(config.base_url, config.permalink)
        self.layouts = config.root / "layouts"
        self.manifest = manifest
        self.env = make_environment(self.layouts, {
            "asset_url": self.asset_url,
            "url_for": self.urls.rel,
            "abs_url": self.urls.absolute,
        }, config.root / CACHE_DIR / "jinja", documents=len(site.articles) + len(site.pages))
        self.graph = TemplateGraph(self.env)
        self.contexts = ContextBuilder(site, config, self.asset_url, html_of)
        # Output path -> which documents of job.depends_on the render read in full (a bit
        # mask, see incremental.job_fingerprint), for the jobs this renderer rendered.
        self.deep: dict[str, int] = {}

    def with_site(self, site: Site, now: datetime) -> Renderer:
        """A renderer for a patched site that reuses this one's compiled templates."""
        clone = object.__new__(Renderer)
        clone.__dict__.update(self.__dict__)
        clone.site, clone.now = site, now
        clone.contexts = ContextBuilder(site, self.config, self.asset_url, self.contexts._html_of)
        clone.contexts.use_images(self.contexts._images)
        clone.deep = {}
        return clone

    def after_fork(self) -> None:
        """Called in a forked worker: drop handles that must not be shared across processes."""
        reset = getattr(self.contexts._html_of, "__self__", None)
        if reset is not None and hasattr(reset, "after_fork"):
            reset.after_fork()

    def asset_url(self, name: str) -> str:
        """URL of a static file by its name under layouts/static/ (fingerprinted) or content/."""
        target = self.manifest.get(name)
        if target is None:
            raise TemplateError(f"unknown asset {name!r}", SourceLocation(Path("layouts/static")),
                                hint=f"add layouts/static/{name}, or fix the name")
        return self.urls.rel(target)

    def render(self, job: RenderJob) -> Output:
        read = self.contexts.read_in_full
        read.clear()
        # Set per page: a renderer made by with_site shares this environment.
        self.env.fragment_store = self.contexts.fragments  # type: ignore[attr-defined]
        if job.template:
            context = self.contexts.context(job)
            data = render_template(self.env, job.template, context, self.layouts).encode("utf-8")
        else:
            data = self._render_data(job)
        self.deep[job.output] = sum(1 << i for i, key in enumerate(job.depends_on) if key in read)
        return Output(job.output, data)

    def templates_used(self, template: str) -> set[str]:
        return self.graph.closure(template)

    def _render_data(self, job: RenderJob) -> bytes:
        # Imported on use: a fast rebuild of a few pages rarely needs a feed or a sitemap.
        from .sitemap import news_sitemap, robots, sitemap, sitemap_index

        config, urls = self.config, self.urls
        if job.kind.startswith("feed-"):
            return self._feed(job)
        if job.kind in ("sitemap", "sitemap-index"):
            origin = self.urls.origin
            make = sitemap_index if job.kind == "sitemap-index" else sitemap
            return make([(origin + url, lastmod) for url, lastmod in job.param("urls")])
        if job.kind == "news-sitemap":
            views = [self.contexts.view(k) for k in job.depends_on]
            return news_sitemap(views, self.now, config.publisher or config.title,
                                config.language)
        if job.kind == "robots":
            return robots([urls.absolute("/sitemap.xml"), urls.absolute("/news-sitemap.xml")])
        raise ValueError(f"no renderer for {job.kind}")

    def _feed(self, job: RenderJob) -> bytes:
        from .feeds import atom, json_feed, rss

        config, urls = self.config, self.urls
        section = job.param("section")
        items = [self.contexts.view(k) for k in job.param("keys")]
        title = config.title + (f" — {config.section(section).title}" if section else "")
        home = urls.absolute(f"/section/{section}/" if section else "/")
        self_url = urls.origin + job.url
        full = config.feeds.full_content
        fmt = job.kind.removeprefix("feed-")
        args: tuple[Any, ...]
        if fmt == "atom":
            return atom(title, config.description, home, self_url,
                        config.publisher or config.title, items, full)
        args = (title, config.description, home, self_url, config.language, items, full)
        return rss(*args) if fmt == "rss" else json_feed(*args)

