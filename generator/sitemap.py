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
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    for loc, lastmod in urls:
        url = _sub(root, f"{{{SITEMAP}}}url")
        _sub(url, f"{{{SITEMAP}}}loc", loc)
        if lastmod:
            _sub(url, f"{{{SITEMAP}}}lastmod", lastmod.isoformat())
    return _xml_bytes(root)


def sitemap_index(parts: Sequence[tuple[str, datetime | None]]) -> bytes:
    """A sitemap index (sitemaps.org) naming each part's URL and newest modification."""
    root = ET.Element(f"{{{SITEMAP}}}sitemapindex")
    for loc, lastmod in parts:
        entry = _sub(root, f"{{{SITEMAP}}}sitemap")
        _sub(entry, f"{{{SITEMAP}}}loc", loc)
        if lastmod:
            _sub(entry, f"{{{SITEMAP}}}lastmod", lastmod.isoformat())
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
