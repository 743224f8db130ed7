"""Sitemaps and robots.txt: sitemap.xml, a Google News sitemap and robots.txt as bytes.

The News sitemap lists articles published in the two days before the build's reference time
(`now`, which the CLI takes from SOURCE_DATE_EPOCH when set, so builds stay reproducible).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timedelta

from .context import ArticleView
from .feeds import _sub, _xml_bytes

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
ET.register_namespace("", SITEMAP)
ET.register_namespace("news", NEWS)
NEWS_WINDOW = timedelta(days=2)
NEWS_LIMIT = 1000  # Google's maximum per News sitemap


def sitemap(urls: Sequence[tuple[str, datetime | None]]) -> bytes:
    return _locations("urlset", "url", urls)


def sitemap_index(parts: Sequence[tuple[str, datetime | None]]) -> bytes:
    """A sitemap index (sitemaps.org) naming each part's URL and newest modification."""
    return _locations("sitemapindex", "sitemap", parts)


def _locations(root_name: str, item_name: str,
               items: Sequence[tuple[str, datetime | None]]) -> bytes:
    """A sitemap document: under `root_name`, an `item_name` per (loc, lastmod) item."""
    root = ET.Element(f"{{{SITEMAP}}}{root_name}")
    for loc, lastmod in items:
        item = _sub(root, f"{{{SITEMAP}}}{item_name}")
        _sub(item, f"{{{SITEMAP}}}loc", loc)
        if lastmod:
            _sub(item, f"{{{SITEMAP}}}lastmod", lastmod.isoformat())
    return _xml_bytes(root)


def news_sitemap(articles: Sequence[ArticleView], now: datetime, publication: str,
                 language: str) -> bytes:
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    recent = [a for a in articles if now - NEWS_WINDOW <= a.date <= now][:NEWS_LIMIT]
    for article in recent:
        url = _sub(root, f"{{{SITEMAP}}}url")
        _sub(url, f"{{{SITEMAP}}}loc", article.abs_url)
        news = _sub(url, f"{{{NEWS}}}news")
        pub = _sub(news, f"{{{NEWS}}}publication")
        _sub(pub, f"{{{NEWS}}}name", publication)
        _sub(pub, f"{{{NEWS}}}language", language)
        _sub(news, f"{{{NEWS}}}publication_date", article.date.isoformat())
        _sub(news, f"{{{NEWS}}}title", article.title)
    if not recent:
        # An empty urlset is valid XML; a comment tells a reader why it is empty.
        root.append(ET.Comment(" no articles published in the last two days "))
    return _xml_bytes(root)


def robots(sitemap_urls: Sequence[str]) -> bytes:
    lines = ["User-agent: *", "Allow: /", ""] + [f"Sitemap: {u}" for u in sitemap_urls]
    return ("\n".join(lines) + "\n").encode("utf-8")
