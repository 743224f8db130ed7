"""Feeds of a built site: RSS 2.0 and Atom through feedparser (no bozo) and an XML parser, JSON Feed
1.1 against the spec's required fields; for the site and for every section; hostile text too.

feedparser 6.0 does not read JSON Feed, so JSON feeds are checked field by field.
"""

from __future__ import annotations

import calendar
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from htmlutil import parse
from sitefactory import (
    BASE_URL,
    NOW,
    SECTIONS,
    Article,
    build,
    corpus,
    output_file,
    url_of,
    write_project,
)

ARTICLES = corpus()
BY_DATE = sorted(ARTICLES, key=lambda a: a.date, reverse=True)
LIMIT = 20  # site.toml [feeds] limit
ATOM = "{http://www.w3.org/2005/Atom}"
SCOPES = ["", *(f"section/{s}/" for s in SECTIONS)]


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(write_project(tmp_path_factory.mktemp("feeds") / "site", ARTICLES))


def expected(scope: str) -> list[Article]:
    section = scope.removeprefix("section/").strip("/")
    return [a for a in BY_DATE if not section or a.section == section][:LIMIT]


def by_url() -> dict[str, Article]:
    return {url_of(a): a for a in ARTICLES}


def parsed(public: Path, name: str) -> Any:
    data = (public / name).read_bytes()
    feed = feedparser.parse(data)
    assert feed.bozo == 0, f"{name}: {feed.get('bozo_exception')}"
    return feed


@pytest.mark.parametrize("scope", SCOPES)
def test_rss_feed(public: Path, scope: str) -> None:
    feed = parsed(public, f"{scope}feed.xml")
    assert feed.version == "rss20"
    assert feed.feed.title.startswith("The Daily Seed")
    assert feed.feed.link == BASE_URL + scope
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == [f"{BASE_URL}{scope}feed.xml"]
    check_entries(public, feed.entries, expected(scope))
    channel = ET.fromstring((public / f"{scope}feed.xml").read_bytes()).find("channel")
    assert channel is not None
    for tag in ("title", "link", "description"):  # required by RSS 2.0
        assert (channel.findtext(tag) or "").strip(), tag
    for item, article in zip(channel.iter("item"), expected(scope), strict=True):
        assert parsedate_to_datetime(item.findtext("pubDate") or "") == article.date
        guid = item.find("guid")
        assert guid is not None and guid.text == url_of(article)
        assert guid.get("isPermaLink") == "true"


@pytest.mark.parametrize("scope", SCOPES)
def test_atom_feed(public: Path, scope: str) -> None:
    feed = parsed(public, f"{scope}atom.xml")
    assert feed.version == "atom10"
    assert feed.feed.title.startswith("The Daily Seed")
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": f"{BASE_URL}{scope}atom.xml", "alternate": BASE_URL + scope}
    check_entries(public, feed.entries, expected(scope))
    root = ET.fromstring((public / f"{scope}atom.xml").read_bytes())
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):  # required by RFC 4287
        assert (root.findtext(f"{ATOM}{tag}") or "").strip(), tag
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for entry, article in zip(entries, expected(scope), strict=True):
        assert entry.findtext(f"{ATOM}id") == url_of(article)
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}published") or "") == article.date
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "") >= article.date
    newest = max(datetime.fromisoformat(e.findtext(f"{ATOM}updated") or "") for e in entries)
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated") or "") == newest


def check_entries(public: Path, entries: list[Any], articles: list[Article]) -> None:
    """feedparser entries: order, absolute links to built pages, full content, dates, authors."""
    assert [e.link for e in entries] == [url_of(a) for a in articles]
    for entry, article in zip(entries, articles, strict=True):
        assert output_file(public, entry.link).is_file()
        assert entry.title == article.title
        assert entry.id == url_of(article)
        content = entry.content[0].value
        assert f"Body of story {article.slug[-2:]}." in content and content.count("word") > 30
        published = datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC)
        assert published == article.date
        assert [a.get("name") for a in entry.get("authors", [])] == list(article.authors)


@pytest.mark.parametrize("scope", SCOPES)
def test_json_feed_meets_the_1_1_spec(public: Path, scope: str) -> None:
    feed = json.loads((public / f"{scope}feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"].startswith("The Daily Seed")
    assert feed["home_page_url"] == BASE_URL + scope
    assert feed["feed_url"] == f"{BASE_URL}{scope}feed.json"
    articles = expected(scope)
    assert [item["id"] for item in feed["items"]] == [url_of(a) for a in articles]
    for item, article in zip(feed["items"], articles, strict=True):
        assert isinstance(item["id"], str) and item["id"]
        assert item["url"] == url_of(article) and output_file(public, item["url"]).is_file()
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
        assert f"Body of story {article.slug[-2:]}." in item["content_html"]
        assert item["title"] == article.title
        assert datetime.fromisoformat(item["date_published"]) == article.date
        assert datetime.fromisoformat(item["date_modified"]) >= article.date
        assert [a["name"] for a in item.get("authors", [])] == list(article.authors)
        assert all(isinstance(t, str) for t in item.get("tags", []))


def test_every_section_has_its_own_feeds_linked_from_its_page(public: Path) -> None:
    for section in SECTIONS:
        doc = parse((public / "section" / section / "index.html").read_text(encoding="utf-8"))
        alternates = {link.get("type"): link.get("href")
                      for link in doc.find_all("link", rel="alternate")}
        assert alternates == {
            "application/rss+xml": f"/news/section/{section}/feed.xml",
            "application/atom+xml": f"/news/section/{section}/atom.xml",
            "application/feed+json": f"/news/section/{section}/feed.json",
        }


# --- hostile text -----------------------------------------------------------------------------

NASTY = 'Rock & <script>alert("x")</script> ]]> <![CDATA[ x ]]> \x01\x0b\x1f end'
VISIBLE = 'Rock & <script>alert("x")</script> ]]> <![CDATA[ x ]]>  end'  # control chars dropped


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    article = Article(
        "hostile", NASTY, NOW - timedelta(hours=5), section="world", tags=("<b>&amp;</b>",),
        authors=("Tom & <Jerry>",), summary=f"Summary: {NASTY}",
        body="A ]]> in the body, an &amp; and <b>bold</b> and a <script>x()</script>.",
    )
    return build(write_project(tmp_path_factory.mktemp("hostile") / "site", [article]))


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml", "section/world/feed.xml",
                                  "section/world/atom.xml"])
def test_hostile_text_keeps_xml_feeds_well_formed(hostile: Path, name: str) -> None:
    feed = parsed(hostile, name)
    assert len(feed.entries) == 1
    root = ET.fromstring((hostile / name).read_bytes())  # strict XML parser: raises if broken
    titles = [e.text for e in root.iter() if e.tag in ("title", f"{ATOM}title")]
    assert VISIBLE in titles
    text = (hostile / name).read_text(encoding="utf-8")
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in text)
    names = [e.text for e in root.iter() if e.tag in (f"{ATOM}name",
                                                      "{http://purl.org/dc/elements/1.1/}creator")]
    assert "Tom & <Jerry>" in names


@pytest.mark.parametrize("name", ["feed.json", "section/world/feed.json"])
def test_hostile_text_keeps_json_feed_valid(hostile: Path, name: str) -> None:
    feed = json.loads((hostile / name).read_text(encoding="utf-8"))
    [item] = feed["items"]
    assert item["title"] == NASTY
    assert item["summary"] == f"Summary: {NASTY}"
    assert "A ]]&gt; in the body" in item["content_html"]
