"""Feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 bytes for a list of articles.

Built with ElementTree / json rather than templates so the XML is well-formed whatever the text
contains. Dates come from the articles (never the clock) so rebuilds are byte-identical.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from .context import ArticleView

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
ET.register_namespace("atom", ATOM)
ET.register_namespace("content", CONTENT)
ET.register_namespace("dc", DC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _sub(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text:
        element.text = _xml_safe(text)
    return element


# XML 1.0 forbids most control characters even when escaped, and these two noncharacters.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _XML_FORBIDDEN.sub("", text)  # a regex: a feed's full text is 100,000s of characters


def _newest(items: Sequence[ArticleView]) -> datetime:
    return max((a.updated for a in items), default=EPOCH)


def rss(title: str, description: str, home: str, self_url: str, language: str,
        items: Sequence[ArticleView], full_content: bool) -> bytes:
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", home)
    _sub(channel, "description", html.escape(description or title, quote=False))
    _sub(channel, "language", language)
    _sub(channel, "lastBuildDate", format_datetime(_newest(items)))
    _sub(channel, f"{{{ATOM}}}link", href=self_url, rel="self", type="application/rss+xml")
    for article in items:
        item = _sub(channel, "item")
        _sub(item, "title", article.title)
        _sub(item, "link", article.abs_url)
        _sub(item, "guid", article.abs_url, isPermaLink="true")
        _sub(item, "pubDate", format_datetime(article.date))
        # RSS readers read <description> as HTML: escape the plain text once more.
        _sub(item, "description", html.escape(article.description() or article.title,
                                              quote=False))
        if full_content:
            _sub(item, f"{{{CONTENT}}}encoded", str(article.html))
        for author in article.authors:
            _sub(item, f"{{{DC}}}creator", author.name)
        for category in ([article.section] if article.section else []) + list(article.tags):
            _sub(item, "category", category.name)
    return _xml_bytes(root)


def atom(title: str, description: str, home: str, self_url: str, publisher: str,
         items: Sequence[ArticleView], full_content: bool) -> bytes:
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, f"{{{ATOM}}}id", self_url)
    _sub(root, f"{{{ATOM}}}title", title)
    if description:
        _sub(root, f"{{{ATOM}}}subtitle", description)
    _sub(root, f"{{{ATOM}}}updated", _newest(items).isoformat())
    _sub(root, f"{{{ATOM}}}link", href=self_url, rel="self", type="application/atom+xml")
    _sub(root, f"{{{ATOM}}}link", href=home, rel="alternate", type="text/html")
    author = _sub(root, f"{{{ATOM}}}author")
    _sub(author, f"{{{ATOM}}}name", publisher)
    for article in items:
        entry = _sub(root, f"{{{ATOM}}}entry")
        _sub(entry, f"{{{ATOM}}}id", article.abs_url)
        _sub(entry, f"{{{ATOM}}}title", article.title)
        _sub(entry, f"{{{ATOM}}}link", href=article.abs_url, rel="alternate", type="text/html")
        _sub(entry, f"{{{ATOM}}}published", article.date.isoformat())
        _sub(entry, f"{{{ATOM}}}updated", article.updated.isoformat())
        for person in article.authors:
            _sub(_sub(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", person.name)
        summary = article.description()
        if summary:
            _sub(entry, f"{{{ATOM}}}summary", summary)
        if full_content:
            _sub(entry, f"{{{ATOM}}}content", str(article.html), type="html")
        for tag in article.tags:
            _sub(entry, f"{{{ATOM}}}category", term=tag.name)
    return _xml_bytes(_unprefixed(root, ATOM))


def _unprefixed(root: ET.Element, namespace: str) -> ET.Element:
    """Make `namespace` the default one (<feed xmlns="...">): some readers reject <atom:feed>.

    ElementTree's own `default_namespace` refuses the unqualified attributes Atom uses.
    """
    prefix = f"{{{namespace}}}"
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(prefix):
            element.tag = element.tag[len(prefix):]
    root.set("xmlns", namespace)
    return root


def json_feed(title: str, description: str, home: str, self_url: str, language: str,
              items: Sequence[ArticleView], full_content: bool) -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": home,
        "feed_url": self_url,
        "description": description,
        "language": language,
        "items": [
            {
                "id": article.abs_url,
                "url": article.abs_url,
                "title": article.title,
                **({"content_html": str(article.html)} if full_content
                   else {"content_text": article.description() or article.title}),
                "summary": article.description(),
                "date_published": article.date.isoformat(),
                "date_modified": article.updated.isoformat(),
                "authors": [{"name": a.name} for a in article.authors],
                "tags": [t.name for t in article.tags],
            }
            for article in items
        ],
    }
    return (json.dumps(feed, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
